"""The Debrief emulator's request handlers (teams, users, invitations, applications and their
users), kept beside ``emulator.py`` so both files stay small. Handlers taking ``caller`` run
after the bearer token was checked; they return JSON-able data or raise ``Refusal``."""

from __future__ import annotations

from typing import Any

from . import api

Body = dict[str, Any]


class Refusal(Exception):
    """The service says no: ``{"errorType": ..., "response": {field: message}}`` (404: no body)."""

    def __init__(self, status: int, field: str = "", message: str = "") -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


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


class Handlers:
    state: dict[str, Any]

    # ---- teams --------------------------------------------------------------------------
    def create_team(self, params, body: Body, caller) -> Any:
        name = text(body, "team_name")
        email, password = text(body, "email"), text(body, "password")
        if self._name_taken(self.state["teams"], "team_name", name):
            raise Refusal(400, "team_name", "Team with this name already exist. Please choose a different name")
        if self._email_taken(email):
            raise Refusal(400, "email", "a user with this email already exists")
        team = {"id": self._new_id("team-"), "team_name": name, "email": email}
        self.state["teams"].append(team)
        self.state["users"].append(self._new_user(team["id"], body, "owner", password))
        return {"id": team["id"], "team_name": name}

    def team_exists(self, params, body: Body, caller) -> Any:
        name = text(body, "team")
        return {"exists": self._name_taken(self.state["teams"], "team_name", name)}

    def get_team(self, params, body: Body, caller) -> Any:
        return dict(self._own_team(caller, params["team_id"]))

    def patch_team(self, params, body: Body, caller) -> Any:
        team = self._own_team(caller, params["team_id"])
        self._admin(caller)
        name = text(body, "name", required=False)
        if name is not None:
            if self._name_taken(self.state["teams"], "team_name", name, but=team["id"]):
                raise Refusal(400, "team_name", "Team with this name already exist. Please choose a different name")
            team["team_name"] = name
        return dict(team)

    def _new_user(self, team_id: str, body: Body, role: str, password: str | None) -> dict[str, Any]:
        uid = self._new_id("u")
        return {"id": uid, "team_id": team_id, "email": text(body, "email"),
                "first_name": text(body, "first_name", required=False) or "",
                "last_name": text(body, "last_name", required=False) or "", "role": role,
                "status": api.ACTIVE if password else api.INVITED, "password": password,
                "invite_token": None if password else f"invite-{uid}-{self.next_id()}"}

    def team_add(self, params, body: Body, caller) -> Any:
        team = self._own_team(caller, params["team_id"])
        self._admin(caller)
        email, role = text(body, "email"), role_of(body, api.ROLES)
        if "@" not in email:
            raise Refusal(400, "email", f"'{email}' is not an email address")
        if self._email_taken(email):
            raise Refusal(400, "email", "a user with this email already exists")
        password = text(body, "password", required=False)
        new = self._new_user(team["id"], body, role, password)
        self.state["users"].append(new)
        return self.view(new, admin=True)

    def _drop_user(self, target: dict[str, Any]) -> None:
        if target["role"] == "owner" and not self._owners_left(target["team_id"], target["id"]):
            raise Refusal(400, "role", "a team must keep at least one owner")
        self.state["users"].remove(target)
        self.state["app_users"] = [r for r in self.state["app_users"] if r["user_id"] != target["id"]]

    def team_remove(self, params, body: Body, caller) -> Any:
        self._own_team(caller, params["team_id"])
        self._admin(caller)
        self._drop_user(self._team_user(caller, params["user_id"]))
        return {"status": "ok"}

    # ---- users and invitations ----------------------------------------------------------
    def _invited(self, token: str) -> dict[str, Any]:
        found = next((u for u in self.state["users"] if u["invite_token"] == token and token), None)
        if found is None or found["status"] != api.INVITED:
            raise Refusal(404)
        return found

    def invite_accept(self, params, body: Body, caller) -> Any:
        target = self._invited(params["token"])
        target.update(password=text(body, "password"), status=api.ACTIVE, invite_token=None)
        return self.view(target)

    def invite_cancel(self, params, body: Body, caller) -> Any:
        self._admin(caller)
        target = self._invited(params["token"])
        if target["team_id"] != caller["team_id"]:
            raise Refusal(404)
        self._drop_user(target)
        return {"status": "ok"}

    def user_exists(self, params, body: Body, caller) -> Any:
        return {"exists": self._email_taken(text(body, "email"))}

    def list_users(self, params, body: Body, caller) -> Any:
        admin = caller["role"] in api.SEES_EVERY_APP
        return [self.view(u, admin=admin) for u in self.state["users"] if u["team_id"] == caller["team_id"]]

    def me(self, params, body: Body, caller) -> Any:
        return {**self.view(caller), "team_id": caller["team_id"]}

    def patch_user(self, params, body: Body, caller) -> Any:
        target = self._team_user(caller, params["user_id"])
        if target["id"] != caller["id"] or "role" in body:
            self._admin(caller)
        for key in ("first_name", "last_name"):
            if key in body:
                target[key] = text(body, key, required=False) or ""
        if "role" in body:
            role = role_of(body, api.ROLES)
            if target["role"] == "owner" and role != "owner" and not self._owners_left(target["team_id"], target["id"]):
                raise Refusal(400, "role", "a team must keep at least one owner")
            target["role"] = role
        return self.view(target, admin=True)

    def user_apps(self, params, body: Body, caller) -> Any:
        target = self._team_user(caller, params["user_id"])
        ids = {r["app_id"] for r in self.state["app_users"] if r["user_id"] == target["id"]}
        return [self._app_view(a) for a in self.state["applications"] if a["id"] in ids]

    # ---- applications -------------------------------------------------------------------
    @staticmethod
    def _app_view(a: dict[str, Any]) -> dict[str, Any]:
        return {k: a[k] for k in ("id", "name", "description")}

    def _visible_apps(self, caller) -> list[dict[str, Any]]:
        mine = {r["app_id"] for r in self.state["app_users"] if r["user_id"] == caller["id"]}
        admin = caller["role"] in api.SEES_EVERY_APP
        return [a for a in self.state["applications"]
                if a["team_id"] == caller["team_id"] and (admin or a["id"] in mine)]

    def _app(self, caller, app_id: str) -> dict[str, Any]:
        found = next((a for a in self._visible_apps(caller) if a["id"] == app_id), None)
        if found is None:
            raise Refusal(404)
        return found

    def _check_app_name(self, caller, name: str, but: str = "") -> None:
        team_apps = [a for a in self.state["applications"] if a["team_id"] == caller["team_id"]]
        if self._name_taken(team_apps, "name", name, but=but):
            raise Refusal(400, "name", "An application with this name already exists")

    def list_apps(self, params, body: Body, caller) -> Any:
        return [self._app_view(a) for a in self._visible_apps(caller)]

    def create_app(self, params, body: Body, caller) -> Any:
        self._admin(caller)
        name = text(body, "name")
        description = text(body, "description", required=False) or ""
        self._check_app_name(caller, name)
        new = {"id": self._new_id("a"), "team_id": caller["team_id"], "name": name,
               "description": description, "icon": text(body, "icon", required=False)}
        self.state["applications"].append(new)
        return self._app_view(new)

    def get_app(self, params, body: Body, caller) -> Any:
        return self._app_view(self._app(caller, params["app_id"]))

    def patch_app(self, params, body: Body, caller) -> Any:
        target = self._app(caller, params["app_id"])
        self._admin(caller)
        if "name" in body:
            self._check_app_name(caller, text(body, "name"), but=target["id"])
            target["name"] = body["name"]
        if "description" in body:
            target["description"] = text(body, "description", required=False) or ""
        return self._app_view(target)

    def delete_app(self, params, body: Body, caller) -> Any:
        target = self._app(caller, params["app_id"])
        self._admin(caller)
        self.state["applications"].remove(target)
        self.state["app_users"] = [r for r in self.state["app_users"] if r["app_id"] != target["id"]]
        return {"status": "ok"}

    # ---- application users --------------------------------------------------------------
    def _row(self, app_id: str, user_id: str) -> dict[str, Any] | None:
        return next((r for r in self.state["app_users"] if r["app_id"] == app_id and r["user_id"] == user_id), None)

    def list_app_users(self, params, body: Body, caller) -> Any:
        target = self._app(caller, params["app_id"])
        out = []
        for r in self.state["app_users"]:
            member = self._user(r["user_id"]) if r["app_id"] == target["id"] else None
            if member is not None and member["role"] not in api.SEES_EVERY_APP:
                out.append({**{k: member[k] for k in ("id", "email", "first_name", "last_name")},
                            "role": r["role"]})
        return out

    def add_app_user(self, params, body: Body, caller) -> Any:
        target = self._app(caller, params["app_id"])
        self._admin(caller)
        member = self._user(params["user_id"])
        if member is None or member["team_id"] != caller["team_id"]:
            raise Refusal(400, "user_id", "this user is not on the team; add them to the team first")
        role = role_of(body, api.APP_ROLES)
        if self._row(target["id"], member["id"]) is not None:
            raise Refusal(400, "user_id", "this user is already on the application")
        self.state["app_users"].append({"app_id": target["id"], "user_id": member["id"], "role": role})
        return {"id": member["id"], "email": member["email"], "role": role}

    def _existing_row(self, params, caller) -> dict[str, Any]:
        target = self._app(caller, params["app_id"])
        self._admin(caller)
        row = self._row(target["id"], params["user_id"])
        if row is None:
            raise Refusal(404)
        return row

    def patch_app_user(self, params, body: Body, caller) -> Any:
        row = self._existing_row(params, caller)
        row["role"] = role_of(body, api.APP_ROLES)
        return {"id": row["user_id"], "role": row["role"]}

    def remove_app_user(self, params, body: Body, caller) -> Any:
        self.state["app_users"].remove(self._existing_row(params, caller))
        return {"status": "ok"}
