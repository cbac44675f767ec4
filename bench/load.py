"""The load phase alone (``teamform.config.load_path``): time and peak memory, per interpreter.

    .venv/bin/python bench/load.py 10000 [--repeat 5] [--one-group] [--traced] [--python base=OTHER/bin/python]

Generates the scale bench's state file for N people once (``scale_data.state_file``), then loads
it in a fresh child per run, interleaved between interpreters (a busy moment hits both alike),
and prints each interpreter's medians: load_path's wall and CPU seconds (the providers already
imported; CPU is the steadier figure on a shared machine), the imports' CPU, the peak MiB. Each
interpreter first writes the bytecode of teamform and its providers once (``bytecode.py``), as a
real install has it, so the imports are not compiled again in every child.
``--traced``: one more child per interpreter loads under tracemalloc and prints the MiB that
load_path's result holds (retained) and the most its allocations held at once (traced peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode import write_bytecode  # bench/ is the script's own directory
from scale_data import PROVIDERS, dump, state_file


def _traced(path: str) -> None:
    import gc
    import tracemalloc

    from teamform import config as cfg
    from teamform.provider.registry import installed

    installed()
    tracemalloc.start()
    config = cfg.load_path(path)  # noqa: F841 - held while measured
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"retained_mib": retained / 2**20, "traced_peak_mib": peak / 2**20}))


def _child(path: str) -> None:
    c0 = time.process_time()
    from teamform import config as cfg
    from teamform.provider.registry import installed

    installed()  # the providers' imports, apart: the load phase of scale.py counts them too
    c1, t1 = time.process_time(), time.perf_counter()
    cfg.load_path(path)
    c2, t2 = time.process_time(), time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": t2 - t1, "cpu": c2 - c1, "imports_cpu": c1 - c0, "peak_mib": peak}))


def _generate(n: str, path: str, one_group: str) -> None:
    ports = {name: 8000 + i for i, name in enumerate(PROVIDERS)}
    Path(path).write_text(dump(state_file(int(n), ports, one_group=bool(one_group))))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        return _child(sys.argv[2])
    if len(sys.argv) > 2 and sys.argv[1] == "_traced":
        return _traced(sys.argv[2])
    if len(sys.argv) > 2 and sys.argv[1] == "_generate":
        return _generate(*sys.argv[2:5])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--one-group", action="store_true")
    ap.add_argument("--traced", action="store_true", help="also the MiB retained and traced peak (tracemalloc)")
    ap.add_argument("--python", action="append", default=[], help="another interpreter (label=PATH)")
    args = ap.parse_args()
    pythons = [tuple(p.split("=", 1)) for p in args.python] + [("this", sys.executable)]
    for _, python in pythons:
        write_bytecode(python)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "teams.yaml"
        # generated in a child: a process started from this one would inherit its peak memory
        subprocess.run([sys.executable, __file__, "_generate", str(args.n), str(path),
                        "1" if args.one_group else ""], check=True)
        print(f"{args.n} people, {path.stat().st_size / 1e6:.1f} MB", flush=True)
        runs: dict[str, list[dict]] = {label: [] for label, _ in pythons}
        for _ in range(args.repeat):
            for label, python in pythons:
                out = subprocess.run([python, __file__, "_child", str(path)], capture_output=True, text=True)
                if out.returncode:
                    sys.exit(f"[{label}] failed:\n{out.stderr[-3000:]}")
                runs[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for label, rows in runs.items():
            def median(key: str) -> float:
                return statistics.median(r[key] for r in rows)
            print(f"{label:>8}: load_path {median('seconds'):.3f} s wall, {median('cpu'):.3f} s CPU (medians of "
                  f"{len(rows)}; CPU {' '.join(format(r['cpu'], '.2f') for r in rows)}); imports before it "
                  f"{median('imports_cpu'):.3f} s CPU; peak {median('peak_mib'):.0f} MiB", flush=True)
        for label, python in pythons if args.traced else ():
            out = subprocess.run([python, __file__, "_traced", str(path)], capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"[{label}] failed:\n{out.stderr[-3000:]}")
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{label:>8}: retained {row['retained_mib']:.1f} MiB, traced peak {row['traced_peak_mib']:.1f} MiB "
                  "(tracemalloc)", flush=True)


if __name__ == "__main__":
    main()
