"""Reading Krisp: the team and its seats -> live State; the file's section -> desired State;
live State -> the section again (``import``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from teamform.provider import NumberedPages, Ref, Resource, State, norm_email

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import KrispProvider

#: the kinds: a seat type's pool, and a person on a seat
SEATS, MEMBER = "seats", "member"


#: ``GET /team/seats?page=&limit=`` answers ``{count, seats: [...]}`` inside the envelope's ``data``
SEAT_PAGES = NumberedPages(items="seats", total="count", size=api.PAGE_LIMIT)


async def all_seats(p: "KrispProvider") -> list[dict[str, Any]]:
    """Every seat of the team, assigned or not, or ``IncompleteRead``."""
    return await p.pages(api.SEATS, SEAT_PAGES, what="seats")


def by_email(seats: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Assigned seats by their user's lower-cased email."""
    return {norm_email(s["user"]["email"]): s for s in seats if s.get("user")}


def pool(type_: str, count: int) -> Resource:
    return Resource(SEATS, type_, attrs={"count": count}, display=type_)


def member(s: dict[str, Any]) -> Resource:
    email = s["user"]["email"]
    return Resource(MEMBER, norm_email(email), attrs={"role": s["role"], "seat": s["type"], "nickname": s["nickname"]},
                    refs=(Ref(SEATS, s["type"]),), person=email, display=email, id=s["id"],
                    pending=s["status"] in api.PENDING_STATUSES)


async def fetch(p: "KrispProvider") -> State:
    team = await p.call("GET", api.TEAM)
    seats = await all_seats(p)
    state = State()
    state.facts.update(payment_type=team.get("payment_type"), team_type=team.get("type"))
    counts = {t: 0 for t in api.SEAT_TYPES}
    for s in seats:
        counts[s["type"]] = counts.get(s["type"], 0) + 1
        user = s.get("user")
        if user and user.get("email"):
            state.add(member(s))
    for type_, count in counts.items():
        state.add(pool(type_, count))
    return state


def desired(p: "KrispProvider", live: State) -> State:
    """The file's seats (a type not named keeps its live count) and members (a nickname not
    given keeps the live one)."""
    state = State()
    for type_ in api.SEAT_TYPES:
        current = live.get(Ref(SEATS, type_))
        state.add(pool(type_, p.settings.seats.get(type_, current.attrs["count"] if current else 0)))
    wanted = p.wanted(p.settings.members, attrs=lambda m: {"role": m.role, "seat": m.seat, "nickname": m.nickname})
    for email, attrs in wanted.items():
        have = live.get(Ref(MEMBER, email))
        if attrs["nickname"] is None:
            attrs = {**attrs, "nickname": have.attrs.get("nickname") if have else None}
        spelled = p.spelling(email)
        state.add(Resource(MEMBER, email, attrs=attrs, refs=(Ref(SEATS, attrs["seat"]),),
                           person=spelled, display=have.display if have else spelled))
    return state


def export(live: State) -> dict[str, Any]:
    members = []
    for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key):
        entry: dict[str, Any] = {"who": r.key, "role": r.attrs["role"]}
        if r.attrs["seat"] != "standard":
            entry["seat"] = r.attrs["seat"]
        if r.attrs.get("nickname"):
            entry["nickname"] = r.attrs["nickname"]
        members.append(entry)
    return {"seats": {r.key: r.attrs["count"] for r in live.of_kind(SEATS)}, "members": members}
