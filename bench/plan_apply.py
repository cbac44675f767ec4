"""Benchmark: plan and apply large Krisp rosters against the in-process emulator.

Run on demand (not part of the test suite):  .venv/bin/python bench/plan_apply.py [N ...]
Prints, per size: fetch+plan seconds, apply seconds, requests sent, operations.
"""

from __future__ import annotations

import asyncio
import sys
import time

from teamform.session import Session
from teamform.testing import load, state_file as roster
from teamform_krisp.emulator import KrispEmulator, seat


def state_file(n: int) -> str:
    members = [{"who": f"p{i}@example.com", "role": "Admin" if i == 0 else "User"} for i in range(n)]
    return roster([f"p{i}@example.com" for i in range(n)], {"krisp": {
        "provider": "krisp", "sandbox": True, "policy": {"max_removals": "100%"},
        "limits": {"requests_per_minute": 1000000, "concurrency": 8},
        "seats": {"standard": n}, "members": members}})


def emulator(n: int) -> KrispEmulator:
    # half the people are there already (two with the wrong role), a quarter of the seats are
    # held by people who left (removals that must free seats first); the rest are new
    seats = [seat(i + 1, email=f"p{i}@example.com", role="Admin" if i in (0, 1) else "User")
             for i in range(n // 2)]
    seats += [seat(n + i, email=f"gone{i}@example.com") for i in range(n // 4)]
    emu = KrispEmulator({"team": {"name": "Bench", "type": "email", "payment_type": "card"},
                         "credentials": dict(KrispEmulator.sandbox_credentials), "seats": seats,
                         "next_id": n + 10})
    emu.rate_limit = None
    return emu


async def bench(n: int) -> None:
    config = load(state_file(n))
    emu = emulator(n)
    async with Session(config, emulators={"krisp": emu}) as session:
        t0 = time.perf_counter()
        plan, _ = await session.make_plan()
        t1 = time.perf_counter()
        before = len(emu.log)
        report = await session.apply(plan)
        t2 = time.perf_counter()
        edges = sum(len(op.depends_on) for op in plan.operations)
    assert report.ok, report.by_status("failed")[:3]
    print(f"{n:>6} members  plan {t1 - t0:6.2f}s  apply {t2 - t1:6.2f}s  "
          f"{len(plan.operations):>5} ops  {edges:>6} edges  {len(emu.log) - before:>5} requests")


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000, 3000]
    for size in sizes:
        asyncio.run(bench(size))
