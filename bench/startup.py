"""How fast the command answers before it does any work: `teamform --help`, the shell asking
for completions (a subcommand name, and `--service` names read from a state file), and the
imports every plan makes before it reads the file (the providers, the session, the renderers),
and a plan's whole start as the command makes it (``teamform plan`` of an empty file, refused as
soon as it is read).

    .venv/bin/python bench/startup.py [--runs 9] [--teamform PATH ...] [--file teams.example.yaml]

Each figure is one whole process, started as the shell starts it (the console script, so the
interpreter's own start is counted), run ``--runs`` times after one warm-up; the median, the
fastest and the slowest wall time are printed, and the median CPU time (user + system: on a busy
machine it moves less than the wall). ``--teamform`` times another installation (e.g. a venv with
``main`` installed); given more than once, the installations take turns, run by run, so one run of
this script prints before and after under the same load. The bytecode of teamform and its
providers is written first (``bytecode.py``), as a real install has it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode import write_bytecode  # bench/ is the script's own directory

ROOT = Path(__file__).resolve().parent.parent
#: what ``teamform plan`` imports before it reads the state file
PLAN_IMPORTS = ("import teamform.cli.planapply, teamform.session, teamform.render; "
                "from teamform.provider import installed; installed()")


def _complete(words: str, cword: int) -> dict[str, str]:
    """The environment bash's completion script sets for one Tab press (click's protocol)."""
    return {"_TEAMFORM_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}


def time_once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one run, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=60)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--teamform", action="append",
                        help="a console script to time (repeatable; default: the one beside this interpreter)")
    parser.add_argument("--file", default="teams.example.yaml", help="the state file whose services complete")
    args = parser.parse_args()
    binaries = []
    for given in args.teamform or [str(Path(sys.executable).parent / "teamform")]:
        binary = given if os.path.exists(given) else shutil.which("teamform")
        if not binary:
            sys.exit(f"no teamform console script at {given}; pass --teamform PATH")
        binaries.append(binary)
        write_bytecode(str(Path(binary).parent / "python"))

    empty = tempfile.NamedTemporaryFile(suffix=".yaml")  # a state file that is refused as soon as it is read

    def cases(binary: str) -> list[tuple[str, list[str], dict[str, str]]]:
        python = str(Path(binary).parent / "python")
        return [
            ("teamform --help", [binary, "--help"], {}),
            ("Tab: teamform pl<TAB>", [binary], _complete("teamform pl", 1)),
            (f"Tab: teamform plan -f {args.file} --service <TAB>", [binary],
             _complete(f"teamform plan -f {args.file} --service ", 5)),
            ("imports of a plan (planapply, session, render, providers)", [python, "-c", PLAN_IMPORTS], {}),
            ("teamform plan -f <an empty file> (the command's whole start)", [binary, "plan", "-f", empty.name], {}),
        ]

    print(f"{args.runs} runs each after one warm-up, seconds (wall: median, fastest, slowest; CPU: median)")
    for index in range(len(cases(binaries[0]))):
        times: dict[str, list[tuple[float, float]]] = {b: [] for b in binaries}
        shown = {}
        for binary in binaries:  # warm-up: the disk cache, .pyc files
            name, cmd, env = cases(binary)[index]
            shown[binary] = time_once(cmd, env, ROOT)[2]
        for _ in range(args.runs):
            for binary in binaries:
                _, cmd, env = cases(binary)[index]
                times[binary].append(time_once(cmd, env, ROOT)[:2])
        print(f"  {name}")
        for binary in binaries:
            walls = sorted(w for w, _ in times[binary])
            cpu = statistics.median(c for _, c in times[binary])
            answer = " ".join(line.split(",")[-1] for line in shown[binary].splitlines()[:6]) if env else ""
            print(f"    {binary:<48} median {statistics.median(walls):.3f}  min {walls[0]:.3f}  max {walls[-1]:.3f}"
                  f"  cpu {cpu:.3f}" + (f"   -> {answer}" if answer else ""))


if __name__ == "__main__":
    main()
