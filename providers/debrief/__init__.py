"""teamform provider for the Debrief Management API: team users (owner/admin/developer, pending
invitations included), applications, and who has which role on each application."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import httpx

from teamform.provider import Finding, Guard, KindSpec, Operation, Provider, State

from . import api, checks, read, transient, write
from .auth import DebriefAuth
from .read import APP_USER, APPLICATION, TEAM_USER
from .settings import DebriefSettings
from .write import DebriefError, Ids

__all__ = ["DebriefProvider", "DebriefError", "DebriefSettings"]


class DebriefProvider(Provider):
    name = "debrief"
    summary = "Debrief Management API: team users (owner/admin/developer), applications, application users"
    Settings = DebriefSettings
    Error = DebriefError  # a delete answered 404 is already done: the base's default gone_statuses
    credential_names = ("username", "password", "client_id", "client_secret")
    public_credentials = ("username", "client_id")  # identifiers (RFC 6749 2.2: a client id is no secret)
    secret_path = api.SECRET_PATH
    emulator = "teamform_debrief.emulator:DebriefEmulator"  # imported by the sandbox and the tests only
    kinds = (
        # PATCH /user/:id has no email field and users have no suspended state: a new address is a
        # new team user, and offboarding removes at once
        KindSpec(TEAM_USER, "a person on the team, pending invitations included", role_attr="role",
                 rename_loss="their application roles, until the new address is invited and accepts",
                 role_rank=api.ROLES,
                 guards=(Guard("role", frozenset({"owner"}), "a Debrief team needs at least one owner"),)),
        KindSpec(APPLICATION, "an application; deleting it revokes its credentials for good", destructive=True),
        KindSpec(APP_USER, "a team user's role on an application (team admins/owners see every application)",
                 role_attr="role", role_rank=api.APP_ROLES, counts_as_member=False),
    )

    def __init__(self, ctx, client=None) -> None:
        super().__init__(ctx, client)
        self.ids = Ids()                            # service ids, from the last fetch and creates
        self.skipped: list[tuple[str, str]] = []    # (email, application) not planned: admins/owners

    def auth(self) -> httpx.Auth:
        return DebriefAuth(self.ctx.credentials, base_path=httpx.URL(self.base_url()).path)

    async def request(self, method: str, path: str, *, ok: Iterable[int] | None = None,
                      **kwargs: Any) -> httpx.Response:
        """The base's request, sent again on what the HTTP layer cannot retry: a network error
        on a read, any transient failure of the login or refresh (``transient.py``)."""
        return await transient.send(self, lambda: super(DebriefProvider, self).request(method, path, ok=ok, **kwargs),
                                    method)

    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)

    def check(self, desired: State, live: State) -> list[Finding]:
        return checks.check(self, desired, live)

    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
        return checks.edges(ops)

    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    async def verify(self, op: Operation) -> bool:
        return await write.verify(self, op)
