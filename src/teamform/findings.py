"""Plan-time findings: what a check found, how serious it is, and what it is about.

A finding keeps its structure from the check that made it to the plan file and the renderers:
``level`` decides (an error stops the service's plan), ``code`` says which check found it (so a
caller can tell a removal cap from a capacity shortfall without reading the words), ``subject`` is
the resource or person it is about.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["error", "warning", "note"]

#: which check made a finding; providers' own checks are ``check``
#: (``lockout``: the identity teamform acts as was kept from a removal, demotion or suspension;
#: ``invitation``: invitations pending past ``resend_invitations_after_days``)
CODES = ("check", "failed_read", "removal_cap", "capacity", "guard", "cycle", "policy", "file", "lockout",
         "invitation")


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str
    subject: str | None = None
    code: str = "check"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        return cls(level=data["level"], message=data["message"], subject=data.get("subject"),
                   code=data.get("code", "check"))

    def __str__(self) -> str:
        return self.message


def error(message: str, subject: str | None = None, code: str = "check") -> Finding:
    return Finding("error", message, subject, code)


def warning(message: str, subject: str | None = None, code: str = "check") -> Finding:
    return Finding("warning", message, subject, code)


def note(message: str, subject: str | None = None, code: str = "check") -> Finding:
    return Finding("note", message, subject, code)
