"""Fault scenarios across every provider, on demand (the suite runs a few per provider through the
conformance kit): random live states and files, 20 % of requests faulted (429 with Retry-After,
503, timeouts, resets, answers lost after the write), up to three applies each.

    .venv/bin/python bench/chaos.py [SCENARIOS_PER_PROVIDER] [FAULT_RATE]

Prints, per provider and in all: scenarios run, converged within three applies, writes no plan
showed, values neither as they were nor as planned, verdicts the faults changed, and "done" that
the provider's own read-back does not show (with the first few of each). Exits 1 on any.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "providers")]


def kits() -> list[type]:
    from teamform.testing.conformance import ProviderConformance

    found = []
    for path in sorted([ROOT / "tests" / "test_fake_conformance.py",
                        *(ROOT / "tests" / "providers").glob("test_*_conformance.py")]):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        found += [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, ProviderConformance)
                  and v is not ProviderConformance and getattr(v, "provider", None)]
    return found


def run(kit: type, scenarios: int, rate: float) -> dict[str, int]:
    tally = {"run": 0, "converged": 0, "unplanned": 0, "refused": 0, "false_done": 0, "wrong": 0, "faults": 0}
    case = kit()

    @settings(max_examples=scenarios, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.tuples(case.live_states(), case.sections(), st.integers(0, 2**16)))
    def scenario(args: tuple) -> None:
        out = asyncio.run(case.chaos_scenario(*args, rate=rate))
        if out is None:
            return
        tally["run"] += 1
        tally["converged"] += not out.left
        tally["unplanned"] += len(out.unplanned)
        tally["refused"] += bool(out.refused)
        tally["false_done"] += len(out.false_done)
        tally["wrong"] += len(out.wrong)
        for line in out.wrong[:3] + out.false_done[:3] + out.unplanned[:3]:
            print("   ", kit.__name__, line, flush=True)
        tally["faults"] += out.faults
    scenario()
    return tally


def main(argv: list[str]) -> int:
    scenarios = int(argv[0]) if argv else 200
    rate = float(argv[1]) if len(argv) > 1 else 0.2
    warnings.simplefilter("ignore")
    bad = 0
    total: dict[str, int] = {}
    for kit in kits():
        started = time.monotonic()
        t = run(kit, scenarios, rate)
        share = 100 * t["converged"] / max(1, t["run"])
        print(f"{kit.__name__:32} {t['run']:5} scenarios, {share:5.1f}% converged in <=3 applies, "
              f"{t['unplanned']} unplanned writes, {t['wrong']} wrong values, {t['refused']} changed verdicts, "
              f"{t['false_done']} false done, {t['faults']} faults injected, {time.monotonic() - started:.0f}s",
              flush=True)
        total = {k: total.get(k, 0) + v for k, v in t.items()}
        bad += t["unplanned"] + t["wrong"] + t["refused"] + t["false_done"] + (t["run"] - t["converged"])
    share = 100 * total.get("converged", 0) / max(1, total.get("run", 0))
    print(f"{'all':32} {total.get('run', 0):5} scenarios, {share:5.1f}% converged in <=3 applies, "
          f"{total.get('unplanned', 0)} unplanned writes, {total.get('wrong', 0)} wrong values, "
          f"{total.get('refused', 0)} changed verdicts, {total.get('false_done', 0)} false done, "
          f"{total.get('faults', 0)} faults injected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
