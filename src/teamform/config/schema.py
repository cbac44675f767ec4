"""The desired-state file's schema: people, groups, services and their policies.

Providers build their section from the pieces here (``Strict``, ``Who``, ``Email``,
``ProviderSettings``) so that every provider's section reports errors the same way.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlparse

from pydantic import AfterValidator, Discriminator, Field, Tag, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from ..model import norm_email
from .strict import DATE_SCHEMA, Strict, grant_expires, parse_date  # noqa: F401 - read from here too

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ENV_REF_RE = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


def _check_email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise PydanticCustomError("email", "'{value}' is not an email address", {"value": value})
    return value


Email = Annotated[str, AfterValidator(_check_email)]


def _directory(info: ValidationInfo) -> "Directory | None":
    context = info.context  # read once: each read is a call into pydantic-core
    return context.get("directory") if context else None


def _check_person(value: str, info: ValidationInfo) -> str:
    directory = _directory(info)
    if directory is not None and value in directory.people:
        return value  # as people spells it, lower-cased (the usual case): a valid email, listed
    _check_email(value)
    if directory is not None and norm_email(value) not in directory.people:
        now = directory.previous.get(norm_email(value))
        if now is not None:
            raise PydanticCustomError(
                "previous_address",
                "'{value}' is a previous address of {now} (people.{now}.previously): use '{now}'",
                {"value": value, "now": directory.spelling.get(now, now)})
        raise PydanticCustomError(
            "unknown_person",
            "'{value}' is not in people; add it to people or fix the spelling{hint}. To offboard someone, "
            "keep their entry and add offboarded: YYYY-MM-DD to it (deleting the entry is not enough)",
            {"value": value, "hint": directory.suggest(value)},
        )
    return value


def _check_who(value: str, info: ValidationInfo) -> str:
    if value.startswith("group:"):
        directory = _directory(info)
        name = value[len("group:"):]
        if directory is not None and name not in directory.groups:
            known = ", ".join(sorted(directory.groups)) or "none defined"
            raise PydanticCustomError("unknown_group", "group '{name}' does not exist (groups: {known})",
                                      {"name": name, "known": known})
        return value
    return _check_person(value, info)


#: an email that must be in ``people``
PersonRef = Annotated[str, AfterValidator(_check_person)]
#: an email in ``people`` or ``group:NAME``
Who = Annotated[str, Field(description="an email from people, or group:NAME"), AfterValidator(_check_who)]


def _check_env_ref(value: str) -> str:
    if not ENV_REF_RE.match(value):
        raise PydanticCustomError(
            "env_ref", "credentials must be references like env:NAME, never the secret itself", {})
    return value


EnvRef = Annotated[str, Field(description="env:NAME", json_schema_extra={"pattern": ENV_REF_RE.pattern}),
                   AfterValidator(_check_env_ref)]


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_url(value: str) -> str:
    if any(c.isspace() or not c.isprintable() for c in value):
        raise PydanticCustomError("url_chars", "a URL must not contain spaces, tabs or control characters", {})
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise PydanticCustomError("url", "not a URL ({why})", {"why": str(exc)}) from None
    if "@" in parsed.netloc:  # never echo it: the userinfo may be a password
        raise PydanticCustomError(
            "url_userinfo", "a URL must not carry a user or password: give credentials under credentials: "
            "as env:NAME references", {})
    if parsed.scheme == "https" and parsed.netloc:
        return value.rstrip("/")
    if parsed.scheme == "http" and is_loopback(parsed.hostname):
        return value.rstrip("/")
    raise PydanticCustomError(
        "https_only", "'{value}' must be an https:// URL (plain http is allowed on loopback only)",
        {"value": value})


BaseURL = Annotated[str, AfterValidator(_check_url)]


class Limits(Strict):
    """How hard teamform may push a service."""

    requests_per_minute: float = Field(120, ge=1, le=1_000_000, description="client-side rate limit")
    concurrency: int = Field(4, ge=1, le=64, description="operations in flight at once")
    retries: int = Field(5, ge=0, le=20, description="attempts after the first on 429/5xx/timeouts")
    backoff: float = Field(0.5, ge=0, le=600, description="first retry delay in seconds (doubles, with jitter)")
    max_wait: float = Field(60, ge=0, le=3600, description="longest single wait, Retry-After included")
    timeout: float = Field(30, gt=0, le=600, description="seconds per request")


class ProviderSettings(Strict):
    """Base of every provider's section: where the API is and how hard to push it."""

    base_url: BaseURL
    limits: Limits = Field(default_factory=Limits)


