"""Reading CrankWheel: the company-user list into live State, the section into desired State,
live back into a section (``import``), and the usage figures that are never state.

Every user the service answers with is checked against the document before it is used (an
email, a privilege of the four, ``in_demo_pool`` true/false/null): an answer of another shape is
an error naming the service, the user and the field, never a TypeError further on.
"""

from __future__ import annotations

import logging
import reprlib
from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import IncompleteRead, ProviderError, Ref, Resource, State, Unpaged, norm_email

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import CrankWheelProvider

log = logging.getLogger("teamform.crankwheel")

#: the one kind of resource: a company user, keyed by lower-cased email
USER = "user"

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 40
_show = _repr.repr  # a value from an answer, shortened for a message


class BadAnswer(ValueError):
    """An answer that is not what the document shows (the caller names the call)."""


def checked(item: Any, where: str) -> dict[str, Any]:
    """A user as the document shows it (``email``, ``privilege``, ``in_demo_pool``), or
    ``BadAnswer`` naming the field that is not."""
    if not isinstance(item, dict):
        raise BadAnswer(f"CrankWheel answered {where} with {type(item).__name__} where a user was expected")
    email = item.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise BadAnswer(f"CrankWheel answered {where} with a user whose email is {_show(email)}")
    privilege = item.get("privilege")
    if not isinstance(privilege, str) or privilege not in api.PRIVILEGES:
        raise BadAnswer(f"CrankWheel answered {where} with privilege {_show(privilege)} for {email}, "
                        f"not one of {', '.join(api.PRIVILEGES)}")
    pool = item.get("in_demo_pool")
    if pool is not None and not isinstance(pool, bool):
        raise BadAnswer(f"CrankWheel answered {where} with in_demo_pool {_show(pool)} for {email}, "
                        "not true, false or null")
    return {"email": email, "privilege": privilege, "in_demo_pool": pool}


def user_resource(item: dict[str, Any]) -> Resource:
    """A checked user as a resource; ``in_demo_pool: null`` is false (the document)."""
    email = item["email"]
    return Resource(USER, norm_email(email), person=email, display=email, id=email,
                    attrs={"privilege": item["privilege"], "in_demo_pool": bool(item["in_demo_pool"])})


def paging_signal(response: httpx.Response) -> str | None:
    """Why an answer to ``GET /user_access`` looks like one page of more, or ``None``.

    The list is documented whole and unpaged, so teamform asks for it once. A service that pages
    it anyway most likely says so the way Rails' paginators do (a ``Link: rel="next"`` header, a
    next-page or page-count header, a total above what came): such an answer is refused as a
    partial read rather than taken for the whole list. A service that pages without saying so
    cannot be told from one that does not (README.md)."""
    headers = response.headers
    for link in headers.get_list("link"):
        if 'rel="next"' in link.replace(" ", "") or "rel=next" in link.replace(" ", ""):
            return "a Link header pointing to a next page"
    if headers.get("x-next-page", "").strip():
        return f"X-Next-Page: {headers['x-next-page']}"
    for name in ("x-total-pages", "total-pages"):
        value = headers.get(name, "").strip()
        if value.isdigit() and int(value) > 1:
            return f"{name}: {value}"
    for name in ("x-total-count", "x-total", "total"):
        value = headers.get(name, "").strip()
        if value.isdigit():
            try:
                body = response.json()
            except ValueError:
                return None  # the caller reports a body that is not JSON
            if isinstance(body, list) and int(value) > len(body):
                return f"{name}: {value}, with {len(body)} users in the answer"
    return None


async def users(p: "CrankWheelProvider") -> list[dict[str, Any]]:
    """Every company user (``GET /user_access``, documented as one unpaged list), checked; any
    failure, or an answer not of the documented shape, is an ``IncompleteRead``."""
    items = await p.pages(api.USERS, Unpaged(), what="CrankWheel users")
    try:
        return [checked(item, f"GET {api.USERS}") for item in items]
    except BadAnswer as exc:
        raise IncompleteRead(str(exc)) from None


