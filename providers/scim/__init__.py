"""teamform provider for any SCIM 2.0 service (RFC 7643/7644): users, groups and their members.

The class declares; ``discovery.py`` learns what the service supports, ``read.py`` reads,
``write.py`` writes, ``checks.py`` holds the plan-time rules, ``api.py`` every path and word.
Its sandbox and tests run against the independent ``scim2-server`` (``emulator/`` only adapts it).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Sequence

import httpx

from teamform.provider import Context, Finding, HeaderAuth, KindSpec, Operation, Provider, State, emulator_export

from . import checks, read, write
from .discovery import Capabilities, discover
from .read import GROUP, MEMBER, USER
from .settings import ScimPolicy, ScimSettings, ScimUser
from .write import ScimError

__all__ = ["ScimProvider", "ScimSettings", "ScimUser", "ScimPolicy", "ScimError", "ScimEmulator", "Capabilities",
           "USER", "GROUP", "MEMBER"]


class ScimProvider(Provider):
    name = "scim"
    summary = ("any SCIM 2.0 service (RFC 7643/7644): users (active, emails, enterprise attributes), "
               "groups and their members")
    Settings = ScimSettings
    Policy = ScimPolicy
    credential_names = ("token",)
    connection_settings = ("user_name", "external_id", "page_size", "max_members_per_patch", "disable",
                           "group_members")
    emulator = "teamform_scim.emulator:ScimEmulator"  # imported by the sandbox and the tests only
    Error = ScimError
    # gone_statuses: the default {404}; a deletion (or deactivation) of a user already gone is done
    kinds = (
        # a user is suspended by active: false (RFC 7643 §4.1.1), and its userName and emails can be
        # replaced in place (PATCH): a person's new address keeps their account, id and groups
        KindSpec(USER, "a SCIM user: userName, name, primary email, active, externalId, title, enterprise "
                       "department and manager", suspend=("active", False), renames_in_place=True,
                       status_attr="active", status_rank=(False, True)),
        KindSpec(GROUP, "a SCIM group, by displayName", counts_as_member=False),
        KindSpec(MEMBER, "a user in a group (PATCH add/remove, several a request)", counts_as_member=False),
    )

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(ctx, client)
        self.caps: Capabilities | None = None
        #: (kind, key) -> the service's id, from the read and from our creates
        self.ids: dict[tuple[str, str], str] = {}
        #: a user's id -> its key (to name a manager, a group's members)
        self.keys: dict[str, str] = {}
        #: id -> the version our last write to it left (the next write of ours expects it)
        self.written: dict[str, str] = {}
        #: writes to one resource go one at a time (a group's member batches, a PUT after its read)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def auth(self) -> httpx.Auth:
        return HeaderAuth("Authorization", f"Bearer {self.ctx.credentials['token']}")

    async def capabilities(self) -> Capabilities:
        """What the service supports (read once, first)."""
        if self.caps is None:
            self.caps = await discover(self)
        return self.caps

    # ---- reading ------------------------------------------------------------------------
    async def fetch(self) -> State:
        return await read.fetch(self)

    def desired(self, live: State) -> State:
        return read.desired(self, live)

    def check(self, desired: State, live: State) -> list[Finding]:
        return checks.check(self, desired, live)

    def annotate(self, op: Operation) -> None:
        checks.annotate(self, op)

    @classmethod
    def file_problems(cls, section: Any, directory: Any):
        return list(checks.file_problems(section, directory))

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        await write.apply(self, op)

    def batch_key(self, op: Operation) -> str | None:
        if op.kind == MEMBER:
            return f"members:{next(r.key for r in op.resource.refs if r.kind == GROUP)}"
        if op.action == "create":
            return "create"  # by /Bulk where the service has it, else one POST each
        return None

    def batch_size(self, key: str) -> int:
        if key.startswith("members:"):
            return self.settings.max_members_per_patch
        if self.caps and self.caps.bulk:
            return self.caps.bulk_max_operations
        # one POST each, limits.concurrency at a time; all in one batch so that the members of a
        # group become ready together and go out in as few PATCHes as the per-request maximum allows
        return 1000

    async def apply_batch(self, ops: Sequence[Operation]) -> list[BaseException | None]:
        return await write.apply_batch(self, ops)

    async def verify(self, op: Operation) -> bool:
        return await write.verify(self, op)

    # ---- import -------------------------------------------------------------------------
    def export(self, live: State) -> dict[str, Any]:
        return read.export(live)

    def export_people(self, live: State) -> dict[str, dict[str, str]]:
        """Both name parts of every user with a name, an empty one included: the importer gives a
        person with one part a ``name`` of that part, which ``people:`` then splits into both."""
        return {r.person: {"first_name": r.attrs["first_name"] or "", "last_name": r.attrs["last_name"] or ""}
                for r in live.of_kind(USER)
                if r.person and (r.attrs.get("first_name") or r.attrs.get("last_name"))}


__getattr__ = emulator_export(ScimProvider)  # ScimEmulator, imported only when asked for
