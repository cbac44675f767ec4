"""Kill points: interrupt a sandbox apply of a saved plan (the real CLI, in a subprocess) at many
random points with SIGINT or SIGKILL, then check what the next plan holds, that the journal
parses, and that resuming the saved plan finishes it.

Run on demand (not part of the test suite):

    .venv/bin/python bench/interrupt_resume.py [--points 40] [--users 200] [--example] [--seed N]

``--example`` applies teams.example.yaml (all five providers, 48 operations with dependencies)
instead of a CrankWheel roster of ``--users`` new people. Prints one line per kill point:
the signal, how many results had been printed when it was sent, what the journal recorded, what
the next plan held (``exact``: exactly the saved plan minus what the journal records as done;
``N unrecorded, N verified``: operations that had taken effect without being journaled, in
flight at a kill or done as a side effect of another (a team's owner added with the team), which
resuming verified and recorded as done; ``half replace``: a replace cut in half by a kill, whose
create half the next plan holds), and whether resuming finished it. Exits 1
if any point went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from teamform import journal as J
from teamform.cli import cli
from teamform.testing import state_file

ROOT = Path(__file__).resolve().parent.parent
TEAMFORM = str(Path(sys.executable).with_name("teamform"))


def roster(n: int) -> str:
    people = ["alice@example.com"] + [f"u{i:04d}@example.com" for i in range(n)]
    return state_file(people, {"crankwheel": {
        "provider": "crankwheel", "sandbox": True, "policy": {"authoritative": False},
        "limits": {"concurrency": 4, "requests_per_minute": 1_000_000},
        "members": [{"who": "alice@example.com", "privilege": "owner", "in_demo_pool": True}]
        + [{"who": p} for p in people[1:]]}})


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def plan_ids(name: str, state: str) -> set[str]:
    result = invoke("plan", "-f", state, "--out", name)
    assert result.exit_code == 0, result.output
    return {op["id"] for s in json.loads(Path(name).read_text())["services"] for op in s["operations"]}


def one_point(sig: signal.Signals, k: int, pause: float, state: str, latency: float) -> dict:
    saved = plan_ids("plan.json", state)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TEAMFORM_SANDBOX_LATENCY": str(latency)}
    proc = subprocess.Popen([TEAMFORM, "apply", "plan.json", "--journal", "j.jsonl"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    seen = 0
    try:
        while seen < k:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line.lstrip().startswith(("✓", "✗", "·"))
        time.sleep(pause)
        proc.send_signal(sig)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    entries = J.read("j.jsonl")
    if not entries:  # stopped before the apply began (while planning): nothing to resume
        left = plan_ids("next.json", state)
        applied = invoke("apply", "plan.json", "--journal", "j.jsonl")
        return {"signal": sig.name, "after": seen, "code": proc.returncode, "outcome": "before", "closed": True,
                "journaled": 0, "done": 0, "planned": len(saved), "next": len(left), "exact": left == saved,
                "extra": sorted(left - saved), "unrecorded": len(saved - left), "resume_code": applied.exit_code,
                "resumed_ops": 0, "links": True, "final": len(plan_ids("final.json", state)), "verified": 0,
                "halves": 0,
                "ok": left == saved and applied.exit_code == 0}
    first = entries[-1]
    done = {op["id"] for op in first["operations"] if op["status"] == "done"}
    left = plan_ids("next.json", state)
    unrecorded = saved - done - left
    row = {"signal": sig.name, "after": seen, "code": proc.returncode, "outcome": first.get("outcome"),
           "closed": first.get("closed", True), "journaled": len(first["operations"]), "done": len(done),
           "planned": len(saved), "next": len(left), "exact": left == saved - done,
           "extra": sorted(left - (saved - done)), "unrecorded": len(unrecorded)}
    resumed = invoke("apply", "plan.json", "--journal", "j.jsonl")
    after = plan_ids("final.json", state)
    last = J.read("j.jsonl")[-1]
    row.update(resume_code=resumed.exit_code, resumed_ops=len(last.get("operations") or []),
               links=last.get("resumes") == first.get("run") or first.get("outcome") == "applied",
               final=len(after), verified=resumed.output.count("already applied (live state shows it"),
               halves=resumed.output.count("  half done: "))
    # the next plan holds the saved plan minus what the journal records as done, minus what had
    # taken effect without being recorded (in flight at a kill, or done as a side effect of
    # another operation) which resuming then verifies and records as done
    # (a replace cut in half by a kill shows as the create of its second half)
    row["ok"] = (row["resume_code"] == 0 and row["final"] == 0 and len(row["extra"]) == row["halves"]
                 and row["links"] and row["unrecorded"] == row["verified"] + row["halves"]
                 and (sig == signal.SIGKILL or row["closed"]))
    if not row["ok"]:
        row["resume_output"] = resumed.output[-1500:]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=40, help="kill points, half SIGINT, half SIGKILL")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--example", action="store_true", help="teams.example.yaml instead of a roster")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per sandbox request")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    text = (ROOT / "teams.example.yaml").read_text() if args.example else roster(args.users)
    ops = 48 if args.example else args.users
    print(f"seed {args.seed}; {'teams.example.yaml' if args.example else f'{args.users} new CrankWheel users'}; "
          f"{args.points} kill points; sandbox latency {args.latency}s")
    print(f"{'#':>3} {'signal':7} {'after':>5} {'exit':>4} {'journal':>8} {'done':>5} {'next':>5} "
          f"{'next plan':40} {'resume':>6} {'final':>5}")
    failures = 0
    home = os.getcwd()
    for i in range(args.points):
        sig = signal.SIGINT if i % 2 == 0 else signal.SIGKILL
        k = rng.randint(0, max(0, ops - 2))
        work = Path(tempfile.mkdtemp(prefix="teamform-kill-"))
        (work / "teams.yaml").write_text(text)
        os.environ["TEAMFORM_LOCK_DIR"] = str(work / "locks")
        os.chdir(work)
        try:
            row = one_point(sig, k, rng.uniform(0, 0.05), "teams.yaml", args.latency)
        finally:
            os.chdir(home)
        held = ("exact: saved - done" if row["exact"] else
                f"saved - done - {row['unrecorded']} unrecorded")
        if row["verified"]:
            held += f", {row['verified']} verified"
        if row["halves"]:
            held += f", {row['halves']} half replace"
        state = "none" if row["outcome"] == "before" else "closed" if row["closed"] else "unclosed"
        print(f"{i:>3} {row['signal']:7} {row['after']:>5} {row['code']:>4} {state:>8} {row['done']:>5} "
              f"{row['next']:>5} {held:40} {'ok' if row['resume_code'] == 0 else row['resume_code']:>6} "
              f"{row['final']:>5}{'' if row['ok'] else '  <-- WRONG'}")
        if not row["ok"]:
            failures += 1
            print(json.dumps(row, indent=1)[:4000])
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{args.points - failures} of {args.points} kill points ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
