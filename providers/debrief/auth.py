"""Debrief's OAuth password grant as an ``httpx.Auth``.

The first request logs in (``POST /login`` with the user's and the client's credentials); the
access token is renewed shortly before it expires (``POST /oauth/token`` with the refresh token,
falling back to a fresh login if the refresh is refused), and once more when a request comes back
401 anyway (clock skew, a revoked token). Tokens live in memory only: never logged, never in
``repr``, never in an error message.
"""

from __future__ import annotations

import asyncio
import time
from typing import AsyncGenerator, Callable, Generator

import httpx

from teamform.provider import ProviderError

from . import api

#: renew this long before expiry (capped at a tenth of the lifetime, for short-lived tokens)
RENEW_MARGIN = 60.0


class LoginRefused(ProviderError):
    """The token endpoint said no. ``retryable`` when it was the service failing (429, 5xx), not
    the credentials: nothing was sent but the login, so the request may simply be sent again."""


def is_token_call(request: httpx.Request, base_path: str = "") -> bool:
    """Is this one of the auth flow's own requests (a login or a refresh)?"""
    return request.method == "POST" and request.url.path in {base_path.rstrip("/") + p for p in (api.LOGIN, api.REFRESH)}


class DebriefAuth(httpx.Auth):
    requires_response_body = True

    def __init__(self, credentials: dict[str, str], *, base_path: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._credentials = credentials
        self._base_path = base_path.rstrip("/")
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.logins = 0      # how many password logins (for tests and diagnostics)
        self.refreshes = 0   # how many refresh-token exchanges

    def __repr__(self) -> str:
        return f"DebriefAuth(username={self._credentials.get('username')!r})"

    # ---- the flow -----------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("DebriefAuth works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        used = None
        for retry in (False, True):  # renew when stale; once more on a 401 with a token we sent
            async with self._lock:
                if self._stale() or (retry and self._access == used):
                    steps = self._renew(request)
                    step = next(steps)
                    while step is not None:
                        answer = yield step
                        await answer.aread()
                        step = steps.send(answer)
            used = self._access
            request.headers["Authorization"] = f"Bearer {used}"
            response = yield request
            if response.status_code != 401:
                return

    def _stale(self) -> bool:
        return self._access is None or self._clock() >= self._renew_at

    def _renew(self, request: httpx.Request) -> Generator[httpx.Request | None, httpx.Response, None]:
        """Refresh if we can, else log in; yields the token requests, then ``None``."""
        if self._refresh is not None:
            response = yield self._post(request, api.REFRESH, {
                "client_id": self._credentials["client_id"], "client_secret": self._credentials["client_secret"],
                "refresh_token": self._refresh})
            if response.is_success:
                self.refreshes += 1
                self._take(response)
                yield None
                return
        response = yield self._post(request, api.LOGIN, {
            "grant_type": "password", "username": self._credentials["username"],
            "password": self._credentials["password"], "client_id": self._credentials["client_id"],
            "client_secret": self._credentials["client_secret"]})
        if not response.is_success:
            self._access = self._refresh = None
            status = response.status_code
            raise LoginRefused(_refusal(response, self._credentials.get("username", "")), status=status,
                               retryable=status == 429 or status >= 500)
        self.logins += 1
        self._take(response)
        yield None

    def _post(self, request: httpx.Request, path: str, body: dict[str, str]) -> httpx.Request:
        return httpx.Request("POST", request.url.join(self._base_path + path), json=body,
                             headers={"Accept": "application/json"})

    def _take(self, response: httpx.Response) -> None:
        try:
            body = response.json()
            access, lifetime = body["access_token"], float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise LoginRefused("Debrief's login answer has no access token (not the Management API?)") from None
        self._access = access
        self._refresh = body.get("refresh_token") or self._refresh
        self._renew_at = self._clock() + lifetime - min(RENEW_MARGIN, lifetime / 10)


def _refusal(response: httpx.Response, username: str) -> str:
    """Why the login failed, without echoing anything that was sent."""
    try:
        detail = "; ".join(f"{k}: {v}" for k, v in (response.json().get("response") or {}).items())
    except (ValueError, AttributeError):
        detail = ""
    hint = ("check the username/password and client_id/client_secret credentials"
            if response.status_code in (400, 401, 403) else "the service failed; try again later")
    return (f"Debrief refused the login for {username} (HTTP {response.status_code}"
            f"{': ' + detail if detail else ''}); {hint}")
