"""The Debrief emulator's account endpoints: password reset and change, and Management API
client credentials. teamform never calls them; they are served because the document has them.

The document shows ``/forgot-password`` and ``/reset-password`` succeeding with HTTP 500, a slip
of the same kind NOTES.md notes for errors: they answer 200 here. Invented where the document is
silent: an unknown email or reset token, a wrong old password (400 validation, 404 for an
unknown email), the answers of ``/change-password`` and ``/client``.
"""

from __future__ import annotations

import secrets
from typing import Any

from teamform.emulator import Emulator

from .. import api
from .common import Body, Endpoint, Refusal, require_admin, text


def forgot_password(emu: Emulator, params, body: Body, caller) -> Any:
    email = text(body, "email").lower()
    found = next((u for u in emu.state["users"] if u["email"].lower() == email and u["status"] == api.ACTIVE), None)
    if found is None:
        raise Refusal(404)
    found["reset_token"] = secrets.token_urlsafe(48)
    return {"email": found["email"], "token": found["reset_token"]}


def reset_password(emu: Emulator, params, body: Body, caller) -> Any:
    token, password = text(body, "token"), text(body, "password")
    found = next((u for u in emu.state["users"] if u.get("reset_token") == token), None)
    if found is None:
        raise Refusal(400, "token", "this reset token is invalid or was used already")
    found.update(password=password, reset_token=None)
    return {"status": "Successfully reset password"}


def change_password(emu: Emulator, params, body: Body, caller) -> Any:
    if body.get("old_password") != caller["password"]:
        raise Refusal(400, "old_password", "the old password is wrong")
    caller["password"] = text(body, "new_password")
    return {"status": "ok"}


def new_client(emu: Emulator, params, body: Body, caller) -> Any:
    require_admin(caller)
    name = text(body, "name")
    client = {"client_id": secrets.token_hex(8), "client_secret": secrets.token_hex(16)}
    emu.state["clients"].append(client)
    return {"name": name, "redirectURI": body.get("redirectURI"), "trusted": bool(body.get("trusted")), **client}


ROUTES = [
    Endpoint("POST", api.FORGOT_PASSWORD, forgot_password, auth=False),
    Endpoint("POST", api.RESET_PASSWORD, reset_password, auth=False),
    Endpoint("POST", api.CHANGE_PASSWORD, change_password),
    Endpoint("POST", api.CLIENT, new_client, status=201),
]
