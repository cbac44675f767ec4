"""teamform provider for the Teams API: teams, who is on each (by email, via invitations), roles.

The class declares; ``read.py`` fetches and builds the desired state, ``checks.py`` holds the
plan-time checks, ``write.py`` executes operations and reads the service's errors.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import httpx

from teamform.provider import Context, Finding, Guard, HeaderAuth, KindSpec, Operation, Provider, State, emulator_export

from . import api, checks, read, write
from .read import MEMBER, TEAM, UNMATCHED
from .settings import TeamsApiSettings
from .write import TeamsApiError

__all__ = ["TeamsApiProvider", "TeamsApiSettings", "TeamsApiEmulator", "TeamsApiError"]

class TeamsApiProvider(Provider):
    name = "teamsapi"
    summary = "Teams API: teams (create/delete/leave), who is on each by email (invitations), their role"
    Settings = TeamsApiSettings
    credential_names = ("token",)
    emulator = "teamform_teamsapi.emulator:TeamsApiEmulator"  # imported by the sandbox and the tests only
    Error = TeamsApiError  # 409 is already done; a delete answered 404 is already gone (the default)
    kinds = (
        KindSpec(TEAM, "a team", destructive=True, counts_as_member=False),
        KindSpec(MEMBER, "a person on a team, accepted or invited", replace_on=frozenset({"role"}),
                 # no call changes a member's email and there is no suspended state: a new address is
                 # a new invitation, and offboarding removes at once
                 rename_loss="their place on the team until they accept the invitation sent to the new address",
                 replace_warning="the Teams API cannot change a role: the membership is cancelled and the "
                                 "person invited again with the new role; they lose access to the team "
                                 "until they accept the new invitation",
                 role_attr="role", role_rank=("Viewer", "Member", "Admin"),
                 guards=(Guard("owner", frozenset({True}), "a team keeps its owner", scope_kind=TEAM),)),
        KindSpec(UNMATCHED, "a member no invitation ties to an email: reported, never removed",
                 removable=False, counts_as_member=False),
    )

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(ctx, client)
        #: team ids by name, from the last fetch and the teams created since
        self.team_ids: dict[str, str] = {}
        #: the service answered 404 to the invitation list (not in the document) during the last read
        self.invitations_missing = False

    def auth(self) -> httpx.Auth:
        return HeaderAuth("Authorization", f"{api.AUTH_SCHEME} {self.ctx.credentials['token']}")

    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)

    def check(self, desired: State, live: State) -> list[Finding]:
        return checks.check(self, desired, live)

    def annotate(self, op: Operation) -> None:
        checks.annotate(self, op)

    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
        return checks.edges(ops)

    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    async def verify(self, op: Operation) -> bool:
        return await write.verify(self, op)


__getattr__ = emulator_export(TeamsApiProvider)  # TeamsApiEmulator, imported only when asked for
