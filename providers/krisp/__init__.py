"""teamform provider for Krisp teams: seat counts per seat type, who is on a seat, role, nickname.

The class declares; ``read.py`` fetches and normalizes, ``write.py`` applies, ``checks.py`` holds
the plan-time checks, ``api.py`` every path and code, ``emulator/`` the sandbox's Krisp.
"""

from __future__ import annotations

from typing import Any, Sequence

import httpx

from teamform.provider import (Context, Finding, Guard, KindSpec, Operation, Provider, State, json_body,
                               parse_retry_after, emulator_export)

from . import api, checks, read, write
from .read import MEMBER, SEATS
from .settings import KrispMember, KrispSettings
from .write import KrispError

__all__ = ["KrispProvider", "KrispSettings", "KrispMember", "KrispError", "KrispEmulator", "SEATS", "MEMBER"]


class KrispProvider(Provider):
    name = "krisp"
    summary = "Krisp teams: seats per seat type, who is on each seat (by email), role Admin/User, nickname"
    Settings = KrispSettings
    credential_names = ("api_key", "secret")
    connection_settings = ("api_version",)
    emulator = "teamform_krisp.emulator:KrispEmulator"  # imported by the sandbox and the tests only
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
                 # no call changes a seat's email, and a seat's status can change only on device
                 # seats (NOT_PERMITTED_CHANGE_SEAT_STATUS): no rename in place, no suspension
                 rename_loss="their seat (unassigned, then a new invitation they must accept) and the "
                             "account's usage history in the team",
                 role_attr="role", role_rank=api.ROLES,
                 guards=(Guard("role", frozenset({"Admin"}), "a Krisp team needs at least one Admin"),)),
    )

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(ctx, client)
        #: operations tried in this run: a second try looks its seat up again (``write.first_try``)
        self.attempted: set[str] = set()

    def base_url(self) -> str:
        return f"{self.settings.base_url}/api/{self.settings.api_version}"

    def auth(self) -> httpx.Auth:
        return httpx.BasicAuth(self.ctx.credentials["api_key"], self.ctx.credentials["secret"])

    def is_rate_limited(self, response: httpx.Response) -> float | None:
        """A 429 waits what Retry-After says; without one, the block the document describes (an
        hour), which is past ``limits.max_wait``: the run stops with that reason instead of
        knocking on a blocked door."""
        if response.status_code != 429:
            return None
        header = response.headers.get("retry-after")
        return parse_retry_after(header) if header is not None else api.BLOCK_SECONDS

    # ---- the envelope: {code, error_code, message, situation, data} -----------------------
    def failed(self, response: httpx.Response) -> bool:
        return response.status_code >= 400 or json_body(response).get("code", 0) != 0

    def unwrap(self, body: Any) -> Any:
        if not isinstance(body, dict):
            raise KrispError(f"Krisp answered without its envelope: {type(body).__name__}")
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise KrispError(f"Krisp answered with 'data' as {type(data).__name__}, not an object")
        return data or {}

    # ---- the hooks ------------------------------------------------------------------------
    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def check(self, desired: State, live: State) -> list[Finding]:
        return checks.check(desired, live)

    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    async def verify(self, op: Operation) -> bool:
        """After a lost answer: the seat list alone (not the team) shows every kind's outcome exactly."""
        return op.holds_in(read.seat_state(await read.all_seats(self)))

    def batch_key(self, op: Operation) -> str | None:
        return write.batch_key(op)

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        return await write.apply_batch(self, ops)

    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)


__getattr__ = emulator_export(KrispProvider)  # KrispEmulator, imported only when asked for
