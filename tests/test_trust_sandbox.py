"""The real CLI in subprocesses against the sandbox: two applies at once (one account from two
state files; two accounts in parallel), and SIGINT and SIGKILL at a random point of a large apply
(then the next plan holds exactly what is left, the journal parses, and resuming finishes it; a
killed run's lock is taken over). ``TEAMFORM_SANDBOX_LATENCY`` makes the applies slow enough to
interrupt; ``TEAMFORM_TEST_SEED`` replays a run's kill points."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from teamform import journal as J
from teamform.cli import cli
from teamform.testing import state_file

TEAMFORM = str(Path(sys.executable).with_name("teamform"))
SEED = int(os.environ.get("TEAMFORM_TEST_SEED") or random.randrange(1 << 30))
CONCURRENCY = 3


def roster(prefix: str, n: int, *, authoritative: bool = False) -> str:
    people = ["alice@example.com"] + [f"{prefix}{i:03d}@example.com" for i in range(n)]
    return state_file(people, {"crankwheel": {
        "provider": "crankwheel", "sandbox": True, "policy": {"authoritative": authoritative, "max_removals": "100%"},
        "limits": {"concurrency": CONCURRENCY, "requests_per_minute": 1_000_000},
        "members": [{"who": "alice@example.com", "privilege": "owner", "in_demo_pool": True}]
        + [{"who": p} for p in people[1:]]}})


class Run:
    """``teamform`` in a subprocess, its output read line by line."""

    def __init__(self, cwd: Path, *args: str, latency: float = 0.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TEAMFORM_SANDBOX_LATENCY": str(latency), "NO_COLOR": "1"}
        self.proc = subprocess.Popen([TEAMFORM, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []

    def until(self, predicate, timeout: float = 60.0) -> str:
        """Read lines until one satisfies ``predicate``; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"teamform ended first ({self.proc.wait()}):\n{self.output}")
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"timed out:\n{self.output}")

    def results(self, k: int) -> None:
        seen = [0]

        def count(line: str) -> bool:
            seen[0] += line.lstrip().startswith(("✓", "✗", "·"))
            return seen[0] >= k
        self.until(count)

    def finish(self, timeout: float = 60.0) -> int:
        out, _ = self.proc.communicate(timeout=timeout)
        self.lines.append(out)
        return self.proc.returncode

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def runs():
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def invoke(cwd: Path, *args: str):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(old)


def plan_ids(cwd: Path, name: str = "next.json", *args: str) -> set[str]:
    result = invoke(cwd, "plan", "--out", name, *args)
    assert result.exit_code == 0, result.output
    return {op["id"] for s in json.loads((cwd / name).read_text())["services"] for op in s["operations"]}


def test_one_account_from_two_files_applies_one_at_a_time(tmp_path, runs):
    (tmp_path / "a.yaml").write_text(roster("a", 20))
    (tmp_path / "b.yaml").write_text(roster("b", 4, authoritative=True))  # removes whom a.yaml adds
    a = Run(tmp_path, "apply", "-f", "a.yaml", "--auto-approve", "--journal", "j.jsonl", latency=0.05)
    runs.append(a)
    a.results(1)
    a.proc.send_signal(signal.SIGSTOP)  # a holds the lock, mid-apply, for as long as this test needs
    waits = Run(tmp_path, "apply", "-f", "b.yaml", "--auto-approve", "--journal", "j.jsonl", "--lock-timeout", "60s")
    runs.append(waits)
    fails = invoke(tmp_path, "apply", "-f", "b.yaml", "--auto-approve", "--journal", "j.jsonl")
    assert fails.exit_code == 1, fails.output
    assert "another apply is running against crankwheel (crankwheel at sandbox:" in fails.output
    assert f"pid {a.proc.pid}, `teamform apply -f a.yaml --auto-approve --journal j.jsonl`, since " in fails.output
    assert "Nothing was applied" in fails.output
    waits.until(lambda line: line.startswith("Waiting up to 60s for the lock on crankwheel"))
    a.proc.send_signal(signal.SIGCONT)
    assert a.finish() == 0, a.output
    assert waits.finish() == 0, waits.output
    events = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    first, refused, second = J.read(tmp_path / "j.jsonl")  # in the order they started
    assert refused["outcome"] == "refused" and "another apply is running" in refused["reason"]
    a_end = next(i for i, e in enumerate(events) if e.get("event") == "end" and e["run"] == first["run"])
    b_start = next(i for i, e in enumerate(events) if e.get("event") == "start" and e["run"] == second["run"])
    assert a_end < b_start  # b read and planned only after a was over ...
    a_done = {op["key"] for op in first["operations"] if op["status"] == "done"}
    b_removed = {op["key"] for op in second["operations"] if op["action"] == "delete"}
    assert len(a_done) == 20 and a_done <= b_removed  # ... so it saw (and removed) what a had just added
    assert plan_ids(tmp_path, "next.json", "-f", "b.yaml") == set()


