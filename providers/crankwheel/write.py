"""Writing CrankWheel: operations into form-encoded calls, the read-back after a lost answer, and
the error an answer that did not work becomes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import Operation, ProviderError, json_body

from . import api
from .read import lookup, user_resource

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
    elif op.action == "delete":  # already gone (404) is done: Provider.gone_statuses
        await p.request("DELETE", api.user_path(op.before.id or op.key), ok=api.DELETE_OK)


async def create(p: "CrankWheelProvider", op: Operation) -> None:
    """POST the user; if the email is already listed (someone else, or our lost answer), make it as desired."""
    attrs = op.after.attrs
    form = {api.field("email"): op.after.display or op.key,
            api.field("privilege"): attrs["privilege"],
            api.field("in_demo_pool"): api.form_bool(attrs["in_demo_pool"]),
            api.field("send_onboarding_email"): api.form_bool(p.settings.send_onboarding_email)}
    try:
        await p.request("POST", api.USERS, ok=api.CREATE_OK, data=form)
    except CrankWheelError as exc:
        current = await lookup(p, op.key) if exc.status == 422 else None
        if current is None:
            raise
        await patch(p, op.key, user_resource(current).attrs, attrs)


async def patch(p: "CrankWheelProvider", email: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """PATCH only the fields that differ; nothing to send is no call."""
    form = {}
    for name in api.UPDATE_FIELDS:
        if after.get(name) != before.get(name):
            value = after[name]
            form[api.field(name)] = api.form_bool(value) if isinstance(value, bool) else value
    if form:
        await p.request("PATCH", api.user_path(email), ok=api.UPDATE_OK, data=form)


async def verify(p: "CrankWheelProvider", op: Operation) -> bool:
    """A cheaper read-back than the whole list: the one user (its 404 confirmed by the list)."""
    current = await lookup(p, op.key)
    if op.action == "delete":
        return current is None
    return current is not None and op.after is not None and user_resource(current).attrs == op.after.attrs
