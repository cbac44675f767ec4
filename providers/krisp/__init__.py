"""teamform provider for Krisp teams: seat counts per seat type, who is on a seat, role, nickname."""

from __future__ import annotations

from typing import Any, Iterable, Literal, Sequence

import httpx
from pydantic import Field, conint

from teamform.provider import (BaseURL, Finding, Guard, IncompleteRead, KindSpec, Limits, NumberedPages, Operation,
                               Page, Provider, ProviderError, ProviderSettings, Ref, Resource, State, Strict, Who,
                               error, json_body, norm_email)

from . import api
from .emulator import KrispEmulator

SEATS, MEMBER = "seats", "member"


class KrispMember(Strict):
    who: Who
    role: Literal["Admin", "User"] = "User"
    seat: Literal["standard", "device"] = Field("standard", description="the seat type to place them on")
    nickname: str | None = Field(None, description="left as it is when not given")


class KrispSettings(ProviderSettings):
    base_url: BaseURL = api.DEFAULT_BASE_URL
    api_version: str = Field(api.DEFAULT_VERSION, pattern=r"^v[0-9]+$")
    limits: Limits = Field(default_factory=lambda: Limits(requests_per_minute=300))
    seats: dict[Literal["standard", "device"], conint(ge=0)] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="seat count per seat type; a type not named is left as it is")
    members: list[KrispMember] = Field(default_factory=list)


class KrispError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "KrispError":
        """The envelope's ``error_code`` in our words, with Krisp's own ``message``/``situation``."""
        body = json_body(response)
        code = body.get("error_code")
        known = api.ERRORS.get(code or "")
        said = [s for s in (body.get("message"), body.get("situation")) if isinstance(s, str) and s]
        text = known[1] if known else (said.pop(0) if said else f"HTTP {response.status_code}")
        if said:
            text = f"{text} (Krisp: {' / '.join(dict.fromkeys(said))})"
        return cls.from_http(response, f"Krisp {code or response.status_code}: {text}", code=code)


class SeatPages:
    """``GET /team/seats?page=&limit=``, answering ``{count, seats: [...]}`` inside the envelope's
    ``data``; it remembers where the read is, so a read cut short says which page failed or where
    the list ended. It keeps state: one per read."""

    numbered = NumberedPages(items="seats", total="count", size=api.PAGE_LIMIT)
    size = numbered.size

    def __init__(self) -> None:
        self.page, self.seen, self.total, self.empty = 0, 0, None, False

    def params(self, index: int, seen: int) -> dict[str, Any]:
        self.page, self.seen, self.empty = self.numbered.first + index, seen, False
        return self.numbered.params(index, seen)

    def parse(self, body: Any) -> Page:
        page = self.numbered.parse(body)
        self.total, self.empty = page.total, not page.items
        self.seen += len(page.items)
        return page

    def stopped(self, exc: IncompleteRead) -> str | None:
        """Krisp's words for a read cut short, where they say more than the base's."""
        if isinstance(exc.__cause__, (ProviderError, httpx.HTTPError)):
            return f"reading seats stopped at page {self.page}: {exc.__cause__}"
        if self.empty and self.total is not None and self.seen < self.total:
            return f"seat list ended after {self.seen} of {self.total} seats"
        return None


async def all_seats(p: "KrispProvider") -> list[dict[str, Any]]:
    """Every seat of the team, assigned or not, or ``IncompleteRead``."""
    paging = SeatPages()
    try:
        return await p.pages(api.SEATS, paging, what="seats")
    except IncompleteRead as exc:
        said = paging.stopped(exc)
        if said is None:
            raise
        raise IncompleteRead(said) from exc


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


def check(desired: State, live: State) -> list[Finding]:
    issues = []
    if live.facts.get("payment_type") == "invoice":
        for pool in desired.of_kind(SEATS):
            have = live.get(pool.ref)
            if have and pool.attrs["count"] != have.attrs["count"]:
                issues.append(error(f"{pool.label}: {have.attrs['count']} → {pool.attrs['count']} is not possible: "
                                    "this team pays by invoice, and Krisp only lets card-paying teams add or "
                                    "remove seats (change them with Krisp sales)", pool.label))
    if live.facts.get("team_type") == "device" and any(r.ref not in live for r in desired.of_kind(MEMBER)):
        issues.append(error("this API key belongs to a device team: Krisp does not let it invite members by email"))
    return issues


