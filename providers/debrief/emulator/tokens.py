"""The Debrief emulator's OAuth: the password grant with client credentials, access tokens that
expire (the emulator's ``token_lifetime`` and ``clock``), refresh tokens that are used once and
rotate, and the bearer check every other endpoint runs first."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .. import api
from .common import Body, Endpoint, Refusal, user_by_email, user_by_id

if TYPE_CHECKING:  # pragma: no cover
    from . import DebriefEmulator


def _issue(emu: "DebriefEmulator", user_id: str) -> dict[str, Any]:
    access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    emu.tokens[access] = (user_id, emu.clock() + emu.token_lifetime)
    emu.refresh_tokens[refresh] = user_id
    return {"expires_in": f"{emu.token_lifetime:g}", "refresh_token": refresh, "access_token": access}


def _check_client(emu: "DebriefEmulator", body: Body) -> None:
    pair = (body.get("client_id"), body.get("client_secret"))
    if pair not in {(c["client_id"], c["client_secret"]) for c in emu.state["clients"]}:
        raise Refusal(401, "client", "invalid client credentials")


def caller_of(emu: "DebriefEmulator", request: Request) -> dict[str, Any]:
    """The active user a live bearer token belongs to, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Refusal(401, "token", "a bearer token is required")
    user_id, expires = emu.tokens.get(token, ("", 0.0))
    if not user_id:
        raise Refusal(401, "token", "invalid token")
    if emu.clock() >= expires:
        raise Refusal(401, "token", "the access token has expired")
    found = user_by_id(emu, user_id)
    if found is None or found["status"] != api.ACTIVE:
        raise Refusal(401, "token", "this user can no longer log in")
    return found


def login(emu: "DebriefEmulator", params, body: Body, caller) -> Any:
    if body.get("grant_type") != "password":
        raise Refusal(400, "grant_type", "grant_type must be password")
    _check_client(emu, body)
    found = user_by_email(emu, str(body.get("username", "")))
    if found is None or found["status"] != api.ACTIVE or found["password"] != body.get("password"):
        raise Refusal(401, "username", "invalid username or password")
    return _issue(emu, found["id"])


def refresh(emu: "DebriefEmulator", params, body: Body, caller) -> Any:
    _check_client(emu, body)
    user_id = emu.refresh_tokens.pop(str(body.get("refresh_token")), None)
    if user_id is None:
        raise Refusal(401, "refresh_token", "invalid refresh token")
    return _issue(emu, user_id)


def logout(emu: "DebriefEmulator", params, body: Body, caller) -> Any:
    for token in [t for t, (uid, _) in emu.tokens.items() if uid == caller["id"]]:
        emu.tokens.pop(token)
    return {"status": "ok"}


ROUTES = [
    Endpoint("POST", api.LOGIN, login, auth=False),
    Endpoint("POST", api.REFRESH, refresh, auth=False),
    Endpoint("POST", api.LOGOUT, logout),
]
