"""The WorkDrive section of the state file, and its policy (staged offboarding)."""

from __future__ import annotations

from typing import Any, Literal, Sequence

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from teamform.config.model import (BaseURL, Directory, Email, Limits, PersonRef, Policy, ProviderSettings,
                                   Strict, Who)
from teamform.members import scan

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

    @model_validator(mode="after")
    def _one_place_each(self, info: ValidationInfo) -> "WorkDriveSettings":
        """Someone in two departments (or locations) is found when the file is validated."""
        directory = (info.context or {}).get("directory")
        if directory is not None:
            users, _ = scan(self.users, directory, attrs=lambda m: {"department": m.department, "location": m.location})
            placements(self, directory, users)
        return self


def who_of(directory: Directory, names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        out += [e for e in directory.expand(name) if e not in out]
    return out


def placements(settings: WorkDriveSettings, directory: Directory, users: dict[str, dict[str, Any]],
               where: str = "") -> tuple[dict[str, str], dict[str, bool], dict[str, str]]:
    """(department of each email, head or not, location of each email): one of each per user,
    else a ValueError naming the two places."""
    dept: dict[str, str] = {}
    head: dict[str, bool] = {}
    loc: dict[str, str] = {}

    def put(table: dict[str, str], email: str, name: str, what: str) -> None:
        if table.setdefault(email, name) != name:
            raise ValueError(f"{where}{directory.spelling.get(email, email)} is placed in {what} "
                             f"'{table[email]}' and '{name}'; a WorkDrive user is in one {what}")

    for name, d in settings.departments.items():
        for email in who_of(directory, d.heads):
            put(dept, email, name, "department")
            head[email] = True
        for email in who_of(directory, d.members):
            put(dept, email, name, "department")
            head.setdefault(email, False)
    for name, members in settings.locations.items():
        for email in who_of(directory, members):
            put(loc, email, name, "location")
    for email, attrs in users.items():
        if attrs["department"]:
            put(dept, email, attrs["department"], "department")
            head.setdefault(email, False)
        if attrs["location"]:
            put(loc, email, attrs["location"], "location")
    return dept, head, loc


class WorkDrivePolicy(Policy):
    offboarding: Literal["delete", "archive"] = Field(
        "delete", description="a user no longer in the file is deleted, or archived first (status ARCHIVE)")
    archive_grace_days: int | None = Field(
        None, ge=0, description="with offboarding: archive, delete archived users after this many days "
                                "(counted from their last change); unset: only when listed under delete")
