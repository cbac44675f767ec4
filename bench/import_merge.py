"""`teamform import` at N people: the time to merge live state into the state file (round-trip
YAML: load, merge, dump), apart from reading the services.

The file is bench/scale.py's state file; live state is the same file with 4 % of the people new,
3 % gone and 3 % with another role, as that bench's drift. Prints seconds per phase, median of
--repeat runs.

    .venv/bin/python bench/import_merge.py 1000 10000
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import dump, email, state_file  # noqa: E402

from teamform.config.schema import Directory  # noqa: E402
from teamform.import_merge import _yaml, merge_text  # noqa: E402

PORTS = {name: 1 for name in ("krisp", "crankwheel", "teamsapi", "debrief", "workdrive")}
COMMON = ("provider", "sandbox", "base_url", "limits", "credentials", "policy")


def live_of(doc: dict, n: int) -> tuple[dict, dict]:
    """(people, exported sections) as an import of drifted live state would give them."""
    gone = {email(i) for i in range(n) if i % 33 == 7}
    new = [email(i) for i in range(n, n + n * 4 // 100)]
    changed = {email(i) for i in range(n) if i % 33 == 5}
    people = {e: f for e, f in doc["people"].items() if e not in gone}
    people.update({e: {"name": f"New {e}"} for e in new})
    sections = {}
    for name, svc in doc["services"].items():
        out = {k: v for k, v in svc.items() if k not in COMMON}
        for key in ("members", "users"):
            if key in out:
                rows = [dict(r) for r in out[key] if r["who"] not in gone]
                for r in rows:
                    if r["who"] in changed and "role" in r:
                        r["role"] = "Admin" if r["role"] != "Admin" else "User"
                out[key] = rows + [{"who": e, **({"role": "User"} if name == "krisp" else {})} for e in new]
        sections[name] = out
    return people, sections


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'people':>8} {'file KiB':>9} {'load s':>8} {'dump s':>8} {'merge (all) s':>14} {'again s':>8}")
    for n in args.sizes:
        doc = state_file(n, PORTS)
        text = dump(doc)
        people, sections = live_of(doc, n)
        loads, dumps, merges, agains = [], [], [], []
        for _ in range(args.repeat):
            yaml = _yaml(text)
            t = time.perf_counter()
            data = yaml.load(text)
            loads.append(time.perf_counter() - t)
            t = time.perf_counter()
            yaml.dump(data, io.StringIO())
            dumps.append(time.perf_counter() - t)
            t = time.perf_counter()
            merged = merge_text(text, people, sections, {}, {}, Directory())
            merges.append(time.perf_counter() - t)
            t = time.perf_counter()
            again = merge_text(merged, people, sections, {}, {}, Directory())
            agains.append(time.perf_counter() - t)
            assert again == merged, "a second merge changes nothing"
        med = statistics.median
        print(f"{n:>8} {len(text) / 1024:>9.0f} {med(loads):>8.2f} {med(dumps):>8.2f} {med(merges):>14.2f} "
              f"{med(agains):>8.2f}")


if __name__ == "__main__":
    main()