async def apply(p: "KrispProvider", op: Operation) -> None:
    if op.kind == SEATS:
        await resize(p, op)
    elif op.action == "create":
        await invite(p, [op])
    elif op.action == "update":
        body = {k: op.after.attrs[k] for k in ("role", "nickname")
                if op.after.attrs.get(k) != op.before.attrs.get(k)}
        await p.call("PATCH", api.SEAT.format(id=op.before.id), json=body)
    elif op.action == "delete":
        await p.call("POST", api.SEAT_UNASSIGN.format(id=op.before.id))


async def resize(p: "KrispProvider", op: Operation) -> None:
    """Add the missing seats of a type in one call, or delete as many unassigned ones."""
    type_ = op.key
    delta = op.after.attrs["count"] - op.before.attrs["count"]
    if delta > 0:
        await p.call("POST", api.SEATS, json={"type": type_, "quantity": delta})
        return
    free = [s for s in await all_seats(p) if s["type"] == type_ and s["user"] is None]
    for s in free[:-delta]:
        await p.call("DELETE", api.SEAT.format(id=s["id"]))


def batch_key(op: Operation) -> str | None:
    if op.kind == MEMBER and op.action == "create":
        return f"invite:{op.after.attrs['seat']}:{op.after.attrs['role']}"
    return None


async def apply_batch(p: "KrispProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    try:
        await invite(p, ops)
    except ProviderError as exc:
        return [exc] * len(ops)
    return [None] * len(ops)


async def invite(p: "KrispProvider", ops: Sequence[Operation]) -> None:
    """One bulk invitation for members of one seat type and role, then their nicknames (the
    invitation cannot carry one)."""
    first = ops[0].after.attrs
    data = await p.call("POST", api.INVITE, json={
        "emails": [op.after.person or op.key for op in ops], "type": first["seat"], "role": first["role"]})
    seats = by_email(data.get("seats") or [])
    named = [op for op in ops if op.after.attrs.get("nickname")]
    if any(op.key not in seats for op in named):  # skipped as already a member: a retried invite
        seats.update(by_email(await all_seats(p)))
    for op in named:
        seat = seats.get(op.key)
        if seat is not None and seat.get("nickname") != op.after.attrs["nickname"]:
            await p.call("PATCH", api.SEAT.format(id=seat["id"]), json={"nickname": op.after.attrs["nickname"]})


class KrispProvider(Provider):
    name = "krisp"
    summary = "Krisp teams: seats per seat type, who is on each seat (by email), role Admin/User, nickname"
    Settings = KrispSettings
    credential_names = ("api_key", "secret")
    connection_settings = ("api_version",)
    emulator_class = KrispEmulator
    Error = KrispError
    # Krisp says "no such seat" with 400 SEAT_NOT_FOUND; a 404 is a wrong path, not a gone seat
    gone_statuses = frozenset()
    gone_codes = api.ALREADY_GONE
    kinds = (
        KindSpec(SEATS, "seat count of a seat type", removable=False, capacity_attr="count",
                 counts_as_member=False),
        KindSpec(MEMBER, "a person on a seat", replace_on=frozenset({"seat"}),
                 replace_warning="Krisp cannot move a user between seat types: they are unassigned and "
                                 "invited again, and lose access until they accept",
                 role_attr="role", role_rank=api.ROLES,
                 guards=(Guard("role", frozenset({"Admin"}), "a Krisp team needs at least one Admin"),)),
    )

    def base_url(self) -> str:
        return f"{self.settings.base_url}/api/{self.settings.api_version}"

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth(self.ctx.credentials["api_key"], self.ctx.credentials["secret"])

    # ---- the envelope: {code, error_code, message, situation, data} -----------------------
    def failed(self, response: httpx.Response) -> bool:
        return response.status_code >= 400 or json_body(response).get("code", 0) != 0

    def unwrap(self, body: Any) -> Any:
        if not isinstance(body, dict):
            raise KrispError(f"Krisp answered without its envelope: {type(body).__name__}")
        return body.get("data") or {}

    # ---- the hooks ------------------------------------------------------------------------
    async def fetch(self) -> State:
        return await fetch(self)

    def desired(self, live: State) -> State:
        return desired(self, live)

    def check(self, desired: State, live: State) -> list[Finding]:
        return check(desired, live)

    async def apply(self, op: Operation) -> None:
        await apply(self, op)

    def batch_key(self, op: Operation) -> str | None:
        return batch_key(op)

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        return await apply_batch(self, ops)

    def export(self, live: State) -> dict[str, Any]:
        return export(live)
