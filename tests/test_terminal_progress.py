"""What the progress display is told and what it says: the rate limits report a wait (ours and
the service's 429) to the session, per service; the display counts results, estimates the time
left from this run's pace and says who is waiting, in the CI summary line and on the terminal."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import httpx
from rich.console import Console

from teamform.http import RetryPolicy, Wait, open_client
from teamform.render.progress import LiveProgress, PlainProgress
from teamform.session import Session
from teamform.testing import load, no_sleep, state_file
from teamform.testing.fake import FAKE
from teamform.testing.fake_emulator import FakeEmulator


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


async def _first_wait(waits: list, task: asyncio.Task) -> None:
    """Wait until a wait is reported, then stop the request that is waiting (no one waits 10 s)."""
    for _ in range(500):
        if waits or task.done():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def test_our_rate_limit_says_a_request_waits_and_for_about_how_long():
    waits: list[Wait] = []
    async with open_client("http://svc.test", inner=httpx.MockTransport(ok), requests_per_minute=6,
                           on_wait=waits.append) as client:
        await client.get("/a")  # 6 a minute: one turn every 10 s, and this one took it
        assert waits == []
        await _first_wait(waits, asyncio.create_task(client.get("/b")))
    [wait] = waits
    assert 5 <= wait.seconds <= 10 and wait.why == "its rate limit (6 requests/min)"


async def test_a_429_is_reported_as_the_services_rate_limit_and_a_503_is_not():
    waits: list[Wait] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503), httpx.Response(200)])
    async with open_client("http://svc.test", inner=httpx.MockTransport(lambda r: next(answers)),
                           retry=RetryPolicy(sleep=no_sleep), on_wait=waits.append,
                           rate_limited=lambda r: float(r.headers["Retry-After"]) if r.status_code == 429 else None
                           ) as client:
        assert (await client.get("/a")).status_code == 200
    assert [(w.why, w.seconds >= 7) for w in waits] == [("the service's rate limit (HTTP 429)", True)]


async def test_the_session_passes_each_wait_on_with_the_service_it_is_for():
    config = load(state_file(["alice@example.com"], {"svc": {
        "provider": "fake", "sandbox": True, "limits": {"requests_per_minute": 6},
        "members": [{"who": "alice@example.com", "role": "Admin"}]}}), providers=FAKE)
    waits: list = []
    async with Session(config, emulators={"svc": FakeEmulator()}, sleep=no_sleep) as session:
        session.on_wait = lambda service, wait: waits.append((service, wait))
        await _first_wait(waits, asyncio.create_task(session.fetch()))  # a read is two requests: the second waits
    assert waits and waits[0][0] == "svc" and waits[0][1].why == "its rate limit (6 requests/min)"


@dataclass
class R:
    service: str
    status: str = "done"
    action: str = "create"
    label: str = "member[x@example.com]"
    message: str = ""
    batched: int = 1
    op_id: str = "x"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_summary_counts_estimates_the_time_left_and_says_who_waits(capsys):
    clock = Clock()
    progress = PlainProgress({"krisp": 3, "teamsapi": 2}, clock=clock, interval=30)
    clock.now += 10
    progress.result(R("krisp"))
    progress.result(R("krisp", status="failed"))
    progress.waiting("krisp", Wait(4.2, "its rate limit (300 requests/min)"))
    assert progress.summary() == (
        "Progress: 2 of 5 finished (1 done, 1 failed, 0 skipped) in 10s, about 15s left; "
        "krisp 2 of 3 (1 failed), waiting 4 s on its rate limit (300 requests/min); teamsapi 0 of 2.")
    clock.now += 5  # the wait is over
    assert "waiting" not in progress.summary()
    assert capsys.readouterr().out.splitlines() == ["  ✓ krisp: + member[x@example.com]",
                                                    "  ✗ krisp: + member[x@example.com]"]


def test_the_time_left_is_the_slowest_services_not_the_average_pace():
    clock = Clock()
    progress = PlainProgress({"krisp": 4, "scim": 20}, clock=clock, interval=30)
    clock.now += 10
    for _ in range(20):
        progress.result(R("scim"))
    progress.result(R("krisp"))  # held back by its rate limit: one in 10 s, three to go
    assert progress.left(progress.all) < 2  # 21 results in 10 s: three more look like 1.4 s
    assert progress.left_overall() == 30
    assert "about 30s left" in progress.summary()


def test_results_known_before_the_run_do_not_make_it_look_faster():
    clock = Clock()
    progress = PlainProgress({"krisp": 10}, clock=clock, interval=30)
    for _ in range(4):
        progress.result(R("krisp", status="skipped"), known=True)  # a resumed plan's stale operations
    assert progress.left(progress.all) is None  # nothing ran yet: no pace to tell
    clock.now += 20
    progress.result(R("krisp"))
    assert progress.left(progress.all) == 20 / 1 * 5


async def test_plain_progress_prints_the_total_first_and_a_summary_every_interval(capsys):
    progress = PlainProgress({"krisp": 2, "scim": 1}, interval=0.01)
    async with progress:
        await asyncio.sleep(0.1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Applying 3 operations (krisp 2, scim 1); progress every 0.01s."
    assert len(out) > 2 and all(line.startswith("Progress: 0 of 3 finished") for line in out[1:])


def test_the_live_display_shows_a_row_per_service_and_the_wait_under_them():
    clock = Clock()
    progress = LiveProgress({"krisp": 3, "teamsapi": 2}, color=False, clock=clock)
    progress.console = Console(file=io.StringIO(), width=80, force_terminal=True, no_color=True)
    progress.print = lambda message: None
    clock.now += 10
    progress.result(R("krisp"))
    progress.waiting("krisp", Wait(4, "its rate limit (300 requests/min)"))
    progress.console.print(progress.bars.get_renderable())
    lines = [line.rstrip() for line in progress.console.file.getvalue().splitlines()]
    assert [line.split()[0] for line in lines[:3]] == ["total", "krisp", "teamsapi"]
    assert "1/5" in lines[0] and "✓ 1 ✗ 0 · 0" in lines[0] and "about 40s left" in lines[0]
    assert "1/3" in lines[1] and "about 20s left" in lines[1]
    assert lines[3] == "  krisp is waiting 4 s on its rate limit (300 requests/min)"
    assert all(len(line) <= 80 for line in lines)
