"""teamform provider for Krisp teams: seat counts per seat type, who is on a seat, role, nickname."""

from __future__ import annotations

from typing import Any, Literal, Sequence

import httpx
from pydantic import Field, conint

from teamform.config.schema import BaseURL, Limits, ProviderSettings, Strict, Who
from teamform.members import expand
from teamform.model import Guard, KindSpec, Ref, Resource, State, norm_email
from teamform.plan.ops import Operation
from teamform.provider import Finding, IncompleteRead, Provider, ProviderError, json_body

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
        body = json_body(response)
        code = body.get("error_code")
        known = api.ERRORS.get(code or "")
        said = [s for s in (body.get("message"), body.get("situation")) if isinstance(s, str) and s]
        text = known[1] if known else (said.pop(0) if said else f"HTTP {response.status_code}")
        if said:
            text = f"{text} (Krisp: {' / '.join(dict.fromkeys(said))})"
        return cls.from_http(response, f"Krisp {code or response.status_code}: {text}", code=code)


class KrispProvider(Provider):
    name = "krisp"
    summary = "Krisp teams: seats per seat type, who is on each seat (by email), role Admin/User, nickname"
    Settings = KrispSettings
    credential_names = ("api_key", "secret")
    emulator_class = KrispEmulator
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

    # ---- calls --------------------------------------------------------------------------
    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise KrispError.from_response(response)
        body = response.json()
        if body.get("code", 0) != 0:
            raise KrispError.from_response(response)
        return body.get("data") or {}

    async def _all_seats(self) -> list[dict[str, Any]]:
        seats: list[dict[str, Any]] = []
        page = 1
        while True:
            try:
                data = await self.call("GET", api.SEATS, params={"page": page, "limit": api.PAGE_LIMIT})
            except (ProviderError, httpx.HTTPError) as exc:
                raise IncompleteRead(f"reading seats stopped at page {page}: {exc}") from exc
            chunk, total = data.get("seats") or [], int(data.get("count", 0))
            seats.extend(chunk)
            if len(seats) >= total:
                return seats
            if not chunk:
                raise IncompleteRead(f"seat list ended after {len(seats)} of {total} seats")
            page += 1

    # ---- reading ------------------------------------------------------------------------
    async def fetch(self) -> State:
        team = await self.call("GET", api.TEAM)
        seats = await self._all_seats()
        state = State()
        state.facts.update(payment_type=team.get("payment_type"), team_type=team.get("type"))
        counts = {t: 0 for t in api.SEAT_TYPES}
        for s in seats:
            counts[s["type"]] = counts.get(s["type"], 0) + 1
            user = s.get("user")
            if not user or not user.get("email"):
                continue
            email = user["email"]
            state.add(Resource(
                MEMBER, norm_email(email), attrs={"role": s["role"], "seat": s["type"], "nickname": s["nickname"]},
                refs=(Ref(SEATS, s["type"]),), person=email, display=email, id=s["id"],
                pending=s["status"] in api.PENDING_STATUSES))
        for type_, count in counts.items():
            state.add(Resource(SEATS, type_, attrs={"count": count}, display=type_))
        return state

    def desired(self, live: State) -> State:
        state = State()
        for type_ in api.SEAT_TYPES:
            current = live.get(Ref(SEATS, type_))
            count = self.settings.seats.get(type_, current.attrs["count"] if current else 0)
            state.add(Resource(SEATS, type_, attrs={"count": count}, display=type_))
        wanted = expand(self.settings.members, self.ctx.directory,
                        attrs=lambda m: {"role": m.role, "seat": m.seat, "nickname": m.nickname},
                        where=f"services.{self.ctx.instance}.members")
        for email, attrs in wanted.items():
            have = live.get(Ref(MEMBER, email))
            if attrs["nickname"] is None:
                attrs = {**attrs, "nickname": have.attrs.get("nickname") if have else None}
            spelled = self.ctx.directory.spelling.get(email, email)
            state.add(Resource(MEMBER, email, attrs=attrs, refs=(Ref(SEATS, attrs["seat"]),),
                               person=spelled, display=have.display if have else spelled))
        return state

    def check(self, desired: State, live: State) -> list[Finding]:
        issues = []
        if live.facts.get("payment_type") == "invoice":
            for pool in desired.of_kind(SEATS):
                have = live.get(pool.ref)
                if have and pool.attrs["count"] != have.attrs["count"]:
                    issues.append(Finding("error", f"{pool.label}: {have.attrs['count']} → {pool.attrs['count']} "
                                        "is not possible: this team pays by invoice, and Krisp only lets "
                                        "card-paying teams add or remove seats (change them with Krisp sales)"))
        if live.facts.get("team_type") == "device" and any(
                r.ref not in live for r in desired.of_kind(MEMBER)):
            issues.append(Finding("error", "this API key belongs to a device team: Krisp does not let it "
                                "invite members by email"))
        return issues

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        if op.kind == SEATS:
            await self._resize(op)
        elif op.action == "create":
            await self._invite([op])
        elif op.action == "update":
            body = {k: op.after.attrs[k] for k in ("role", "nickname")
                    if op.after.attrs.get(k) != op.before.attrs.get(k)}
            await self.call("PATCH", api.SEAT.format(id=op.before.id), json=body)
        elif op.action == "delete":
            try:
                await self.call("POST", api.SEAT_UNASSIGN.format(id=op.before.id))
            except KrispError as exc:
                if exc.code not in ("SEAT_IS_EMPTY", "SEAT_NOT_FOUND"):  # already gone
                    raise

    async def _resize(self, op: Operation) -> None:
        type_ = op.key
        delta = op.after.attrs["count"] - op.before.attrs["count"]
        if delta > 0:
            await self.call("POST", api.SEATS, json={"type": type_, "quantity": delta})
            return
        free = [s for s in await self._all_seats() if s["type"] == type_ and s["user"] is None]
        for s in free[:-delta]:
            await self.call("DELETE", api.SEAT.format(id=s["id"]))

    def batch_key(self, op: Operation) -> str | None:
        if op.kind == MEMBER and op.action == "create":
            return f"invite:{op.after.attrs['seat']}:{op.after.attrs['role']}"
        return None

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        try:
            await self._invite(ops)
        except ProviderError as exc:
            return [exc] * len(ops)
        return [None] * len(ops)

    async def _invite(self, ops: Sequence[Operation]) -> None:
        first = ops[0].after.attrs
        data = await self.call("POST", api.INVITE, json={
            "emails": [op.after.person or op.key for op in ops], "type": first["seat"], "role": first["role"]})
        seats = {norm_email(s["user"]["email"]): s for s in data.get("seats") or []}
        named = [op for op in ops if op.after.attrs.get("nickname")]
        if any(op.key not in seats for op in named):  # skipped as already a member: a retried invite
            seats.update({norm_email(s["user"]["email"]): s for s in await self._all_seats() if s["user"]})
        for op in named:
            seat = seats.get(op.key)
            if seat is not None and seat.get("nickname") != op.after.attrs["nickname"]:
                await self.call("PATCH", api.SEAT.format(id=seat["id"]), json={"nickname": op.after.attrs["nickname"]})

    # ---- import -------------------------------------------------------------------------
    def export(self, live: State) -> dict[str, Any]:
        members = []
        for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key):
            entry: dict[str, Any] = {"who": r.key, "role": r.attrs["role"]}
            if r.attrs["seat"] != "standard":
                entry["seat"] = r.attrs["seat"]
            if r.attrs.get("nickname"):
                entry["nickname"] = r.attrs["nickname"]
            members.append(entry)
        return {"seats": {r.key: r.attrs["count"] for r in live.of_kind(SEATS)}, "members": members}
