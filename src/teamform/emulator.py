"""The base every provider's emulator builds on.

An emulator is a Starlette (ASGI) app over a plain JSON-able ``state`` dict. The base gives it:

- persistence to a JSON file (the sandbox keeps its state under ``.teamform/sandbox/``), safe
  when several processes use the same file at once (``teamform plan`` while another terminal
  applies, ``sandbox serve`` beside the CLI): a request reads the file again if another process
  wrote it since, and a change is written atomically (a temporary file of its own, renamed over
  the old one), both while holding a lock on the file, so no process loses another's change;
- a request log (``emulator.log``), to see which calls an apply made;
- fault injection: latency, error statuses (429 with Retry-After, 5xx), and *dropped
  responses*, where the change is made but the answer is lost (the client sees a timeout);
- a per-client sliding-window rate limit, with an optional block period once exceeded;
- ``/_emulator/*`` control endpoints so the same faults can be driven over real HTTP;
- ``lookup()``: tables derived from the state (records by id or by email) that handlers build
  once and keep, so serving a large organization is linear, not a scan per request. They are
  dropped whenever ``state`` is replaced or touched from outside a request (a test editing it,
  the sandbox reading another process's change), so they never disagree with it;
- ``Ranked`` (``teamform.ranked``, exported here): the order records came in, to take one out of
  (or put one into) a list kept in that order by bisection instead of a scan.

A provider's emulator subclasses ``Emulator``, implements ``seed()`` and ``routes()``, and
overrides ``error_response()`` to answer in the service's own error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import json
import os
import random
import re
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar
from urllib.parse import parse_qs

import httpx
import orjson
from filelock import FileLock
from starlette.applications import Starlette
from starlette.requests import Request
from starlette import responses
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .http import redact_url
from .ranked import Ranked  # noqa: F401 - the emulators' ordered lists use it from here

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: the emulator whose request is being handled in this task (its handlers keep its lookups right)
_SERVING: contextvars.ContextVar["Emulator | None"] = contextvars.ContextVar("teamform_emulator_serving",
                                                                            default=None)
_DUMP = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON answer, encoded by orjson (the C encoder, with the same compact UTF-8
    output): serving a large organization's lists is mostly encoding them."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


@dataclass
class Fault:
    """One injected fault. ``kind``: ``status`` answers ``status`` instead of handling the
    request; ``drop`` handles it and then loses the answer; ``latency`` delays it."""

    kind: str = "status"
    status: int = 500
    times: int = 1
    method: str | None = None
    path: str | None = None  # a regular expression searched in the path
    retry_after: float | None = None
    delay: float = 0.0
    after: int = 0  # let this many matching requests through first (fail "page 7 of 10")

    def matches(self, method: str, path: str) -> bool:
        if self.times == 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.path and re.search(self.path, path) is None:
            return False
        if self.after > 0:
            self.after -= 1
            return False
        return True


@dataclass
class Chaos:
    """Random faults on a share of requests, reproducible from ``seed``: ``429`` (with
    Retry-After), ``503``, ``timeout`` (no answer, nothing done), ``reset`` (the connection drops,
    nothing done) and ``drop`` (the change is made, then the answer is lost)."""

    rate: float = 0.2
    seed: int = 0
    kinds: tuple[str, ...] = ("429", "503", "timeout", "reset", "drop")
    retry_after: float = 1.0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.injected = 0

    def pick(self) -> str | None:
        if self.rng.random() >= self.rate:
            return None
        self.injected += 1
        return self.rng.choice(self.kinds)


@dataclass
class RateLimit:
    requests: int
    window: float = 60.0
    block: float = 0.0  # once exceeded, refuse everything for this long


@dataclass
class LogEntry:
    method: str
    path: str
    status: int
    query: str = ""
    body: str = ""


class Emulator:
    #: the credentials the sandbox uses when the file's env references are not set
    sandbox_credentials: ClassVar[dict[str, str]] = {}
    #: path segments that carry a secret (an invitation token), logged as ***
    secret_path: ClassVar[re.Pattern[str] | None] = None

    def __init__(self, state: dict[str, Any] | None = None, *, store: str | Path | None = None,
                 rate_limit: RateLimit | None = None) -> None:
        self._lookups: dict[str, Any] = {}
        self.store = Path(store) if store else None
        self._store_lock = FileLock(str(self.store) + ".lock") if self.store else None
        self._seen: tuple[int, int, int] | None = None  # the store file as this process last read or wrote it
        self._text: bytes | None = None  # and its content
        with self._holding_store():
            if state is not None:
                self.state = copy.deepcopy(state)
                self.save()
            elif not self._refresh():
                self.state = self.seed()
                self.save()
        self.faults: list[Fault] = []
        self.chaos: Chaos | None = None
        self.log: list[LogEntry] = []
        self.rate_limit = rate_limit if rate_limit is not None else self.default_rate_limit()
        #: seconds every request takes: half before it is handled, half after (the change is made,
        #: the answer is not back yet), to make an apply slow enough to interrupt
        self.latency = 0.0
        self._hits: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self.clock = time.monotonic
        self.app = Starlette(routes=[*self._control_routes(), *self.routes()])

    # ---- the state and what is derived from it ------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """The emulated service's data. Touched from outside this emulator's own request handling
        (a test or a hook editing it), it may change in any way: the lookups are dropped."""
        if _SERVING.get() is not self:
            self._lookups.clear()
        return self._state

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self._state = value
        self._lookups.clear()

    def lookup(self, name: str, build: Callable[[dict[str, Any]], Any]) -> Any:
        """The table ``name`` derived from the state (``build(state)``), built on first use and
        kept: a handler that changes what it maps updates it, or calls ``forget``."""
        found = self._lookups.get(name)
        if found is None:
            found = self._lookups[name] = build(self._state)
        return found

    def built(self, name: str) -> Any:
        """The table ``name`` if it is built (else None): a change keeps it right only if it is."""
        return self._lookups.get(name)

    def forget(self, *names: str) -> None:
        """Drop these lookups (all without names): they are built again when next needed."""
        if names:
            for name in names:
                self._lookups.pop(name, None)
        else:
            self._lookups.clear()

    # ---- to implement -------------------------------------------------------------------
    def seed(self) -> dict[str, Any]:
        """The sandbox's first state, with realistic drift from ``teams.example.yaml``."""
        return {}

    def routes(self) -> list[BaseRoute]:  # pragma: no cover - abstract
        raise NotImplementedError

    def default_rate_limit(self) -> RateLimit | None:
        return None

    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    # ---- helpers ------------------------------------------------------------------------
    def save(self) -> None:
        """Write the state to the store (when there is one), atomically: into a temporary file of
        this writer's own in the same folder, then renamed over the store. A reader sees the old
        state or the new one, never half of one, and two writers never share a temporary file."""
        if self.store is None:
            return
        with self._holding_store():
            self.sync_state()
            self._write(orjson.dumps(self.state, option=_DUMP))

    def sync_state(self) -> None:
        """Bring ``state`` up to date before it is saved: for an emulator that keeps its data
        elsewhere (an independent server's storage), not in ``state`` itself."""

    def state_loaded(self) -> None:
        """``state`` was read again from the store (another process wrote it): an emulator that keeps
        its data elsewhere loads it from ``state`` here."""

    def _write(self, text: bytes) -> None:
        assert self.store is not None
        fd, tmp = tempfile.mkstemp(dir=self.store.parent, prefix=f".{self.store.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(text)
            os.replace(tmp, self.store)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._text, self._seen = text, _signature(self.store)

    def _save_if_changed(self) -> None:
        self.sync_state()
        text = orjson.dumps(self.state, option=_DUMP)  # the C encoder: a large state is saved per write
        if text != self._text:
            self._write(text)

    @contextlib.contextmanager
    def _holding_store(self):
        """The lock on the store file (reentrant within this emulator), or nothing without a store."""
        if self._store_lock is None:
            yield
            return
        assert self.store is not None
        self.store.parent.mkdir(parents=True, exist_ok=True)
        with self._store_lock:
            yield

    def _refresh(self) -> bool:
        """Read the store again if another process wrote it since this one last read or wrote it.
        False when there is no store file (yet, or any more: a reset keeps the state in memory)."""
        if self.store is None:
            return False
        seen = _signature(self.store)
        if seen is None:
            return False
        if seen != self._seen:
            text = self.store.read_bytes()
            self.state, self._text, self._seen = orjson.loads(text), text, seen
            self.state_loaded()
        return True

    def inject(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        fault = fault or Fault(**kwargs)
        self.faults.append(fault)
        return fault

    def calls(self, method: str | None = None, path: str | None = None) -> list[LogEntry]:
        return [e for e in self.log if (method is None or e.method == method)
                and (path is None or re.search(path, e.path))]

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self)

    def next_id(self, counter: str = "next_id") -> int:
        value = int(self.state.get(counter, 1))
        self.state[counter] = value + 1
        return value

    # ---- the ASGI entry point -----------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        serving = _SERVING.set(self)  # the handlers keep the lookups right; nothing else runs here
        try:
            await self._serve(scope, receive, send)
        finally:
            _SERVING.reset(serving)

    async def _serve(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        body = await _read_body(receive)
        receive = _replay(body)
        chaos = self.chaos.pick() if self.chaos else None
        if chaos in ("timeout", "reset"):
            self._record(scope, 0, body)
            raise (httpx.ReadTimeout if chaos == "timeout" else httpx.ReadError)(f"injected {chaos}")
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        early = self._rate_limited(scope) or self._chaos_response(chaos) or await self._fault_before(method, path)
        if early is not None:
            await early(scope, receive, send)
            self._record(scope, early.status_code, body)
            return
        dropped = chaos == "drop" or self._drops(method, path)
        with self._holding_store():  # another process's change is seen, and ours is not lost
            self._refresh()
            status, drop = await self._handle(scope, receive, send if not dropped else None)
            if method in MUTATING and self.store is not None:
                self._save_if_changed()
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        self._record(scope, status, body)
        if drop:
            raise httpx.ReadTimeout("the emulator dropped the response after making the change")

    def _record(self, scope, status: int, body: bytes) -> None:
        path = self.secret_path.sub("***", scope["path"]) if self.secret_path else scope["path"]
        self.log.append(LogEntry(scope["method"], path, status,
                                 redact_url(scope.get("query_string", b"").decode()), _redact_body(body)))

    async def _handle(self, scope, receive, send) -> tuple[int, bool]:
        seen = {"status": 0}

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            if send is not None:
                await send(message)

        await self.app(scope, receive, capture)
        return seen["status"], send is None

    def _chaos_response(self, chaos: str | None) -> Response | None:
        if chaos == "429":
            return self.error_response(429, "injected 429", retry_after=self.chaos.retry_after)  # type: ignore[union-attr]
        if chaos == "503":
            return self.error_response(503, "injected 503")
        return None

    def _drops(self, method: str, path: str) -> bool:
        for fault in self.faults:
            if fault.kind == "drop" and fault.matches(method, path):
                fault.times -= 1
                return True
        return False

    async def _fault_before(self, method: str, path: str) -> Response | None:
        for fault in self.faults:
            if fault.kind == "latency" and fault.matches(method, path):
                fault.times -= 1
                await asyncio.sleep(fault.delay)
            elif fault.kind == "status" and fault.matches(method, path):
                fault.times -= 1
                return self.error_response(fault.status, f"injected fault {fault.status}",
                                           retry_after=fault.retry_after)
        return None

    def _rate_limited(self, scope) -> Response | None:
        if not self.rate_limit:
            return None
        client = (scope.get("client") or ("local", 0))[0]
        now = self.clock()
        until = self._blocked_until.get(client, 0.0)
        if now < until:
            return self.error_response(429, "Too Many Requests", retry_after=until - now)
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= now - self.rate_limit.window:
            hits.popleft()
        if len(hits) >= self.rate_limit.requests:
            wait = self.rate_limit.block or (hits[0] + self.rate_limit.window - now)
            if self.rate_limit.block:
                self._blocked_until[client] = now + self.rate_limit.block
            return self.error_response(429, "Too Many Requests", retry_after=wait)
        hits.append(now)
        return None

    # ---- control endpoints --------------------------------------------------------------
    def _control_routes(self) -> list[BaseRoute]:
        async def get_log(request: Request) -> Response:
            return JSONResponse([asdict(e) for e in self.log])

        async def post_fault(request: Request) -> Response:
            fault = self.inject(**(await request.json()))
            return JSONResponse(asdict(fault), status_code=201)

        async def clear_faults(request: Request) -> Response:
            self.faults.clear()
            return Response(status_code=204)

        async def get_state(request: Request) -> Response:
            with self._holding_store():
                self._refresh()
                return JSONResponse(self.state)

        return [Route("/_emulator/log", get_log), Route("/_emulator/faults", post_fault, methods=["POST"]),
                Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
                Route("/_emulator/state", get_state)]


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What tells one version of a file from another: a rename makes a new inode every write."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes):
    sent = {"done": False}

    async def receive():
        if not sent["done"]:
            sent["done"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}  # pragma: no cover

    return receive


async def form_or_json(request: Request) -> dict[str, Any]:
    """Services that take both JSON and form-encoded bodies (Krisp, CrankWheel)."""
    ctype = request.headers.get("content-type", "")
    if "application/json" in ctype:
        try:
            data = await request.json()
        except (json.JSONDecodeError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
    if "application/x-www-form-urlencoded" in ctype:
        fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
        return {k: (v if len(v) > 1 else v[0]) for k, v in fields.items()}
    return {}


_SECRET_KEY = re.compile(r"(?i)password|secret|token|api[-_]?key")


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEY.search(str(k)) else _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _redact_body(body: bytes) -> str:
    """The request log (served at /_emulator/log) never keeps a password, secret or token, even
    the sandbox's own: secret fields of a JSON body, at any depth, and secret form fields read ``***``."""
    text = body.decode(errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return redact_url(text)
    clean = _redacted(data)
    return text if clean == data else json.dumps(clean)
