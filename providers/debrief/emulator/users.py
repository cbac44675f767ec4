"""The Debrief emulator's teams, team users and invitations: adding without a password is an
invitation, cancelled through its token; team names and emails are unique; only admins and
owners change anyone but themselves; a team keeps at least one owner."""

from __future__ import annotations

from typing import Any

from teamform.emulator import Emulator

from .. import api
from .applications import app_view
from .applications import drop_rows, rows_of_user
from .common import (Body, Endpoint, Refusal, add_user, drop_user, name_taken, new_id, owners_left, require_admin,
                     role_of, set_user, team_user, text, user_by_email, user_by_token, user_view)

ONE_OWNER = "a team must keep at least one owner"
TEAM_NAME_TAKEN = "Team with this name already exist. Please choose a different name"


def _own_team(db: dict[str, Any], caller: dict[str, Any], team_id: str) -> dict[str, Any]:
    team = next((t for t in db["teams"] if t["id"] == team_id), None)
    if team is None or team_id != caller["team_id"]:
        raise Refusal(404)
    return team


def _email_taken(emu: Emulator, email: str) -> bool:
    return user_by_email(emu, email) is not None


def _new_user(emu: Emulator, team_id: str, body: Body, role: str, password: str | None) -> dict[str, Any]:
    uid = new_id(emu, "u")
    return {"id": uid, "team_id": team_id, "email": text(body, "email"),
            "first_name": text(body, "first_name", required=False) or "",
            "last_name": text(body, "last_name", required=False) or "", "role": role,
            "status": api.ACTIVE if password else api.INVITED, "password": password,
            "invite_token": None if password else f"invite-{uid}-{emu.next_id()}"}


def _drop_user(emu: Emulator, target: dict[str, Any]) -> None:
    if target["role"] == "owner" and not owners_left(emu, target["team_id"], target["id"]):
        raise Refusal(400, "role", ONE_OWNER)
    drop_user(emu, target)
    drop_rows(emu, rows_of_user(emu, target["id"]))


# ---- teams ----------------------------------------------------------------------------
def create_team(emu: Emulator, params, body: Body, caller) -> Any:
    db = emu.state
    name = text(body, "team_name")
    email, password = text(body, "email"), text(body, "password")
    if name_taken(db["teams"], "team_name", name):
        raise Refusal(400, "team_name", TEAM_NAME_TAKEN)
    if _email_taken(emu, email):
        raise Refusal(400, "email", "a user with this email already exists")
    team = {"id": new_id(emu, "team-"), "team_name": name, "email": email}
    db["teams"].append(team)
    add_user(emu, _new_user(emu, team["id"], body, "owner", password))
    return {"id": team["id"], "team_name": name}


def team_exists(emu: Emulator, params, body: Body, caller) -> Any:
    return {"exists": name_taken(emu.state["teams"], "team_name", text(body, "team"))}


def _team_view(team: dict[str, Any]) -> dict[str, Any]:
    return {k: team[k] for k in ("id", "team_name", "email")}


def current_team(emu: Emulator, params, body: Body, caller) -> Any:
    """``GET /team``: "the current team" (the heading; the example URL has an id)."""
    return _team_view(_own_team(emu.state, caller, caller["team_id"]))


def get_team(emu: Emulator, params, body: Body, caller) -> Any:
    return _team_view(_own_team(emu.state, caller, params["team_id"]))


def patch_team(emu: Emulator, params, body: Body, caller) -> Any:
    """Only the name changes; the document's example also sends the read-only email (and a
    password): they are ignored, not refused."""
    team = _own_team(emu.state, caller, params["team_id"])
    require_admin(caller)
    name = text(body, "name", required=False)
    if name is not None:
        if name_taken(emu.state["teams"], "team_name", name, but=team["id"]):
            raise Refusal(400, "team_name", TEAM_NAME_TAKEN)
        team["team_name"] = name
    return _team_view(team)


def team_add(emu: Emulator, params, body: Body, caller) -> Any:
    team = _own_team(emu.state, caller, params["team_id"])
    require_admin(caller)
    email, role = text(body, "email"), role_of(body, api.ROLES)
    if "@" not in email:
        raise Refusal(400, "email", f"'{email}' is not an email address")
    if _email_taken(emu, email):
        raise Refusal(400, "email", "a user with this email already exists")
    new = _new_user(emu, team["id"], body, role, text(body, "password", required=False))
    add_user(emu, new)
    return user_view(new, admin=True)


