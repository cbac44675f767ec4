"""The shared HTTP layer: one ``httpx.AsyncClient`` per service with a client-side rate limit, a
cap on the requests it has in flight at once (``limits.concurrency``: a fetch that reads many
pages or teams at once never has more out), retries with backoff that honour Retry-After, and
redacted logging (``-v``: one line per request, its status and time; ``-vv``: headers, retries
and rate-limit waits too).

Reads (GET/HEAD) are retried on 5xx and timeouts here. A 429 (or whatever the provider says
means "slow down") is retried for every method: the service did not act on the request. Writes
that fail otherwise are left to the applier, which reads back before it repeats one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp
import httpx
import orjson
from aiolimiter import AsyncLimiter
from httpx_aiohttp import AiohttpTransport

from .retry import RetryPolicy

log = logging.getLogger("teamform.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: failures after which a read is simply sent again: a timeout, a reset or dropped idle connection
TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"})
SECRET_QUERY = re.compile(r"((?:token|secret|key|password|access_token|refresh_token)=)[^&]*", re.I)
#: header names whose values are not logged even at -vv (a provider may name its key header freely)
SECRET_HEADER_NAME = re.compile(r"auth|key|token|secret|cookie|passw|session|signature", re.I)


def json_of(response: httpx.Response) -> Any:
    """The answer's JSON, decoded by orjson (the C decoder: reading a large organization is mostly
    decoding). What orjson refuses and the standard decoder takes (a UTF-16 body, NaN) is decoded
    the standard way; what neither takes raises ``ValueError``."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def redact_url(url: str) -> str:
    return SECRET_QUERY.sub(r"\1***", url)


def _headers(headers: httpx.Headers) -> str:
    return ", ".join(f"{k}: {'***' if k.lower() in SECRET_HEADERS or SECRET_HEADER_NAME.search(k) else v}"
                     for k, v in headers.items())


@dataclass(frozen=True)
class Wait:
    """A request held back by a rate limit, as reported to ``on_wait``: for about ``seconds``, on
    ``why`` (words that follow "waiting N s on": "its rate limit (300 requests/min)")."""

    seconds: float
    why: str


def unreachable(request: httpx.Request, exc: Exception) -> str:
    """``could not reach api.krisp.ai (Name or service not known)``: the host, then the reason
    without its errno (a DNS failure, a refused connection, a connect timeout)."""
    host = request.url.host + (f":{request.url.port}" if request.url.port else "")
    reason = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)).strip()
    if not reason:
        reason = "timed out" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
    return f"could not reach {host} ({reason})"


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

    def __init__(self, requests_per_minute: float, inner: httpx.Auth | None = None,
                 on_wait: Callable[[Wait], None] | None = None) -> None:
        # a tenth of a minute's budget at most in one burst; one request per 60/rate s below 6 a minute
        burst = requests_per_minute / 6
        self.limiter = AsyncLimiter(burst, 10) if burst >= 1 else AsyncLimiter(1, 60 / requests_per_minute)
        self.inner = inner or httpx.Auth()
        self.per_minute = requests_per_minute
        self.on_wait = on_wait  # told when a request has to wait (the progress display shows it)
        self.queued = 0  # requests waiting now

    async def take(self) -> None:
        """This request's turn under the limit; first, if it has to wait, say so and for how long
        (about: a turn comes every period/rate seconds, after those queued before it)."""
        if (self.on_wait is None and not log.isEnabledFor(logging.DEBUG)) or self.limiter.has_capacity():
            await self.limiter.acquire()
            return
        self.queued += 1
        try:
            wait = Wait(self.queued * self.limiter.time_period / self.limiter.max_rate,
                        f"its rate limit ({self.per_minute:g} requests/min)")
            log.debug("waiting about %.1f s on %s", wait.seconds, wait.why)
            if self.on_wait is not None:
                self.on_wait(wait)
            await self.limiter.acquire()
        finally:
            self.queued -= 1

    async def async_auth_flow(self, request: httpx.Request):  # type: ignore[override]
        await self.take()
        flow = self.inner.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                response = yield outgoing
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return
                await self.take()
        finally:
            await flow.aclose()


class ServiceTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, retry: RetryPolicy,
                 rate_limited: Callable[[httpx.Response], float | None], pace: Paced | None = None,
                 secret_path: re.Pattern[str] | None = None, on_wait: Callable[[Wait], None] | None = None,
                 concurrency: int | None = None) -> None:
        self.inner = inner
        # held from sending a request until its answer's head is in (the server's share of the work)
        self.in_flight = asyncio.Semaphore(concurrency) if concurrency else None
        self.secret_path = secret_path
        self.retry = retry
        self.pace = pace  # the client's rate limit: a retry takes its turn again
        self.rate_limited = rate_limited
        self.on_wait = on_wait  # told when the service asks us to slow down (a 429 and its Retry-After)
        self.requests = 0

    def _url(self, request: httpx.Request) -> str:
        url = str(request.url)
        return redact_url(self.secret_path.sub("***", url) if self.secret_path else url)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        started = time.perf_counter()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s sends %s", request.method, self._url(request), _headers(request.headers))
        try:
            async with self.in_flight or contextlib.nullcontext():
                response = await self.inner.handle_async_request(request)
        except TRANSIENT as caught:
            exc = caught
            if isinstance(caught, (httpx.ConnectError, httpx.ConnectTimeout)):  # name the host it could not reach
                exc = type(caught)(unreachable(request, caught), request=request)
                exc.__cause__ = caught
            log.info("%s %s → %s (%.0f ms)", request.method, self._url(request), exc,
                     (time.perf_counter() - started) * 1000)
            if request.method in SAFE_METHODS:
                raise _Retry(None, None, exc) from exc
            raise exc
        if log.isEnabledFor(logging.INFO):  # the URL is redacted only for a line that is written
            log.info("%s %s → %d (%.0f ms)", request.method, self._url(request), response.status_code,
                     (time.perf_counter() - started) * 1000)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s answered %s", request.method, self._url(request), _headers(response.headers))
        hint = self.rate_limited(response)
        if hint is not None:
            await response.aread()
            raise _Retry(response, hint)
        # 501 Not Implemented is an answer, not a hiccup (an optional endpoint such as SCIM's /Me)
        if response.status_code >= 500 and response.status_code != 501 and request.method in SAFE_METHODS:
            await response.aread()
            raise _Retry(response, None)
        return response

    def _wait(self, state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        seconds = self.retry.wait(state.attempt_number, hint)
        response = getattr(exc, "response", None)
        why = f"HTTP {response.status_code}" if response is not None else type(getattr(exc, "error", exc)).__name__
        if log.isEnabledFor(logging.DEBUG):
            request = response.request if response is not None else getattr(getattr(exc, "error", None), "request", None)
            log.debug("retry %d of %d%s in %.1f s (%s%s)", state.attempt_number, self.retry.attempts,
                      f" of {request.method} {self._url(request)}" if request is not None else "", seconds, why,
                      f", Retry-After {hint:g} s" if hint else "")
        if hint is not None and response is not None and self.on_wait is not None:  # the service said slow down
            self.on_wait(Wait(seconds, f"the service's rate limit ({why})"))
        return seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:  # the first try without tenacity's bookkeeping: nearly every request needs no other
            return await self._send(request)
        except _Retry as failed:
            first = failed
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt  # ~20 ms: when first needed

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
                    if attempt.retry_state.attempt_number == 1:
                        raise first  # the try above: tenacity counts it, waits and sends the retries
                    if self.pace is not None:
                        await self.pace.take()
                    return await self._send(request)
        except _Retry as last:
            if last.response is not None:
                return last.response
            assert last.error is not None
            raise last.error
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Pool(AiohttpTransport):
    """aiohttp's connection pool and parser (several times less CPU a request than httpcore's at
    16 in flight). Its exceptions come out as httpx's; a connection error is told apart as httpx
    does: a refused or unknown host, or a connection dropped mid-request (which may have been
    sent, and acted on), not "a connect timeout"."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:  # what the transport makes of every aiohttp connection error
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ClientConnectorError):  # refused, unknown host: the OS's reason
                raise httpx.ConnectError(str(cause.os_error), request=request) from cause
            if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(cause, aiohttp.ConnectionTimeoutError):
                raise httpx.RemoteProtocolError(str(cause) or type(cause).__name__, request=request) from cause
            raise


class Connections(httpx.AsyncBaseTransport):
    """The sockets under a service's client: one ``_Pool`` for plain http and one for the rest
    (https), each made on its first request, so the TLS context is made only when an https URL
    needs it. The plain pool never starts TLS; its placeholder context trusts no certificate, so
    if it ever did, it would fail rather than skip verification."""

    def __init__(self) -> None:
        self.pools: dict[str, _Pool] = {}  # "http", "tls"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = "http" if request.url.scheme == "http" else "tls"
        pool = self.pools.get(kind)
        if pool is None:
            context = tls() if kind == "tls" else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # the placeholder
            pool = self.pools[kind] = _Pool(verify=context)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self.pools.values():
            await pool.aclose()


@functools.cache
def tls() -> ssl.SSLContext:
    """The one TLS context of the process, httpx's own (certifi's CA bundle, or SSL_CERT_FILE /
    SSL_CERT_DIR): making one reads the bundle (~20 ms), so it is made once, when first needed."""
    return httpx.create_ssl_context()


class _Sent(httpx.Cookies):
    """Cookies a client sends when told to (on the client, on a request), never one a service
    sets: no service teamform talks to keeps a session in cookies, and reading Set-Cookie builds
    a urllib request and an email message for every answer."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class Client(httpx.AsyncClient):
    """httpx's client, with two costs of every request cut: the Set-Cookie reading above, and
    the URL parsed three times (the path, then merged with ``base_url``, then again with
    ``params``): a plain path (``/users/42``) is joined to ``base_url`` and its query as text,
    parsed once, into the very URL httpx would make. Anything else is left to httpx."""

    def __init__(self, *, cookies: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = cookies

    @property
    def cookies(self) -> httpx.Cookies:
        return self._sent

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._sent = _Sent(cookies)

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, stream=stream, **kwargs)
        if not stream:  # read and closed: its stream (httpx's, which points back at it) is done with
            response.stream = httpx.ByteStream(b"")
        return response

    def build_request(self, method: str, url: Any, *, params: Any = None, **kwargs: Any) -> httpx.Request:
        joined = self._joined(url, params)
        if joined is not None:
            url, params = joined, None
        return super().build_request(method, url, params=params, **kwargs)

    def _joined(self, url: Any, params: Any) -> str | None:
        """``base_url`` + a path that starts with one "/" and has no query or fragment + the
        query of ``params``, as text; ``None`` when httpx should merge them (anything else, a
        base URL with a query, params set on the client)."""
        if not isinstance(url, str) or url[:1] != "/" or url[:2] == "//" or "?" in url or "#" in url:
            return None
        base = str(self.base_url)
        if not base.startswith(("http://", "https://")) or "?" in base or "#" in base or self.params:
            return None
        query = "" if params is None else str(httpx.QueryParams(params))
        slash = "" if base.endswith("/") else "/"  # the root's URL is written without its "/"
        return base + slash + url[1:] + (f"?{query}" if query else "")


def open_client(base_url: str, *, inner: httpx.AsyncBaseTransport | None = None,
                auth: httpx.Auth | None = None, requests_per_minute: float | None = None,
                retry: RetryPolicy | None = None, timeout: float = 30.0,
                rate_limited: Callable[[httpx.Response], float | None] | None = None,
                headers: dict[str, str] | None = None,
                secret_path: re.Pattern[str] | None = None,
                on_wait: Callable[[Wait], None] | None = None, concurrency: int | None = None) -> httpx.AsyncClient:
    """``on_wait``: told each time a request waits on a rate limit, ours or the service's;
    ``concurrency``: the most requests in flight at once (no cap when ``None``)."""
    paced = Paced(requests_per_minute, auth, on_wait) if requests_per_minute else None
    transport = ServiceTransport(
        inner or Connections(),
        retry=retry or RetryPolicy(),
        rate_limited=rate_limited or (lambda r: None),
        pace=paced,
        secret_path=secret_path,
        on_wait=on_wait,
        concurrency=concurrency,
    )
    auth = paced or auth
    return Client(base_url=base_url, transport=transport, auth=auth, timeout=timeout,
                  headers={"User-Agent": "teamform", "Accept": "application/json", **(headers or {})})
