"""An emulator of the Debrief Management API (paths in api.py).

What it enforces, from the document and NOTES.md: the password grant with client credentials,
access tokens that expire (lifetime configurable, clock injectable) and refresh tokens that
rotate (``tokens.py``); the ``{"errorType", "response": {field: message}}`` error shape (400
validation, 401 authorization, 403 forbidden, 404 with an empty body; ``common.py``); team user
roles, invitations, unique team names and a team that keeps an owner (``users.py``); name,
description and icon required to create an application, unique application names, application
roles only for team users, admins and owners on every application unlisted, developers limited to
theirs (``applications.py``); credentials in a sandbox or production environment, revoked with
their application (``credentials.py``); password reset and client credentials (``account.py``).
Lists are bare arrays and never paged. Anything else answers 404 with an empty body; dashboard,
billing and monitoring are not emulated. Where the document is silent the choices are the
provider README's. The sandbox's state is ``seed.py``.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teamform.emulator import Emulator, JSONResponse

from .. import api
from . import account, applications, credentials, seed, tokens, users
from .common import Endpoint, Refusal, read_json, refusal_response
from .seed import app, user

__all__ = ["DebriefEmulator", "Refusal", "app", "user", "LIFETIME_ENV", "STEP_ENV"]

LIFETIME_ENV = "DEBRIEF_SANDBOX_TOKEN_LIFETIME"   # seconds an access token lives (default 3600)
STEP_ENV = "DEBRIEF_SANDBOX_SECONDS_PER_REQUEST"  # simulated seconds each request takes (default 0)

#: in the order Starlette tries them (GET /user/me before PATCH /user/{user_id})
ENDPOINTS: tuple[Endpoint, ...] = (*tokens.ROUTES, *account.ROUTES, *users.ROUTES, *applications.ROUTES,
                                   *credentials.ROUTES)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class DebriefEmulator(Emulator):
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
        return seed.sandbox(self.sandbox_credentials)

    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        return refusal_response(Refusal(status, "message", message), retry_after)

    def routes(self) -> list[Route]:
        """Every endpoint, then one that answers anything else as Debrief answers a thing not
        found: 404 with an empty body (not Starlette's text 404 or 405)."""
        async def not_found(request: Request) -> Response:
            return refusal_response(Refusal(404))
        return [*(Route(e.path, self._run(e), methods=[e.method]) for e in ENDPOINTS),
                Route("/{path:path}", not_found, methods=ALL_METHODS)]

    def _run(self, endpoint: Endpoint):
        """The Starlette endpoint: check the bearer token, read the body, answer or refuse."""
        async def run(request: Request) -> Response:
            try:
                caller = tokens.caller_of(self, request) if endpoint.auth else None
                result = endpoint.handler(self, request.path_params, await read_json(request), caller)
                return JSONResponse(result, status_code=endpoint.status)
            except Refusal as exc:
                return refusal_response(exc)
        return run
