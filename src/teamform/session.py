"""The session: one open client per selected service; fetch everything at once, plan, apply.

The CLI and the tests drive teamform through ``Session``; nothing here knows a provider by name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import datetime as dt
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence

import httpx

from .apply import Report, Result, Settings as ApplySettings, Stop, apply_plan
from .config import Config, ConfigError, Problem, ServiceConfig, resolve_credentials
from .http import Wait, open_client
from .lock import Account
from .retry import RetryPolicy
from .findings import error
from .gcpause import collector_paused
from .errors import IncompleteRead
from .journal import secret_values
from .model import DuplicateResource, State
from .redact import Redactor
from .plan import Plan, ServicePlan, failed_read, plan_service
from .provider.base import Context, Provider
from .sandbox import SANDBOX_DIR, SANDBOX_ORIGIN, sandbox_store

if TYPE_CHECKING:  # pragma: no cover - an emulator is imported only where a sandbox uses one
    from .emulator import Emulator

#: seconds each request to a sandbox emulator takes (a float; unset: none), to try Ctrl-C and the
#: lock on an apply slow enough to interrupt
SANDBOX_LATENCY_ENV = "TEAMFORM_SANDBOX_LATENCY"


def sandbox_latency() -> float:
    try:
        return max(0.0, float(os.environ.get(SANDBOX_LATENCY_ENV) or 0))
    except ValueError:
        return 0.0


class UnknownService(ConfigError):
    pass


def unknown_service(config: Config, name: str) -> str:
    """What to say about ``--service NAME`` that the file does not have (with the likely one)."""
    import difflib

    close = difflib.get_close_matches(name, list(config.services), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    known = ", ".join(config.services) or "none"
    return f"--service {name}: no such service in {config.file}{hint} (services: {known})"


def select(config: Config, names: Sequence[str] | None) -> list[ServiceConfig]:
    if not names:
        return list(config.services.values())
    missing = [n for n in names if n not in config.services]
    if missing:
        from .config.loader import Problem

        raise UnknownService([Problem(config.file, None, None, "", unknown_service(config, m)) for m in missing])
    return [config.services[n] for n in names]


class Session:
    """Providers with open clients for the selected services of one state file."""

    def __init__(self, config: Config, services: Sequence[str] | None = None, *,
                 sandbox_dir: Path | None = None, environ: Mapping[str, str] | None = None,
                 emulators: Mapping[str, Emulator] | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 today: dt.date | None = None) -> None:
        self.config = config
        #: the day plans are made for (offboarding stages, expiry): injectable, so a plan is the
        #: same on any machine on the same day and tests never depend on the clock
        self.today = today or plan_date(environ)
        self.directory = config.directory.as_of(self.today)
        self.selected = select(config, services)
        self.sandbox_dir = Path(sandbox_dir) if sandbox_dir else SANDBOX_DIR
        self.environ = environ
        self.emulators: dict[str, Emulator] = dict(emulators or {})
        self.sleep = sleep or asyncio.sleep
        self.providers: dict[str, Provider] = {}
        self._clients: list[httpx.AsyncClient] = []
        #: told (service name, ``http.Wait``) when a request waits on a rate limit: the progress display
        self.on_wait: Callable[[str, Wait], None] | None = None

    async def __aenter__(self) -> "Session":
        for svc in self.selected:
            self.providers[svc.name] = self._open(svc)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for client in self._clients:
            await client.aclose()

    def _open(self, svc: ServiceConfig) -> Provider:
        cls = svc.provider_cls
        credentials = resolve_credentials(self.config, svc, self.environ)
        ctx = Context(svc.name, svc.entry, credentials, self.directory, svc.policy, svc.sandbox)
        provider = cls(ctx)
        base_url = provider.base_url()
        inner: httpx.AsyncBaseTransport | None = None
        emulator = self.emulators.get(svc.name)
        if emulator is None and svc.sandbox:
            if cls.emulator_class is None:
                raise ConfigError([self.config.doc.problem(("services", svc.name, "sandbox"),
                                                           f"provider {cls.name} has no emulator")])
            emulator = cls.emulator_class(store=sandbox_store(self.sandbox_dir, svc.name, svc.provider))
            emulator.latency = sandbox_latency()
            self.emulators[svc.name] = emulator
        if emulator is not None:
            inner = emulator.transport()
            base_url = SANDBOX_ORIGIN + httpx.URL(base_url).path
        limits = svc.entry.limits
        client = open_client(
            base_url, inner=inner, auth=provider.auth(), requests_per_minute=limits.requests_per_minute,
            retry=RetryPolicy.from_limits(limits, self.sleep),
            timeout=limits.timeout, rate_limited=_weakly(provider.is_rate_limited), secret_path=provider.secret_path,
            concurrency=limits.concurrency, on_wait=functools.partial(_waited, weakref.ref(self), svc.name))
        self._clients.append(client)
        provider.client = client
        return provider

    def accounts(self) -> list[Account]:
        """The target account of each selected service, for the apply lock: the provider, where
        it writes (the base URL; a sandbox service's emulator state file) and who it writes as
        (the credentials that identify the account; every credential when none is declared)."""
        out = []
        for svc in self.selected:
            provider = self.providers[svc.name]
            credentials = provider.ctx.credentials
            public = tuple(type(provider).public_credentials)
            identity = {k: v for k, v in credentials.items() if k in public} if public else dict(credentials)
            emulator = self.emulators.get(svc.name)
            if emulator is not None:
                where = (f"sandbox:{Path(emulator.store).resolve()}" if emulator.store is not None
                         else f"in-process emulator {id(emulator):x}")
                locator = where
            else:
                url = httpx.URL(provider.base_url())
                port = f":{url.port}" if url.port else ""
                where = f"{url.scheme}://{url.host}{port}{url.path.rstrip('/')}"
                locator = str(url.copy_with(fragment=None)).rstrip("/")
            out.append(Account(svc.name, svc.provider, where, locator, identity))
        return out

    async def fetch(self) -> dict[str, State | BaseException]:
        names = list(self.providers)
        with collector_paused(young=True, set_aside=True):
            results = await asyncio.gather(*(self._read(self.providers[n]) for n in names), return_exceptions=True)
        for result in results:
            if isinstance(result, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise result
        return dict(zip(names, results))

    @staticmethod
    async def _read(provider: Provider) -> State:
        """One service's live state; an answer the provider could not make sense of (a field of
        the wrong type, a resource listed twice) is an incomplete read, never a traceback."""
        try:
            state = await provider.fetch()
            _check_shapes(provider, state)
            return state
        except DuplicateResource as exc:
            raise IncompleteRead(f"{provider.name} listed {exc}; refusing to plan from it") from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"no field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise IncompleteRead(f"{provider.name} answered in an unexpected shape ({what})") from exc

    def plan(self, live: Mapping[str, State | BaseException], *, allow_mass_removal: bool = False,
             today: dt.date | None = None) -> Plan:
        """``today``: the day to plan for, if not the session's (offboarding stages, expiry,
        invitation upkeep)."""
        now = dt.datetime.now(dt.timezone.utc)
        directory = self.directory if today is None else self.config.directory.as_of(today)
        plan = Plan(state_file=self.config.file, state_hash=self.config.hash,
                    created=now.isoformat(timespec="seconds"))
        with collector_paused(set_aside=True):
            for svc in self.selected:
                plan.services.append(self._plan_service(svc, live[svc.name], directory, allow_mass_removal))
        for sp in plan.services:
            self._redact_service(sp)
        return plan

    def _plan_service(self, svc: ServiceConfig, state: State | BaseException, directory: Any,
                      allow_mass_removal: bool) -> ServicePlan:
        """One service's plan, or why there is none."""
        provider = self.providers[svc.name]
        if isinstance(state, BaseException):
            return failed_read(svc.name, svc.provider, state)
        try:
            desired = provider.desired(state)
        except ValueError as exc:
            return ServicePlan(svc.name, svc.provider, findings=[error(str(exc), code="file")])
        except (TypeError, KeyError, AttributeError, IndexError) as exc:
            return _unplannable(svc.name, svc.provider, exc)
        try:
            return plan_service(svc.name, provider, desired, state, svc.policy, directory,
                                allow_mass_removal=allow_mass_removal)
        except (TypeError, KeyError, AttributeError, IndexError) as exc:
            return _unplannable(svc.name, svc.provider, exc)

    @property
    def redact(self) -> Redactor:
        """Masks the credential values this session read, wherever a service echoes one back."""
        return Redactor(secret_values(self.providers.values()))

    def _redact_service(self, sp: ServicePlan) -> None:
        redact = self.redact
        if not redact.secrets:
            return
        sp.findings = [dataclasses.replace(f, message=redact.text(f.message)) for f in sp.findings]
        for op in sp.operations:
            op.warnings = redact(op.warnings)
            op.summary = redact.text(op.summary)

    async def make_plan(self, *, allow_mass_removal: bool = False, today: dt.date | None = None
                        ) -> tuple[Plan, dict[str, State | BaseException]]:
        live = await self.fetch()
        return self.plan(live, allow_mass_removal=allow_mass_removal, today=today), live

    async def apply(self, plan: Plan, on_result: Callable[[Result], None] | None = None,
                    stop: Stop | None = None) -> Report:
        services = {s.name: s for s in self.selected}
        settings = ApplySettings(
            concurrency={n: services[n].entry.limits.concurrency for n in self.providers},
            retry={n: RetryPolicy.from_limits(services[n].entry.limits, self.sleep) for n in self.providers},
            sleep=self.sleep,
        )
        runnable = Plan(services=[s for s in plan.services if not s.errors and s.name in self.providers],
                        state_file=plan.state_file, state_hash=plan.state_hash)
        redact = self.redact

        def masked(result: Result) -> None:
            result.message = redact.text(result.message)
            if on_result is not None:
                on_result(result)
        return await apply_plan(runnable, self.providers, settings, masked, stop)


