"""Writing CrankWheel: operations into form-encoded calls, the read-back after a lost answer, and
the error an answer that did not work becomes.

Every write reads its answer: the create and the PATCH answer with the user (the document shows
the create's), so a service that ignored a field is caught now, not by the next plan; an answer
that cannot be read is an unknown outcome, settled by reading the user back. A create is never
sent twice blind: once tried, it looks the email up first. A 404 to a PATCH or DELETE is checked
against the documented list, since those endpoints come from NOTES.md, not the document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import Operation, ProviderError, json_body, norm_email

from . import api
from .read import BadAnswer, checked, listed, lookup, user_resource

if TYPE_CHECKING:  # pragma: no cover
    from . import CrankWheelProvider


class CrankWheelError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "CrankWheelError":
        status = response.status_code
        detail = _detail(json_body(response))
        text = api.STATUS_MEANING.get(status, f"HTTP {status}")
        if detail:
            text = f"{text} ({detail})"
        return cls.from_http(response, f"CrankWheel {status}: {text}", code=detail)


def _detail(body: dict[str, Any]) -> str | None:
    """The words of ``{"error": ...}`` or of Rails' ``{"errors": {field: [...]}}`` (README.md)."""
    if isinstance(body.get("errors"), dict):
        return "; ".join(f"{k} {', '.join(map(str, v if isinstance(v, list) else [v]))}"
                         for k, v in body["errors"].items())
    return str(body["error"]) if body.get("error") else None


async def apply(p: "CrankWheelProvider", op: Operation) -> None:
    if op.action == "create":
        await create(p, op)
    elif op.action == "update":
        await patch(p, op.before.id or op.key, op.before.attrs, op.after.attrs)
    elif op.action == "delete":
        await delete(p, op.before.id or op.key)


def _answered(response: httpx.Response, email: str, where: str) -> dict[str, Any] | None:
    """The user a write answered with, or ``None`` when the answer is not that user."""
    try:
        found = checked(response.json(), where)
    except (ValueError, BadAnswer):
        return None
    return found if norm_email(found["email"]) == norm_email(email) else None


async def create(p: "CrankWheelProvider", op: Operation) -> None:
    """POST the user and read the answer. Tried before (its outcome was lost and the read-back
    did not settle it), or refused because the email is already listed: look the email up and
    make that user as desired instead of posting again (no second onboarding email)."""
    attrs, email = op.after.attrs, op.after.display or op.key
    if op.id in p.tried:
        current = await lookup(p, email)
        if current is not None:
            await patch(p, current["email"], user_resource(current).attrs, attrs)
            return
    p.tried.add(op.id)
    form = {api.field("email"): email,
            api.field("privilege"): attrs["privilege"],
            api.field("in_demo_pool"): api.form_bool(attrs["in_demo_pool"]),
            api.field("send_onboarding_email"): api.form_bool(p.settings.send_onboarding_email)}
    try:
        response = await p.request("POST", api.USERS, ok=api.CREATE_OK, data=form)
    except CrankWheelError as exc:
        current = await lookup(p, email) if exc.status == 422 else None
        if current is None:
            raise
        await patch(p, current["email"], user_resource(current).attrs, attrs)
        return
    created = _answered(response, email, f"POST {api.USERS}")
    if created is None:  # a 2xx that is not the user: what the service holds decides
        created = await lookup(p, email)
        if created is None:
            raise p.Error(f"CrankWheel answered the create of {email} (HTTP {response.status_code}) with "
                          f"something that is not the user, and does not list {email}", retryable=True)
    await patch(p, created["email"], user_resource(created).attrs, attrs)


async def patch(p: "CrankWheelProvider", email: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """PATCH only the fields that differ (nothing to send is no call), and check the answer holds them."""
    changed = [name for name in api.UPDATE_FIELDS if after.get(name) != before.get(name)]
    if not changed:
        return
    form = {api.field(name): api.form_bool(after[name]) if isinstance(after[name], bool) else after[name]
            for name in changed}
    try:
        response = await p.request("PATCH", api.user_path(email), ok=api.UPDATE_OK, data=form)
    except CrankWheelError as exc:
        if exc.status == 404:
            await _confirm_gone(p, email, "PATCH")
        raise
    now = _answered(response, email, f"PATCH {api.USER}")
    unreadable = now is None
    if unreadable:  # a 2xx that is not the user: read it back
        now = await lookup(p, email)
        if now is None:
            raise p.Error(f"CrankWheel answered the change of {email} with something that is not the user, "
                          f"and no longer lists {email}")
    got = user_resource(now).attrs
    wrong = [f"{name} is {got[name]!r}, not {after[name]!r}" for name in changed if got[name] != after[name]]
    if wrong:
        raise p.Error(f"CrankWheel did not take the change of {email}: {'; '.join(wrong)}"
                      + (" (read back after an answer that was not the user)" if unreadable else ""),
                      retryable=unreadable)


async def delete(p: "CrankWheelProvider", email: str) -> None:
    """DELETE the user; a body on the answer is tolerated (NOTES.md). A 404 is "already gone"
    (the base's ``gone_statuses``) once the documented list confirms it."""
    try:
        await p.request("DELETE", api.user_path(email), ok=api.DELETE_OK)
    except CrankWheelError as exc:
        if exc.status == 404:
            await _confirm_gone(p, email, "DELETE")
        raise


async def _confirm_gone(p: "CrankWheelProvider", email: str, method: str) -> None:
    """After a 404 to a write on ``/user_access/{email}``: return when the list does not show the
    user either (the 404 stands); raise when it does, because then the service does not serve
    that call at all (it comes from NOTES.md, not the document), and "already gone" would be a lie."""
    if await listed(p, email) is not None:
        raise p.Error(f"CrankWheel answered 404 to {method} {api.USER} for {email}, yet lists {email}: this "
                      f"service does not seem to serve {method} {api.USER} (known from third-party clients, "
                      "not the published document)", code="endpoint_missing")


async def verify(p: "CrankWheelProvider", op: Operation) -> bool:
    """After a write whose answer was lost: does the one user hold its outcome? A delete asks the
    documented list (one call; the one-user read would answer 404 and need it anyway)."""
    if op.action == "delete":
        return await listed(p, op.key) is None
    current = await lookup(p, op.key)
    return current is not None and op.after is not None and user_resource(current).attrs == op.after.attrs
