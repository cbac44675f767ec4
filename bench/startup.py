"""How fast the command answers before it does any work: `teamform --help`, the shell asking
for completions (a subcommand name, and `--service` names read from a state file), and the
imports every plan makes before it reads the file (the providers, the session, the renderers).

    .venv/bin/python bench/startup.py [--runs 9] [--teamform PATH] [--file teams.example.yaml]

Each figure is one whole process, started as the shell starts it (the console script, so the
interpreter's own start is counted), run ``--runs`` times after one warm-up; the median, the
fastest and the slowest are printed. ``--teamform`` times another installation (e.g. a venv with
``main`` installed), so one run of this script on each prints before and after. The bytecode of
teamform and its providers is written first (``bytecode.py``), as a real install has it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bytecode import write_bytecode  # bench/ is the script's own directory

ROOT = Path(__file__).resolve().parent.parent
#: what ``teamform plan`` imports before it reads the state file
PLAN_IMPORTS = "from teamform.provider import installed; installed(); import teamform.session, teamform.render"


def _complete(words: str, cword: int) -> dict[str, str]:
    """The environment bash's completion script sets for one Tab press (click's protocol)."""
    return {"_TEAMFORM_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}


def time_once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=60)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--teamform", default=str(Path(sys.executable).parent / "teamform"),
                        help="the console script to time (default: the one beside this interpreter)")
    parser.add_argument("--file", default="teams.example.yaml", help="the state file whose services complete")
    args = parser.parse_args()
    binary = args.teamform if os.path.exists(args.teamform) else shutil.which("teamform")
    if not binary:
        sys.exit("no teamform console script found; pass --teamform PATH")
    python = str(Path(binary).parent / "python")
    write_bytecode(python)
    cases = [
        ("teamform --help", [binary, "--help"], {}),
        ("Tab: teamform pl<TAB>", [binary], _complete("teamform pl", 1)),
        (f"Tab: teamform plan -f {args.file} --service <TAB>", [binary],
         _complete(f"teamform plan -f {args.file} --service ", 5)),
        ("imports of a plan (providers, session, render)", [python, "-c", PLAN_IMPORTS], {}),
    ]
    print(f"{binary}: {args.runs} runs each after one warm-up, seconds (median, fastest, slowest)")
    for name, cmd, env in cases:
        _, shown = time_once(cmd, env, ROOT)  # warm-up: the disk cache, .pyc files
        times = sorted(time_once(cmd, env, ROOT)[0] for _ in range(args.runs))
        answer = " ".join(line.split(",")[-1] for line in shown.splitlines()[:6]) if env else ""
        print(f"  {name:<58} median {statistics.median(times):.3f}  min {times[0]:.3f}  max {times[-1]:.3f}"
              + (f"   -> {answer}" if answer else ""))


if __name__ == "__main__":
    main()
