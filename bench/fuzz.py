"""Fuzz what teamform reads from outside, on demand (the suite runs a quick version of each).

    .venv/bin/python bench/fuzz.py [STATE_FILES] [ANSWER_ROUNDS] [PLAN_FILES]

Defaults: 10,000 mutated state files, 300 rounds of corrupted answers (one case per service a
round), 10,000 fuzzed plan files. Prints each tally and the first crashes; exits 1 on any crash.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import sys
import time
import warnings
from pathlib import Path

from teamform import config as cfg
from teamform.plan import planfile
from teamform.render import render
from teamform.session import Session
from teamform.testing import fuzz

ROOT = Path(__file__).resolve().parent.parent


def _saved_plan(text: str) -> dict:
    async def make() -> dict:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            async with Session(cfg.load(text, "teams.yaml"), sandbox_dir=Path(tmp), environ={}) as s:
                plan, _ = await s.make_plan()
        return json.loads(render(plan, "json"))
    return asyncio.run(make())


def fuzz_plan_files(saved: dict, cases: int, seed: int = 0) -> fuzz.Tally:
    rng = random.Random(seed)
    tally = fuzz.Tally()
    for _ in range(cases):
        doc = fuzz._corrupt(copy.deepcopy(saved), rng)
        tally.cases += 1
        try:
            planfile.parse(doc)
            tally.outcomes["valid"] += 1
        except planfile.PlanFileError:
            tally.outcomes["refused"] += 1
        except Exception as exc:  # noqa: BLE001
            tally.crashes.append(("plan", f"{type(exc).__name__}: {exc}"))
    return tally


def main(argv: list[str]) -> int:
    states, rounds, plans = (int(a) for a in (argv + ["10000", "300", "10000"][len(argv):]))
    text = (ROOT / "teams.example.yaml").read_text()
    warnings.simplefilter("ignore", RuntimeWarning)
    crashed = 0
    for what, run in (("state files", lambda: fuzz.fuzz_state_files(text, states, seed=1)),
                      ("answers", lambda: fuzz.fuzz_answers(cfg.load(text, "teams.yaml"), rounds, seed=1)),
                      ("plan files", lambda: fuzz_plan_files(_saved_plan(text), plans, seed=1))):
        started = time.monotonic()
        tally = run()
        print(tally.line(what), f"({time.monotonic() - started:.0f}s)")
        for source, why in tally.crashes[:5]:
            print("  crash:", why[:200], "| input:", repr(source)[:200])
        crashed += len(tally.crashes)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
