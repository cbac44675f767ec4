"""The engine's tests run on the fake provider: a service with a seat pool, an Admin guard, a plan
that cannot change in place, pending members, paging and a bulk create, and none of a real
service's quirks. These helpers build its state file and emulator."""

from __future__ import annotations

from typing import Any

import yaml

from teamform.session import Session
from teamform.testing import load
from teamform.testing.fake import FAKE
from teamform.testing.fake_emulator import FakeEmulator, member

PEOPLE = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
          "erin@example.com", "frank@example.com"]


def fake_config(members: list[dict[str, Any]] | None = None, **section: Any):
    """A state file with one fake service ``svc``; ``section`` adds keys (seats, policy, limits)."""
    doc = {"version": 1, "people": {p: {"name": p.split("@")[0].title()} for p in PEOPLE},
           "groups": {"team": PEOPLE[:3]},
           "services": {"svc": {"provider": "fake", "sandbox": True, **section, "members": members or []}}}
    return load(yaml.safe_dump(doc, sort_keys=False), providers=FAKE)


def fake_emulator(*members: dict[str, Any], seats: int | None = None) -> FakeEmulator:
    """An emulator holding these members (``member(id, email, role, plan, pending)``)."""
    return FakeEmulator({"seats": len(members) + 2 if seats is None else seats, "members": list(members),
                         "next_id": 100})


async def plan_and_apply(cfg, emu, *, sleeps: list[float] | None = None, allow_mass_removal: bool = False):
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    async with Session(cfg, emulators={"svc": emu}, sleep=sleep, environ={}) as session:
        plan, _ = await session.make_plan(allow_mass_removal=allow_mass_removal)
        assert not plan.errors, plan.errors
        return plan, await session.apply(plan)


__all__ = ["PEOPLE", "fake_config", "fake_emulator", "member", "plan_and_apply", "Session"]
