"""Helpers for testing providers against their emulators, in process (no sockets).

Third-party providers can use them too::

    config = load(STATE_FILE_TEXT)
    emulator = MyEmulator(state)
    plan, report = await plan_apply(config, {"mysvc": emulator})
"""

from __future__ import annotations

import textwrap
from typing import Any, Iterable, Mapping

import yaml

from .. import config as cfg
from ..apply import Report
from ..emulator import Emulator
from ..session import Session
from ..plan import Plan


async def no_sleep(_seconds: float) -> None:
    """Retries and backoff without waiting (pass as ``sleep=``)."""


class ManualClock:
    """A clock (pass as ``clock=``) that moves only when a test sets or advances ``now``."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def state_file(people: Iterable[str], services: Mapping[str, Mapping[str, Any]]) -> str:
    """The text of a state file with these people (no names) and service sections."""
    doc = {"version": 1, "people": {email: {} for email in people},
           "services": {name: dict(section) for name, section in services.items()}}
    return yaml.safe_dump(doc, sort_keys=False)


def load(text: str, file: str = "teams.yaml", providers: Mapping[str, type] | None = None) -> cfg.Config:
    """A state file's text, validated (``providers``: instead of the installed ones, e.g. ``FAKE``)."""
    return cfg.load(textwrap.dedent(text), file, providers)


async def make_plan(config: cfg.Config, emulators: Mapping[str, Emulator], *, services=None,
                    allow_mass_removal: bool = False, environ: Mapping[str, str] | None = None,
                    today=None) -> Plan:
    """A plan (``today``: the day it is made on, for the invitation upkeep; UTC today by default)."""
    async with Session(config, services, emulators=emulators, sleep=no_sleep, environ=environ or {}) as s:
        plan, _ = await s.make_plan(allow_mass_removal=allow_mass_removal, today=today)
        return plan


async def plan_apply(config: cfg.Config, emulators: Mapping[str, Emulator], *, services=None,
                     allow_mass_removal: bool = False, environ: Mapping[str, str] | None = None, today=None
                     ) -> tuple[Plan, Report]:
    """Plan, refuse if the plan has errors, apply; return both."""
    async with Session(config, services, emulators=emulators, sleep=no_sleep, environ=environ or {}) as s:
        plan, _ = await s.make_plan(allow_mass_removal=allow_mass_removal, today=today)
        assert not plan.errors, plan.errors
        report = await s.apply(plan)
        return plan, report


async def converge(config: cfg.Config, emulators: Mapping[str, Emulator], **kw) -> Plan:
    """Plan and apply, then return the next plan (which should be empty)."""
    await plan_apply(config, emulators, **kw)
    return await make_plan(config, emulators, **kw)


def count_in_flight(emulator: Emulator, hold: float = 0.01) -> list[int]:
    """Wrap ``emulator``'s app to count requests served at once (each held ``hold`` seconds, so
    overlapping ones do overlap); the returned list's one item is the peak seen so far."""
    import asyncio

    inflight, peak = [0], [0]
    app = emulator.app

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        inflight[0] += 1
        peak[0] = max(peak[0], inflight[0])
        await asyncio.sleep(hold)
        try:
            await app(scope, receive, send)
        finally:
            inflight[0] -= 1

    emulator.app = counting
    return peak
