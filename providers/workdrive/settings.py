"""The WorkDrive section of the state file, and its policy (staged offboarding)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from teamform.config.model import BaseURL, Email, Limits, PersonRef, Policy, ProviderSettings, Strict, Who

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


class WorkDrivePolicy(Policy):
    offboarding: Literal["delete", "archive"] = Field(
        "delete", description="a user no longer in the file is deleted, or archived first (status ARCHIVE)")
    archive_grace_days: int | None = Field(
        None, ge=0, description="with offboarding: archive, delete archived users after this many days "
                                "(counted from their last change); unset: only when listed under delete")
