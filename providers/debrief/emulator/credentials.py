"""The Debrief emulator's application credentials (Communication API client credentials).

teamform never manages them; they are served because the document has them, and because deleting
an application revokes its credentials (``applications.delete_app``). Every credential needs an
``environment`` of ``sandbox`` or ``production`` (the document). Invented where it is silent:
the answers' shape (``{id, label, environment, client_id}``, the secret only in the create
answer), ``label`` optional, and the update taking the credentials' id in the path (the
document's URL, ``PATCH /application/:id/creds``, has none: there it goes in the body as ``id``).
"""

from __future__ import annotations

import secrets
from typing import Any

from teamform.emulator import Emulator

from .. import api
from .applications import visible_app
from .common import Body, Endpoint, Refusal, new_id, require_admin, text


def _view(c: dict[str, Any]) -> dict[str, Any]:
    return {k: c[k] for k in ("id", "label", "environment", "client_id")}


def _of_app(emu: Emulator, caller, app_id: str) -> list[dict[str, Any]]:
    target = visible_app(emu, caller, app_id)
    return [c for c in emu.state.setdefault("credentials", []) if c["app_id"] == target["id"]]


def _one(emu: Emulator, caller, app_id: str, creds_id: Any) -> dict[str, Any]:
    found = next((c for c in _of_app(emu, caller, app_id) if c["id"] == creds_id), None)
    if found is None:
        raise Refusal(404)
    return found


def create(emu: Emulator, params, body: Body, caller) -> Any:
    require_admin(caller)
    app_id = visible_app(emu, caller, params["app_id"])["id"]
    environment = body.get("environment")
    if environment not in api.CRED_ENVIRONMENTS:
        raise Refusal(400, "environment", f"environment must be one of {', '.join(api.CRED_ENVIRONMENTS)}")
    new = {"id": new_id(emu, "c"), "app_id": app_id, "label": text(body, "label", required=False) or "",
           "environment": environment, "client_id": secrets.token_hex(8), "client_secret": secrets.token_hex(16)}
    emu.state.setdefault("credentials", []).append(new)
    return {**_view(new), "client_secret": new["client_secret"]}


def list_all(emu: Emulator, params, body: Body, caller) -> Any:
    return [_view(c) for c in _of_app(emu, caller, params["app_id"])]


def get_one(emu: Emulator, params, body: Body, caller) -> Any:
    return _view(_one(emu, caller, params["app_id"], params["creds_id"]))


def update(emu: Emulator, params, body: Body, caller) -> Any:
    require_admin(caller)
    found = _one(emu, caller, params["app_id"], params.get("creds_id") or text(body, "id"))
    found["label"] = text(body, "label")
    return _view(found)


def delete(emu: Emulator, params, body: Body, caller) -> Any:
    require_admin(caller)
    emu.state["credentials"].remove(_one(emu, caller, params["app_id"], params["creds_id"]))
    return {"status": "ok"}


ROUTES = [
    Endpoint("GET", api.CREDS, list_all),
    Endpoint("POST", api.CREDS, create, status=201),
    Endpoint("PATCH", api.CREDS, update),
    Endpoint("GET", api.CRED, get_one),
    Endpoint("PATCH", api.CRED, update),
    Endpoint("DELETE", api.CRED, delete),
]
