"""A fake provider: the smallest provider that has every shape the engine handles (a capacity
pool, a guarded role, an attribute that cannot change in place, pending invitations, paging, a
bulk create), so the engine's own tests need no real service's quirks. It is written exactly
as a provider package would be, from the public contract only.

Load a file that uses it with ``teamform.testing.load(text, providers=FAKE)``.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import httpx
from pydantic import Field

from ..provider import (BaseURL, Guard, HeaderAuth, KindSpec, OffsetPages, Operation, Provider, ProviderError,
                        ProviderSettings, Ref, Resource, State, Strict, Who, json_body, norm_email)
from .fake_emulator import MAX_PAGE, FakeEmulator

SEATS, MEMBER = "seats", "member"
ROLES = ("User", "Admin")


class FakeMember(Strict):
    who: Who
    role: Literal["User", "Admin"] = "User"
    plan: Literal["basic", "pro"] = "basic"
    active: bool = Field(True, description="false: suspended (the account stays, it cannot sign in)")


class FakeSettings(ProviderSettings):
    base_url: BaseURL = "https://fake.invalid"
    seats: int | None = Field(None, ge=0, description="seat count; left as it is when not given")
    members: list[FakeMember] = Field(default_factory=list)


class FakeError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "FakeError":
        said = json_body(response).get("error") or f"HTTP {response.status_code}"
        return cls.from_http(response, f"fake {response.status_code}: {said}", code=said,
                             already_done=response.status_code == 409 and said == "exists")


def _member(item: dict[str, Any]) -> Resource:
    email = item["email"]
    attrs = {"role": item["role"], "plan": item["plan"], "active": item.get("active", True)}
    return Resource(MEMBER, norm_email(email), attrs, (Ref(SEATS, "seats"),),
                    person=email, display=email, id=item["id"], pending=bool(item.get("pending")))


class FakeProvider(Provider):
    name = "fake"
    summary = "a fake service for the engine's tests: members on a seat pool, role User/Admin, plan"
    Settings = FakeSettings
    Error = FakeError
    credential_names = ("api_key",)
    emulator_class = FakeEmulator
    kinds = (
        KindSpec(SEATS, "the seat pool", removable=False, capacity_attr="count", counts_as_member=False),
        KindSpec(MEMBER, "a person on a seat", replace_on=frozenset({"plan"}),
                 replace_warning="a member's plan cannot change in place: they are removed and added again",
                 role_attr="role", role_rank=ROLES,
                 guards=(Guard("role", frozenset({"Admin"}), "the fake service needs an Admin"),),
                 suspend=("active", False), renames_in_place=True),
    )

    def auth(self) -> httpx.Auth:
        return HeaderAuth("X-Api-Key", self.ctx.credentials["api_key"])

    async def fetch(self) -> State:
        seats = await self.call("GET", "/seats")
        items = await self.pages("/members", OffsetPages(items="items", total="total", size=MAX_PAGE), what="members")
        state = State([_member(item) for item in items])
        state.add(Resource(SEATS, "seats", {"count": seats["count"]}, display="seats"))
        return state

    def desired(self, live: State) -> State:
        current = live.get(Ref(SEATS, "seats"))
        count = self.settings.seats if self.settings.seats is not None else (current.attrs["count"] if current else 0)
        state = State([Resource(SEATS, "seats", {"count": count}, display="seats")])
        wanted = self.wanted(self.settings.members, lambda m: {"role": m.role, "plan": m.plan, "active": m.active})
        for email, attrs in wanted.items():
            state.add(Resource(MEMBER, email, attrs, (Ref(SEATS, "seats"),), person=self.spelling(email),
                               display=self.spelling(email)))
        return state

    async def apply(self, op: Operation) -> None:
        if op.kind == SEATS:
            await self.call("PUT", "/seats", json={"count": op.after.attrs["count"]})
        elif op.action == "create":
            await self.call("POST", "/members", json={"email": op.after.person or op.key, **op.after.attrs})
        elif op.action == "update":
            body = {"role": op.after.attrs["role"], "active": op.after.attrs.get("active", True)}
            if op.before.key != op.after.key:  # a rename: the service changes the email in place
                body["email"] = op.after.person or op.key
            await self.call("PATCH", f"/members/{op.before.id}", json=body)
        elif op.action == "delete":
            await self.request("DELETE", f"/members/{op.before.id}")

    def batch_key(self, op: Operation) -> str | None:
        return "create" if op.kind == MEMBER and op.action == "create" else None

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        body = await self.call("POST", "/members/bulk", json={
            "members": [{"email": op.after.person or op.key, **op.after.attrs} for op in ops]})
        out: list[BaseException | None] = []
        for result in body["results"]:
            status, said = result["status"], result.get("error", "")
            out.append(None if status == 201 else FakeError(f"fake {status}: {said}", status=status, code=said,
                                                            already_done=said == "exists"))
        return out

    def export(self, live: State) -> dict[str, Any]:
        members = [{"who": r.key, "role": r.attrs["role"], "plan": r.attrs["plan"],
                    **({} if r.attrs.get("active", True) else {"active": False})}
                   for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key)]
        return {"seats": live.get(Ref(SEATS, "seats")).attrs["count"], "members": members}


#: pass as ``providers=`` to ``teamform.testing.load``
FAKE = {"fake": FakeProvider}
