"""How fast the five emulators serve a large plan, and how many requests it takes.

    .venv/bin/python bench/emulators.py 10000 [--python before=OTHER_VENV/bin/python] [--repeat 3]

For each N it builds the same organization as ``bench/scale.py`` (N people in every service,
about 10 % drift), then, in a child process per interpreter (``--python`` runs another checkout,
so one run prints before and after), plans and applies it against the in-process emulators
(``httpx.ASGITransport``, no sockets, rate limits lifted) and prints, per service: the seconds
the fetch took, the seconds the apply took (the emulators serving the plan's writes), the
requests sent (reads and writes) and the operations; then the medians over ``--repeat`` runs.
A child that runs past ``--timeout`` seconds is stopped and shown as such.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def _run(n: int) -> None:
    """Child: plan and apply N people against in-process emulators; one JSON line."""
    from scale import ENV, PROVIDERS, dump, live_states, state_file
    from teamform import config as cfg
    from teamform.provider.registry import installed
    from teamform.session import Session
    from teamform.testing import no_sleep

    config = cfg.load(dump(state_file(n, {name: 1 for name in PROVIDERS})), "bench.yaml")
    emulators = {}
    for name, st in live_states(n).items():
        emu = installed()[name].emulator_class(state=st, rate_limit=None)
        emu.rate_limit = None
        emulators[name] = emu

    out: dict[str, Any] = {}

    async def main() -> None:
        async with Session(config, emulators=emulators, sleep=no_sleep, environ=ENV) as s:
            t0 = time.perf_counter()
            live = await s.fetch()
            fetch = time.perf_counter() - t0
            plan = s.plan(live, allow_mass_removal=True)
            reads = {name: len(emu.log) for name, emu in emulators.items()}
            ops = Counter(op.service for op in plan.operations)
            t0 = time.perf_counter()
            report = await s.apply(plan)
            apply = time.perf_counter() - t0
            failed = [r for r in report.results if r.status != "done"]
            out.update(fetch=fetch, apply=apply, errors=[str(e) for e in plan.errors][:3],
                       failed=len(failed), failures=[getattr(r, "message", "") for r in failed][:3],
                       services={name: {"ops": ops.get(name, 0), "reads": reads[name],
                                        "writes": len(emu.log) - reads[name]}
                                 for name, emu in emulators.items()})

    asyncio.run(main())
    print(json.dumps(out), flush=True)


def child(python: str, n: int, timeout: float) -> dict[str, Any] | None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run([python, __file__, "_run", str(n)], capture_output=True, text=True, timeout=timeout,
                              env=env)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_run":
        return _run(int(sys.argv[2]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000])
    ap.add_argument("--python", action="append", default=[], help="another interpreter to compare (label=PATH)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    pythons = [tuple(p.split("=", 1)) if "=" in p else ("other", p) for p in args.python]
    pythons.append(("this", sys.executable))
    for n in args.sizes:
        for label, python in pythons:
            runs = []
            for _ in range(args.repeat):
                row = child(python, n, args.timeout)
                if row is None:
                    print(f"{label} n={n}: stopped after {args.timeout:.0f}s (or failed)", flush=True)
                    break
                runs.append(row)
                print(f"{label} n={n}: fetch {row['fetch']:.2f}s apply {row['apply']:.2f}s "
                      f"failed {row['failed']} {row['failures'] or ''} {row['errors'] or ''}", flush=True)
            if not runs:
                continue
            last = runs[-1]["services"]
            print(f"== {label} n={n}: median of {len(runs)}: fetch {statistics.median(r['fetch'] for r in runs):.2f}s, "
                  f"apply {statistics.median(r['apply'] for r in runs):.2f}s")
            for name, s in last.items():
                print(f"   {name:<11} ops {s['ops']:>6}  reads {s['reads']:>5}  writes {s['writes']:>6}")


if __name__ == "__main__":
    main()