def team_remove(emu: Emulator, params, body: Body, caller) -> Any:
    _own_team(emu.state, caller, params["team_id"])
    require_admin(caller)
    _drop_user(emu, team_user(emu, caller, params["user_id"]))
    return {"status": "ok"}


# ---- users and invitations ------------------------------------------------------------
def _invited(emu: Emulator, token: str) -> dict[str, Any]:
    found = user_by_token(emu, token)
    if found is None or found["status"] != api.INVITED:
        raise Refusal(404)
    return found


def invite_accept(emu: Emulator, params, body: Body, caller) -> Any:
    target = _invited(emu, params["token"])
    set_user(emu, target, password=text(body, "password"), status=api.ACTIVE, invite_token=None)
    return user_view(target)


def invite_cancel(emu: Emulator, params, body: Body, caller) -> Any:
    require_admin(caller)
    target = _invited(emu, params["token"])
    if target["team_id"] != caller["team_id"]:
        raise Refusal(404)
    _drop_user(emu, target)
    return {"status": "ok"}


def resend_email(emu: Emulator, params, body: Body, caller) -> Any:
    """Re-sends a pending user their invitation (no token needed, like /user-exists)."""
    found = user_by_email(emu, text(body, "email"))
    if found is None:
        raise Refusal(404)
    if found["status"] != api.INVITED:
        raise Refusal(400, "email", "this user has already accepted their invitation")
    return {"status": "ok"}


def user_exists(emu: Emulator, params, body: Body, caller) -> Any:
    return {"exists": _email_taken(emu, text(body, "email"))}


def list_users(emu: Emulator, params, body: Body, caller) -> Any:
    admin = caller["role"] in api.SEES_EVERY_APP
    return [user_view(u, admin=admin) for u in emu.state["users"] if u["team_id"] == caller["team_id"]]


def me(emu: Emulator, params, body: Body, caller) -> Any:
    return {**user_view(caller), "team_id": caller["team_id"]}


def patch_user(emu: Emulator, params, body: Body, caller) -> Any:
    target = team_user(emu, caller, params["user_id"])
    if target["id"] != caller["id"] or "role" in body:
        require_admin(caller)
    for key in ("first_name", "last_name", "avatar", "bio"):
        if key in body:
            target[key] = text(body, key, required=False) or ""
    if "password" in body:
        if target["id"] != caller["id"]:
            raise Refusal(403, "password", "only the user may change their password")
        target["password"] = text(body, "password")
    if "role" in body:
        role = role_of(body, api.ROLES)
        if target["role"] == "owner" and role != "owner" and not owners_left(emu, target["team_id"], target["id"]):
            raise Refusal(400, "role", ONE_OWNER)
        set_user(emu, target, role=role)
    return user_view(target, admin=True)


def user_apps(emu: Emulator, params, body: Body, caller) -> Any:
    target = team_user(emu, caller, params["user_id"])
    ids = {r["app_id"] for r in rows_of_user(emu, target["id"])}
    return [app_view(a) for a in emu.state["applications"] if a["id"] in ids]


ROUTES = [
    Endpoint("POST", api.TEAMS, create_team, auth=False, status=201),
    Endpoint("GET", api.TEAMS, current_team),
    Endpoint("POST", api.TEAM_EXISTS, team_exists, auth=False),
    Endpoint("GET", api.TEAM, get_team),
    Endpoint("PATCH", api.TEAM, patch_team),
    Endpoint("POST", api.TEAM_ADD, team_add, status=201),
    Endpoint("DELETE", api.TEAM_USER, team_remove),
    Endpoint("POST", api.INVITE_ACCEPT, invite_accept, auth=False),
    Endpoint("POST", api.INVITE_CANCEL, invite_cancel),
    Endpoint("POST", api.RESEND_EMAIL, resend_email, auth=False),
    Endpoint("POST", api.USER_EXISTS, user_exists, auth=False),
    Endpoint("GET", api.USERS, list_users),
    Endpoint("GET", api.ME, me),
    Endpoint("PATCH", api.USER, patch_user),
    Endpoint("GET", api.USER_APPS, user_apps),
]
