"""Fault scenarios across every provider, on demand (the suite runs a few per provider through the
conformance kit): random live states and files, 20 % of requests faulted (429 with Retry-After,
503, timeouts, resets, answers lost after the write), up to three applies each.

    .venv/bin/python bench/chaos.py [SCENARIOS_PER_PROVIDER] [FAULT_RATE]

Prints, per provider: scenarios run, converged within three applies, writes no plan showed,
verdicts the faults changed, and "done" that the provider's own read-back does not show.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
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
    tally = {"run": 0, "converged": 0, "unplanned": 0, "refused": 0, "false_done": 0, "faults": 0}
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
        tally["faults"] += out.faults
    scenario()
    return tally


def main(argv: list[str]) -> int:
    scenarios = int(argv[0]) if argv else 200
    rate = float(argv[1]) if len(argv) > 1 else 0.2
    warnings.simplefilter("ignore")
    bad = 0
    for kit in kits():
        t = run(kit, scenarios, rate)
        share = 100 * t["converged"] / max(1, t["run"])
        print(f"{kit.__name__:32} {t['run']:5} scenarios, {share:5.1f}% converged in <=3 applies, "
              f"{t['unplanned']} unplanned writes, {t['refused']} changed verdicts, {t['false_done']} false done, "
              f"{t['faults']} faults injected")
        bad += t["unplanned"] + t["refused"] + (t["run"] - t["converged"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
