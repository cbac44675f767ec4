"""The session: one open client per selected service; fetch everything at once, plan, apply.

The CLI and the tests drive teamform through ``Session``; nothing here knows a provider by name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Sequence

import httpx

from .apply import Report, Result, Settings as ApplySettings, Stop, apply_plan
from .config import Config, ConfigError, ServiceConfig, resolve_credentials
from .emulator import Emulator
from .http import open_client
from .lock import Account
from .retry import RetryPolicy
from .findings import error
from .errors import IncompleteRead
from .model import DuplicateResource, State
from .plan import Plan, ServicePlan, failed_read, plan_service
from .provider.base import Context, Provider
from .sandbox import SANDBOX_DIR, SANDBOX_ORIGIN, sandbox_store

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


def select(config: Config, names: Sequence[str] | None) -> list[ServiceConfig]:
    if not names:
        return list(config.services.values())
    missing = [n for n in names if n not in config.services]
    if missing:
        from .config.loader import Problem

        known = ", ".join(config.services) or "none"
        raise UnknownService([Problem(config.file, None, None, "",
                                      f"--service {m}: no such service in the file (services: {known})")
                              for m in missing])
    return [config.services[n] for n in names]


class Session:
    """Providers with open clients for the selected services of one state file."""

    def __init__(self, config: Config, services: Sequence[str] | None = None, *,
                 sandbox_dir: Path | None = None, environ: Mapping[str, str] | None = None,
                 emulators: Mapping[str, Emulator] | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.config = config
        self.selected = select(config, services)
        self.sandbox_dir = Path(sandbox_dir) if sandbox_dir else SANDBOX_DIR
        self.environ = environ
        self.emulators: dict[str, Emulator] = dict(emulators or {})
        self.sleep = sleep or asyncio.sleep
        self.providers: dict[str, Provider] = {}
        self._clients: list[httpx.AsyncClient] = []

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
        ctx = Context(svc.name, svc.entry, credentials, self.config.directory, svc.policy, svc.sandbox)
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
            timeout=limits.timeout, rate_limited=provider.is_rate_limited, secret_path=provider.secret_path)
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
            return await provider.fetch()
        except DuplicateResource as exc:
            raise IncompleteRead(f"{provider.name} listed {exc}; refusing to plan from it") from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"no field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise IncompleteRead(f"{provider.name} answered in an unexpected shape ({what})") from exc

    def plan(self, live: Mapping[str, State | BaseException], *, allow_mass_removal: bool = False) -> Plan:
        plan = Plan(state_file=self.config.file, state_hash=self.config.hash,
                    created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        for svc in self.selected:
            provider = self.providers[svc.name]
            state = live[svc.name]
            if isinstance(state, BaseException):
                plan.services.append(failed_read(svc.name, svc.provider, state))
                continue
            try:
                desired = provider.desired(state)
            except ValueError as exc:
                plan.services.append(ServicePlan(svc.name, svc.provider, findings=[error(str(exc), code="file")]))
                continue
            plan.services.append(plan_service(svc.name, provider, desired, state, svc.policy,
                                              self.config.directory, allow_mass_removal=allow_mass_removal))
        return plan

    async def make_plan(self, *, allow_mass_removal: bool = False) -> tuple[Plan, dict[str, State | BaseException]]:
        live = await self.fetch()
        return self.plan(live, allow_mass_removal=allow_mass_removal), live

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
        return await apply_plan(runnable, self.providers, settings, on_result, stop)
