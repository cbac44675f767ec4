"""The emulated team: its seats, the sandbox's seed, and the rules every handler checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from teamform.emulator import Ranked

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


def _ranks(state: dict[str, Any]) -> Ranked:
    return Ranked(state["seats"])


def _of_type(state: dict[str, Any], free: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Seats (``free``: unassigned seats) by type, in the seats' order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for s in state["seats"]:
        if not free or s["user"] is None:
            out.setdefault(s["type"], []).append(s)
    return out


def _free(state: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return _of_type(state, free=True)


def _admins(state: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {id(s): s for s in state["seats"] if s["user"] and s["role"] == "Admin"}


def seats_of_type(emu: "Emulator", type_: str) -> list[dict[str, Any]]:
    """The seats of this type, in order (do not change the list)."""
    return emu.lookup("seat_types", _of_type).get(type_, [])


def free_seats(emu: "Emulator", type_: str) -> list[dict[str, Any]]:
    """The unassigned seats of this type, in order (do not change the list: ``change``)."""
    return emu.lookup("free_seats", _free).get(type_, [])


def change(emu: "Emulator", target: dict[str, Any], fields: dict[str, Any]) -> None:
    """Change a seat's fields (not its type), and the lookups of free seats, Admins and emails with it."""
    emails, free = emu.lookup("seat_emails", _by_email), emu.lookup("free_seats", _free)
    admins, ranks = emu.lookup("seat_admins", _admins), emu.lookup("seat_ranks", _ranks)
    if target["user"] and emails.get(target["user"]["email"].lower()) is target:
        del emails[target["user"]["email"].lower()]
    if target["user"] is None:
        ranks.remove(free[target["type"]], target)
    admins.pop(id(target), None)
    target.update(fields)
    if target["user"]:
        emails.setdefault(target["user"]["email"].lower(), target)
        if target["role"] == "Admin":
            admins[id(target)] = target
    else:
        ranks.insert(free.setdefault(target["type"], []), target)


def fill(emu: "Emulator", target: dict[str, Any], new: dict[str, Any]) -> None:
    """Put ``new`` (a seat record, same id and type) in place of ``target``: who is on it may change."""
    change(emu, target, new)


def add_seats(emu: "Emulator", added: list[dict[str, Any]]) -> None:
    ids, ranks = emu.lookup("seat_ids", _by_id), emu.lookup("seat_ranks", _ranks)
    types, free = emu.lookup("seat_types", _of_type), emu.lookup("free_seats", _free)
    for s in added:
        ranks.append(emu.state["seats"], s)
        ids.setdefault(s["id"], s)
        types.setdefault(s["type"], []).append(s)
        free.setdefault(s["type"], []).append(s)  # a new seat is unassigned


def drop_seat(emu: "Emulator", target: dict[str, Any]) -> None:
    """Delete an unassigned seat."""
    ids, ranks = emu.lookup("seat_ids", _by_id), emu.lookup("seat_ranks", _ranks)
    for where in (emu.state["seats"], seats_of_type(emu, target["type"]), free_seats(emu, target["type"])):
        ranks.remove(where, target)
    ranks.discard(target)
    if ids.get(target["id"]) is target:
        del ids[target["id"]]


def keeps_an_admin(emu: "Emulator", target: dict[str, Any]) -> None:
    """The last Admin cannot be unassigned or demoted."""
    if target["role"] == "Admin" and len(emu.lookup("seat_admins", _admins)) == 1:
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
