"""The Debrief emulator's applications and their users: names unique in a team regardless of
case; application roles admin/developer, only for users on the team; team admins and owners see
every application and are not listed as its users; developers see only their applications."""

from __future__ import annotations

from typing import Any

from teamform.emulator import Emulator, Ranked

from .. import api
from .common import Body, Endpoint, Refusal, name_taken, new_id, require_admin, role_of, text, user_by_id


def app_view(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in ("id", "name", "description")}


# ---- the rows of app_users, by user, by application and by both ------------------------
def _rows(db: dict[str, Any]) -> dict[str, dict[Any, Any]]:
    out: dict[str, dict[Any, Any]] = {"user": {}, "app": {}, "pair": {}}
    for r in db["app_users"]:
        _index(out, r)
    return out


def _index(rows: dict[str, dict[Any, Any]], r: dict[str, Any]) -> None:
    rows["user"].setdefault(r["user_id"], []).append(r)
    rows["app"].setdefault(r["app_id"], []).append(r)
    rows["pair"].setdefault((r["app_id"], r["user_id"]), r)


def _ranks(db: dict[str, Any]) -> Ranked:
    return Ranked(db["app_users"])


def rows_of_user(emu: Emulator, user_id: str) -> list[dict[str, Any]]:
    """The user's rows, in their order (a copy: ``drop_rows`` may be given it)."""
    return list(emu.lookup("app_rows", _rows)["user"].get(user_id, ()))


def _rows_of_app(emu: Emulator, app_id: str) -> list[dict[str, Any]]:
    return list(emu.lookup("app_rows", _rows)["app"].get(app_id, ()))


def _add_row(emu: Emulator, row: dict[str, Any]) -> None:
    rows = emu.lookup("app_rows", _rows)
    emu.lookup("app_row_ranks", _ranks).append(emu.state["app_users"], row)
    _index(rows, row)


def drop_rows(emu: Emulator, gone: list[dict[str, Any]]) -> None:
    """Take these rows out of app_users (and the lookups)."""
    rows, ranks = emu.lookup("app_rows", _rows), emu.lookup("app_row_ranks", _ranks)
    for r in gone:
        ranks.remove(emu.state["app_users"], r)
        for key, where in ((r["user_id"], rows["user"]), (r["app_id"], rows["app"])):
            ranks.remove(where[key], r)
            if not where[key]:
                del where[key]
        if rows["pair"].get((r["app_id"], r["user_id"])) is r:
            del rows["pair"][(r["app_id"], r["user_id"])]
        ranks.discard(r)


def _visible(emu: Emulator, caller) -> list[dict[str, Any]]:
    mine = {r["app_id"] for r in rows_of_user(emu, caller["id"])}
    admin = caller["role"] in api.SEES_EVERY_APP
    return [a for a in emu.state["applications"] if a["team_id"] == caller["team_id"] and (admin or a["id"] in mine)]


def visible_app(emu: Emulator, caller, app_id: str) -> dict[str, Any]:
    """An application of the caller's team that the caller sees, or 404."""
    found = next((a for a in _visible(emu, caller) if a["id"] == app_id), None)
    if found is None:
        raise Refusal(404)
    return found


def _check_name(db: dict[str, Any], caller, name: str, but: str = "") -> None:
    team_apps = [a for a in db["applications"] if a["team_id"] == caller["team_id"]]
    if name_taken(team_apps, "name", name, but=but):
        raise Refusal(400, "name", "An application with this name already exists")


# ---- applications ---------------------------------------------------------------------
def list_apps(emu: Emulator, params, body: Body, caller) -> Any:
    return [app_view(a) for a in _visible(emu, caller)]


def create_app(emu: Emulator, params, body: Body, caller) -> Any:
    """"All apps require a name, description and icon" (the document)."""
    require_admin(caller)
    name, description, icon = text(body, "name"), text(body, "description"), text(body, "icon")
    _check_name(emu.state, caller, name)
    new = {"id": new_id(emu, "a"), "team_id": caller["team_id"], "name": name,
           "description": description, "icon": icon}
    emu.state["applications"].append(new)
    return app_view(new)


