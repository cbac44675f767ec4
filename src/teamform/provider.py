"""The provider interface: what a plugin implements, and how the engine finds plugins.

A provider translates; the engine plans. It

- declares its section of the state file (``Settings``, a pydantic model) and its kinds;
- normalizes that section into a desired ``State`` (``desired``) and the API's answers into a
  live ``State`` (``fetch``), raising ``IncompleteRead`` if it could not read everything;
- executes one operation (``apply``), or a batch of them (``apply_batch``) where the API has a
  bulk call;
- says what an error means (``classify``) so the applier retries, accepts or fails it.

Providers are found through the ``teamform.providers`` entry-point group; the engine never
imports one by name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from importlib.metadata import entry_points
import re
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Sequence

import httpx
from pydantic import BaseModel

from .model import KindSpec, State

if TYPE_CHECKING:  # pragma: no cover
    from .config.model import Directory, Policy
    from .emulator import Emulator
    from .plan.ops import Operation

ENTRY_POINT_GROUP = "teamform.providers"


class ProviderError(Exception):
    """An error from a service, already translated into words a user understands.

    ``retryable``: trying again may work (rate limit, 5xx, timeout).
    ``already_done``: the service refused because the desired outcome already holds
    (an invitation that already exists): the applier counts it as done.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 retryable: bool = False, already_done: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable
        self.already_done = already_done
        self.retry_after = retry_after

    @classmethod
    def from_http(cls, response: httpx.Response, message: str, *, code: str | None = None,
                  already_done: bool = False, **extra: Any) -> "ProviderError":
        """An error for an HTTP answer: 429 and 5xx are retryable, Retry-After is kept."""
        status = response.status_code
        header = response.headers.get("retry-after")
        return cls(message, status=status, code=code, retryable=status == 429 or status >= 500,
                   already_done=already_done, retry_after=parse_retry_after(header) if header else None,
                   **extra)


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when there is none (some services drop error bodies)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class HeaderAuth(httpx.Auth):
    """A fixed header on every request: an API key or a static token. Its value is never shown."""

    def __init__(self, header: str, value: str) -> None:
        self._header, self._value = header, value

    def auth_flow(self, request: httpx.Request):
        request.headers[self._header] = self._value
        yield request

    def __repr__(self) -> str:
        return f"HeaderAuth({self._header!r}, '***')"


class IncompleteRead(ProviderError):
    """A read failed or stopped early; the plan for this service must be aborted."""


class Outcome(enum.Enum):
    RETRY = "retry"   # transient: verify by reading back, then try again
    DONE = "done"     # the service already holds the desired outcome
    FAIL = "fail"     # final


@dataclass
class Issue:
    """A plan-time finding of a provider: ``error`` stops the plan for the service."""

    level: str  # "error" | "warning" | "note"
    message: str
    subject: str | None = None


@dataclass
class Context:
    """What the engine hands a provider instance."""

    instance: str
    settings: Any  # the provider's validated Settings model
    credentials: dict[str, str]
    directory: "Directory"
    policy: "Policy"
    sandbox: bool = False


