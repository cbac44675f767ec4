"""The provider base: the hooks a plugin fills, and the plumbing it inherits.

A provider translates; the engine plans. It declares its section of the state file
(``Settings``) and its kinds, turns that section into a desired ``State`` (``desired``) and the
API's answers into a live one (``fetch``), and executes operations (``apply``, ``apply_batch``).

What every provider needs and none should write again lives here: ``request``/``call`` raise the
provider's ``Error`` from an error answer; ``pages`` follows a list to its end or raises
``IncompleteRead``; ``gone_statuses``/``gone_codes`` declare which answers to a delete mean
"already gone" (the applier counts them as done); ``wanted`` expands ``members:`` lists; and the
engine's policy decisions (``protected``, ``ignored``) are handed over, never re-derived.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import importlib
import re
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Sequence

import httpx
from pydantic import BaseModel

from ..errors import IncompleteRead, Outcome, ProviderError, parse_retry_after
from ..findings import Finding
from ..http import json_of
from ..members import expand
from ..model import KindSpec, State
from ..paging import Paging, Shortfall, next_step, page_count

if TYPE_CHECKING:  # pragma: no cover
    from ..config.schema import Directory, Policy
    from ..emulator import Emulator
    from ..model import Resource
    from ..plan.ops import Operation


def _cancel(ahead: dict[int, tuple[dict[str, Any], "asyncio.Task[Any]"]]) -> None:
    """Drop pages asked for ahead that will not be used (the read ended or failed before them)."""
    for _, task in ahead.values():
        if task.done() and not task.cancelled():
            task.exception()  # looked at: a failure of a page nobody needs is not reported as lost
        task.cancel()
    ahead.clear()


class _EmulatorClass:
    """``Provider.emulator_class``: the class ``emulator`` names, imported when first asked for.

    A plan against a real service never needs an emulator (an ASGI app over Starlette), so a
    provider names it by import path and only the sandbox and the tests pay for importing it. A
    provider that sets ``emulator_class`` to the class itself replaces this accessor, as before."""

    def __get__(self, instance: object, owner: type["Provider"]) -> type["Emulator"] | None:
        path = owner.emulator
        if path is None:
            return None
        module, _, name = path.partition(":")
        return getattr(importlib.import_module(module), name)


def emulator_export(provider: type["Provider"]) -> Callable[[str], Any]:
    """A provider package's module ``__getattr__`` (``__getattr__ = emulator_export(XProvider)``):
    ``from teamform_x import XEmulator`` keeps working while the emulator is imported only when
    asked for, through ``emulator_class``."""
    name = (provider.emulator or "").rpartition(":")[2]

    def __getattr__(attribute: str) -> Any:
        if name and attribute == name:
            return provider.emulator_class
        raise AttributeError(f"module {provider.__module__!r} has no attribute {attribute!r}")
    return __getattr__


class HeaderAuth(httpx.Auth):
    """A fixed header on every request: an API key or a static token. Its value is never shown."""

    def __init__(self, header: str, value: str) -> None:
        self._header, self._value = header, value

    def auth_flow(self, request: httpx.Request):
        request.headers[self._header] = self._value
        yield request

    def __repr__(self) -> str:
        return f"HeaderAuth({self._header!r}, '***')"


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
    #: settings besides base_url and limits that ``import`` copies from the source file (api_version)
    connection_settings: ClassVar[tuple[str, ...]] = ()
    #: URL path segments that carry a secret (an invitation token): *** in -v logs and emulator logs
    secret_path: ClassVar["re.Pattern[str] | None"] = None
    #: the emulator, for ``sandbox: true`` and the tests, by import path (``"package.module:Class"``):
    #: imported only when one is needed, never by a plan against the real service
    emulator: ClassVar[str | None] = None
    #: the class ``emulator`` names, imported on first use (the engine reads this; a provider may
    #: set it to the class itself instead of ``emulator``)
    emulator_class: ClassVar[type["Emulator"] | None] = _EmulatorClass()  # type: ignore[assignment]
    #: the error raised for an error answer (its ``from_response`` reads the service's error shape)
    Error: ClassVar[type[ProviderError]] = ProviderError
    #: a delete refused with one of these statuses, or ``Error.code``s, finds the thing already
    #: gone: the applier counts it as done
    gone_statuses: ClassVar[frozenset[int]] = frozenset({404})
    gone_codes: ClassVar[frozenset[str]] = frozenset()

    #: ``kind``'s answers by kind name, per class (``kinds`` is declared per class)
    _kind_specs: ClassVar[dict[str, KindSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._kind_specs = {}

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

    # ---- requests (plumbing: use, rarely override) --------------------------------------
    def failed(self, response: httpx.Response) -> bool:
        """Is this answer an error? Override where a service says so in a 200's body."""
        return response.status_code >= 400

    def unwrap(self, body: Any) -> Any:
        """The payload of a successful JSON answer (override to strip an envelope)."""
        return body

    async def request(self, method: str, path: str, *, ok: Iterable[int] | None = None,
                      **kwargs: Any) -> httpx.Response:
        """Send one request; raise ``Error`` for an error answer (any status not in ``ok``, when
        given; otherwise what ``failed`` says)."""
        response = await self.client.request(method, path, **kwargs)
        bad = response.status_code not in set(ok) if ok is not None else self.failed(response)
        if bad:
            raise self.Error.from_response(response)
        return response

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request`` and the answer's JSON payload (``None`` for an empty answer)."""
        response = await self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return self.unwrap(json_of(response))
        except ValueError:
            raise self.Error(f"{self.name} answered {method} {path} with something that is not JSON "
                             f"(HTTP {response.status_code})", status=response.status_code) from None

    async def read(self, path: str, *, what: str | None = None, shape: type = dict, **kwargs: Any) -> Any:
        """One answer that ``fetch`` cannot do without (the team, the signed-in user): any failure,
        or an answer that is not a ``shape``, is an ``IncompleteRead``."""
        try:
            body = await self.call("GET", path, **kwargs)
        except (ProviderError, httpx.HTTPError) as exc:
            raise IncompleteRead(f"reading {what or path} failed: {exc}") from exc
        if not isinstance(body, shape):
            raise IncompleteRead(f"{self.name}: {what or path} answered {type(body).__name__}, "
                                 f"not {shape.__name__}")
        return body

    async def find(self, path: str, *, missing: Iterable[int] = (404,), **kwargs: Any) -> Any | None:
        """One resource's payload, or ``None`` when the service says it does not exist (a read-back
        after a lost answer)."""
        try:
            return await self.call("GET", path, **kwargs)
        except ProviderError as exc:
            if exc.status in set(missing):
                return None
            raise

    async def pages(self, path: str, paging: Paging, *, params: dict[str, Any] | None = None,
                    what: str | None = None, ok: Iterable[int] | None = None) -> list[Any]:
        """Every item of a paged list, or ``IncompleteRead``: a failed page, an answer of the wrong
        shape, a list that stops short of its count or never ends. Never a partial list.

        Where the first answer gives the count, and the second shows the service pages as asked,
        the pages after them are asked for ahead, ``limits.concurrency`` at a time, up to the
        count; each is still taken in order, through the same checks, and only if it was asked
        for with the very query the loop would send now (a short page moves the offsets: the
        pages asked for ahead are dropped and asked for again)."""
        items: list[Any] = []
        seen_pages: list[list[Any]] = []
        what = what or path
        ahead: dict[int, tuple[dict[str, Any], asyncio.Task[Any]]] = {}  # page index -> (query, answer)
        count = size = 0  # pages in all and the first page's length, once the first answer gives a count

        def query(index: int, seen: int) -> dict[str, Any]:
            return {**(params or {}), **paging.params(index, seen)}

        try:
            while True:
                index = len(seen_pages)
                asked = query(index, len(items))
                early = ahead.pop(index, None)
                if early is not None and early[0] != asked:
                    _cancel(ahead)
                    early = None
                try:
                    body = await (early[1] if early else self.call("GET", path, params=asked, ok=ok))
                    page = paging.parse(body)
                except (ProviderError, httpx.HTTPError) as exc:
                    raise IncompleteRead(f"reading {what} stopped at page {index + 1}, after {len(items)} "
                                         f"items: {exc}", status=getattr(exc, "status", None)) from exc
                except (KeyError, TypeError, ValueError) as exc:
                    raise IncompleteRead(f"{self.name}: {what} answered in an unexpected shape ({exc})") from exc
                items += page.items
                seen_pages.append(page.items)
                try:
                    if not next_step(paging, page, seen_pages, len(items)):
                        return items
                except Shortfall as exc:
                    raise IncompleteRead(f"reading {what}: {exc}") from None
                if index == 0:
                    count, size = page_count(page) or 0, len(page.items)
                elif count:
                    for later in range(index + 1, min(count, index + 1 + self.settings.limits.concurrency)):
                        if later not in ahead:
                            q = query(later, later * size)
                            ahead[later] = (q, asyncio.ensure_future(self.call("GET", path, params=q, ok=ok)))
        finally:
            _cancel(ahead)

    # ---- the state file, and the engine's decisions --------------------------------------
    def wanted(self, entries: Sequence[Any], attrs: Callable[[Any], dict[str, Any]], *,
               field: str = "members") -> dict[str, dict[str, Any]]:
        """One ``{attr: value}`` per lower-cased email for a list of ``who:`` entries (groups
        expanded; a person named directly wins over a group)."""
        return expand(entries, self.ctx.directory, attrs=attrs, where=f"services.{self.ctx.instance}.{field}")

    def spelling(self, email: str) -> str:
        """The people directory's spelling of an email (for display and for the service)."""
        return self.ctx.directory.spelling.get(email, email)

    def acting_identity(self, live: State) -> str | None:
        """The email teamform acts as (the API key's owner, the logged-in user), as the service
        told ``fetch`` (a whoami answer kept in ``live.facts``); ``None`` where the API cannot
        tell. The engine owns the lockout guard: this identity (and ``policy.identity``) is never
        removed, demoted, suspended or replaced. Default: the ``identity`` fact."""
        identity = live.facts.get("identity")
        return identity if isinstance(identity, str) and identity else None

    def protected(self, live: State) -> dict[str, str]:
        """People never removed, demoted or suspended, with why: ``policy.protect``, the identity
        teamform acts as and ``policy.identity``. The planner enforces it; a provider reads it where
        the service's own rules depend on who stays (an admin who sees every application)."""
        from ..plan.policy import protected_people

        return protected_people(self.ctx.policy, self.ctx.directory, live, self.acting_identity(live))

    def ignored(self, resource: "Resource") -> bool:
        """Does ``policy.ignore`` leave this live resource alone?"""
        from ..plan.policy import is_ignored

        return is_ignored(resource, self.ctx.policy)

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

    def check(self, desired: State, live: State) -> Iterable[Finding]:
        """Plan-time findings the generic planner cannot know (billing rules, unknown groups)."""
        return ()

    def edges(self, ops: Sequence["Operation"]) -> Iterable[tuple[str, str]]:
        """Extra ordering ``(first_id, then_id)`` beyond references, capacity and guards."""
        return ()

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: "Operation") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def replace(self, op: "Operation") -> None:
        """Default replace: delete the live thing (already gone is fine), then create the desired one."""
        from ..plan.ops import Operation

        delete = Operation.derive(op, "delete")
        try:
            await self.apply(delete)
        except ProviderError as exc:
            if not self.is_gone(delete, exc):
                raise
        await self.apply(Operation.derive(op, "create"))

    def is_gone(self, op: "Operation", exc: BaseException) -> bool:
        """Does this error say a delete found its target already gone (done, not failed)?"""
        return op.action == "delete" and isinstance(exc, ProviderError) and (
            exc.status in self.gone_statuses or (exc.code is not None and exc.code in self.gone_codes))

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

    def export_people(self, live: State) -> dict[str, dict[str, str]]:
        """Names the service holds, by email (``name``, ``first_name``, ``last_name``), for the
        people directory ``import`` writes; by default those attributes of resources about a person."""
        names = ("name", "first_name", "last_name")
        out: dict[str, dict[str, str]] = {}
        for r in live:
            if r.person:
                out.setdefault(r.person, {}).update(
                    {k: r.attrs[k] for k in names if isinstance(r.attrs.get(k), str) and r.attrs[k]})
        return out

    def kind(self, name: str) -> KindSpec:
        spec = self._kind_specs.get(name)  # asked per resource: looked up once per kind
        if spec is None:
            spec = self._kind_specs[name] = next((s for s in self.kinds if s.name == name), None) or KindSpec(name=name)
        return spec
