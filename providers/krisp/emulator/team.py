"""The emulated team: its seats, the sandbox's seed, and the rules every handler checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import api
from .envelope import Refusal

if TYPE_CHECKING:  # pragma: no cover
    from teamform.emulator import Emulator

NOW = "2026-01-05T09:00:00Z"


def seat(seat_id: int, type_: str = "standard", email: str | None = None, role: str = "User",
         status: str = "active", nickname: str | None = None) -> dict[str, Any]:
    """A seat as Krisp shows it: unassigned without an email, else with its user. The document
    gives a role only the values Admin and User (a nickname alone "or null"), so an empty seat
    has the role User; its join date and user are null (the document is silent: our choice)."""
    if email is None:
        return {"id": seat_id, "type": type_, "status": "unassigned", "role": "User", "join_date": None,
                "nickname": None, "user": None}
    return {"id": seat_id, "type": type_, "status": status, "role": role, "join_date": NOW,
            "nickname": nickname, "user": {"id": seat_id + 1000, "hostname": email.split("@")[0] + "-laptop",
                                           "email": email}}


def seed(credentials: dict[str, str]) -> dict[str, Any]:
    """Live drift from teams.example.yaml: Dave is a User there, Mallory has left the
    company, Carol's invitation is pending, Bob's email has other case, and one seat short."""
    seats = [
        seat(1, email="alice@example.com", role="Admin", nickname="Alice"),
        seat(2, email="Bob@Example.com"),
        seat(3, email="carol@example.com", status="pending_accept"),
        seat(4, email="dave@example.com"),
        seat(5, email="mallory@example.com"),
    ]
    return {"team": {"name": "Example Co", "type": "email", "payment_type": "card"},
            "credentials": dict(credentials), "seats": seats, "next_id": 6}


def _by_id(state: dict[str, Any]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for s in state["seats"]:
        out.setdefault(s["id"], s)
    return out


def _by_email(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s in state["seats"]:
        if s["user"]:
            out.setdefault(s["user"]["email"].lower(), s)
    return out


def find_seat(emu: "Emulator", raw_id: str) -> dict[str, Any]:
    try:
        wanted = int(raw_id)
    except ValueError:
        raise Refusal("VALIDATION_ERROR", "seat id must be a positive integer") from None
    found = emu.lookup("seat_ids", _by_id).get(wanted)
    if found is None:
        raise Refusal("SEAT_NOT_FOUND")
    return found


def member_seat(emu: "Emulator", email: str) -> dict[str, Any] | None:
    return emu.lookup("seat_emails", _by_email).get(email.lower())


def fill(emu: "Emulator", target: dict[str, Any], new: dict[str, Any]) -> None:
    """Put ``new`` (a seat record, same id) in place of ``target``: who is on it may change."""
    emails = emu.lookup("seat_emails", _by_email)
    if target["user"] and emails.get(target["user"]["email"].lower()) is target:
        del emails[target["user"]["email"].lower()]
    target.update(new)
    if target["user"]:
        emails.setdefault(target["user"]["email"].lower(), target)


def add_seats(emu: "Emulator", added: list[dict[str, Any]]) -> None:
    ids = emu.lookup("seat_ids", _by_id)
    emu.state["seats"].extend(added)
    for s in added:
        ids.setdefault(s["id"], s)


def drop_seat(emu: "Emulator", target: dict[str, Any]) -> None:
    """Delete an unassigned seat."""
    ids = emu.lookup("seat_ids", _by_id)
    emu.state["seats"].remove(target)
    if ids.get(target["id"]) is target:
        del ids[target["id"]]


def admins(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in state["seats"] if s["user"] and s["role"] == "Admin"]


def keeps_an_admin(state: dict[str, Any], target: dict[str, Any]) -> None:
    """The last Admin cannot be unassigned or demoted."""
    if target["role"] == "Admin" and len(admins(state)) == 1:
        raise Refusal("NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT")


def card_only(state: dict[str, Any], error_code: str) -> None:
    """Invoice teams cannot add or delete seats."""
    if state["team"]["payment_type"] != "card":
        raise Refusal(error_code)


def invite_allowed(state: dict[str, Any]) -> None:
    """A device team's key cannot invite by email."""
    if state["team"]["type"] != "email":
        raise Refusal("NOT_PERMITTED_INVITE_USER")


#: "Valid email string": one @, something on each side, a dot in the domain, no spaces
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_of(value: Any) -> str:
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        raise Refusal("VALIDATION_ERROR", f"{value!r} is not a valid email")
    return value.strip()


def nickname_of(value: Any) -> str | None:
    """ "Valid nickname string in UTF8 or null"; an empty string clears it."""
    if value is not None and not isinstance(value, str):
        raise Refusal("VALIDATION_ERROR", "nickname must be a string or null")
    return value or None


def answer(*seats: dict[str, Any]) -> dict[str, Any]:
    """Seats as the document's "Response Data" shows them: ``data.count`` and ``data.seats``."""
    return {"count": len(seats), "seats": list(seats)}


def role_of(body: dict[str, Any], default: str = "User") -> str:
    role = body.get("role", default)
    if role not in api.ROLES:
        raise Refusal("VALIDATION_ERROR", f"role must be one of {', '.join(api.ROLES)}")
    return role


def seat_type(value: Any) -> str:
    if value not in api.SEAT_TYPES:
        raise Refusal("VALIDATION_ERROR", f"type must be one of {', '.join(api.SEAT_TYPES)}")
    return value
