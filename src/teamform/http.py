"""The shared HTTP layer: one ``httpx.AsyncClient`` per service with a client-side rate limit,
retries with backoff that honour Retry-After, and redacted logging.

Reads (GET/HEAD) are retried on 5xx and timeouts here. A 429 (or whatever the provider says
means "slow down") is retried for every method: the service did not act on the request. Writes
that fail otherwise are left to the applier, which reads back before it repeats one.
"""

from __future__ import annotations

import functools
import logging
import re
import ssl
from typing import Callable

import httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from .retry import RetryPolicy

log = logging.getLogger("teamform.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: failures after which a read is simply sent again: a timeout, a reset or dropped idle connection
TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"})
SECRET_QUERY = re.compile(r"((?:token|secret|key|password|access_token|refresh_token)=)[^&]*", re.I)


def redact_url(url: str) -> str:
    return SECRET_QUERY.sub(r"\1***", url)


class _Retry(Exception):
    def __init__(self, response: httpx.Response | None, retry_after: float | None,
                 error: Exception | None = None) -> None:
        self.response = response
        self.retry_after = retry_after
        self.error = error


class Paced(httpx.Auth):
    """The service's client-side rate limit, taken before a request is authenticated: a request
    waits its turn first and gets its credentials (a bearer token that may expire) only as it goes
    out. Wraps the provider's own ``httpx.Auth``, if any."""

    def __init__(self, requests_per_minute: float, inner: httpx.Auth | None = None) -> None:
        # a tenth of a minute's budget at most in one burst; one request per 60/rate s below 6 a minute
        burst = requests_per_minute / 6
        self.limiter = AsyncLimiter(burst, 10) if burst >= 1 else AsyncLimiter(1, 60 / requests_per_minute)
        self.inner = inner or httpx.Auth()

    async def async_auth_flow(self, request: httpx.Request):  # type: ignore[override]
        await self.limiter.acquire()
        flow = self.inner.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                response = yield outgoing
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return
                await self.limiter.acquire()
        finally:
            await flow.aclose()


class ServiceTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, retry: RetryPolicy,
                 rate_limited: Callable[[httpx.Response], float | None], pace: Paced | None = None,
                 secret_path: re.Pattern[str] | None = None) -> None:
        self.inner = inner
        self.secret_path = secret_path
        self.retry = retry
        self.pace = pace  # the client's rate limit: a retry takes its turn again
        self.rate_limited = rate_limited
        self.requests = 0

    async def _send(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        url = str(request.url)
        log.debug("%s %s", request.method, redact_url(self.secret_path.sub("***", url) if self.secret_path else url))
        try:
            response = await self.inner.handle_async_request(request)
        except TRANSIENT as exc:
            if request.method in SAFE_METHODS:
                raise _Retry(None, None, exc) from exc
            raise
        hint = self.rate_limited(response)
        if hint is not None:
            await response.aread()
            raise _Retry(response, hint)
        if response.status_code >= 500 and request.method in SAFE_METHODS:
            await response.aread()
            raise _Retry(response, None)
        return response

    def _wait(self, state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.retry.wait(state.attempt_number, getattr(exc, "retry_after", None))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retry),
            stop=stop_after_attempt(self.retry.attempts + 1),
            wait=self._wait,
            sleep=self.retry.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1 and self.pace is not None:
                        await self.pace.limiter.acquire()
                    return await self._send(request)
        except _Retry as last:
            if last.response is not None:
                return last.response
            assert last.error is not None
            raise last.error
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self.inner.aclose()


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: making one reads the CA bundle (~50 ms each, per
    service, per run)."""
    return httpx.create_ssl_context()


def open_client(base_url: str, *, inner: httpx.AsyncBaseTransport | None = None,
                auth: httpx.Auth | None = None, requests_per_minute: float | None = None,
                retry: RetryPolicy | None = None, timeout: float = 30.0,
                rate_limited: Callable[[httpx.Response], float | None] | None = None,
                headers: dict[str, str] | None = None,
                secret_path: re.Pattern[str] | None = None) -> httpx.AsyncClient:
    paced = Paced(requests_per_minute, auth) if requests_per_minute else None
    transport = ServiceTransport(
        inner or httpx.AsyncHTTPTransport(verify=_tls()),
        retry=retry or RetryPolicy(),
        rate_limited=rate_limited or (lambda r: None),
        pace=paced,
        secret_path=secret_path,
    )
    auth = paced or auth
    return httpx.AsyncClient(base_url=base_url, transport=transport, auth=auth, timeout=timeout,
                             headers={"User-Agent": "teamform", "Accept": "application/json", **(headers or {})})
