"""The CrankWheel section of the state file: the members and the onboarding-email setting."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from teamform.provider import BaseURL, ProviderSettings, Strict, Who

from . import api

Privilege = Literal["user", "admin", "owner", "reporting"]


class CrankWheelMember(Strict):
    who: Who
    privilege: Privilege = "user"
    in_demo_pool: bool | None = Field(
        None, description="in the pool that handles demo requests; left as it is when not given "
                          "(false for a new user)")


class CrankWheelSettings(ProviderSettings):
    base_url: BaseURL = api.DEFAULT_BASE_URL
    send_onboarding_email: bool = Field(
        True, description="email new users a link to set their password (a setting, not state: "
                          "only sent when a user is created)")
    members: list[CrankWheelMember] = Field(default_factory=list)