def test_two_accounts_apply_in_parallel_into_one_journal(tmp_path, runs):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "teams.yaml").write_text(roster(name, 12))
    journal = str(tmp_path / "j.jsonl")
    one = Run(tmp_path / "one", "apply", "--auto-approve", "--journal", journal, latency=0.02)
    runs.append(one)
    one.results(1)
    one.proc.send_signal(signal.SIGSTOP)  # one holds its account's lock, mid-apply ...
    two = invoke(tmp_path / "two", "apply", "--auto-approve", "--journal", journal)
    assert two.exit_code == 0, two.output  # ... and two, another account, applies all the same
    one.proc.send_signal(signal.SIGCONT)
    assert one.finish() == 0, one.output
    lines = Path(journal).read_text().splitlines()
    events = [json.loads(line) for line in lines]  # every line whole, though two runs wrote at once
    first, second = J.read(journal)
    assert first["ok"] and second["ok"] and len(first["operations"]) == len(second["operations"]) == 12
    order = [e["run"] for e in events]
    assert order.index(second["run"]) < len(order) - 1 - order[::-1].index(first["run"])  # interleaved


def test_applies_stopped_at_random_points_leave_exactly_the_rest_and_resume(tmp_path, runs):
    """SIGINT and SIGKILL, each at a random point of its own apply (two sandboxes, at once)."""
    users, started = 48, {}
    for sig in (signal.SIGINT, signal.SIGKILL):
        where = tmp_path / sig.name
        where.mkdir()
        (where / "teams.yaml").write_text(roster("u", users))
        saved = plan_ids(where, "plan.json")
        assert len(saved) == users
        rng = random.Random(f"{SEED}-{sig.name}")
        k = rng.randint(1, users // 3)  # the first third: what follows still takes a second or more
        run = Run(where, "apply", "plan.json", "--journal", "j.jsonl", latency=0.1)
        runs.append(run)
        started[sig] = (where, saved, run, k, rng.uniform(0, 0.1), f"seed {SEED}: {sig.name} after {k} results")
    for sig, (where, saved, run, k, pause, why) in started.items():
        run.results(k)
        time.sleep(pause)  # not always right after a result
        run.proc.send_signal(sig)
    for sig, (where, saved, run, k, pause, why) in started.items():
        stopped_at_random_point_and_resumed(sig, where, saved, run, users, why)


def stopped_at_random_point_and_resumed(sig, where: Path, saved: set[str], run: Run, users: int, why: str) -> None:
    code = run.finish()
    [entry] = J.read(where / "j.jsonl")  # the journal parses, whatever the point
    assert entry["outcome"] == "interrupted" and not entry["ok"], why
    results = {op["id"]: op["status"] for op in entry["operations"]}
    done = {i for i, status in results.items() if status == "done"}
    left = plan_ids(where)
    if sig == signal.SIGINT:
        assert code == 130 and entry["closed"] and entry["signal"] == "SIGINT", (why, run.output)
        assert "Apply interrupted (SIGINT)" in run.output
        assert left == saved - done, why  # exactly what is left: everything in flight finished
        assert entry["not_started"] == len(left) > 0, why
    else:
        assert code == -signal.SIGKILL and not entry["closed"], why
        assert left <= saved - done, why  # nothing done is planned again ...
        unrecorded = saved - done - left
        assert len(unrecorded) <= CONCURRENCY and not unrecorded & set(results), why  # ... only what was in flight

    resumed = invoke(where, "apply", "plan.json", "--journal", "j.jsonl")
    assert resumed.exit_code == 0, (why, resumed.output)
    assert f"Resuming this plan: {len(done)} of its {users} operations were done by run {entry['run']}" in resumed.output
    if sig == signal.SIGKILL:  # the killed run's lock is taken over
        assert "warning: took over the lock on crankwheel" in resumed.output, why
        assert f"pid {run.proc.pid}" in resumed.output and "ended without releasing it" in resumed.output
    first, second = J.read(where / "j.jsonl")
    assert second["resumes"] == first["run"] and second["ok"] and second["closed"], why
    redone = {op["id"] for op in second["operations"]}
    assert redone == saved - done and not redone & done, why  # nothing done is done twice
    assert plan_ids(where) == set(), why
