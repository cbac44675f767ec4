"""What every handler of the Debrief emulator shares: the refusal and its error shape, reading a
request's body and fields, the route table's entries, and lookups over the state dict.

Handlers are plain functions ``(emu, params, body, caller) -> JSON-able``; ``caller`` is the user
whose bearer token was checked (``None`` for the endpoints that need none)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response

from teamform.emulator import Emulator, JSONResponse, Ranked

from .. import api

Body = dict[str, Any]
Handler = Callable[[Any, dict[str, Any], Body, Any], Any]


class Refusal(Exception):
    """The service says no: ``{"errorType": ..., "response": {field: message}}`` (404: no body)."""

    def __init__(self, status: int, field: str = "", message: str = "") -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def refusal_response(exc: Refusal, retry_after: float | None = None) -> Response:
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
    if exc.status == 404:
        return Response(status_code=404, headers=headers)
    body = {"errorType": api.ERROR_TYPES.get(exc.status, "server"), "response": {exc.field: exc.message}}
    return JSONResponse(body, status_code=exc.status, headers=headers)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    auth: bool = True   # a bearer token is required
    status: int = 200   # the status of a successful answer


# ---- the request ----------------------------------------------------------------------
async def read_json(request: Request) -> Body:
    if request.method in ("GET", "DELETE") or not await request.body():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise Refusal(400, "body", "the body must be JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, "body", "the body must be a JSON object")
    return data


def text(body: Body, key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise Refusal(400, key, f"{key} is required" if value is None else f"{key} must be a non-empty string")
    return value


def role_of(body: Body, allowed: tuple[str, ...]) -> str:
    role = body.get("role")
    if role not in allowed:
        raise Refusal(400, "role", f"role must be one of {', '.join(allowed)}")
    return role


# ---- lookups --------------------------------------------------------------------------
def new_id(emu: Emulator, prefix: str) -> str:
    return f"{prefix}{emu.next_id()}"


def _ids(db: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for u in db["users"]:
        out.setdefault(u["id"], u)
    return out


def _emails(db: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for u in db["users"]:
        out.setdefault(u["email"].lower(), u)
    return out


def _tokens(db: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for u in db["users"]:
        if u["invite_token"]:
            out.setdefault(u["invite_token"], u)
    return out


def _owners(db: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for u in db["users"]:
        if u["role"] == "owner":
            out.setdefault(u["team_id"], {})[id(u)] = u
    return out


def _user_ranks(db: dict[str, Any]) -> Ranked:
    return Ranked(db["users"])


def user_by_id(emu: Emulator, user_id: str) -> dict[str, Any] | None:
    return emu.lookup("user_ids", _ids).get(user_id)


def user_by_email(emu: Emulator, email: str) -> dict[str, Any] | None:
    """The user with this email, whatever its case (emails are unique)."""
    return emu.lookup("user_emails", _emails).get(email.lower())


def user_by_token(emu: Emulator, token: str) -> dict[str, Any] | None:
    """The user whose pending invitation has this token."""
    return emu.lookup("invite_tokens", _tokens).get(token) if token else None


def owners_left(emu: Emulator, team_id: str, without: str) -> int:
    """The team's owners but ``without`` (a user id)."""
    return sum(1 for u in emu.lookup("owners", _owners).get(team_id, {}).values() if u["id"] != without)


def _index(emu: Emulator, user: dict[str, Any]) -> None:
    """Into the lookups by invitation token and of owners (those that follow fields a user's change may change)."""
    if user["invite_token"]:
        emu.lookup("invite_tokens", _tokens).setdefault(user["invite_token"], user)
    if user["role"] == "owner":
        emu.lookup("owners", _owners).setdefault(user["team_id"], {})[id(user)] = user


def _unindex(emu: Emulator, user: dict[str, Any]) -> None:
    tokens = emu.lookup("invite_tokens", _tokens)
    if user["invite_token"] and tokens.get(user["invite_token"]) is user:
        del tokens[user["invite_token"]]
    emu.lookup("owners", _owners).get(user["team_id"], {}).pop(id(user), None)


def add_user(emu: Emulator, user: dict[str, Any]) -> None:
    ids, emails = emu.lookup("user_ids", _ids), emu.lookup("user_emails", _emails)
    emu.lookup("user_ranks", _user_ranks).append(emu.state["users"], user)
    ids.setdefault(user["id"], user)
    emails.setdefault(user["email"].lower(), user)
    _index(emu, user)


def drop_user(emu: Emulator, user: dict[str, Any]) -> None:
    ids, emails = emu.lookup("user_ids", _ids), emu.lookup("user_emails", _emails)
    ranks = emu.lookup("user_ranks", _user_ranks)
    ranks.remove(emu.state["users"], user)
    ranks.discard(user)
    if ids.get(user["id"]) is user:
        del ids[user["id"]]
    if emails.get(user["email"].lower()) is user:
        del emails[user["email"].lower()]
    _unindex(emu, user)


def set_user(emu: Emulator, user: dict[str, Any], **changes: Any) -> None:
    """Change a user's fields, and the lookups by invitation token and of owners with them."""
    _unindex(emu, user)
    user.update(changes)
    _index(emu, user)


def team_user(emu: Emulator, caller: dict[str, Any], user_id: str) -> dict[str, Any]:
    """A user of the caller's team, or 404."""
    found = user_by_id(emu, user_id)
    if found is None or found["team_id"] != caller["team_id"]:
        raise Refusal(404)
    return found


def require_admin(caller: dict[str, Any]) -> None:
    if caller["role"] not in api.SEES_EVERY_APP:
        raise Refusal(403, "role", "only team admins and owners may do this")


def name_taken(items: list[dict[str, Any]], key: str, name: str, but: str = "") -> bool:
    """Names are unique regardless of case and surrounding blanks."""
    return any(i[key].strip().lower() == name.strip().lower() and i["id"] != but for i in items)


def user_view(u: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
    """A user as the API shows it; admins also see a pending invitation's token."""
    out = {k: u[k] for k in ("id", "email", "first_name", "last_name", "role", "status")}
    if admin and u["status"] == api.INVITED:
        out["invite_token"] = u["invite_token"]
    return out
