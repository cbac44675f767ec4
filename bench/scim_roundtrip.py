"""Benchmark: how many requests a SCIM round trip takes, against scim2-server as a full service
and as a weak one (no Bulk, no ETags, no filtering, maxResults 10).

Run on demand (not part of the test suite):
    .venv/bin/python bench/scim_roundtrip.py [USERS GROUPS MEMBERS_PER_GROUP]   # default 1000 50 40

The round trip: plan against an empty service, apply (create every user and group, add every
member), plan again (no changes). Prints the requests each step sent, by method and path.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

import yaml

from teamform.session import Session
from teamform.testing import load
from teamform_scim import ScimEmulator


def state_file(users: int, groups: int, per_group: int) -> str:
    people = [f"p{i:04d}@example.com" for i in range(users)]
    doc = {"version": 1, "people": {p: {"name": f"Person {i} Example"} for i, p in enumerate(people)},
           "services": {"scim": {
               "provider": "scim", "sandbox": True, "base_url": "https://scim.example.com/scim/v2",
               "limits": {"requests_per_minute": 10_000_000, "concurrency": 8},
               "users": [{"who": p, "department": f"Dept {i % 7}"} for i, p in enumerate(people)],
               # each group a window of the people, so everyone is in a group or two
               "groups": {f"Group {g:02d}": [people[(g * users // groups + k) % users] for k in range(per_group)]
                          for g in range(groups)}}}}
    return yaml.safe_dump(doc, sort_keys=False)


def tally(entries) -> str:
    counts = Counter(f"{e.method} {_shape(e.path)}" for e in entries)
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _shape(path: str) -> str:
    """/scim/v2/Users/3f2a… -> /Users/{id}"""
    parts = path.split("/v2", 1)[-1].split("/")
    return "/".join(p if i < 2 else "{id}" for i, p in enumerate(parts))


async def round_trip(profile: str, users: int, groups: int, per_group: int) -> None:
    config = load(state_file(users, groups, per_group))
    emu = ScimEmulator({"Users": [], "Groups": []}, profile=profile)
    steps = []
    async with Session(config, emulators={"scim": emu}) as session:
        mark, t = len(emu.log), time.perf_counter()
        plan, _ = await session.make_plan()
        steps.append(("plan", len(plan.operations), emu.log[mark:], time.perf_counter() - t))
        mark, t = len(emu.log), time.perf_counter()
        report = await session.apply(plan)
        steps.append(("apply", len(report.results), emu.log[mark:], time.perf_counter() - t))
    assert report.ok, report.by_status("failed")[:3]
    async with Session(config, emulators={"scim": emu}) as session:
        mark, t = len(emu.log), time.perf_counter()
        again, _ = await session.make_plan()
        steps.append(("plan again", len(again.operations), emu.log[mark:], time.perf_counter() - t))
    assert not again.operations, "the round trip did not converge"
    total = sum(len(entries) for _, _, entries, _ in steps)
    print(f"{profile}: {users} users, {groups} groups of {per_group}: {total} requests in all")
    for name, ops, entries, seconds in steps:
        print(f"  {name:<10} {len(entries):>5} requests  {ops:>5} operations  {seconds:6.1f}s   {tally(entries)}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [1000, 50, 40]
    for profile in ("full", "weak"):
        asyncio.run(round_trip(profile, *args))
