"""teamform provider for CrankWheel: company users, their privilege and demo-pool membership.

The class declares; ``read.py`` reads, ``write.py`` writes, ``api.py`` holds every path and status.
"""

from __future__ import annotations

from typing import Any

import httpx

from teamform.provider import (Context, Finding, Guard, HeaderAuth, IncompleteRead, KindSpec, Operation, Provider,
                               State, note, emulator_export)

from . import api, read, write
from .read import USER
from .settings import CrankWheelMember, CrankWheelSettings
from .write import CrankWheelError

__all__ = ["CrankWheelProvider", "CrankWheelSettings", "CrankWheelMember", "CrankWheelError",
           "CrankWheelEmulator", "USER"]


class CrankWheelProvider(Provider):
    name = "crankwheel"
    summary = "CrankWheel company users: privilege user/admin/owner/reporting, demo pool (form-encoded writes)"
    Settings = CrankWheelSettings
    credential_names = ("api_key",)
    emulator = "teamform_crankwheel.emulator:CrankWheelEmulator"  # imported by the sandbox and the tests only
    Error = CrankWheelError
    # gone_statuses: the default {404}, a DELETE of a user already gone is done
    kinds = (
        # PATCH /user_access/{email} takes only privilege and in_demo_pool: no rename in place; the
        # API has no suspended state: offboarding removes at once
        KindSpec(USER, "a person allowed into the company account, with a privilege and demo-pool flag",
                 rename_loss="the old address's access (their sessions and usage stay under the old address)",
                 role_attr="privilege", role_rank=api.PRIVILEGES,
                 guards=(Guard("privilege", frozenset({api.OWNER}),
                               "a CrankWheel company needs an owner (the billing contact)"),)),
    )

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(ctx, client)
        #: creates already sent once by this instance: a repeat looks the email up first
        self.tried: set[str] = set()

    def auth(self) -> httpx.Auth:
        # CrankWheel takes the raw key after "Basic", not base64(user:pass)
        return HeaderAuth("Authorization", f"{api.AUTH_SCHEME} {self.ctx.credentials['api_key']}")

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The base's request; an answer to the (documented unpaged) user list that says it is one
        page of more is refused here, where the headers are still at hand (``read.paging_signal``)."""
        response = await super().request(method, path, **kwargs)
        if method == "GET" and path == api.USERS:
            signal = read.paging_signal(response)
            if signal:
                raise IncompleteRead(f"CrankWheel's user list came with {signal}: it is documented as one "
                                     "unpaged list, so this answer may be a part of it")
        return response

    # ---- reading ------------------------------------------------------------------------
    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def check(self, desired: State, live: State) -> list[Finding]:
        new = [r for r in desired.of_kind(USER) if r.ref not in live]
        if new and not self.settings.send_onboarding_email:
            return [note(f"{len(new)} new CrankWheel user(s) get no onboarding email "
                         "(send_onboarding_email: false): they must register themselves")]
        return []

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    async def verify(self, op: Operation) -> bool:
        return await write.verify(self, op)

    # ---- extras -------------------------------------------------------------------------
    async def usage(self, start: int, end: int) -> dict[str, dict[str, int]]:
        """Meetings and seconds per person between two timestamps (``GET /usage``): for people
        who want to see seat use; never part of a plan."""
        return await read.usage(self, start, end)

    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)


__getattr__ = emulator_export(CrankWheelProvider)  # CrankWheelEmulator, imported only when asked for
