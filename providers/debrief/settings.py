"""The ``debrief`` section of a service entry in the state file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from teamform.provider import BaseURL, ProviderSettings, Strict, Who

from . import api


def app_key(name: str) -> str:
    """Application names are unique per team regardless of case: the key is the folded name."""
    return name.strip().lower()


class DebriefMember(Strict):
    who: Who
    role: Literal["owner", "admin", "developer"] = Field("developer", description="team role")


class DebriefAppUser(Strict):
    who: Who = Field(description="a team member (listed under members), an email or group:NAME")
    role: Literal["admin", "developer"] = Field("developer", description="role on this application")


class DebriefApplication(Strict):
    name: str = Field(min_length=1, description="unique in the team (case-insensitive)")
    description: str | None = Field(None, description="left as it is when not given")
    users: list[DebriefAppUser] = Field(
        default_factory=list,
        description="developers on this application; team admins and owners see every application "
                    "and are not listed")

    @field_validator("name", "description")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        """Debrief requires both to create an application: blanks are refused here, with a
        location, not by the service halfway through an apply. (A validator, not a schema
        constraint, so the JSON Schema stays as it was.)"""
        if value is not None and not value.strip():
            raise PydanticCustomError("blank", "must not be blank: Debrief requires it", {})
        return value


class DebriefSettings(ProviderSettings):
    base_url: BaseURL = api.DEFAULT_BASE_URL
    members: list[DebriefMember] = Field(default_factory=list, description="the team's users")
    applications: list[DebriefApplication] | None = Field(
        None, description="the team's applications; leave the key out to leave applications alone")

    @model_validator(mode="after")
    def _unique_names(self) -> "DebriefSettings":
        seen: dict[str, str] = {}
        for app in self.applications or []:
            if app_key(app.name) in seen:
                raise PydanticCustomError(
                    "duplicate_application", "application '{name}' is listed twice (as '{first}'); "
                    "Debrief application names are unique regardless of case",
                    {"name": app.name, "first": seen[app_key(app.name)]})
            seen[app_key(app.name)] = app.name
        return self
