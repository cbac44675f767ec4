"""teamform provider for WorkDrive: users, departments (heads and members), locations and
security-group membership, with bulk and batched calls and staged offboarding.

The class declares; ``read.py`` (fetch, desired, export), ``checks.py`` (check, annotate, edges)
and ``write.py`` (apply, batches, the error) do the work."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import httpx

from teamform.provider import Context, Finding, Guard, HeaderAuth, KindSpec, Operation, Provider, State, emulator_export

from . import api, checks, read, write
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
    emulator = "teamform_workdrive.emulator:WorkDriveEmulator"  # imported by the sandbox and the tests only
    Error = WorkDriveError
    # gone_statuses: the default {404}: a department, location or member already gone is done
    kinds = (
        # suspend: staged offboarding archives first (PATCH status ARCHIVE); the user update has no
        # email field, so a change of address is a new user: the old one's files go with it
        KindSpec(USER, "a WorkDrive user", destructive=True, suspend=("status", "ARCHIVE"),
                 status_attr="status", status_rank=api.STATUS_RANK,
                 rename_loss="their files, folders and shares (the user is deleted) and their department and "
                             "group places until the new user is placed"),
        KindSpec(DEPARTMENT, "a department", counts_as_member=False),
        KindSpec(DEPT_MEMBER, "a user's place in a department, head or not",
                 guards=(Guard("head", frozenset({True}), "a WorkDrive department needs at least one head",
                               scope_kind=DEPARTMENT),)),
        KindSpec(LOCATION, "a location", counts_as_member=False),
        KindSpec(LOC_MEMBER, "a user's location"),
        KindSpec(GROUP, "a security group (cannot be created or deleted through the API)", removable=False,
                 counts_as_member=False),
        KindSpec(GROUP_MEMBER, "a user's membership of a security group",
                 guards=(Guard(None, frozenset(), "WorkDrive's Admins security group needs at least one member",
                               scope_kind=GROUP, scopes=api.ADMIN_GROUPS),)),
    )

    @classmethod
    def file_problems(cls, section: WorkDriveSettings, directory) -> list[tuple[tuple, str]]:
        return file_problems(section, directory)

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(ctx, client)
        self.ids: dict[tuple[str, str], Any] = {}     # (kind, key) -> service id
        self.seeded: set[tuple[str, str]] = set()     # (department, email) joined by a create call
        self.placed: set[tuple[str, str]] = set()     # (location, email) placed by the user's create
        self.removed: set[tuple[str, str]] = set()    # (kind, name) departments/locations deleted
        self.tried: set[str] = set()                  # creates sent once: a retry looks for them first

    def auth(self) -> httpx.Auth:
        return HeaderAuth(api.API_KEY_HEADER, self.ctx.credentials["api_key"])

    # ---- reading and the file ----------------------------------------------------------
    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)

    def export_people(self, live: State) -> dict[str, dict[str, str]]:
        """Each user's first and last name as WorkDrive holds them, empty ones included: the
        base leaves an empty name out, so the source file's name would stay in ``people`` and
        the imported file would plan a rename of a user WorkDrive holds without one."""
        return {r.person or r.key: {"first_name": r.attrs["first_name"], "last_name": r.attrs["last_name"]}
                for r in live.of_kind(USER)}

    # ---- plan time ---------------------------------------------------------------------
    def check(self, desired: State, live: State) -> list[Finding]:
        return checks.check(self, desired, live)

    def annotate(self, op: Operation) -> None:
        checks.annotate(self, op)

    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
        return checks.edges(ops)

    # ---- writing -----------------------------------------------------------------------
    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The base's ``call``; a write answered 2xx with something that is not JSON may have
        taken effect: retryable, so the applier reads back before anything is sent again."""
        try:
            return await super().call(method, path, **kwargs)
        except WorkDriveError as exc:
            if method == "GET" or exc.status is None or exc.status >= 400:
                raise
            raise write.malformed(f"{method} {path}", "something that is not JSON", exc.status) from exc

    async def verify(self, op: Operation) -> bool:
        return await write.verify(self, op)

    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    def batch_key(self, op: Operation) -> str | None:
        return write.batch_key(op)

    def batch_size(self, key: str) -> int:
        return write.batch_size(self, key)

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        return await write.apply_batch(self, ops)


__getattr__ = emulator_export(WorkDriveProvider)  # WorkDriveEmulator, imported only when asked for
