"""The shared HTTP layer: a request waits for the service's rate limit before it is authenticated,
so a short-lived token is never put on a request that then sits in the queue."""

import httpx
import pytest

from teamform.http import Paced, RetryPolicy, open_client
from teamform.testing import no_sleep
from teamform_krisp import KrispProvider


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def acquire(self) -> None:
        self.events.append("wait")


class CountingToken(httpx.Auth):
    """A token per request, refreshed on a 401 (like Debrief's), recording when it is set."""

    def __init__(self, events: list[str]) -> None:
        self.events, self.issued = events, 0

    async def async_auth_flow(self, request):
        for _ in range(2):
            self.issued += 1
            self.events.append(f"token {self.issued}")
            request.headers["Authorization"] = f"Bearer {self.issued}"
            response = yield request
            if response.status_code != 401:
                return


def transport(events: list[str], reject_first: bool = False) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        events.append(f"send {request.headers['Authorization']}")
        if reject_first and request.headers["Authorization"] == "Bearer 1":
            return httpx.Response(401)
        return httpx.Response(200, json={})
    return httpx.MockTransport(handle)


async def test_each_request_waits_its_turn_before_it_gets_its_token():
    recorder = Recorder()
    async with open_client("http://svc.test", inner=transport(recorder.events), auth=CountingToken(recorder.events),
                           requests_per_minute=60) as client:
        client.auth.limiter = recorder
        await client.get("/a")
        await client.get("/b")
    assert recorder.events == ["wait", "token 1", "send Bearer 1", "wait", "token 2", "send Bearer 2"]


async def test_a_request_sent_again_after_a_401_waits_its_turn_again():
    recorder = Recorder()
    async with open_client("http://svc.test", inner=transport(recorder.events, reject_first=True),
                           auth=CountingToken(recorder.events), requests_per_minute=60) as client:
        client.auth.limiter = recorder
        assert (await client.get("/a")).status_code == 200
    assert recorder.events == ["wait", "token 1", "send Bearer 1", "token 2", "wait", "send Bearer 2"]


async def test_a_retried_request_waits_its_turn_again():
    recorder = Recorder()
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})])

    def handle(request: httpx.Request) -> httpx.Response:
        recorder.events.append("send")
        return next(answers)

    async with open_client("http://svc.test", inner=httpx.MockTransport(handle), requests_per_minute=60,
                           retry=RetryPolicy(sleep=no_sleep),
                           rate_limited=lambda r: 0.0 if r.status_code == 429 else None) as client:
        client.auth.limiter = recorder
        assert (await client.get("/a")).status_code == 200
    assert recorder.events == ["wait", "send", "wait", "send"]


def test_the_limit_never_lets_more_than_the_configured_rate_through():
    for per_minute in (0.5, 1, 3, 6, 60, 120, 300, 700):
        limiter = Paced(per_minute).limiter
        assert limiter.max_rate / limiter.time_period * 60 <= per_minute + 1e-9


def test_krisps_default_stays_well_under_its_documented_700_a_minute():
    settings = KrispProvider.Settings()
    assert settings.limits.requests_per_minute <= 700 / 2


def flaky(error: Exception, failures: int, seen: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) <= failures:
            raise error
        return httpx.Response(200, json={"ok": True})
    return httpx.MockTransport(handle)


async def test_a_read_cut_by_a_reset_or_a_dropped_idle_connection_is_sent_again():
    for error in (httpx.ReadError("connection reset by peer"),
                  httpx.RemoteProtocolError("server disconnected without sending a response")):
        seen: list[str] = []
        client = open_client("https://svc.example", inner=flaky(error, 2, seen), retry=RetryPolicy(sleep=no_sleep))
        assert (await client.get("/users")).json() == {"ok": True} and seen == ["GET"] * 3


async def test_a_write_cut_by_a_reset_is_not_sent_again_here():
    """Whether it took effect is unknown: the applier reads back before it repeats a write."""
    seen: list[str] = []
    client = open_client("https://svc.example", inner=flaky(httpx.ReadError("reset"), 1, seen),
                         retry=RetryPolicy(sleep=no_sleep))
    try:
        await client.post("/users", json={})
    except httpx.ReadError:
        pass
    else:  # pragma: no cover - the assertion below says what went wrong
        raise AssertionError("a write was retried blind")
    assert seen == ["POST"]


async def test_a_read_on_a_kept_alive_connection_the_server_dropped_is_sent_again():
    """A real socket: the server answers the first read and keeps the connection open, then
    closes it as the next read arrives on it (its idle timeout racing the client's reuse). The
    client gets no answer on that connection; the read is sent again on a new one and succeeds."""
    import asyncio

    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections) + 1)
        first_on_this_connection = len(connections) == 1
        answered = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            if first_on_this_connection and answered == 1:
                writer.close()  # the idle connection is dropped: no answer to this request
                return
            body = b'{"ok": true}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
            answered += 1

    async def quiet(reader, writer):
        try:
            await serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(quiet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with open_client(f"http://127.0.0.1:{port}", retry=RetryPolicy(sleep=no_sleep)) as client:
            assert (await client.get("/users")).json() == {"ok": True}
            assert (await client.get("/users", params={"page": 2})).json() == {"ok": True}
    finally:
        server.close()
        await server.wait_closed()
    assert connections == [1, 2]  # the second read went out again, on a new connection


async def test_a_write_the_server_dropped_unanswered_is_not_called_unreachable():
    """A real socket: the server reads the request and closes without an answer. The write may
    have been acted on, so it must not read as "could not reach" (which says it never went)."""
    import asyncio

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with open_client(f"http://127.0.0.1:{port}", retry=RetryPolicy(sleep=no_sleep)) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/users", json={"email": "a@example.com"})
    finally:
        server.close()


async def test_a_refused_connection_names_the_host_and_the_reason():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with open_client(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=0)) as client:
        with pytest.raises(httpx.ConnectError, match=rf"could not reach 127\.0\.0\.1:{port} \(\w"):
            await client.get("/users")
