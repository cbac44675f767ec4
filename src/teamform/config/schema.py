"""The desired-state file's schema: people, groups, services and their policies.

Providers build their section from the pieces here (``Strict``, ``Who``, ``Email``,
``ProviderSettings``) so that every provider's section reports errors the same way.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from ..model import norm_email

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ENV_REF_RE = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


class Strict(BaseModel):
    """A model that refuses unknown keys and says which keys are allowed (and the likely one)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed, known = _keys(cls)
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}; allowed: {allowed}",
                        {"key": key, "hint": hint, "allowed": ", ".join(allowed)},
                    )
        return data


_KEYS: dict[type, tuple[list[str], frozenset[Any]]] = {}


def _keys(cls: type[BaseModel]) -> tuple[list[str], frozenset[Any]]:
    """A model's keys as the file spells them, and every name it accepts (once per class: this
    runs for every entry of a large roster)."""
    if cls not in _KEYS:
        allowed = [f.alias or name for name, f in cls.model_fields.items()]
        _KEYS[cls] = (allowed, frozenset(allowed) | frozenset(cls.model_fields))
    return _KEYS[cls]


def _check_email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise PydanticCustomError("email", "'{value}' is not an email address", {"value": value})
    return value


Email = Annotated[str, AfterValidator(_check_email)]


def _directory(info: ValidationInfo) -> "Directory | None":
    return (info.context or {}).get("directory") if info.context is not None else None


def _check_person(value: str, info: ValidationInfo) -> str:
    _check_email(value)
    directory = _directory(info)
    if directory is not None and norm_email(value) not in directory.people:
        raise PydanticCustomError(
            "unknown_person",
            "'{value}' is not in people; add it to people or fix the spelling{hint}",
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


class Policy(Strict):
    authoritative: bool = Field(
        True, description="remove what is live but not listed; false leaves unlisted things alone")
    protect: list[Who] = Field(default_factory=list, description="never removed or demoted")
    ignore: list[str] = Field(default_factory=list,
                              description="glob patterns of live members to leave alone (service accounts)")
    max_removals: MaxRemovals = Field("25%", description="refuse a plan removing more, unless --allow-mass-removal")

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

    def expand(self, who: str, _seen: frozenset[str] = frozenset()) -> list[str]:
        """Lower-cased emails for an email or ``group:NAME`` (nested groups allowed), each once, in
        the order the groups list them."""
        if not who.startswith("group:"):
            return [norm_email(who)]
        name = who[len("group:"):]
        if name in _seen:
            raise ValueError(f"group '{name}' contains itself")
        out: dict[str, None] = {}  # an ordered set: a list's `in` made large groups quadratic
        for member in self.groups.get(name, []):
            out.update(dict.fromkeys(self.expand(member, _seen | {name})))
        return list(out)

    def person(self, email: str) -> Person:
        return self.people.get(norm_email(email), Person())

    def suggest(self, email: str) -> str:
        close = difflib.get_close_matches(norm_email(email), list(self.people), n=1, cutoff=0.8)
        return f" (did you mean '{self.spelling.get(close[0], close[0])}'?)" if close else ""


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
    groups: dict[str, list[Who]] = Field(default_factory=dict)
    services: dict[str, Any] = Field(default_factory=dict)


