"""teamform provider for WorkDrive: users, departments (heads and members), locations and
security-group membership, with bulk and batched calls and staged offboarding."""

from __future__ import annotations

from typing import Any

import httpx

from teamform.model import Guard, KindSpec, State
from teamform.provider import Context, HeaderAuth, Provider

from . import api
from .emulator import WorkDriveEmulator
from .read import (DEPARTMENT, DEPT_MEMBER, GROUP, GROUP_MEMBER, LOC_MEMBER, LOCATION, USER, Reader, target)
from .settings import WorkDrivePolicy, WorkDriveSettings, file_problems
from .shape import Shaper
from .write import WorkDriveError, Writer

__all__ = ["WorkDriveProvider", "WorkDriveEmulator", "WorkDriveError"]





class WorkDriveProvider(Reader, Shaper, Writer, Provider):
    name = "workdrive"
    summary = ("WorkDrive: users (details, reports-to, status), departments with heads and members, "
               "locations, security-group membership")
    Settings = WorkDriveSettings
    Policy = WorkDrivePolicy
    credential_names = ("api_key",)
    emulator_class = WorkDriveEmulator
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

    # ---- import -------------------------------------------------------------------------
    def export(self, live: State) -> dict[str, Any]:
        users = []
        for r in sorted(live.of_kind(USER), key=lambda r: r.key):
            entry: dict[str, Any] = {"who": r.key}
            entry.update({k: r.attrs[k] for k in ("designation", "reports_to") if r.attrs.get(k)})
            if r.attrs["status"] != "ACTIVE":
                entry["status"] = r.attrs["status"]
            users.append(entry)
        departments: dict[str, Any] = {d.key: {"heads": [], "members": []} for d in live.of_kind(DEPARTMENT)}
        for m in live.of_kind(DEPT_MEMBER):
            departments[target(m, DEPARTMENT)]["heads" if m.attrs["head"] else "members"].append(target(m, USER))
        return {"users": users, "departments": departments,
                "locations": _grouped(live, LOCATION, LOC_MEMBER), "security_groups": _grouped(live, GROUP, GROUP_MEMBER)}


def _grouped(live: State, kind: str, member_kind: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r.key: [] for r in live.of_kind(kind)}
    for m in live.of_kind(member_kind):
        out[target(m, kind)].append(target(m, USER))
    return {k: sorted(v) for k, v in out.items() if v or kind != GROUP}
