"""Reading Krisp: the team and its seats -> live State; the file's section -> desired State;
live State -> the section again (``import``).

Every seat is checked against the document's "Response Data" table before it is used: an answer
of the wrong shape (a list where a role is, a seat type outside the documented two) is an
``IncompleteRead`` that names the seat and the field, never a ``TypeError`` in the planner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from teamform.provider import IncompleteRead, NumberedPages, Page, ProviderError, Ref, Resource, State, norm_email

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import KrispProvider

#: the kinds: a seat type's pool, and a person on a seat
SEATS, MEMBER = "seats", "member"


@dataclass
class SeatPages(NumberedPages):
    """``GET /team/seats?page=&limit=`` answers ``{count, seats: [...]}`` inside the envelope's
    ``data``. Paging is not in the document (see README): ``count`` is read as the number of seats
    that match, as the document's "number of matching results" says, and it must hold still from
    page to page; past ``api.MAX_SEAT_PAGES`` pages the list is not believed to end. One per read."""

    items: str = "seats"
    total: str | None = "count"
    size: int = api.PAGE_LIMIT
    _count: int | None = field(default=None, init=False, repr=False)
    _pages: int = field(default=0, init=False, repr=False)

    def parse(self, body: Any) -> Page:
        if isinstance(body, dict) and "count" not in body:
            raise ValueError("no 'count' beside the seats: the list cannot be known to be whole")
        page = super().parse(body)
        self._pages += 1
        if self._pages == 1:
            self._count = page.total
        elif page.total != self._count:
            raise ValueError(f"'count' went from {self._count} to {page.total} between pages: the seat list "
                             "changed while it was read")
        if self._pages > api.MAX_SEAT_PAGES:
            raise ValueError(f"the seat list did not end after {api.MAX_SEAT_PAGES} pages")
        return page


async def all_seats(p: "KrispProvider") -> list[dict[str, Any]]:
    """Every seat of the team, assigned or not, each checked against the document, or ``IncompleteRead``."""
    seats = await p.pages(api.SEATS, SeatPages(), what="seats")
    seen: set[int] = set()
    for s in seats:
        checked(s)
        if s["id"] in seen:
            raise IncompleteRead(f"krisp listed seat {s['id']} twice: the seat list changed while it was read "
                                 "(pages shifted), so it cannot be known to be whole")
        seen.add(s["id"])
    return seats


def _bad(seat_id: Any, field_: str, value: Any, expected: str) -> IncompleteRead:
    return IncompleteRead(f"krisp answered seat {seat_id} with {field_} {value!r}, not {expected}")


def checked(s: Any) -> dict[str, Any]:
    """One seat as the document's "Response Data" table describes it, or ``IncompleteRead``."""
    if not isinstance(s, dict):
        raise IncompleteRead(f"krisp answered a seat that is {type(s).__name__}, not an object")
    seat_id = s.get("id")
    if isinstance(seat_id, bool) or not isinstance(seat_id, int) or seat_id < 1:
        raise IncompleteRead(f"krisp answered a seat with 'id' {seat_id!r}, not a positive integer")
    if s.get("type") not in api.SEAT_TYPES:
        raise _bad(seat_id, "'type'", s.get("type"), "one of " + ", ".join(api.SEAT_TYPES))
    if not isinstance(s.get("status"), str):
        raise _bad(seat_id, "'status'", s.get("status"), "a status string")
    if s.get("nickname") is not None and not isinstance(s["nickname"], str):
        raise _bad(seat_id, "'nickname'", s["nickname"], "a string or null")
    user = s.get("user")
    if user is None:
        return s
    if not isinstance(user, dict):
        raise _bad(seat_id, "'user'", user, "an object or null")
    email = user.get("email")
    if email is not None and not (isinstance(email, str) and "@" in email):
        raise _bad(seat_id, "'user.email'", email, "an email address")
    if email is not None and s.get("role") not in api.ROLES:
        raise _bad(seat_id, "'role'", s.get("role"), "one of " + ", ".join(api.ROLES))
    return s


def email_of(s: dict[str, Any]) -> str | None:
    """The email of the seat's user (the service's spelling), if it has one."""
    user = s.get("user")
    return user.get("email") if isinstance(user, dict) else None


def by_email(seats: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Assigned seats by their user's lower-cased email."""
    return {norm_email(email): s for s in seats if (email := email_of(s))}


def pool(type_: str, count: int) -> Resource:
    return Resource(SEATS, type_, attrs={"count": count}, display=type_)


#: a member's refs by seat type: one tuple shared by the seat's members (immutable)
ON_SEAT = {type_: (Ref(SEATS, type_),) for type_ in api.SEAT_TYPES}


def member(s: dict[str, Any]) -> Resource:
    email, type_ = s["user"]["email"], s["type"]
    pending = s["status"] in api.PENDING_STATUSES
    return Resource(MEMBER, norm_email(email), attrs={"role": s["role"], "seat": type_, "nickname": s["nickname"]},
                    refs=ON_SEAT.get(type_) or (Ref(SEATS, type_),), person=email, display=email, id=s["id"],
                    pending=pending,
                    # a pending seat's join_date is when it was assigned: the day the invitation went out
                    invited_at=s.get("join_date") if pending else None)


def seat_state(seats: Iterable[dict[str, Any]]) -> State:
    """The pools and members that a (checked) seat list shows."""
    state = State()
    counts = {t: 0 for t in api.SEAT_TYPES}
    for s in seats:
        counts[s["type"]] += 1
        if email_of(s):
            state.add(member(s))
    for type_, count in counts.items():
        state.add(pool(type_, count))
    return state


async def team_facts(p: "KrispProvider") -> dict[str, Any]:
    """The team's ``type`` (email/device) and ``payment_type`` (card/invoice), for the plan-time
    checks. ``GET /team`` is not in the document: when it answers 404 the facts are unknown and
    ``checks`` says so with a warning, instead of refusing to read the team."""
    try:
        team = await p.call("GET", api.TEAM)
    except ProviderError as exc:
        if exc.status == 404:
            return {"team_unknown": f"GET {api.TEAM} answered 404"}
        raise IncompleteRead(f"reading the team failed: {exc}", status=exc.status) from exc
    except Exception as exc:  # noqa: BLE001 - a transport error: the read is incomplete
        raise IncompleteRead(f"reading the team failed: {exc}") from exc
    if not isinstance(team, dict):
        what = "an empty answer" if team is None else type(team).__name__
        raise IncompleteRead(f"krisp answered the team with {what}, not an object")
    facts: dict[str, Any] = {}
    for name, key, allowed in (("team_type", "type", api.TEAM_TYPES),
                               ("payment_type", "payment_type", api.PAYMENT_TYPES)):
        value = team.get(key)
        if value is not None and value not in allowed:
            raise IncompleteRead(f"krisp answered the team with '{key}' {value!r}, not one of {', '.join(allowed)}")
        facts[name] = value
    return facts


async def fetch(p: "KrispProvider") -> State:
    facts = await team_facts(p)
    state = seat_state(await all_seats(p))
    state.facts.update(facts)
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
        refs = ON_SEAT.get(attrs["seat"]) or (Ref(SEATS, attrs["seat"]),)
        state.add(Resource(MEMBER, email, attrs=attrs, refs=refs, person=spelled,
                           display=have.display if have else spelled))
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
