"""The WorkDrive section of the state file, and its policy (staged offboarding)."""

from __future__ import annotations

from typing import Any, Literal, Sequence

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from teamform.provider import (BaseURL, Directory, Email, Limits, Offboarding, PersonRef, Policy, ProviderSettings,
                               Strict, Who)

from . import api


class WorkDriveUser(Strict):
    who: Who
    designation: str | None = Field(None, description="job title; left as it is when not given")
    reports_to: PersonRef | None = Field(None, description="their supervisor (a WorkDrive user); "
                                         "left as it is when not given")
    status: Literal["ACTIVE", "ARCHIVE", "BLOCKED"] = Field(
        "ACTIVE", description="ARCHIVE disables the account and keeps it; an invitation counts as ACTIVE")
    department: str | None = Field(None, description="the department to place them in (or list them "
                                   "under departments:)")
    location: str | None = Field(None, description="the location to place them in (or list them under "
                                 "locations:)")


class WorkDriveDepartment(Strict):
    heads: list[Who] = Field(description="at least one: WorkDrive requires a head in every department")
    members: list[Who] = Field(default_factory=list, description="members who are not heads")

    @field_validator("heads")
    @classmethod
    def _one_head(cls, value: list[str]) -> list[str]:
        if not value:
            raise PydanticCustomError("department_head", "a department needs at least one head: "
                                      "WorkDrive refuses a department without one", {})
        return value


class WorkDriveSettings(ProviderSettings):
    base_url: BaseURL = Field(description="your WorkDrive API, e.g. https://acme.workdrive.example/api")
    limits: Limits = Field(default_factory=lambda: Limits(requests_per_minute=300))
    page_size: int = Field(api.MAX_PER_PAGE, ge=1, le=api.MAX_PER_PAGE,
                           description="per_page when reading lists (the largest the service serves)")
    batch_size: int = Field(api.MAX_BATCH, ge=1, le=api.MAX_BATCH,
                            description="most users or member ids in one bulk or member-list call")
    users: list[WorkDriveUser] = Field(default_factory=list,
                                       description="users and their details; anyone placed in a department, "
                                       "location or security group below is a user too")
    departments: dict[str, WorkDriveDepartment] = Field(default_factory=dict)
    locations: dict[str, list[Who]] = Field(default_factory=dict, description="location name: its members")
    security_groups: dict[str, list[Who]] = Field(
        default_factory=dict, description="existing group name: its members (groups cannot be created)")
    delete: list[Email] = Field(default_factory=list,
                                description="archived users to delete now (they need not be in people)")


def who_of(directory: Directory, names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        out += [e for e in directory.expand(name) if e not in out]
    return out


class Misplaced(ValueError):
    """Someone placed in two departments or two locations; ``path`` is the second placement."""

    def __init__(self, message: str, path: tuple) -> None:
        super().__init__(message)
        self.path = path


def _listed(users: Sequence[WorkDriveUser], directory: Directory) -> dict[str, WorkDriveUser]:
    """email -> the users: entry that places them, as the engine's ``wanted`` picks it: the first
    entry naming them directly, else the first group that reaches them. (``file_problems`` has no
    provider instance, so it cannot call ``wanted``; a conflict between entries is the engine's
    own located error.)"""
    direct: dict[str, WorkDriveUser] = {}
    via_group: dict[str, WorkDriveUser] = {}
    for user in users:
        table = via_group if user.who.startswith("group:") else direct
        for email in directory.expand(user.who):
            table.setdefault(email, user)
    return {**via_group, **direct}


def _user_entries(settings: WorkDriveSettings, directory: Directory) -> dict[str, int]:
    """email -> index of the users: entry that sets them (a direct entry wins over a group)."""
    origin: dict[str, int] = {}
    for index, user in enumerate(settings.users):
        for email in directory.expand(user.who):
            if not user.who.startswith("group:") or email not in origin:
                origin[email] = index
    return origin


def placements(settings: WorkDriveSettings, directory: Directory, users: dict[str, dict[str, Any]],
               where: str = "") -> tuple[dict[str, str], dict[str, bool], dict[str, str]]:
    """(department of each email, head or not, location of each email): one of each per user,
    else ``Misplaced`` naming the two places."""
    dept: dict[str, str] = {}
    head: dict[str, bool] = {}
    loc: dict[str, str] = {}

    def put(table: dict[str, str], email: str, name: str, what: str, path: tuple) -> None:
        if table.setdefault(email, name) != name:
            raise Misplaced(f"{where}{directory.spelling.get(email, email)} is placed in {what} "
                            f"'{table[email]}' and '{name}'; a WorkDrive user is in one {what}", path)

    for name, d in settings.departments.items():
        for role, entries in (("heads", d.heads), ("members", d.members)):
            for index, who in enumerate(entries):
                for email in directory.expand(who):
                    put(dept, email, name, "department", ("departments", name, role, index))
                    head[email] = head.get(email, False) or role == "heads"
    for name, members in settings.locations.items():
        for index, who in enumerate(members):
            for email in directory.expand(who):
                put(loc, email, name, "location", ("locations", name, index))
    origin = _user_entries(settings, directory)
    for email, attrs in users.items():
        if attrs["department"]:
            put(dept, email, attrs["department"], "department", ("users", origin.get(email, 0), "department"))
            head.setdefault(email, False)
        if attrs["location"]:
            put(loc, email, attrs["location"], "location", ("users", origin.get(email, 0), "location"))
    return dept, head, loc


def file_problems(settings: WorkDriveSettings, directory: Directory) -> list[tuple[tuple, str]]:
    """What is wrong in the section itself, with where: someone in two departments or locations."""
    users = {email: {"department": u.department, "location": u.location}
             for email, u in _listed(settings.users, directory).items()}
    try:
        placements(settings, directory, users)
    except Misplaced as exc:
        return [(exc.path, str(exc))]
    return []


class WorkDrivePolicy(Policy):
    """``offboarding`` as every service spells it (``{suspend_first: true, remove_after_days: N}``:
    archive, then delete), or in WorkDrive's older words, which keep working: ``archive`` (with
    ``archive_grace_days``) or ``delete``."""

    offboarding: Offboarding | Literal["delete", "archive"] = Field(
        default_factory=Offboarding,
        description="a user who leaves (offboarded:, or no longer in the file) is deleted, or archived first "
                    "(status ARCHIVE): {suspend_first: true, remove_after_days: N}; 'archive'/'delete' still work")
    archive_grace_days: int | None = Field(
        None, ge=0, description="with offboarding: archive, delete archived users after this many days "
                                "(counted from their last change); unset: only when listed under delete")

    @model_validator(mode="after")
    def _one_spelling(self) -> "WorkDrivePolicy":
        if isinstance(self.offboarding, Offboarding) and self.archive_grace_days is not None:
            raise PydanticCustomError(
                "grace_days", "archive_grace_days goes with offboarding: archive; with offboarding as a mapping "
                "(suspend_first: true), write remove_after_days: {days} inside offboarding instead",
                {"days": self.archive_grace_days})
        return self

    def legacy_offboarding(self, value: str) -> Offboarding:
        if value == "archive":
            return Offboarding(suspend_first=True, remove_after_days=self.archive_grace_days)
        return Offboarding()
