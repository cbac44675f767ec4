"""An emulator of the Debrief Management API (paths in api.py).

What it enforces, from the document and NOTES.md: the password grant with client credentials,
access tokens that expire (lifetime configurable, clock injectable) and refresh tokens that
rotate; the ``{"errorType", "response": {field: message}}`` error shape (400 validation, 401
authorization, 403 forbidden, 404 with an empty body); team user roles owner/admin/developer;
adding without a password is an invitation, cancelled through its token; unique team names and
application names; application roles admin/developer, only for users on the team; team admins
and owners see every application and are not listed as its users; developers see only their
applications; only admins and owners change anything; a team keeps at least one owner.
"""

from __future__ import annotations

import os
import secrets
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teamform.emulator import Emulator

from . import api
from .emulator_handlers import Handlers, Refusal

LIFETIME_ENV = "DEBRIEF_SANDBOX_TOKEN_LIFETIME"   # seconds an access token lives (default 3600)
STEP_ENV = "DEBRIEF_SANDBOX_SECONDS_PER_REQUEST"  # simulated seconds each request takes (default 0)


def user(uid: str, email: str, first: str, last: str, role: str = "developer", *, status: str = api.ACTIVE,
         team_id: str = "team-1", password: str | None = None) -> dict[str, Any]:
    return {"id": uid, "team_id": team_id, "email": email, "first_name": first, "last_name": last,
            "role": role, "status": status, "password": password,
            "invite_token": f"invite-{uid}" if status == api.INVITED else None}


def app(aid: str, name: str, description: str = "", team_id: str = "team-1") -> dict[str, Any]:
    return {"id": aid, "team_id": team_id, "name": name, "description": description, "icon": None}


