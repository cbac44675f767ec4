"""teamform provider for the Teams API: teams, who is on each (by email, via invitations), roles."""

from __future__ import annotations

import copy
from typing import Any, Iterable, Sequence

import httpx

from teamform.members import expand
from teamform.model import Guard, KindSpec, Ref, Resource, State, norm_email
from teamform.plan.ops import Operation
from teamform.provider import HeaderAuth, Finding, Provider, ProviderError, json_body

from . import api
from .checks import plan_issues
from .emulator import TeamsApiEmulator
from .read import MEMBER, TEAM, UNMATCHED, fetch_state, member_key, pages, read_team
from .settings import TeamsApiSettings

__all__ = ["TeamsApiProvider", "TeamsApiSettings", "TeamsApiEmulator"]


class TeamsApiError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "TeamsApiError":
        detail = json_body(response).get("message")
        if isinstance(detail, list):
            detail = "; ".join(map(str, detail))
        status = response.status_code
        text = api.STATUS_MEANING.get(status, f"HTTP {status}")
        if detail:
            text = f"{text}: {detail}"
        return cls.from_http(response, f"Teams API {status}: {text}", already_done=status == 409)


class TeamsApiProvider(Provider):
    name = "teamsapi"
    summary = "Teams API: teams (create/delete/leave), who is on each by email (invitations), their role"
    Settings = TeamsApiSettings
    credential_names = ("token",)
    emulator_class = TeamsApiEmulator
    kinds = (
        KindSpec(TEAM, "a team", destructive=True, counts_as_member=False),
        KindSpec(MEMBER, "a person on a team, accepted or invited", replace_on=frozenset({"role"}),
                 replace_warning="the Teams API cannot change a role: the membership is cancelled and the "
                                 "person invited again with the new role; they lose access to the team "
                                 "until they accept the new invitation",
                 role_attr="role", role_rank=("Viewer", "Member", "Admin"),
                 guards=(Guard("owner", frozenset({True}), "a team keeps its owner", scope_kind=TEAM),)),
        KindSpec(UNMATCHED, "a member no invitation ties to an email: reported, never removed",
                 removable=False, counts_as_member=False),
    )

    def __init__(self, ctx, client=None) -> None:
        super().__init__(ctx, client)
        self._team_ids: dict[str, str] = {}

    def auth(self) -> httpx.Auth:
        return HeaderAuth("Authorization", f"{api.AUTH_SCHEME} {self.ctx.credentials['token']}")

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise TeamsApiError.from_response(response)
        return response.json() if response.content else None

    # ---- reading ------------------------------------------------------------------------
    async def fetch(self) -> State:
        state, self._team_ids = await fetch_state(self.call)
        return state

    def desired(self, live: State) -> State:
        state = State()
        for name, entry in self.settings.teams.items():
            if entry.hand_over_to:
                _copy_members(state, live, name)  # the team leaves teamform's hands as it is
                continue
            have = live.get(Ref(TEAM, name))
            state.add(Resource(TEAM, name, display=name))
            self._desired_members(state, live, name, entry, have)
        for team in live.of_kind(TEAM):
            if team.key in self.settings.teams:
                continue
            if team.meta.get("home"):  # the account's own team is never deleted
                state.add(copy.deepcopy(team))
                _copy_members(state, live, team.key)
            elif not team.meta.get("owned"):  # leaving someone else's team leaves its members alone
                _copy_members(state, live, team.key)
            else:
                _copy_members(state, live, team.key, only=live.facts.get("identity"))
        return state

    def _desired_members(self, state: State, live: State, name: str, entry, have: Resource | None) -> None:
        wanted = expand(entry.members, self.ctx.directory, attrs=lambda m: {"role": m.role},
                        where=f"services.{self.ctx.instance}.teams.{name}.members")
        identity = live.facts.get("identity")
        owner = have.meta.get("owner") if have else identity
        if have is None and identity and identity not in wanted:
            wanted[identity] = {"role": api.CREATOR_ROLE}  # the creator becomes the new team's owner
        for email, attrs in wanted.items():
            key = member_key(name, email)
            current = live.get(Ref(MEMBER, key))
            spelled = current.person if current else self.ctx.directory.spelling.get(email, email)
            state.add(Resource(MEMBER, key, attrs={"role": attrs["role"], "owner": email == owner},
                               refs=(Ref(TEAM, name),), person=spelled, display=f"{name}/{spelled}"))

    def check(self, desired: State, live: State) -> list[Finding]:
        return plan_issues(self.settings, desired, live, self._name_of)

    def _name_of(self, email: str) -> str:
        return " ".join(p for p in self.ctx.directory.person(email).names() if p)

    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
        """Within a team, removals free seats before invitations use them."""
        for gone in ops:
            if gone.kind == MEMBER and gone.action == "delete":
                for new in ops:
                    if new.kind == MEMBER and new.action == "create" and new.after.refs == gone.before.refs:
                        yield gone.id, new.id

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        if op.kind == TEAM and op.action == "create":
            data = await self.call("POST", api.TEAM, json={"teamName": op.key})
            self._team_ids[op.key] = data["id"]
        elif op.kind == TEAM and op.action == "delete":
            await self._remove_team(op)
        elif op.kind == MEMBER and op.action == "create":
            if not op.after.attrs.get("owner"):  # the owner of a new team joined by creating it
                await self._invite(op)
        elif op.kind == MEMBER and op.action == "delete":
            await self._cancel(op.before)
        else:
            raise ProviderError(f"{op.label}: the Teams API cannot {op.action} this")

    async def _team_id(self, name: str) -> str:
        if name not in self._team_ids:
            for team in await pages(self.call, api.ALL_TEAMS, {"globalSearch": name}):
                self._team_ids.setdefault(team["name"], team["id"])
        if name not in self._team_ids:
            raise ProviderError(f"team {name!r} is not visible to teamform's account")
        return self._team_ids[name]

    async def _invite(self, op: Operation) -> None:
        email = op.after.person or op.key.rsplit("/", 1)[1]
        first, last = self.ctx.directory.person(email).names()
        team_id = await self._team_id(op.after.refs[0].key)
        await self.call("POST", api.INVITATION, json={
            "email": email, "firstName": first or None, "lastName": last or None, "phone": None,
            "role": op.after.attrs["role"], "teamId": team_id})

    def annotate(self, op: Operation) -> None:
        """Leaving a team, or handing it over, is not deleting it: its members stay."""
        if op.kind != TEAM or op.action != "delete":
            return
        entry = self.settings.teams.get(op.key)
        if entry is not None and entry.hand_over_to:
            op.summary = f"handed over to {entry.hand_over_to}: teamform's account leaves it, its members stay"
        elif not op.before.meta.get("owned"):
            op.summary = "left (another account owns it): teamform's account leaves it, its members stay"
        else:
            return
        op.destructive = False

    async def _cancel(self, member: Resource) -> None:
        try:
            await self.call("DELETE", api.CANCEL_INVITATION.format(user_id=member.id),
                            json={"membershipId": member.meta.get("membershipId")})
        except TeamsApiError as exc:
            if exc.status != 404:  # already gone
                raise

    async def _remove_team(self, op: Operation) -> None:
        team = op.before
        entry = self.settings.teams.get(team.key)
        try:
            if entry is not None and entry.hand_over_to:
                heir = await self._member_id(team, entry.hand_over_to)
                await self.call("PUT", api.LEAVE_TEAM.format(team_id=team.id), json={"newOwnerId": heir})
            elif not team.meta.get("owned"):
                await self.call("PUT", api.LEAVE_TEAM.format(team_id=team.id), json={})
            else:
                await self.call("DELETE", api.TEAM_BY_ID.format(team_id=team.id))
        except TeamsApiError as exc:
            if exc.status != 404:  # already gone (or already left)
                raise

    async def _member_id(self, team: Resource, email: str) -> int:
        listing = {"id": team.id, "name": team.key, "owner": {}}
        _, invitations = await read_team(self.call, listing)
        for uid, invitation in invitations.items():
            if norm_email(invitation["email"]) == norm_email(email):
                return uid
        raise ProviderError(f"team {team.key!r}: {email} is not a member, so ownership cannot move to them")

    # ---- import -------------------------------------------------------------------------
    def export(self, live: State) -> dict[str, Any]:
        teams: dict[str, Any] = {t.key: {"members": []} for t in sorted(live.of_kind(TEAM), key=lambda r: r.key)}
        for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key):
            teams[r.refs[0].key]["members"].append({"who": r.person, "role": r.attrs["role"]})
        return {"teams": teams}


def _copy_members(state: State, live: State, team: str, only: str | None = None) -> None:
    for res in live:
        if res.kind in (MEMBER, UNMATCHED) and Ref(TEAM, team) in res.refs:
            if only is None or (res.person and norm_email(res.person) == only):
                state.add(copy.deepcopy(res))



