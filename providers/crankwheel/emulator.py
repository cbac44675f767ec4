"""An emulator of CrankWheel's company-user API (see api.py for the paths and their sources).

Rules it enforces: ``Authorization: Basic <api_key>`` (the raw key) with read-only and
read/write keys, where a read-only key cannot write; form-encoded writes under
``user_access[...]``; privilege one of user/admin/owner/reporting; ``in_demo_pool`` true/false
(``null`` is stored as-is and reads as false); an email is listed once (case-insensitively); the
create answers 201; a company keeps at least one owner (the billing contact), so the last owner
can be neither demoted nor removed. The usage endpoints answer from a small fixed history.
Errors are ``{"error": ...}`` (401/403/404/400) and Rails-style ``{"errors": {field: [...]}}``
with 422: the document gives no error shape, so this is our choice (README.md).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teamform.emulator import MUTATING, Emulator, form_or_json

from . import api

PREFIX = "/ss/api"  # the path part of api.DEFAULT_BASE_URL
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Refusal(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        self.status, self.message, self.field = status, message, field


def user(email: str, privilege: str = "user", in_demo_pool: bool | None = False) -> dict[str, Any]:
    return {"email": email, "privilege": privilege, "in_demo_pool": in_demo_pool}


def session(agent: str, start: int, seconds: int) -> dict[str, Any]:
    return {"start_ts": start, "end_ts": start + seconds, "agent": agent, "duration": seconds,
            "shared": [{"at": start, "what": "screen"}], "viewers": {"count": 1, "locations": ["IS"]}}


class CrankWheelEmulator(Emulator):
    sandbox_credentials = {"api_key": "sandbox-key"}

    def seed(self) -> dict[str, Any]:
        """Live drift from teams.example.yaml: Alice (the owner) is spelled with other case, Bob
        is a plain user the file makes admin, Carol's in_demo_pool is null (the file says false:
        no change), Dave is in the demo pool the file takes him out of, Mallory has left, and Erin
        is not listed yet."""
        return {
            "keys": {"sandbox-key": api.READ_WRITE, "sandbox-readonly-key": api.READ_ONLY},
            "users": [
                user("Alice@Example.com", "owner", True),
                user("bob@example.com", "user", False),
                user("carol@example.com", "user", None),
                user("dave@example.com", "reporting", True),
                user("mallory@example.com", "admin", False),
            ],
            "onboarding_emails": [],
            "sessions": [session("alice@example.com", 1767603600, 1800),
                         session("bob@example.com", 1767607200, 600),
                         session("alice@example.com", 1767610800, 300)],
            "demo_sessions": [],
        }

    # ---- envelope -----------------------------------------------------------------------
    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def refuse(self, exc: Refusal) -> Response:
        if exc.status == 422:
            return JSONResponse({"errors": {exc.field or "base": [exc.message]}}, status_code=422)
        return self.error_response(exc.status, exc.message)

    def _auth(self, request: Request) -> None:
        header = request.headers.get("authorization")
        if not header:
            raise Refusal(401, "missing Authorization header")
        scheme, _, key = header.partition(" ")
        access = self.state["keys"].get(key.strip()) if scheme == api.AUTH_SCHEME else None
        if access is None:
            raise Refusal(401, "invalid API key")
        if request.method in MUTATING and access != api.READ_WRITE:
            raise Refusal(403, "this API key is read-only")

    def routes(self) -> list[Route]:
        def endpoint(handler, status: int = 200):
            async def run(request: Request) -> Response:
                try:
                    self._auth(request)
                    body = await handler(request)
                except Refusal as exc:
                    return self.refuse(exc)
                return Response(status_code=204) if status == 204 else JSONResponse(body, status_code=status)
            return run

        table = [(api.USERS, self.list_users, "GET", 200), (api.USERS, self.create_user, "POST", 201),
                 (api.USER, self.get_user, "GET", 200), (api.USER, self.update_user, "PATCH", 200),
                 (api.USER, self.delete_user, "DELETE", 204), (api.USAGE, self.usage, "GET", 200),
                 (api.DEMO_USAGE, self.demo_usage, "GET", 200)]
        # under the documented /ss/api, and at the root for `sandbox serve` (base_url: http://127.0.0.1:PORT)
        return [Route(prefix + path, endpoint(handler, status), methods=[method])
                for prefix in (PREFIX, "") for path, handler, method, status in table]

    # ---- helpers ------------------------------------------------------------------------
    @property
    def users(self) -> list[dict[str, Any]]:
        return self.state["users"]

    def find(self, email: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["email"].lower() == email.strip().lower()), None)

    def _target(self, request: Request) -> dict[str, Any]:
        found = self.find(request.path_params["email"])
        if found is None:
            raise Refusal(404, "user not found")
        return found

    def _owners(self) -> list[dict[str, Any]]:
        return [u for u in self.users if u["privilege"] == api.OWNER]

    @staticmethod
    async def _fields(request: Request) -> dict[str, Any]:
        """The ``user_access[...]`` fields of a form body (or a JSON ``user_access`` object)."""
        body = await form_or_json(request)
        nested = body.get(api.FORM_ROOT)
        out = dict(nested) if isinstance(nested, dict) else {}
        for key, value in body.items():
            if key.startswith(api.FORM_ROOT + "[") and key.endswith("]"):
                out[key[len(api.FORM_ROOT) + 1:-1]] = value
        return out

    @staticmethod
    def _privilege(value: Any) -> str:
        if value not in api.PRIVILEGES:
            raise Refusal(422, f"must be one of {', '.join(sorted(api.PRIVILEGES))}", "privilege")
        return value

    @staticmethod
    def _bool(value: Any, name: str) -> bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in api.TRUE_WORDS or word in api.FALSE_WORDS:
            return word in api.TRUE_WORDS
        raise Refusal(422, "must be true or false", name)

    def _keeps_owner(self, target: dict[str, Any]) -> None:
        if target["privilege"] == api.OWNER and len(self._owners()) == 1:
            raise Refusal(422, "the company must keep an owner (the billing contact); "
                               "make someone else owner first", "privilege")

    # ---- handlers -----------------------------------------------------------------------
    async def list_users(self, request: Request) -> Any:
        return [dict(u) for u in self.users]

    async def get_user(self, request: Request) -> Any:
        return dict(self._target(request))

    async def create_user(self, request: Request) -> Any:
        fields = await self._fields(request)
        email = str(fields.get("email", "")).strip()
        if not re.match(EMAIL_SHAPE, email):
            raise Refusal(422, "is not a valid email address", "email")
        if self.find(email) is not None:
            raise Refusal(422, "has already been taken", "email")
        created = user(email, self._privilege(fields.get("privilege", "user")),
                       self._bool(fields.get("in_demo_pool", False), "in_demo_pool"))
        if self._bool(fields.get("send_onboarding_email", False), "send_onboarding_email"):
            self.state["onboarding_emails"].append(email)
        self.users.append(created)
        return dict(created)

    async def update_user(self, request: Request) -> Any:
        target = self._target(request)
        fields = await self._fields(request)
        unknown = sorted(set(fields) - set(api.UPDATE_FIELDS))
        if unknown:
            raise Refusal(422, f"cannot be changed (only {', '.join(api.UPDATE_FIELDS)})", unknown[0])
        changes: dict[str, Any] = {}
        if "privilege" in fields:
            changes["privilege"] = self._privilege(fields["privilege"])
            if changes["privilege"] != api.OWNER:
                self._keeps_owner(target)
        if "in_demo_pool" in fields:
            changes["in_demo_pool"] = self._bool(fields["in_demo_pool"], "in_demo_pool")
        target.update(changes)
        return dict(target)

    async def delete_user(self, request: Request) -> Any:
        target = self._target(request)
        self._keeps_owner(target)
        self.users.remove(target)
        return None

    # ---- usage (not state) ----------------------------------------------------------------
    @staticmethod
    def _window(request: Request) -> tuple[int, int]:
        try:
            return int(request.query_params["from"]), int(request.query_params["to"])
        except (KeyError, ValueError):
            raise Refusal(400, "from= and to= must be timestamps (seconds since the epoch)") from None

    async def usage(self, request: Request) -> Any:
        start, end = self._window(request)
        sessions = [s for s in self.state["sessions"] if start <= s["start_ts"] < end]
        per_agent: dict[str, dict[str, int]] = {}
        for s in sessions:
            agent = per_agent.setdefault(s["agent"], {"meetings": 0, "seconds": 0})
            agent["meetings"] += 1
            agent["seconds"] += s["duration"]
        stats = {"meetings": len(sessions), "seconds": sum(s["duration"] for s in sessions),
                 "per_agent": per_agent}
        return {"stats": stats, "sessions": sessions}

    async def demo_usage(self, request: Request) -> Any:
        start, end = self._window(request)
        sessions = [s for s in self.state["demo_sessions"] if start <= s["start_ts"] < end]
        return {"total_canceled_requests": 0, "sessions": sessions}