async def fetch(p: "CrankWheelProvider") -> State:
    """Every company user; a user listed twice (whatever the case of the email) aborts."""
    state = State()
    for item in await users(p):
        res = user_resource(item)
        if res.ref in state:
            raise IncompleteRead(f"CrankWheel listed {res.display} twice; refusing to plan from it")
        state.add(res)
    return state


async def listed(p: "CrankWheelProvider", email: str) -> dict[str, Any] | None:
    """One user as the documented list shows them, or ``None`` when it does not. A read that
    fails is a retryable error: the caller does not know, and the applier reads back again."""
    try:
        everyone = await users(p)
    except IncompleteRead as exc:
        raise p.Error(f"reading back {email}: {exc}", retryable=True) from exc
    return next((u for u in everyone if norm_email(u["email"]) == norm_email(email)), None)


async def lookup(p: "CrankWheelProvider", email: str) -> dict[str, Any] | None:
    """One user as the service holds them now, or ``None`` when it does not list them.

    ``GET /user_access/{email}`` (from NOTES.md, not the document) is the cheap read; its 404 is
    confirmed with the documented list, since a service without that endpoint answers 404 too.
    If the list does show the user, the endpoint is missing: a warning, and the list's answer."""
    try:
        body = await p.call("GET", api.user_path(email), ok=api.READ_OK)
    except ProviderError as exc:
        if exc.status != 404:
            raise
        found = await listed(p, email)
        if found is not None:
            log.warning("CrankWheel answered 404 to GET %s for %s, whom its list shows: that endpoint "
                        "(from third-party clients, not the document) seems missing; reading the list "
                        "instead", api.USER, found["email"])
        return found
    try:
        found = checked(body, f"GET {api.USER}")
    except BadAnswer as exc:
        raise p.Error(str(exc)) from None
    if norm_email(found["email"]) != norm_email(email):
        raise p.Error(f"CrankWheel answered GET {api.USER} for {email} with {found['email']}")
    return found


def desired(p: "CrankWheelProvider", live: State) -> State:
    """One user per member; ``in_demo_pool`` left out keeps the live value (false for a new user)."""
    wanted = p.wanted(p.settings.members, attrs=lambda m: {"privilege": m.privilege, "in_demo_pool": m.in_demo_pool})
    state = State()
    for email, attrs in wanted.items():
        have = live.get(Ref(USER, email))
        if attrs["in_demo_pool"] is None:
            attrs = {**attrs, "in_demo_pool": bool(have and have.attrs["in_demo_pool"])}
        spelled = p.spelling(email)
        state.add(Resource(USER, email, attrs=attrs, person=spelled, display=have.display if have else spelled))
    return state


def export(live: State) -> dict[str, Any]:
    members = []
    for r in sorted(live.of_kind(USER), key=lambda r: r.key):
        entry: dict[str, Any] = {"who": r.key, "privilege": r.attrs["privilege"]}
        if r.attrs["in_demo_pool"]:
            entry["in_demo_pool"] = True
        members.append(entry)
    return {"members": members}


async def usage(p: "CrankWheelProvider", start: int, end: int) -> dict[str, dict[str, int]]:
    """Meetings and seconds per person between two timestamps (``GET /usage``). The document
    names ``stats`` (in aggregate and per agent) but not its fields: ``per_agent`` with
    ``meetings``/``seconds`` is the emulator's choice (README.md)."""
    body = await p.call("GET", api.USAGE, params={"from": start, "to": end}, ok=api.READ_OK)
    stats = body.get("stats") if isinstance(body, dict) else None
    per_agent = stats.get("per_agent") if isinstance(stats, dict) else None
    if not isinstance(per_agent, dict) or not all(
            isinstance(v, dict) and all(isinstance(n, int) and not isinstance(n, bool) for n in v.values())
            for v in per_agent.values()):
        raise p.Error(f"CrankWheel answered GET {api.USAGE} without stats.per_agent as counts per agent")
    return {norm_email(k): dict(v) for k, v in per_agent.items()}
