"""Applies a platform team can trust, in process: the journal written as the apply goes, Ctrl-C
and SIGTERM (stop new operations, finish those in flight, bounded; a second one stops at once),
and resuming a saved plan after an interrupted or failed apply."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from teamform import journal as J
from teamform.apply import DONE, FAILED, IN_DOUBT, Result, Stop
from teamform.apply.interrupt import Interrupts
from teamform.cli import cli
from teamform.cli.gitops import JournalTarget
from teamform.plan import stale
from teamform.render import render_json
from teamform.session import Session
from teamform.testing import load, no_sleep, state_file
from teamform.testing.fake import FAKE
from teamform.testing.fake_emulator import FakeEmulator, member

N = 24


def fake_config(n: int = N, concurrency: int = 3):
    people = ["alice@example.com"] + [f"p{i:02d}@example.com" for i in range(n)]
    return load(state_file(people, {"svc": {
        "provider": "fake", "sandbox": True, "seats": 100, "policy": {"max_removals": "100%"},
        "limits": {"concurrency": concurrency, "requests_per_minute": 1_000_000},
        "members": [{"who": "alice@example.com", "role": "Admin"}] + [{"who": p} for p in people[1:]]}}),
        providers=FAKE)


class Slow(FakeEmulator):
    """No bulk call (one request per member, so there are many operations), and each write takes
    ``latency`` seconds."""

    def __init__(self, *a, latency: float = 0.02, **kw) -> None:
        super().__init__(*a, **kw)
        self.inject(kind="latency", method="POST", delay=latency, times=-1)
        self.state["seats"] = 100

    def routes(self):
        return [r for r in super().routes() if r.path != "/members/bulk"]


async def _apply(emulator, stop: Stop, on_result=None, n: int = N, concurrency: int = 3):
    config = fake_config(n, concurrency)
    async with Session(config, emulators={"svc": emulator}, sleep=no_sleep) as session:
        # the fake batches creates: make each one its own operation
        session.providers["svc"].batch_key = lambda op: None
        plan, _ = await session.make_plan()
        report = await session.apply(plan, on_result=on_result, stop=stop)
        return plan, report


# ---- the applier stops ---------------------------------------------------------------------------
async def test_stop_starts_nothing_new_and_lets_what_is_in_flight_finish():
    emulator, stop, results = Slow(latency=0.05), Stop(), []

    async def trip():
        at["n"] = await _when_full(stop, results, at_least=5)
        stop.stop("SIGINT")

    at: dict = {}
    tripping = asyncio.create_task(trip())
    plan, report = await _apply(emulator, stop, results.append)
    await tripping
    assert report.interrupted and report.signal == "SIGINT" and not report.ok
    assert [r.status for r in report.results] == [DONE] * (at["n"] + 3)  # those before, and the three in flight
    assert report.not_started == len(plan.operations) - at["n"] - 3 and report.in_doubt == []
    created = {m["email"] for m in emulator.state["members"]} - {"alice@example.com"}
    assert created == {r.label.split("[")[1][:-1] for r in report.results}  # nothing more, nothing less


async def _when_full(stop: Stop, results: list, at_least: int = 0, full: int = 3) -> int:
    """Wait until ``full`` operations are in flight after ``at_least`` results; return how many results."""
    while len(stop.in_flight()) < full or len(results) < at_least:
        await asyncio.sleep(0.002)
    return len(results)


async def test_abort_cancels_what_is_in_flight_and_says_it_may_be_half_done():
    emulator, stop, results = Slow(latency=0.3), Stop(), []

    async def trip():
        await _when_full(stop, results)
        stop.stop("SIGINT")
        await asyncio.sleep(0.05)
        stop.abort()

    tripping = asyncio.create_task(trip())
    plan, report = await _apply(emulator, stop, results.append)
    await tripping
    assert report.interrupted and len(report.in_doubt) == 3 and report.counts()[DONE] == 0
    failed = report.by_status(FAILED)
    assert [r.op_id for r in failed] == report.in_doubt and all(r.message == IN_DOUBT for r in failed)
    assert report.not_started == len(plan.operations) - 3


async def test_a_stop_as_the_last_operation_finishes_is_not_an_interruption():
    stop, results = Stop(), []

    def on_result(r):
        results.append(r)
        if len(results) == N:
            stop.stop("SIGINT")

    plan, report = await _apply(Slow(), stop, on_result)
    assert len(plan.operations) == N and report.ok and not report.interrupted


# ---- real signals, in this process ---------------------------------------------------------------
async def _signalled(signals: list[int], grace: float = 5.0, latency: float = 0.05, at_least: int = 2):
    """Apply with Interrupts installed; once three operations are in flight (after ``at_least``
    results), send ourselves ``signals``, 50 ms apart. Return (plan, report, said, results when sent); ``said``: (message, results at that moment)."""
    emulator, stop, said, results = Slow(latency=latency), Stop(), [], []
    sent = {}

    async def trip():
        sent["at"] = await _when_full(stop, results, at_least)
        for sig in signals:
            os.kill(os.getpid(), sig)
            await asyncio.sleep(0.05)

    with Interrupts(lambda m: said.append((m, len(results))), grace=grace) as interrupts:
        interrupts.applying(stop)
        tripping = asyncio.create_task(trip())
        plan, report = await _apply(emulator, stop, results.append)
        interrupts.done()
        await tripping
    return plan, report, said, sent["at"]


def _in_flight(message: str) -> int:
    return int(re.search(r"for the (\d+) in flight", message).group(1))


async def test_sigint_stops_gracefully_and_sigterm_too():
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")):
        plan, report, said, _ = await _signalled([sig], latency=0.1)
        [(message, done_then)] = said
        assert report.interrupted and report.signal == name and report.in_doubt == []
        assert message.startswith(f"\n{name}: stopping. No new operation starts; waiting up to 5s for the ")
        assert message.endswith(" in flight. Press Ctrl-C again to stop at once.") and _in_flight(message) >= 1
        # what was in flight when it stopped finished; nothing else started
        assert report.counts() == {"done": done_then + _in_flight(message), "failed": 0, "skipped": 0}
        assert report.not_started == len(plan.operations) - report.counts()["done"] > 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers  # put back


async def test_a_second_signal_stops_at_once_naming_what_may_be_half_done():
    plan, report, said, _ = await _signalled([signal.SIGINT, signal.SIGINT], latency=0.4)
    (first, done_then), (second, _) = said
    assert report.interrupted and 1 <= len(report.in_doubt) <= _in_flight(first)
    # of those in flight at the first signal, what finished before the second is done, the rest in doubt
    assert report.counts()["done"] == done_then + _in_flight(first) - len(report.in_doubt)
    assert second.startswith(f"Stopping at once (SIGINT again). {len(report.in_doubt)} operation(s) in flight may "
                             "be half-done:")
    assert all(f"? {op_id}" in second for op_id in report.in_doubt)


async def test_the_wait_for_operations_in_flight_is_bounded():
    started = time.monotonic()
    plan, report, said, _ = await _signalled([signal.SIGINT], grace=0.1, latency=1.0, at_least=0)
    assert time.monotonic() - started < 3.5
    assert said[1][0].startswith("Stopping at once (they did not finish within 0.1s). 3 operation(s) in flight")
    assert len(report.in_doubt) == 3


# ---- the journal, as the apply goes --------------------------------------------------------------
class _Session:
    providers: dict = {}


def test_each_result_is_on_disk_when_it_completes_and_an_unclosed_run_reads_as_interrupted(tmp_path):
    path = tmp_path / "j.jsonl"
    from teamform.plan.ops import Plan

    target = JournalTarget(str(path))
    run = target.begin(_Session(), Plan(state_file="teams.yaml"), plan_hash="abc", planned=3)
    assert [line["event"] for line in map(json.loads, path.read_text().splitlines())] == ["start"]
    run.result(Result("svc:member[a]:create", "svc", "create", "member[a]", DONE, seconds=0.1, attempts=1))
    assert path.read_text().count('"event": "result"') == 1  # written at once, before the run ends
    with path.open("a") as fh:
        fh.write('{"event": "result", "run": "torn')  # a kill in the middle of a write
    [entry] = J.read(path)
    assert entry["outcome"] == "interrupted" and not entry["ok"] and not entry["closed"]
    assert entry["counts"] == {"done": 1, "failed": 0, "skipped": 0} and entry["not_started"] == 2
    assert entry["who"]["pid"] == os.getpid() and entry["running"]  # its process is this one, alive
    entry["running"] = False
    from teamform.render.journal import entry_markdown, text

    shown = click.unstyle(text(entry))
    assert "INTERRUPTED  plan abc  1 done, 0 failed, 0 skipped, 2 not started" in shown
    assert "no closing entry: the process was killed or crashed" in shown
    assert entry_markdown(entry).startswith("**teamform apply was interrupted**")


# ---- through the CLI: Ctrl-C, the summary, the journal, resume ----------------------------------
USERS = 20


def crankwheel_file(n: int = USERS) -> str:
    people = ["alice@example.com"] + [f"u{i:03d}@example.com" for i in range(n)]
    return state_file(people, {"crankwheel": {
        "provider": "crankwheel", "sandbox": True, "policy": {"authoritative": False},
        "limits": {"concurrency": 3},
        "members": [{"who": "alice@example.com", "privilege": "owner", "in_demo_pool": True}]
        + [{"who": p} for p in people[1:]]}})


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(crankwheel_file())
    return tmp_path


def invoke(*args: str, **env: str):
    return CliRunner().invoke(cli, list(args), env={"TEAMFORM_JOURNAL": "j.jsonl", **env})


def plan_ids(path: str = "next.json") -> set[str]:
    assert invoke("plan", "--out", path).exit_code == 0
    return {op["id"] for s in json.loads(Path(path).read_text())["services"] for op in s["operations"]}


def interrupt_after(results: int, sig: int = signal.SIGINT) -> threading.Thread:
    """Send this process ``sig`` once the journal holds that many results (the CLI runs in it)."""
    def watch():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if Path("j.jsonl").read_text().count('"event": "result"') >= results:
                    os.kill(os.getpid(), sig)
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.005)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_prints_the_summary_journals_it_exits_130_and_resume_finishes(sandbox, monkeypatch):
    monkeypatch.setenv("TEAMFORM_SANDBOX_LATENCY", "0.2")
    planned = plan_ids("plan.json")
    assert len(planned) == USERS
    interrupt_after(4)
    result = invoke("apply", "plan.json")
    assert result.exit_code == 130, result.output
    assert "SIGINT: stopping. No new operation starts" in result.output
    assert "Apply interrupted (SIGINT): " in result.output and " not started in " in result.output
    assert "To finish, run teamform apply plan.json" in result.output
    [first] = J.read("j.jsonl")
    assert first["outcome"] == "interrupted" and first["closed"] and first["signal"] == "SIGINT"
    done = {op["id"] for op in first["operations"] if op["status"] == "done"}
    assert len(done) == len(first["operations"]) and first["not_started"] == USERS - len(done) > 0
    assert first["who"]["user"] and first["who"]["host"] and first["planned"] == USERS
    assert plan_ids() == planned - done  # exactly what is left
    shown = invoke("journal").output
    assert "INTERRUPTED" in shown and "stopped by SIGINT" in shown

    monkeypatch.delenv("TEAMFORM_SANDBOX_LATENCY")
    resumed = invoke("apply", "plan.json")
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming this plan: {len(done)} of its {USERS} operations were done by run {first['run']}" in resumed.output
    assert f"({len(done)} more were done by the earlier runs it resumes.)" in resumed.output
    first, second = J.read("j.jsonl")
    assert second["resumes"] == first["run"] and second["done_before"] == len(done) and second["ok"]
    assert {op["id"] for op in second["operations"]} == planned - done  # nothing done twice
    assert plan_ids() == set()
    again = invoke("apply", "plan.json")  # the whole plan is done: nothing to do, and not stale
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert J.read("j.jsonl")[-1]["resumes"] == second["run"]


def test_ctrl_c_while_planning_changes_nothing_and_exits_130(sandbox, monkeypatch):
    monkeypatch.setenv("TEAMFORM_SANDBOX_LATENCY", "0.5")
    locks = Path(os.environ["TEAMFORM_LOCK_DIR"])

    def once_locked():  # the lock is taken just before live state is read
        deadline = time.monotonic() + 30
        while not list(locks.glob("*.holder.json")) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=once_locked, daemon=True).start()
    result = invoke("apply", "--auto-approve")
    assert result.exit_code == 130, result.output
    assert "interrupted (SIGINT) before anything was applied; nothing was changed" in result.output
    [entry] = J.read("j.jsonl")
    assert entry["outcome"] == "refused" and "before anything was applied" in entry["reason"]
    monkeypatch.delenv("TEAMFORM_SANDBOX_LATENCY")
    assert len(plan_ids()) == USERS and not list(locks.glob("*.holder.json"))  # and the lock was let go


def test_resume_refuses_when_something_done_was_undone_since(sandbox, monkeypatch):
    from teamform_crankwheel.emulator import CrankWheelEmulator

    monkeypatch.setenv("TEAMFORM_SANDBOX_LATENCY", "0.2")
    plan_ids("plan.json")
    interrupt_after(3)
    assert invoke("apply", "plan.json").exit_code == 130
    monkeypatch.delenv("TEAMFORM_SANDBOX_LATENCY")
    done = next(op for op in J.read("j.jsonl")[0]["operations"] if op["status"] == "done")
    emulator = CrankWheelEmulator(store=".teamform/sandbox/crankwheel.json")  # someone removes that user
    emulator.state["users"] = [u for u in emulator.state["users"] if u["email"] != done["key"]]
    emulator.save()
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1
    assert (f"crankwheel: user[{done['key']}] was done by an earlier run of this plan (the journal says), "
            "but live state no longer shows it") in result.output


async def test_resume_after_a_failed_apply_runs_only_the_failed(tmp_path, monkeypatch):
    """A failed (not interrupted) run: what failed is applied again, what was done is not."""
    monkeypatch.chdir(tmp_path)
    config = fake_config(6)
    emulator = FakeEmulator({"seats": 100, "members": [member(1, "alice@example.com", "Admin")], "next_id": 2})
    emulator.inject(kind="status", status=400, method="POST", path="/members/bulk")  # the bulk call fails
    async with Session(config, emulators={"svc": emulator}, sleep=no_sleep) as session:
        plan, live = await session.make_plan()
        Path("plan.json").write_text(render_json(plan))
        session.providers["svc"].batch_key = lambda op: None if op.key != "p00@example.com" else "one"
        target = JournalTarget("j.jsonl", "plan.json")
        run = target.begin(session, plan, plan_hash=J.plan_hash(plan), planned=len(plan.operations))
        report = await session.apply(plan, on_result=run.result)
        run.end(report, len(plan.operations))
        assert report.counts() == {"done": 5, "failed": 1, "skipped": 0}

        saved = type(plan).from_dict(json.loads(Path("plan.json").read_text()))
        fresh, live = await session.make_plan()
        progress = JournalTarget("j.jsonl", "plan.json").progress()
        assert progress.last["run"] == run.id and len(progress.done) == 5
        found = stale.check(saved, fresh, live, allow_unrelated=False, done=progress.done)
        assert [op.key for op in found.plan.operations] == ["p00@example.com"]
        assert len(found.done) == 5 and not found.changes and not found.verified
        # without the journal the same saved plan is stale: our own changes look like drift
        with pytest.raises(stale.StalePlan):
            stale.check(type(plan).from_dict(json.loads(Path("plan.json").read_text())), fresh, live,
                        allow_unrelated=False)


async def test_an_operation_whose_result_was_lost_but_took_effect_is_verified_not_repeated(tmp_path):
    config = fake_config(4)
    emulator = FakeEmulator({"seats": 100, "members": [member(1, "alice@example.com", "Admin")], "next_id": 2})
    async with Session(config, emulators={"svc": emulator}, sleep=no_sleep) as session:
        saved, _ = await session.make_plan()
        ops = saved.operations
        for op in ops[:2]:  # done and journaled; the third took effect but its result was never written
            await session.providers["svc"].apply(op)
        await session.providers["svc"].apply(ops[2])
        fresh, live = await session.make_plan()
        text = render_json(saved)  # check() takes operations out of the plan it is given

        def copy():
            return type(saved).from_dict(json.loads(text))
        found = stale.check(copy(), fresh, live, allow_unrelated=False, done={ops[0].id: "r1", ops[1].id: "r1"})
        # a run killed before it recorded anything: all three are verified, none is sent again
        killed_early = stale.check(copy(), fresh, live, allow_unrelated=False, done=set())
        with pytest.raises(stale.StalePlan):  # and with no run of this plan known, that is drift
            stale.check(copy(), fresh, live, allow_unrelated=False)
    assert [op.id for op in found.verified] == [ops[2].id]
    assert [op.id for op in found.plan.operations] == [op.id for op in ops[3:]] and not found.changes
    assert [op.id for op in killed_early.verified] == [op.id for op in ops[:3]] and not killed_early.changes


def _cancel_half(emulator, team: str, email: str) -> None:
    """What the first half of a Teams API replace does: the membership is cancelled."""
    state = emulator.state
    tid = next(t["id"] for t in state["teams"] if t["name"] == team)
    uid = next(u["id"] for u in state["users"] if u["email"].lower() == email)
    state["memberships"] = [m for m in state["memberships"] if not (m["teamId"] == tid and m["userId"] == uid)]
    emulator.save()


async def test_resume_continues_a_replace_cut_in_half_and_ignores_what_a_deleted_team_took_with_it(
        tmp_path, example_text):
    """Teams API: a role change is a replace (cancel, then invite again). Killed between the two,
    the member is gone: resuming adds them (as a plan made now would), not 'stale'. Old Project
    was deleted with its memberships, which no operation names: not drift either."""
    config = load(example_text)
    async with Session(config, ["teamsapi"], sandbox_dir=tmp_path, sleep=no_sleep) as session:
        saved, _ = await session.make_plan()
        ops = {op.id: op for op in saved.operations}
        old_project = ops["teamsapi:team[Old Project]:delete"]
        await session.providers["teamsapi"].apply(old_project)
        _cancel_half(session.emulators["teamsapi"], "Engineering", "bob@example.com")
        fresh, live = await session.make_plan()
        saved_copy = type(saved).from_dict(json.loads(render_json(saved)))
        found = stale.check(saved_copy, fresh, live, allow_unrelated=False, done={old_project.id: "r1"})
    assert [op.id for op in found.halves] == ["teamsapi:member[Engineering/bob@example.com]:create"]
    assert found.left_behind == ["teamsapi: member[Old Project/alice@example.com]"] and not found.changes
    remaining = [op.id for op in found.plan.operations]
    assert "teamsapi:member[Engineering/bob@example.com]:create" in remaining and old_project.id not in remaining
    # without the journal's word for Old Project, the same live state is drift
    with pytest.raises(stale.StalePlan):
        stale.check(type(saved).from_dict(json.loads(render_json(saved))), fresh, live, allow_unrelated=False)
