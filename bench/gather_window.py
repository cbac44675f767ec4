"""How many bulk calls invitations take when each waits on a different leaver's seat (Krisp,
seats full: 47 people leave, 47 join; each invitation needs the seat one removal frees).

    .venv/bin/python bench/gather_window.py [--latency 0.01] [--concurrency 4]

Prints the invitations, how many distinct removals they wait on, and the invite calls the apply
sent. Before batches gathered over a short window, a call took only the invitations ready at the
same instant (13 calls at 10 ms latency, concurrency 4); one call could take all 47."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from scale_data import live_states  # noqa: E402 - after the path is set

from teamform.provider.registry import installed  # noqa: E402
from teamform.session import Session  # noqa: E402
from teamform.testing import load  # noqa: E402

LEAVERS = 47


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latency", type=float, default=0.01)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    state = live_states(200)["krisp"]
    live = [seat["user"]["email"] for seat in state["seats"]]
    staying, new = live[:len(live) - LEAVERS], [f"new{i}@example.com" for i in range(LEAVERS)]
    doc = {"version": 1, "people": {e: {"name": e.split("@")[0]} for e in live + new},
           "services": {"krisp": {"provider": "krisp", "sandbox": True, "policy": {"max_removals": "100%"},
                                  "limits": {"requests_per_minute": 100_000, "concurrency": args.concurrency},
                                  "seats": {"standard": len(live)},
                                  "members": [{"who": e, "role": "Admin" if i == 0 else "User"}
                                              for i, e in enumerate(staying + new)]}}}
    config = load(yaml.safe_dump(doc, sort_keys=False), providers=installed())
    emulator = installed()["krisp"].emulator_class(state=state)
    emulator.rate_limit = None
    emulator.latency = args.latency

    async def run() -> None:
        async with Session(config, emulators={"krisp": emulator}, environ={}) as session:
            plan, _ = await session.make_plan()
            assert not plan.errors, plan.errors
            creates = [op for op in plan.operations if op.action == "create"]
            waits = len({dep for op in creates for dep in op.depends_on})
            sent = len(emulator.log)
            report = await session.apply(plan)
            calls = [e for e in emulator.log[sent:] if e.method == "POST" and "invite" in e.path]
            print(f"{len(creates)} invitations waiting on {waits} removals: {len(calls)} invite calls "
                  f"(ok={report.ok}, {report.seconds}s)")

    asyncio.run(run())


if __name__ == "__main__":
    main()