def get_app(emu: Emulator, params, body: Body, caller) -> Any:
    return app_view(visible_app(emu, caller, params["app_id"]))


def patch_app(emu: Emulator, params, body: Body, caller) -> Any:
    """Fields sent must be non-empty, as on create; the document shows the answer as a
    one-element array."""
    target = visible_app(emu, caller, params["app_id"])
    require_admin(caller)
    changes = {key: text(body, key) for key in ("name", "description", "icon") if key in body}
    if "name" in changes:
        _check_name(emu.state, caller, changes["name"], but=target["id"])
    target.update(changes)
    return [app_view(target)]


def delete_app(emu: Emulator, params, body: Body, caller) -> Any:
    db = emu.state
    target = visible_app(emu, caller, params["app_id"])
    require_admin(caller)
    db["applications"].remove(target)
    drop_rows(emu, _rows_of_app(emu, target["id"]))
    db["credentials"] = [c for c in db.get("credentials", []) if c["app_id"] != target["id"]]  # revoked
    return {"status": "ok"}


# ---- application users ----------------------------------------------------------------
def _row(emu: Emulator, app_id: str, user_id: str) -> dict[str, Any] | None:
    return emu.lookup("app_rows", _rows)["pair"].get((app_id, user_id))


def _existing_row(emu: Emulator, params, caller) -> dict[str, Any]:
    target = visible_app(emu, caller, params["app_id"])
    require_admin(caller)
    row = _row(emu, target["id"], params["user_id"])
    if row is None:
        raise Refusal(404)
    return row


def list_app_users(emu: Emulator, params, body: Body, caller) -> Any:
    target = visible_app(emu, caller, params["app_id"])
    out = []
    for r in emu.lookup("app_rows", _rows)["app"].get(target["id"], ()):
        member = user_by_id(emu, r["user_id"])
        if member is not None and member["role"] not in api.SEES_EVERY_APP:
            out.append({**{k: member[k] for k in ("id", "email", "first_name", "last_name")}, "role": r["role"]})
    return out


def add_app_user(emu: Emulator, params, body: Body, caller) -> Any:
    target = visible_app(emu, caller, params["app_id"])
    require_admin(caller)
    member = user_by_id(emu, params["user_id"])
    if member is None or member["team_id"] != caller["team_id"]:
        raise Refusal(400, "user_id", "this user is not on the team; add them to the team first")
    role = role_of(body, api.APP_ROLES)
    if _row(emu, target["id"], member["id"]) is not None:
        raise Refusal(400, "user_id", "this user is already on the application")
    _add_row(emu, {"app_id": target["id"], "user_id": member["id"], "role": role})
    return {"id": member["id"], "email": member["email"], "role": role}


def patch_app_user(emu: Emulator, params, body: Body, caller) -> Any:
    row = _existing_row(emu, params, caller)
    row["role"] = role_of(body, api.APP_ROLES)
    return {"id": row["user_id"], "role": row["role"]}


def remove_app_user(emu: Emulator, params, body: Body, caller) -> Any:
    drop_rows(emu, [_existing_row(emu, params, caller)])
    return {"status": "ok"}


ROUTES = [
    Endpoint("GET", api.APPS, list_apps),
    Endpoint("POST", api.APPS, create_app, status=201),
    Endpoint("GET", api.APP, get_app),
    Endpoint("PATCH", api.APP, patch_app),
    Endpoint("DELETE", api.APP, delete_app),
    Endpoint("GET", api.APP_USERS, list_app_users),
    Endpoint("POST", api.APP_USER, add_app_user, status=201),
    Endpoint("PATCH", api.APP_USER, patch_app_user),
    Endpoint("DELETE", api.APP_USER, remove_app_user),
]
