"""teamform provider for WorkDrive: users, departments (heads and members), locations and
security-group membership, with bulk and batched calls and staged offboarding.

The class declares; ``read.py`` (fetch, desired, export), ``checks.py`` (check, annotate, edges)
and ``write.py`` (apply, batches, the error) do the work."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import httpx

from teamform.provider import Context, Finding, Guard, HeaderAuth, KindSpec, Operation, Provider, State

from . import api, checks, read, write
from .emulator import WorkDriveEmulator
from .read import DEPARTMENT, DEPT_MEMBER, GROUP, GROUP_MEMBER, LOC_MEMBER, LOCATION, USER
from .settings import WorkDrivePolicy, WorkDriveSettings, file_problems
from .write import WorkDriveError

__all__ = ["WorkDriveProvider", "WorkDriveEmulator", "WorkDriveError"]


class WorkDriveProvider(Provider):
    name = "workdrive"
    summary = ("WorkDrive: users (details, reports-to, status), departments with heads and members, "
               "locations, security-group membership")
    Settings = WorkDriveSettings
    Policy = WorkDrivePolicy
    credential_names = ("api_key",)
    emulator_class = WorkDriveEmulator
    Error = WorkDriveError
    # gone_statuses: the default {404}: a department, location or member already gone is done
    kinds = (
        KindSpec(USER, "a WorkDrive user", destructive=True),
        KindSpec(DEPARTMENT, "a department", counts_as_member=False),
        KindSpec(DEPT_MEMBER, "a user's place in a department, head or not",
                 guards=(Guard("head", frozenset({True}), "a WorkDrive department needs at least one head",
                               scope_kind=DEPARTMENT),)),
        KindSpec(LOCATION, "a location", counts_as_member=False),
        KindSpec(LOC_MEMBER, "a user's location"),
        KindSpec(GROUP, "a security group (cannot be created or deleted through the API)", removable=False,
                 counts_as_member=False),
        KindSpec(GROUP_MEMBER, "a user's membership of a security group"),
    )

    @classmethod
    def file_problems(cls, section: WorkDriveSettings, directory) -> list[tuple[tuple, str]]:
        return file_problems(section, directory)

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(ctx, client)
        self.ids: dict[tuple[str, str], Any] = {}     # (kind, key) -> service id
        self.seeded: set[tuple[str, str]] = set()     # (department, email) heads sent with its creation
        self.removed: set[tuple[str, str]] = set()    # (kind, name) departments/locations deleted

    def auth(self) -> httpx.Auth:
        return HeaderAuth(api.API_KEY_HEADER, self.ctx.credentials["api_key"])

    # ---- reading and the file ----------------------------------------------------------
    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)

    # ---- plan time ---------------------------------------------------------------------
    def check(self, desired: State, live: State) -> list[Finding]:
        return checks.check(desired, live)

    def annotate(self, op: Operation) -> None:
        checks.annotate(self, op)

    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
        return checks.edges(ops)

    # ---- writing -----------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    def batch_key(self, op: Operation) -> str | None:
        return write.batch_key(op)

    def batch_size(self, key: str) -> int:
        return self.settings.batch_size

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        return await write.apply_batch(self, ops)
