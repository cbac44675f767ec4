"""Retries the shared HTTP layer cannot make for Debrief.

The layer retries a GET on a 5xx, a timeout or a dropped connection, and any request on a 429.
One transient failure escapes it: every failure of the OAuth login or refresh, which is a POST
sent from inside ``DebriefAuth``'s flow (the layer never repeats a POST: it cannot know that this
one changes nothing). It is safe to repeat: a failed token call means the request it was made
for was never sent (or was refused with a 401, undone). ``DebriefProvider.request`` repeats it
here, with the service's own retry policy.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Awaitable, Callable

import httpx

from .auth import LoginRefused, is_token_call

if TYPE_CHECKING:  # pragma: no cover
    from . import DebriefProvider

def transient(method: str, exc: BaseException, base_path: str = "") -> bool:
    """May the request that failed with ``exc`` be sent again as it is?"""
    if isinstance(exc, LoginRefused):
        return exc.retryable
    if not isinstance(exc, httpx.TransportError):
        return False
    try:
        failed = exc.request
    except RuntimeError:  # an error raised without its request: nothing to go by
        return False
    if is_token_call(failed, base_path):
        return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))
    # a GET's timeouts, resets and dropped connections were already retried below us
    return False


class _Policy:
    """The service's retry policy: the one the session gave the HTTP layer when it can be found,
    else one from ``limits`` (see the report: the engine should hand it to providers)."""

    def __init__(self, p: "DebriefProvider") -> None:
        shared = getattr(getattr(p.client, "_transport", None), "retry", None)
        limits = p.settings.limits
        self.attempts: int = getattr(shared, "attempts", limits.retries)
        self._shared = shared
        self._limits = limits

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if self._shared is not None:
            return self._shared.wait(attempt, retry_after)
        base = min(self._limits.max_wait, self._limits.backoff * 2 ** (attempt - 1))
        return max(retry_after or 0.0, base + random.uniform(0, self._limits.backoff))

    async def sleep(self, seconds: float) -> None:
        await (self._shared.sleep(seconds) if self._shared is not None else asyncio.sleep(seconds))


async def send(p: "DebriefProvider", send_once: Callable[[], Awaitable[httpx.Response]],
               method: str) -> httpx.Response:
    """``send_once()`` (the base's request), repeated while it fails transiently."""
    policy, attempt = _Policy(p), 0
    base_path = httpx.URL(p.base_url()).path
    while True:
        try:
            return await send_once()
        except (LoginRefused, httpx.TransportError) as exc:
            if attempt >= policy.attempts or not transient(method, exc, base_path):
                raise
            attempt += 1
            await policy.sleep(policy.wait(attempt, getattr(exc, "retry_after", None)))

