"""Fuzz what teamform reads from outside, on demand (the suite runs a quick version of each).

    .venv/bin/python bench/fuzz.py [STATE_FILES] [ANSWER_ROUNDS] [PLAN_FILES] [PLAN_FILES_APPLIED]

Defaults: 10,000 mutated state files, 300 rounds of corrupted answers (one case per service a
round), 10,000 fuzzed plan files (the first 1,000 that load are applied to a fresh sandbox each,
and nothing may change beyond a plan made now). Prints each tally and the first crashes; exits 1
on any crash.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import re
import sys
import time
import warnings
from pathlib import Path

from teamform import config as cfg
from teamform.model import State
from teamform.plan import planfile, stale
from teamform.render import render
from teamform.session import Session
from teamform.testing import fuzz, no_sleep

ROOT = Path(__file__).resolve().parent.parent


def _saved_plan(text: str) -> dict:
    async def make() -> dict:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            async with Session(cfg.load(text, "teams.yaml"), sandbox_dir=Path(tmp), environ={}) as s:
                plan, _ = await s.make_plan()
        return json.loads(render(plan, "json"))
    return asyncio.run(make())


def fuzz_plan_files(saved: dict, cases: int, seed: int = 0, text: str | None = None,
                    applies: int = 1000) -> fuzz.Tally:
    """Tampered plan files: each is refused with every problem located (a path into the file), or
    loads; one that loads is then applied the way ``teamform apply`` does (its state file's hash,
    the stale check with --allow-stale-unrelated) against a fresh sandbox, and every live change
    must be one a plan made now would make (the first ``applies`` of them: each takes a sandbox).
    A change beyond it counts as a crash."""
    rng = random.Random(seed)
    tally = fuzz.Tally()
    for _ in range(cases):
        doc = fuzz._corrupt(copy.deepcopy(saved), rng)
        tally.cases += 1
        started = time.monotonic()
        try:
            plan = planfile.parse(doc)
        except planfile.PlanFileError as exc:
            located = exc.problems and all(re.match(r"^\S.*?: \S", p) for p in exc.problems)
            tally.outcomes["refused (located)" if located else "refused (unlocated)"] += 1
            if not located:
                tally.crashes.append(("plan", f"a refusal without a location: {exc}"))
        except Exception as exc:  # noqa: BLE001
            tally.crashes.append(("plan", f"{type(exc).__name__}: {exc}"))
        else:
            if text is None or applies <= 0:
                tally.outcomes["valid (not applied)"] += 1
            else:
                applies -= 1
                try:
                    outcome, beyond = asyncio.run(_apply_saved(text, plan))
                    tally.outcomes[outcome] += 1
                    if beyond:
                        tally.crashes.append((json.dumps(doc)[:300], f"changed beyond a plan made now: {beyond}"))
                except Exception as exc:  # noqa: BLE001
                    tally.crashes.append((json.dumps(doc)[:300], f"apply: {type(exc).__name__}: {exc}"))
        tally.slowest = max(tally.slowest, time.monotonic() - started)
    return tally


async def _apply_saved(text: str, saved) -> tuple[str, list[str]]:
    """Apply a loaded plan file as the CLI would, in a fresh sandbox: (outcome, the live changes
    no plan made now shows)."""
    import tempfile

    config = cfg.load(text, "teams.yaml")
    if saved.state_hash != config.hash:
        return "refused: another version of the file", []
    with tempfile.TemporaryDirectory() as tmp:
        async with Session(config, sandbox_dir=Path(tmp), sleep=no_sleep, environ={}) as s:
            fresh, live = await s.make_plan()
            try:
                found = stale.check(saved, fresh, live, allow_unrelated=True)
            except stale.StalePlan:
                return "refused: stale", []
            await s.apply(found.plan)
            after = await s.fetch()
    # both ends of an operation: a rename changes the resource known by the old address too
    shown = {(op.service, str(r.ref)) for op in fresh.operations for r in (op.before, op.after) if r is not None}
    removed = {(op.service, str(op.resource.ref)) for op in fresh.operations if op.action in ("delete", "replace")}
    beyond = []
    for name, then in live.items():
        now = after.get(name)
        if not isinstance(then, State) or not isinstance(now, State):
            continue
        taken = {str(r.ref) for r in then if any((name, str(ref)) in removed for ref in r.refs)}
        a, b = then.fingerprints(), now.fingerprints()
        beyond += [f"{name}: {ref}" for ref in sorted(set(a) | set(b)) if a.get(ref) != b.get(ref)
                   and (name, ref) not in shown and ref not in taken]
    if not found.plan.operations:
        return "nothing left to apply", beyond
    return ("applied what holds" if found.skipped else "applied"), beyond


def main(argv: list[str]) -> int:
    states, rounds, plans, applies = (int(a) for a in (argv + ["10000", "300", "10000", "1000"][len(argv):]))
    text = (ROOT / "teams.example.yaml").read_text()
    warnings.simplefilter("ignore", RuntimeWarning)
    crashed = 0
    for what, run in (("state files", lambda: fuzz.fuzz_state_files(text, states, seed=1)),
                      ("answers", lambda: fuzz.fuzz_answers(cfg.load(text, "teams.yaml"), rounds, seed=1)),
                      ("plan files", lambda: fuzz_plan_files(_saved_plan(text), plans, seed=1, text=text,
                                                                    applies=applies))):
        started = time.monotonic()
        tally = run()
        print(tally.line(what), f"({time.monotonic() - started:.0f}s)")
        for source, why in tally.crashes[:5]:
            print("  crash:", why[:200], "| input:", repr(source)[:200])
        crashed += len(tally.crashes)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
