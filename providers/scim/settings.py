"""The SCIM section of the state file, and its policy (offboarding: deactivate or delete)."""

from __future__ import annotations

import string
from typing import Literal

from pydantic import Field, field_validator

from teamform.provider import BaseURL, Offboarding, PersonRef, Policy, ProviderSettings, Strict, Who

from . import api

#: what a ``user_name``/``external_id`` template may use, for a person's email
PLACEHOLDERS = ("email", "local", "domain")
Feature = Literal["patch", "bulk", "filter", "etag"]


def render(template: str, email: str) -> str:
    """A template such as ``{local}`` for one email: ``{email}``, ``{local}`` (before the @),
    ``{domain}`` (after it)."""
    local, _, domain = email.partition("@")
    return template.format(email=email, local=local, domain=domain)


def _check_template(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a template ({exc})") from None
    unknown = names - set(PLACEHOLDERS)
    if unknown or not names:
        allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        what = f"unknown placeholder {{{sorted(unknown)[0]}}}" if unknown else "no placeholder"
        raise ValueError(f"'{value}' has {what}; use {allowed}")
    return value


class ScimUser(Strict):
    """One user entry. ``title``, ``department`` and ``manager`` left out keep the service's value;
    ``null`` clears it."""

    who: Who
    active: bool = Field(True, description="false: the account exists but cannot sign in (active: false)")
    title: str | None = Field(None, description="core User title; left out: as it is, null: cleared")
    department: str | None = Field(None, description="enterprise extension department; left out: as it is, "
                                                     "null: cleared")
    manager: PersonRef | None = Field(None, description="the manager, by email (a user of this service); "
                                                        "left out: as it is, null: cleared")


class ScimSettings(ProviderSettings):
    base_url: BaseURL = Field(description="the service's SCIM root, e.g. https://example.com/scim/v2")
    user_name: str = Field(
        "{email}", description="userName of a person's account: a template of {email}, {local}, {domain} "
                               "(services that key users on something else than the email)")
    external_id: str | None = Field(
        None, description="externalId to set and compare, as a template of {email}, {local}, {domain}; "
                          "null: left as the service has it")
    page_size: int = Field(100, ge=1, le=1000, description="users or groups asked for per page "
                                                           "(the service's maxResults lowers it)")
    max_members_per_patch: int = Field(100, ge=1, le=10000,
                                       description="group members added or removed per PATCH request")
    disable: list[Feature] = Field(
        default_factory=list, description="capabilities not to use even when /ServiceProviderConfig "
                                          "advertises them: patch, bulk, filter, etag")
    group_members: Literal["listed", "per_group"] = Field(
        "listed", description="read members from the group list (listed), or GET each group "
                              "(per_group: for services that leave members out of lists)")
    users: list[ScimUser] = Field(default_factory=list)
    groups: dict[str, list[Who]] = Field(default_factory=dict,
                                         description="groups by displayName, each with its members")

    @field_validator("user_name", "external_id")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return _check_template(value)


class ScimPolicy(Policy):
    """``offboarding`` as every service spells it, or SCIM's older words, which keep working:
    ``deactivate`` (= suspend_first, kept deactivated) and ``delete`` (deactivated then deleted at once)."""

    offboarding: Offboarding | Literal["deactivate", "delete"] = Field(
        "deactivate", description="a user who leaves is deactivated (active: false) and kept, or deactivated then "
                                  "deleted; {suspend_first: true, remove_after_days: N} deletes an offboarded person "
                                  "N days after their offboarded: date")

    def legacy_offboarding(self, value: str) -> Offboarding:
        return Offboarding(suspend_first=value == "deactivate")


def offboarding_word(policy: Policy) -> str:
    """'deactivate' (a user who leaves is deactivated and kept) or 'delete' (deactivated, then
    deleted in the same operation), whichever way the policy spells it. Staging by date
    (``remove_after_days``) is the engine's: by the time it plans the removal, it is a delete."""
    if not isinstance(policy, ScimPolicy):
        return "deactivate"
    staged = policy.staged()
    return "deactivate" if staged.suspend_first and staged.remove_after_days is None else "delete"


assert set(api.FEATURES) == set(Feature.__args__)  # type: ignore[attr-defined]