class Provider:
    """Base class for providers. Subclasses set the class attributes and implement the methods
    marked as such; the rest have sensible defaults."""

    #: the name used in ``provider:`` in the state file
    name: ClassVar[str] = ""
    #: one line for ``teamform providers``
    summary: ClassVar[str] = ""
    #: the kinds of resource this provider manages
    kinds: ClassVar[Sequence[KindSpec]] = ()
    #: pydantic model of the provider's section of a service entry
    Settings: ClassVar[type[BaseModel]]
    #: pydantic model of ``policy`` (the engine's ``Policy`` or a subclass)
    Policy: ClassVar[type[BaseModel] | None] = None
    #: credential names the provider needs (each an ``env:NAME`` reference in the file)
    credential_names: ClassVar[tuple[str, ...]] = ()
    #: those of ``credential_names`` whose values identify rather than authenticate (a login
    #: name, an OAuth client id): the audit journal shows them instead of masking them
    public_credentials: ClassVar[tuple[str, ...]] = ()
    #: URL path segments that carry a secret (an invitation token): *** in -v logs and emulator logs
    secret_path: ClassVar["re.Pattern[str] | None"] = None
    #: the emulator class, for ``sandbox: true`` and the tests
    emulator_class: ClassVar[type["Emulator"] | None] = None

    def __init__(self, ctx: Context, client: httpx.AsyncClient | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.client: httpx.AsyncClient = client  # type: ignore[assignment]

    # ---- HTTP set-up (the engine opens the client) -------------------------------------
    def base_url(self) -> str:
        return str(self.settings.base_url)

    def auth(self) -> httpx.Auth | None:
        """The request authentication, from ``self.ctx.credentials``."""
        return None

    def is_rate_limited(self, response: httpx.Response) -> float | None:
        """Seconds to wait if this response means 'slow down' (0 when no hint), else ``None``.
        Some services say it with 403; override to recognize it."""
        if response.status_code == 429:
            return parse_retry_after(response.headers.get("retry-after"))
        return None

    # ---- reading ------------------------------------------------------------------------
    async def fetch(self) -> State:  # pragma: no cover - abstract
        """Read the live state, following every page. Raise ``IncompleteRead`` on a short read."""
        raise NotImplementedError

    def desired(self, live: State) -> State:  # pragma: no cover - abstract
        """Normalize the provider's section of the state file. ``live`` is available for
        things the file cannot know (current seat counts when the file leaves them out)."""
        raise NotImplementedError

    @classmethod
    def file_problems(cls, section: Any, directory: "Directory") -> Iterable[tuple[tuple, str]]:
        """(path inside the section, message) for what is wrong in the file alone, found by
        validate with a line and column (someone placed in two departments)."""
        return ()

    def annotate(self, op: "Operation") -> None:
        """Adjust how a planned operation reads (``op.summary``, ``op.destructive``) where the
        service gives an action a meaning the generic words miss."""

    def check(self, desired: State, live: State) -> Iterable[Issue]:
        """Plan-time checks the generic planner cannot know (billing rules, unknown groups)."""
        return ()

    def edges(self, ops: Sequence["Operation"]) -> Iterable[tuple[str, str]]:
        """Extra ordering ``(first_id, then_id)`` beyond references, capacity and guards."""
        return ()

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: "Operation") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def replace(self, op: "Operation") -> None:
        """Default replace: delete the live thing, then create the desired one."""
        from .plan.ops import Operation

        await self.apply(Operation.derive(op, "delete"))
        await self.apply(Operation.derive(op, "create"))

    def batch_key(self, op: "Operation") -> str | None:
        """Operations with the same non-``None`` key may go out as one bulk call."""
        return None

    def batch_size(self, key: str) -> int:
        return 100

    async def apply_batch(self, ops: Sequence["Operation"]) -> list[BaseException | None]:
        """Execute ops sharing a batch key in as few calls as possible; one result per op."""
        raise NotImplementedError

    def classify(self, exc: BaseException) -> Outcome:
        if isinstance(exc, ProviderError):
            if exc.already_done:
                return Outcome.DONE
            return Outcome.RETRY if exc.retryable else Outcome.FAIL
        if isinstance(exc, (httpx.TimeoutException, httpx.TransportError)):
            return Outcome.RETRY
        return Outcome.FAIL

    async def verify(self, op: "Operation") -> bool:
        """After a write whose answer was lost: does the service already hold its outcome?"""
        live = await self.fetch()
        return op.holds_in(live)

    # ---- import -------------------------------------------------------------------------
    def export(self, live: State) -> dict[str, Any]:
        """The provider's section of a state file that describes ``live`` (for ``import``)."""
        raise NotImplementedError

    def kind(self, name: str) -> KindSpec:
        for spec in self.kinds:
            if spec.name == name:
                return spec
        return KindSpec(name=name)


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        import datetime as dt

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


#: providers whose entry point failed to load, with the reason (shown by `teamform providers`)
BROKEN: dict[str, str] = {}


def installed() -> dict[str, type[Provider]]:
    """Every provider installed in this environment, by name. A plugin that fails to import is
    left out and recorded in ``BROKEN``, so one broken package cannot break every service."""
    found: dict[str, type[Provider]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import-time failure of a third-party plugin
            BROKEN[ep.name] = f"{exc.__class__.__name__}: {exc}"
            continue
        found[getattr(cls, "name", "") or ep.name] = cls
    return dict(sorted(found.items()))
