"""Reading CrankWheel: the company-user list into live State, the section into desired State,
live back into a section (``import``), and the usage figures that are never state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamform.provider import IncompleteRead, ProviderError, Ref, Resource, State, Unpaged, norm_email

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import CrankWheelProvider

#: the one kind of resource: a company user, keyed by lower-cased email
USER = "user"


def user_resource(item: dict[str, Any]) -> Resource:
    email = item["email"]
    return Resource(USER, norm_email(email), person=email, display=email, id=email,
                    attrs={"privilege": item.get("privilege"), "in_demo_pool": bool(item.get("in_demo_pool"))})


async def fetch(p: "CrankWheelProvider") -> State:
    """Every company user (one unpaged list); a user without an email or listed twice aborts."""
    items = await p.pages(api.USERS, Unpaged(), what="CrankWheel users")
    if not all(isinstance(i, dict) and i.get("email") for i in items):
        raise IncompleteRead("CrankWheel's user list was not a list of users with emails")
    state = State()
    for item in items:
        res = user_resource(item)
        if res.ref in state:
            raise IncompleteRead(f"CrankWheel listed {res.display} twice; refusing to plan from it")
        state.add(res)
    return state


async def fetch_one(p: "CrankWheelProvider", email: str) -> dict[str, Any] | None:
    """One user as the service lists it, or ``None`` when it answers 404."""
    try:
        body = await p.call("GET", api.user_path(email), ok=api.READ_OK)
    except ProviderError as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(body, dict) or not body.get("email"):
        raise p.Error(f"CrankWheel answered GET {api.USER} with something that is not a user")
    return body


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
    """Meetings and seconds per person between two timestamps (``GET /usage``)."""
    body = await p.call("GET", api.USAGE, params={"from": start, "to": end}, ok=api.READ_OK)
    per_agent = ((body or {}).get("stats") or {}).get("per_agent") or {}
    return {norm_email(k): dict(v) for k, v in per_agent.items()}