class DebriefEmulator(Handlers, Emulator):
    secret_path = api.SECRET_PATH
    sandbox_credentials = {"username": "ops@example.com", "password": "sandbox-password",
                           "client_id": "sandbox-client", "client_secret": "sandbox-secret"}

    def __init__(self, state: dict[str, Any] | None = None, *, token_lifetime: float | None = None,
                 clock: Callable[[], float] | None = None, **kwargs: Any) -> None:
        super().__init__(state, **kwargs)
        if token_lifetime is None:
            token_lifetime = float(os.environ.get(LIFETIME_ENV) or 3600)
        self.token_lifetime = token_lifetime
        if clock is not None:
            self.clock = clock
        self.step = float(os.environ.get(STEP_ENV) or 0)  # so a sandbox apply can outlive a token
        self._elapsed = 0.0
        if self.step:
            real = self.clock
            self.clock = lambda: real() + self._elapsed
        self.tokens: dict[str, tuple[str, float]] = {}   # access token -> (user id, expires at)
        self.refresh_tokens: dict[str, str] = {}         # refresh token -> user id

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_emulator/"):
            self._elapsed += self.step
        await super().__call__(scope, receive, send)

    def seed(self) -> dict[str, Any]:
        """Drift from teams.example.yaml: Bob's email has other case; Carol is not on the team;
        Dave's invitation is pending with a misspelt last name and he is a developer on Support
        Bot (admin in the file); Mallory has left and is still on two applications; Support Bot's
        description is stale; Status Page does not exist; Legacy Dashboard is no longer wanted."""
        ops = self.sandbox_credentials
        users = [
            user("u1", ops["username"], "Teamform", "Ops", "owner", password=ops["password"]),
            user("u2", "alice@example.com", "Alice", "Doe", "admin"),
            user("u3", "Bob@Example.com", "Bob", "Roe"),
            user("u4", "dave@example.com", "Dave", "Low", status=api.INVITED),
            user("u5", "mallory@example.com", "Mallory", "Stone"),
        ]
        apps = [app("a1", "Support Bot", "Answers chats"), app("a2", "Legacy Dashboard", "Old reports")]
        rows = [{"app_id": "a1", "user_id": "u3", "role": "developer"},
                {"app_id": "a1", "user_id": "u4", "role": "developer"},
                {"app_id": "a1", "user_id": "u5", "role": "developer"},
                {"app_id": "a2", "user_id": "u5", "role": "admin"}]
        return {"teams": [{"id": "team-1", "team_name": "Example Co", "email": ops["username"]}],
                "users": users, "applications": apps, "app_users": rows, "next_id": 100,
                "clients": [{"client_id": ops["client_id"], "client_secret": ops["client_secret"]}]}

    # ---- the error shape ----------------------------------------------------------------
    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        return self._error(Refusal(status, "message", message), retry_after)

    @staticmethod
    def _error(exc: Refusal, retry_after: float | None = None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        if exc.status == 404:
            return Response(status_code=404, headers=headers)
        body = {"errorType": api.ERROR_TYPES.get(exc.status, "server"), "response": {exc.field: exc.message}}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    def routes(self) -> list[Route]:
        def endpoint(handler, *, auth: bool = True, status: int = 200):
            async def run(request: Request) -> Response:
                try:
                    caller = self._caller(request) if auth else None
                    body = await _json(request)
                    result = handler(request.path_params, body, caller)
                    return JSONResponse(result, status_code=status)
                except Refusal as exc:
                    return self._error(exc)
            return run

        r = Route
        return [
            r(api.LOGIN, endpoint(self.login, auth=False), methods=["POST"]),
            r(api.REFRESH, endpoint(self.refresh, auth=False), methods=["POST"]),
            r(api.LOGOUT, endpoint(self.logout), methods=["POST"]),
            r(api.TEAMS, endpoint(self.create_team, auth=False, status=201), methods=["POST"]),
            r(api.TEAM_EXISTS, endpoint(self.team_exists, auth=False), methods=["POST"]),
            r(api.TEAM, endpoint(self.get_team), methods=["GET"]),
            r(api.TEAM, endpoint(self.patch_team), methods=["PATCH"]),
            r(api.TEAM_ADD, endpoint(self.team_add, status=201), methods=["POST"]),
            r(api.TEAM_USER, endpoint(self.team_remove), methods=["DELETE"]),
            r(api.INVITE_ACCEPT, endpoint(self.invite_accept, auth=False), methods=["POST"]),
            r(api.INVITE_CANCEL, endpoint(self.invite_cancel), methods=["POST"]),
            r(api.USER_EXISTS, endpoint(self.user_exists, auth=False), methods=["POST"]),
            r(api.USERS, endpoint(self.list_users), methods=["GET"]),
            r(api.ME, endpoint(self.me), methods=["GET"]),
            r(api.USER, endpoint(self.patch_user), methods=["PATCH"]),
            r(api.USER_APPS, endpoint(self.user_apps), methods=["GET"]),
            r(api.APPS, endpoint(self.list_apps), methods=["GET"]),
            r(api.APPS, endpoint(self.create_app, status=201), methods=["POST"]),
            r(api.APP, endpoint(self.get_app), methods=["GET"]),
            r(api.APP, endpoint(self.patch_app), methods=["PATCH"]),
            r(api.APP, endpoint(self.delete_app), methods=["DELETE"]),
            r(api.APP_USERS, endpoint(self.list_app_users), methods=["GET"]),
            r(api.APP_USER, endpoint(self.add_app_user, status=201), methods=["POST"]),
            r(api.APP_USER, endpoint(self.patch_app_user), methods=["PATCH"]),
            r(api.APP_USER, endpoint(self.remove_app_user), methods=["DELETE"]),
        ]

    # ---- tokens -------------------------------------------------------------------------
    def _issue(self, user_id: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.tokens[access] = (user_id, self.clock() + self.token_lifetime)
        self.refresh_tokens[refresh] = user_id
        return {"expires_in": f"{self.token_lifetime:g}", "refresh_token": refresh, "access_token": access,
                "token_type": "Bearer"}

    def _client(self, body: dict[str, Any]) -> None:
        pair = {"client_id": body.get("client_id"), "client_secret": body.get("client_secret")}
        if pair not in self.state["clients"]:
            raise Refusal(401, "client", "invalid client credentials")

    def _caller(self, request: Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refusal(401, "token", "a bearer token is required")
        user_id, expires = self.tokens.get(token, ("", 0.0))
        if not user_id:
            raise Refusal(401, "token", "invalid token")
        if self.clock() >= expires:
            raise Refusal(401, "token", "the access token has expired")
        found = self._user(user_id)
        if found is None or found["status"] != api.ACTIVE:
            raise Refusal(401, "token", "this user can no longer log in")
        return found

    def login(self, params, body: dict[str, Any], caller) -> Any:
        if body.get("grant_type") != "password":
            raise Refusal(400, "grant_type", "grant_type must be password")
        self._client(body)
        email = str(body.get("username", "")).lower()
        found = next((u for u in self.state["users"] if u["email"].lower() == email), None)
        if found is None or found["status"] != api.ACTIVE or found["password"] != body.get("password"):
            raise Refusal(401, "username", "invalid username or password")
        return self._issue(found["id"])

    def refresh(self, params, body: dict[str, Any], caller) -> Any:
        self._client(body)
        user_id = self.refresh_tokens.pop(str(body.get("refresh_token")), None)
        if user_id is None:
            raise Refusal(401, "refresh_token", "invalid refresh token")
        return self._issue(user_id)

    def logout(self, params, body, caller) -> Any:
        for token in [t for t, (uid, _) in self.tokens.items() if uid == caller["id"]]:
            self.tokens.pop(token)
        return {"status": "ok"}

    # ---- lookups ------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self.next_id()}"

    def _user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.state["users"] if u["id"] == user_id), None)

    def _team_user(self, caller: dict[str, Any], user_id: str) -> dict[str, Any]:
        found = self._user(user_id)
        if found is None or found["team_id"] != caller["team_id"]:
            raise Refusal(404)
        return found

    @staticmethod
    def _admin(caller: dict[str, Any]) -> None:
        if caller["role"] not in api.SEES_EVERY_APP:
            raise Refusal(403, "role", "only team admins and owners may do this")

    def _own_team(self, caller: dict[str, Any], team_id: str) -> dict[str, Any]:
        team = next((t for t in self.state["teams"] if t["id"] == team_id), None)
        if team is None or team_id != caller["team_id"]:
            raise Refusal(404)
        return team

    def _email_taken(self, email: str) -> bool:
        return any(u["email"].lower() == email.lower() for u in self.state["users"])

    def _name_taken(self, items: list[dict[str, Any]], key: str, name: str, but: str = "") -> bool:
        return any(i[key].strip().lower() == name.strip().lower() and i["id"] != but for i in items)

    def _owners_left(self, team_id: str, without: str) -> int:
        return sum(1 for u in self.state["users"]
                   if u["team_id"] == team_id and u["role"] == "owner" and u["id"] != without)

    @staticmethod
    def view(u: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
        out = {k: u[k] for k in ("id", "email", "first_name", "last_name", "role", "status")}
        if admin and u["status"] == api.INVITED:
            out["invite_token"] = u["invite_token"]
        return out


async def _json(request: Request) -> dict[str, Any]:
    if request.method in ("GET", "DELETE") or not await request.body():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise Refusal(400, "body", "the body must be JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, "body", "the body must be a JSON object")
    return data
