"""Orchestration: open one client per service, fetch everything at once, plan, apply.

The CLI and the tests drive teamform through ``Session``; nothing here knows a provider by name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Sequence

import httpx

from .apply import Report, Result, Settings as ApplySettings, apply_plan
from .config import Config, ConfigError, ServiceConfig, resolve_credentials
from .emulator import Emulator
from .http import RetryPolicy, open_client
from .model import Ref, State, fingerprint_of
from .plan import Operation, Plan, ServicePlan, failed_read, plan_service
from .provider import Context, Provider

SANDBOX_DIR = Path(".teamform") / "sandbox"
SANDBOX_ORIGIN = "http://127.0.0.1"


def sandbox_store(sandbox_dir: Path, service: str, provider: str) -> Path:
    """Where a sandbox service keeps its emulator's state: per service and provider, so a service
    renamed onto another provider never reads the other emulator's file."""
    return sandbox_dir / (f"{service}.json" if service == provider else f"{service}.{provider}.json")


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
            self.emulators[svc.name] = emulator
        if emulator is not None:
            inner = emulator.transport()
            base_url = SANDBOX_ORIGIN + httpx.URL(base_url).path
        limits = svc.entry.limits
        client = open_client(
            base_url, inner=inner, auth=provider.auth(), requests_per_minute=limits.requests_per_minute,
            retry=RetryPolicy(limits.retries, limits.backoff, limits.max_wait, self.sleep),
            timeout=limits.timeout, rate_limited=provider.is_rate_limited, secret_path=provider.secret_path)
        self._clients.append(client)
        provider.client = client
        return provider

    async def fetch(self) -> dict[str, State | BaseException]:
        names = list(self.providers)
        results = await asyncio.gather(*(self.providers[n].fetch() for n in names), return_exceptions=True)
        for result in results:
            if isinstance(result, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise result
        return dict(zip(names, results))

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
                plan.services.append(ServicePlan(svc.name, svc.provider, errors=[str(exc)]))
                continue
            plan.services.append(plan_service(svc.name, provider, desired, state, svc.policy,
                                              self.config.directory, allow_mass_removal=allow_mass_removal))
        return plan

    async def make_plan(self, *, allow_mass_removal: bool = False) -> tuple[Plan, dict[str, State | BaseException]]:
        live = await self.fetch()
        return self.plan(live, allow_mass_removal=allow_mass_removal), live

    async def apply(self, plan: Plan, on_result: Callable[[Result], None] | None = None) -> Report:
        services = {s.name: s for s in self.selected}
        settings = ApplySettings(
            concurrency={n: services[n].entry.limits.concurrency for n in self.providers},
            attempts={n: services[n].entry.limits.retries for n in self.providers},
            sleep=self.sleep,
        )
        runnable = Plan(services=[s for s in plan.services if not s.errors and s.name in self.providers],
                        state_file=plan.state_file, state_hash=plan.state_hash)
        return await apply_plan(runnable, self.providers, settings, on_result)


def stale_operations(plan: Plan, live: Mapping[str, State | BaseException]) -> tuple[list[str], list[str]]:
    """Compare a saved plan with the live state now: (changes seen, ids of operations whose
    own preconditions no longer hold)."""
    changes: list[str] = []
    stale: list[str] = []
    for sp in plan.services:
        state = live.get(sp.name)
        if isinstance(state, BaseException) or state is None:
            changes.append(f"{sp.name}: live state could not be read ({state})")
            stale += [op.id for op in sp.operations]
            continue
        now = state.fingerprints()
        named: set[str] = set()
        if fingerprint_of(now) != sp.live_fingerprint:
            seen = _changed_resources(sp.live_resources, now)
            named = {ref for ref, _ in seen}
            changes += [f"{sp.name}: {ref} {how}" for ref, how in seen] or [
                f"{sp.name}: live state changed since the plan was made"]
        for op in sp.operations:
            for ref, fingerprint in op.precondition.items():
                kind, _, key = ref.partition("[")
                current = state.get(Ref(kind, key[:-1]))
                now = "absent" if current is None else "present" if fingerprint == "present" else current.fingerprint()
                if now != fingerprint:
                    if ref not in named:
                        changes.append(f"{sp.name}: {ref} changed")
                    stale.append(op.id)
                    break
    return list(dict.fromkeys(changes)), stale


def unsafe_now(saved: Plan, fresh: Plan) -> list[str]:
    """Ids of saved operations that the plan made now would not run as saved: their service cannot
    be planned now, that plan leaves them out, or it orders them after something the saved plan
    does not do (live state moved a guard: the other owner a saved demotion relied on is gone)."""
    now = {op.id: op for op in fresh.operations}
    saved_ids = {op.id for op in saved.operations}
    broken = {sp.name for sp in fresh.services if sp.errors}  # unread, or refused now: none of it runs
    return [op.id for op in saved.operations if op.service in broken
            or op.id not in now or any(d not in saved_ids for d in now[op.id].depends_on)]


def drop_stale(plan: Plan, stale: list[str], fresh: Plan | None = None) -> list[Operation]:
    """Take the stale operations, and everything that depends on one (in the saved plan, or in
    ``fresh``, the plan made now), out of ``plan``; return what was taken out, in plan order."""
    gone = set(stale)
    needs = {op.id: set(op.depends_on) for op in plan.operations}
    for op in fresh.operations if fresh is not None else ():
        needs.setdefault(op.id, set()).update(op.depends_on)
    changed = True
    while changed:  # dependencies may point forward across services' lists: repeat to a fixed point
        changed = False
        for op_id, deps in needs.items():
            if op_id not in gone and deps & gone:
                gone.add(op_id)
                changed = True
    dropped: list[Operation] = []
    for sp in plan.services:
        dropped += [op for op in sp.operations if op.id in gone]
        sp.operations = [op for op in sp.operations if op.id not in gone]
    return dropped


def _changed_resources(then: Mapping[str, str], now: Mapping[str, str]) -> list[tuple[str, str]]:
    """(ref, how) for the live resources added, removed or changed since a plan recorded ``then``."""
    if not then:
        return []
    out = [(ref, "appeared") for ref in sorted(set(now) - set(then))]
    out += [(ref, "is gone") for ref in sorted(set(then) - set(now))]
    out += [(ref, "changed") for ref in sorted(set(now) & set(then)) if now[ref] != then[ref]]
    return out
