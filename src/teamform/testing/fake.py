"""A fake provider: the smallest provider that has every shape the engine handles (a capacity
pool, a guarded role, an attribute that cannot change in place, pending invitations with the day
they were sent and a way to resend them, a suspended status, an acting identity read from a
whoami call, an admin group that must keep a member, paging, a bulk create), so the engine's own
tests need no real service's quirks. It is written exactly
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

SEATS, MEMBER, GROUP, GROUP_MEMBER = "seats", "member", "group", "group_member"
ROLES = ("User", "Admin")
STATUSES = ("suspended", "active")
ADMINS = "admins"


class FakeMember(Strict):
    who: Who
    role: Literal["User", "Admin"] = "User"
    plan: Literal["basic", "pro"] = "basic"
    status: Literal["active", "suspended"] = "active"


class FakeSettings(ProviderSettings):
    base_url: BaseURL = "https://fake.invalid"
    seats: int | None = Field(None, ge=0, description="seat count; left as it is when not given")
    members: list[FakeMember] = Field(default_factory=list)
    groups: dict[str, list[Who]] = Field(default_factory=dict,
                                         description="members of the service's groups; groups not named are left alone")


class FakeError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "FakeError":
        said = json_body(response).get("error") or f"HTTP {response.status_code}"
        return cls.from_http(response, f"fake {response.status_code}: {said}", code=said,
                             already_done=response.status_code == 409 and said == "exists")


def _member(item: dict[str, Any]) -> Resource:
    email = item["email"]
    pending = bool(item.get("pending"))
    return Resource(MEMBER, norm_email(email), {"role": item["role"], "plan": item["plan"],
                                                "status": item.get("status", "active")},
                    (Ref(SEATS, "seats"),), person=email, display=email, id=item["id"], pending=pending,
                    invited_at=item.get("invited_at") if pending else None)


def _group_member(name: str, email: str) -> Resource:
    email = norm_email(email)
    return Resource(GROUP_MEMBER, f"{name}/{email}", refs=(Ref(GROUP, name), Ref(MEMBER, email)), person=email,
                    display=f"{name}/{email}")


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
                 role_attr="role", role_rank=ROLES, status_attr="status", status_rank=STATUSES, resendable=True,
                 suspend=("status", "suspended"), renames_in_place=True,
                 guards=(Guard("role", frozenset({"Admin"}), "the fake service needs an Admin"),)),
        KindSpec(GROUP, "a group (made by the service)", removable=False, counts_as_member=False),
        KindSpec(GROUP_MEMBER, "a member's place in a group", counts_as_member=False,
                 guards=(Guard(None, frozenset(), "the fake service's admins group needs a member", scope_kind=GROUP,
                               scopes=frozenset({ADMINS})),)),
    )

    def auth(self) -> httpx.Auth:
        return HeaderAuth("X-Api-Key", self.ctx.credentials["api_key"])

    async def fetch(self) -> State:
        seats = await self.call("GET", "/seats")
        items = await self.pages("/members", OffsetPages(items="items", total="total", size=MAX_PAGE), what="members")
        me = await self.read("/me", what="the key's owner")
        groups = (await self.read("/groups", what="groups"))["groups"]
        state = State([_member(item) for item in items])
        state.add(Resource(SEATS, "seats", {"count": seats["count"]}, display="seats"))
        for name, emails in groups.items():
            state.add(Resource(GROUP, name, display=name))
            for email in emails:
                state.add(_group_member(name, email))
        state.facts["me"] = me.get("email")
        return state

    def acting_identity(self, live: State) -> str | None:
        return live.facts.get("me")

    def desired(self, live: State) -> State:
        current = live.get(Ref(SEATS, "seats"))
        count = self.settings.seats if self.settings.seats is not None else (current.attrs["count"] if current else 0)
        state = State([Resource(SEATS, "seats", {"count": count}, display="seats")])
        for email, attrs in self.wanted(self.settings.members,
                                        lambda m: {"role": m.role, "plan": m.plan, "status": m.status}).items():
            state.add(Resource(MEMBER, email, attrs, (Ref(SEATS, "seats"),), person=self.spelling(email),
                               display=self.spelling(email)))
        for group in live.of_kind(GROUP):
            state.add(Resource(GROUP, group.key, display=group.key))
            if group.key not in self.settings.groups:
                for res in live.of_kind(GROUP_MEMBER):
                    if Ref(GROUP, group.key) in res.refs:
                        state.add(res)
        for name, members in self.settings.groups.items():
            for email in self.wanted([FakeMember(who=w) for w in members], lambda m: {}, field=f"groups.{name}"):
                state.add(_group_member(name, email))
        return state

    async def apply(self, op: Operation) -> None:
        if op.resend:
            await self.call("POST", f"/members/{op.before.id}/resend")
        elif op.kind == GROUP_MEMBER:
            name, email = op.key.split("/", 1)
            method = "DELETE" if op.action == "delete" else "PUT"
            await self.request(method, f"/groups/{name}/members/{email}")
        elif op.kind == SEATS:
            await self.call("PUT", "/seats", json={"count": op.after.attrs["count"]})
        elif op.action == "create":
            await self.call("POST", "/members", json={"email": op.after.person or op.key, **op.after.attrs})
        elif op.action == "update":
            body = {"role": op.after.attrs["role"], "status": op.after.attrs["status"]}
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
                    **({"status": r.attrs["status"]} if r.attrs["status"] != "active" else {})}
                   for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key)]
        out = {"seats": live.get(Ref(SEATS, "seats")).attrs["count"], "members": members}
        groups = {g.key: sorted(m.person for m in live.of_kind(GROUP_MEMBER) if Ref(GROUP, g.key) in m.refs)
                  for g in live.of_kind(GROUP)}
        if groups:
            out["groups"] = groups
        return out


#: pass as ``providers=`` to ``teamform.testing.load``
FAKE = {"fake": FakeProvider}
