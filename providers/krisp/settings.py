"""The Krisp section of a service entry: seat counts per seat type and who is on a seat."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, conint

from teamform.provider import BaseURL, Limits, ProviderSettings, Strict, Who

from . import api


class KrispMember(Strict):
    who: Who
    role: Literal["Admin", "User"] = "User"
    seat: Literal["standard", "device"] = Field("standard", description="the seat type to place them on")
    nickname: str | None = Field(None, description="left as it is when not given")


class KrispSettings(ProviderSettings):
    base_url: BaseURL = api.DEFAULT_BASE_URL
    api_version: str = Field(api.DEFAULT_VERSION, pattern=r"^v[0-9]+$")
    limits: Limits = Field(default_factory=lambda: Limits(requests_per_minute=300))
    seats: dict[Literal["standard", "device"], conint(ge=0)] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="seat count per seat type; a type not named is left as it is")
    members: list[KrispMember] = Field(default_factory=list)