MaxRemovals = Annotated[str | int, Field(description="a count (5) or a share of live members ('10%')")]


class Offboarding(Strict):
    """How a service offboards a person (``offboarded:`` in people): at once, or suspended first
    where the service can suspend, then removed ``remove_after_days`` after the offboarding date."""

    suspend_first: bool = Field(False, description="suspend (archive, deactivate) before removing, where the "
                                                   "service can; a service that cannot removes at once")
    remove_after_days: int | None = Field(
        None, ge=0, le=36500, description="with suspend_first: remove this many days after the offboarding date "
                                          "(left out: kept suspended)")

    @model_validator(mode="after")
    def _days_need_suspension(self) -> "Offboarding":
        if self.remove_after_days is not None and not self.suspend_first:
            raise PydanticCustomError("offboarding", "remove_after_days counts from a suspension: add "
                                      "suspend_first: true, or leave remove_after_days out (removed at once)", {})
        return self


class Policy(Strict):
    authoritative: bool = Field(
        True, description="remove what is live but not listed; false leaves unlisted things alone")
    protect: list[Who] = Field(default_factory=list, description="never removed, demoted or suspended")
    ignore: list[str] = Field(default_factory=list,
                              description="glob patterns of live members to leave alone (service accounts)")
    max_removals: MaxRemovals = Field("25%", description="refuse a plan removing more, unless --allow-mass-removal")
    identity: Email | None = Field(
        None, description="the email teamform acts as (the API key's owner), for services whose API cannot say: "
                          "never removed, demoted or suspended (the lockout guard)")
    resend_invitations_after_days: int | None = Field(
        None, ge=1, description="send again invitations pending this many days, where the service can; "
                                "elsewhere warn about them")
    offboarding: Offboarding = Field(default_factory=lambda: Offboarding(),
                                     description="how people marked offboarded: leave this service")
    expiry_warning_days: int = Field(14, ge=0, le=3650,
                                     description="warn this many days before a grant's expires: date")

    def staged(self) -> "Offboarding":
        """``offboarding`` as the engine reads it (a provider's Policy may also take its older
        spelling: a word such as 'archive')."""
        value = self.offboarding
        return value if isinstance(value, Offboarding) else self.legacy_offboarding(value)

    def legacy_offboarding(self, value: Any) -> "Offboarding":
        """An older spelling of ``offboarding`` (a provider's Policy overrides this)."""
        return Offboarding()

    @model_validator(mode="after")
    def _check_max(self) -> "Policy":
        parse_max_removals(self.max_removals)
        return self


