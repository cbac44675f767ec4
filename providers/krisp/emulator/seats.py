"""The team and its seat pool: read the team, list seats (paged), add seats, delete an
unassigned seat, set a device seat's status. Each handler returns the envelope's ``data``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from teamform.emulator import Emulator, form_or_json

from .. import api
from .envelope import Refusal
from .team import add_seats as put_seats, answer, card_only, drop_seat, find_seat, seat, seat_type, seats_of_type


async def get_team(emu: Emulator, request: Request) -> Any:
    return dict(emu.state["team"])


async def list_seats(emu: Emulator, request: Request) -> Any:
    q = request.query_params
    try:
        page, limit = int(q.get("page", 1)), int(q.get("limit", 20))
    except ValueError:
        raise Refusal("VALIDATION_ERROR", "page and limit must be integers") from None
    if page < 1 or not 1 <= limit <= api.PAGE_LIMIT:
        raise Refusal("VALIDATION_ERROR", f"page >= 1 and 1 <= limit <= {api.PAGE_LIMIT}")
    if "type" in q:
        seat_type(q["type"])
    seats = seats_of_type(emu, q["type"]) if "type" in q else emu.state["seats"]
    chunk = seats[(page - 1) * limit: page * limit]
    return {"count": len(seats), "page": page, "limit": limit, "seats": chunk}


async def add_seats(emu: Emulator, request: Request) -> Any:
    body = await form_or_json(request)
    type_ = seat_type(body.get("type", "standard"))
    quantity = body.get("quantity")
    if isinstance(quantity, str) and quantity.isdigit():  # form-encoded
        quantity = int(quantity)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise Refusal("VALIDATION_ERROR", "quantity must be a positive integer")
    card_only(emu.state, "NOT_PERMITTED_ADD_SEATS")
    added = [seat(emu.next_id(), type_) for _ in range(quantity)]
    put_seats(emu, added)
    return answer(*added)


async def delete_seat(emu: Emulator, request: Request) -> Any:
    target = find_seat(emu, request.path_params["id"])
    card_only(emu.state, "NOT_PERMITTED_DELETE_SEAT")
    if target["user"] is not None:
        raise Refusal("SEAT_IS_NOT_EMPTY")
    drop_seat(emu, target)
    return {}


async def seat_status(emu: Emulator, request: Request) -> Any:
    target = find_seat(emu, request.path_params["id"])
    body = await form_or_json(request)
    if target["type"] != "device":
        raise Refusal("NOT_PERMITTED_CHANGE_SEAT_STATUS")
    if target["user"] is None:
        raise Refusal("SEAT_IS_EMPTY")
    if body.get("status") not in ("active", "inactive", "blocked"):
        raise Refusal("VALIDATION_ERROR", "status must be active, inactive or blocked")
    target["status"] = body["status"]
    return answer(target)
