"""Who is on a seat: change a member's role or nickname, assign an email to a seat, unassign,
and the bulk invitation onto free seats. Each handler returns the envelope's ``data``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request

from teamform.emulator import Emulator, form_or_json

from .envelope import Refusal
from .team import (answer, change, email_of, fill, find_seat, free_seats, invite_allowed, keeps_an_admin, member_seat,
                   nickname_of, role_of, seat, seat_type)


async def update_seat(emu: Emulator, request: Request) -> Any:
    target = find_seat(emu, request.path_params["id"])
    body = await form_or_json(request)
    if target["user"] is None:
        raise Refusal("SEAT_IS_EMPTY")
    if "role" not in body and "nickname" not in body:
        raise Refusal("VALIDATION_ERROR", "nothing to change: give role and/or nickname")
    role = role_of(body, target["role"])
    nickname = nickname_of(body["nickname"]) if "nickname" in body else target["nickname"]
    if role != "Admin":
        keeps_an_admin(emu, target)
    change(emu, target, {"role": role, "nickname": nickname})
    return answer(target)


async def assign(emu: Emulator, request: Request) -> Any:
    target = find_seat(emu, request.path_params["id"])
    body = await form_or_json(request)
    email = email_of(body.get("email"))
    invite_allowed(emu.state)
    if member_seat(emu, email) is not None:
        raise Refusal("ALREADY_MEMBER")
    if target["user"] is not None:
        raise Refusal("SEAT_IS_NOT_EMPTY")
    fill(emu, target, seat(target["id"], target["type"], email, role_of(body), "pending_accept"))
    return answer(target)


async def unassign(emu: Emulator, request: Request) -> Any:
    target = find_seat(emu, request.path_params["id"])
    if target["user"] is None:
        raise Refusal("SEAT_IS_EMPTY")
    keeps_an_admin(emu, target)
    fill(emu, target, seat(target["id"], target["type"]))
    return answer(target)


def _emails(body: dict[str, Any], form: bool) -> list[str]:
    emails = body.get("emails") or []
    if form and isinstance(emails, str):  # form-encoded: one field, comma separated, or repeated fields
        emails = [e for e in emails.split(",") if e]
    if not isinstance(emails, list) or not emails:
        raise Refusal("VALIDATION_ERROR", "emails must be a non-empty list of email addresses")
    return [email_of(e) for e in emails]


async def invite(emu: Emulator, request: Request) -> Any:
    """Members (and repeats) are skipped; the rest need as many unassigned seats of the type."""
    body = await form_or_json(request)
    emails = _emails(body, form="form-urlencoded" in request.headers.get("content-type", ""))
    type_ = seat_type(body.get("type", "standard"))
    role = role_of(body)
    invite_allowed(emu.state)
    fresh, skipped = [], []
    asked: set[str] = set()
    for email in emails:
        if member_seat(emu, email) is not None or email.lower() in asked:
            skipped.append(email)
        else:
            fresh.append(email)
            asked.add(email.lower())
    free = free_seats(emu, type_)
    if len(fresh) > len(free):
        raise Refusal("NOT_EMPTY_SEAT", f"{len(fresh)} invitations but {len(free)} unassigned {type_} seats")
    invited = []
    for email, target in zip(fresh, free[:len(fresh)]):  # a copy: filling a seat takes it out of ``free``
        fill(emu, target, seat(target["id"], type_, email, role, "pending_accept"))
        invited.append(target)
    return {"count": len(invited), "seats": invited, "skipped": skipped,
            "at": dt.datetime.now(dt.timezone.utc).isoformat()}
