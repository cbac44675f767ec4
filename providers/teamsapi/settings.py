"""The ``teamsapi`` section of a service entry in the state file."""

from __future__ import annotations

from pydantic import Field, model_validator

from teamform.provider import BaseURL, PersonRef, ProviderSettings, Strict, Who

from . import api


class TeamsMember(Strict):
    who: Who
    role: str = Field("Member", min_length=1,
                      description="a role from GET /teams/roles (checked against the service at plan time)")


class TeamEntry(Strict):
    members: list[TeamsMember] = Field(default_factory=list)
    hand_over_to: PersonRef | None = Field(
        None, description="teamform's account leaves this team (PUT leave-team) and ownership moves to this "
                          "person, who must be an accepted member; the team is then no longer managed")

    @model_validator(mode="after")
    def _one_or_the_other(self) -> "TeamEntry":
        if self.hand_over_to and self.members:
            raise ValueError("a team that is handed over is no longer managed: give hand_over_to or members, "
                             "not both")
        return self


class TeamsApiSettings(ProviderSettings):
    base_url: BaseURL = api.DEFAULT_BASE_URL
    teams: dict[str, TeamEntry] = Field(
        default_factory=dict, description="team name -> its members; a live team not listed is deleted (or left)")

    @model_validator(mode="after")
    def _names(self) -> "TeamsApiSettings":
        for name in self.teams:
            if not name.strip() or name != name.strip():
                raise ValueError(f"team name {name!r} must be non-empty without surrounding spaces")
        return self