def plan_date(environ: Mapping[str, str] | None = None) -> dt.date:
    """Today in UTC, or ``TEAMFORM_TODAY`` (YYYY-MM-DD) when set: a pull request's plan and the
    apply after merge can be made for one day, and tests pin it."""
    value = (os.environ if environ is None else environ).get("TEAMFORM_TODAY")
    if value:
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError([Problem("TEAMFORM_TODAY", None, None, "",
                                       f"{value!r} is not a date written YYYY-MM-DD")]) from None
    return dt.datetime.now(dt.timezone.utc).date()


def _unplannable(service: str, provider: str, exc: BaseException) -> ServicePlan:
    """A service whose answers the provider could not make sense of while planning: refused, with
    the reason, instead of a traceback that would stop every other service too."""
    return ServicePlan(service, provider, findings=[error(
        f"could not plan from what {provider} answered ({type(exc).__name__}: {exc}); nothing will be "
        "changed in this service", code="failed_read")])


SCALARS = (str, int, float, bool, type(None))


def _check_shapes(provider: Provider, state: State) -> None:
    """Attributes the planner compares by value (a role, a guarded attribute) must be plain values:
    a list or an object where the service should have said a role is an incomplete read."""
    compared: dict[str, set[str]] = {}  # kind -> those attributes (once per kind, not per resource)
    for res in state:
        if not isinstance(res.key, str) or not all(isinstance(r.key, str) for r in res.refs):
            raise IncompleteRead(f"{provider.name} answered a {res.kind} whose name or email is "
                                 f"{json.dumps(res.key, default=str)[:60]}, not text")
        attrs = compared.get(res.kind)
        if attrs is None:
            spec = provider.kind(res.kind)
            attrs = compared[res.kind] = {spec.role_attr, *(g.attr for g in spec.guards)} - {None}
        for attr in attrs:
            value = res.attrs.get(attr)
            if not isinstance(value, SCALARS):
                raise IncompleteRead(f"{provider.name} answered {attr} {json.dumps(value, default=str)[:60]} for "
                                     f"{res.label}, not a single value")


# The clients call back into their provider and the session weakly: a strong edge would make the
# session, its providers and their directory one cycle, freed only by the collector's next full
# pass (which large runs put off), not as soon as the session is dropped.
def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    ref = weakref.WeakMethod(method)
    return lambda *args: ref()(*args)  # type: ignore[misc]


def _waited(session: "weakref.ref[Session]", name: str, wait: Wait) -> None:
    owner = session()
    if owner is not None and owner.on_wait is not None:
        owner.on_wait(name, wait)