def parse_max_removals(value: str | int) -> tuple[int | None, float | None]:
    """``(count, share)``: one of them is set."""
    if isinstance(value, int):
        if value < 0:
            raise PydanticCustomError("max_removals", "max_removals must not be negative", {})
        return value, None
    text = str(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    if match:
        return None, float(match.group(1)) / 100.0
    if text.isdigit():
        return int(text), None
    raise PydanticCustomError("max_removals", "max_removals must be a count like 5 or a share like '10%'", {})


class Person(Strict):
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    previously: list[Email] = Field(
        default_factory=list, description="earlier addresses: a service that still knows the person by one "
                                          "changes the email in place where it can (a rename)")
    offboarded: Any = Field(
        None, description="YYYY-MM-DD: the person has left; removed from every service and group from this "
                          "date (suspended first where policy.offboarding says so)",
        json_schema_extra=DATE_SCHEMA)
    expires: Any = Field(None, description="YYYY-MM-DD: the person's access ends after this date (a contractor)",
                         json_schema_extra=DATE_SCHEMA)

    def gone(self, today: dt.date) -> tuple[dt.date, str] | None:
        """``(since, why)`` when the person no longer holds anything on ``today``: offboarded on
        or before it, or past their ``expires``."""
        if self.offboarded is None and self.expires is None:
            return None  # nearly everyone: asked once per person per resource at 100,000
        off, exp = parse_date(self.offboarded), parse_date(self.expires)
        if off is not None and off <= today:
            return off, f"offboarded on {off}"
        if exp is not None and exp < today:
            return exp + dt.timedelta(days=1), f"expired on {exp}"
        return None

    def names(self) -> tuple[str, str]:
        """(first, last), from the explicit fields or by splitting ``name``."""
        first, last = self.first_name, self.last_name
        if (first is None or last is None) and self.name:
            parts = self.name.split(None, 1)
            first = first if first is not None else parts[0]
            last = last if last is not None else (parts[1] if len(parts) > 1 else "")
        return first or "", last or ""


@dataclass
class Directory:
    """``people`` keyed by lower-cased email, ``groups`` by name; expands ``who`` references."""

    people: dict[str, Person] = field(default_factory=dict)
    spelling: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    #: a previous address (lower-cased) -> the person's address now (``previously:``)
    previous: dict[str, str] = field(default_factory=dict)
    #: (group, member as written) -> the date that group membership ends (``{who:, expires:}``)
    group_expires: dict[tuple[str, str], dt.date] = field(default_factory=dict)
    #: does the file date any grant (``expires:`` under services)? If not, the planner need not look
    grants_expire: bool = True
    #: the day the plan is made for: set (``as_of``), offboarded people, expired people and
    #: expired group memberships expand to nobody; unset (validate), everyone listed counts
    today: dt.date | None = None
    #: what is asked for every entry of every service, worked out once (on the first question: the
    #: directory is complete by then): the people with a date (``offboarded``, ``expires``: nearly
    #: nobody), and each group's expansion on ``today``
    _dated: dict[str, Person] | None = field(default=None, init=False, repr=False, compare=False)
    _expanded: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def as_of(self, today: dt.date) -> "Directory":
        """This directory on ``today`` (a copy: the loaded file is not changed)."""
        return replace(self, today=today)

    def gone(self, email: str) -> tuple[dt.date, str] | None:
        """``(since, why)`` if the person no longer holds anything on ``today``."""
        if self.today is None:
            return None
        if self._dated is None:
            self._dated = {low: person for low, person in self.people.items()
                           if person.offboarded is not None or person.expires is not None}
        if not self._dated:
            return None
        person = self._dated.get(email)  # most are asked for as people spells them
        if person is None and email not in self.people:
            person = self._dated.get(norm_email(email))
        return person.gone(self.today) if person is not None else None

    def expand(self, who: str, _seen: frozenset[str] = frozenset()) -> list[str]:
        """Lower-cased emails for an email or ``group:NAME`` (nested groups allowed), each once, in
        the order the groups list them; on ``today``, without anyone gone or whose group
        membership expired."""
        if not who.startswith("group:"):
            email = who if who in self.people else norm_email(who)  # most are spelt as in people
            return [] if self.gone(email) else [email]
        known = self._expanded.get(who)
        if known is None:
            known = self._expanded[who] = self._expand_group(who[len("group:"):], _seen)
        return list(known)  # the caller's own list

    def _expand_group(self, name: str, seen: frozenset[str]) -> list[str]:
        if name in seen:
            raise ValueError(f"group '{name}' contains itself")
        out: dict[str, None] = {}  # an ordered set: a list's `in` made large groups quadratic
        inside = seen | {name}
        for member in self.groups.get(name, []):
            ends = self.group_expires.get((name, member)) if self.group_expires else None
            if ends is not None and self.today is not None and ends < self.today:
                continue
            out.update(dict.fromkeys(self.expand(member, inside)))
        return list(out)

    def person(self, email: str) -> Person:
        person = self.people.get(norm_email(email))
        return Person() if person is None else person  # (a Person is not made for each one found)

    def suggest(self, email: str) -> str:
        close = difflib.get_close_matches(norm_email(email), list(self.people), n=1, cutoff=0.8)
        return f" (did you mean '{self.spelling.get(close[0], close[0])}'?)" if close else ""


class GroupMember(Strict):
    """A group member with an end date: ``{who: bob@example.com, expires: 2025-06-30}``."""

    who: Who


#: a group's member: an email or group:NAME, or ``{who:, expires:}``; the tags are left out of
#: error paths (the loader drops them), so an error names ``groups.support[2]``
GroupEntry = Annotated[Union[Annotated[Who, Tag("[email]")], Annotated[GroupMember, Tag("[entry]")]],
                       Discriminator(lambda v: "[entry]" if isinstance(v, (dict, GroupMember)) else "[email]")]


class ServiceCommon(Strict):
    """Keys every service entry has, whatever its provider."""

    provider: str
    sandbox: bool = Field(False, description="talk to the built-in emulator instead of the real API")
    credentials: dict[str, EnvRef] = Field(default_factory=dict)
    policy: Policy = Field(default_factory=Policy)


class Head(Strict):
    """The part of the file that does not depend on providers."""

    version: Literal[1]
    people: dict[Email, Person | None] = Field(default_factory=dict)
    groups: dict[str, list[GroupEntry]] = Field(default_factory=dict)
    services: dict[str, Any] = Field(default_factory=dict)


