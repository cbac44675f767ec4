"""The applier on the fake provider: one retry policy from the service's limits, lost answers read
back, gone-on-delete done, failures skip only what depends on them, batches, concurrency caps."""

from __future__ import annotations

from engine_fixtures import fake_config, fake_emulator, member, plan_and_apply

from teamform.testing import count_in_flight, make_plan

ALICE, BOB, CAROL, DAVE = "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"
ERIN, FRANK = "erin@example.com", "frank@example.com"
TWO = [{"who": ALICE, "role": "Admin"}, {"who": BOB}]


def status(report) -> dict[str, str]:
    return {r.op_id.split(":", 1)[1]: r.status for r in report.results}


async def test_a_429_waits_what_retry_after_asks_for():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL))
    emu.inject(kind="status", status=429, method="DELETE", retry_after=7)
    sleeps: list[float] = []
    _, report = await plan_and_apply(fake_config(TWO), emu, sleeps=sleeps)
    assert report.ok and sleeps and max(sleeps) >= 7


async def test_the_applier_backs_off_as_the_services_limits_say():
    """limits.backoff and limits.retries reach the applier's own retries (a write that failed with a
    5xx is read back, then tried again after the service's backoff)."""
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL))
    emu.inject(kind="status", status=503, method="DELETE", times=2)
    sleeps: list[float] = []
    _, report = await plan_and_apply(fake_config(TWO, limits={"backoff": 4, "retries": 2}), emu, sleeps=sleeps)
    [delete] = [r for r in report.results if r.action == "delete"]
    assert report.ok and delete.attempts == 3
    assert len(sleeps) == 2 and 4 <= sleeps[0] <= 8 and 8 <= sleeps[1] <= 12


async def test_retries_stop_at_the_services_limit():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL))
    emu.inject(kind="status", status=503, method="DELETE", times=99)
    _, report = await plan_and_apply(fake_config(TWO, limits={"retries": 1}), emu, sleeps=[])
    [failed] = report.by_status("failed")
    assert failed.attempts == 2 and "503" in failed.message


async def test_a_retry_after_longer_than_max_wait_fails_with_the_reason():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL))
    emu.inject(kind="status", status=429, method="DELETE", retry_after=3600, times=99)
    _, report = await plan_and_apply(fake_config(TWO, limits={"max_wait": 30}), emu, sleeps=[])
    [failed] = report.by_status("failed")
    assert "asked to wait 3600s" in failed.message and "max_wait" in failed.message


async def test_a_lost_answer_is_read_back_not_repeated():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL))
    emu.inject(kind="drop", method="DELETE")
    _, report = await plan_and_apply(fake_config(TWO), emu, sleeps=[])
    [result] = [r for r in report.results if r.action == "delete"]
    assert result.status == "done" and "read back" in result.message
    assert len(emu.calls("DELETE")) == 1


async def test_a_delete_of_something_already_gone_is_done():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL))
    plan = await make_plan(fake_config(TWO), {"svc": emu})
    emu.state["members"] = [m for m in emu.state["members"] if m["email"] != CAROL]  # someone else removed her
    from teamform.session import Session

    async with Session(fake_config(TWO), emulators={"svc": emu}, environ={}) as session:
        report = await session.apply(plan)
    assert status(report) == {f"member[{CAROL}]:delete": "done", f"member[{BOB}]:create": "done"}
    assert "already gone" in report.results[0].message or "already gone" in report.results[1].message


async def test_a_final_failure_skips_what_depends_on_it_and_the_rest_goes_on():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL), member(3, DAVE), seats=3)
    emu.inject(kind="status", status=400, method="DELETE", path="/members/2$")
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], seats=2)
    _, report = await plan_and_apply(cfg, emu, sleeps=[])
    got = status(report)
    assert got[f"member[{CAROL}]:delete"] == "failed" and got["seats[seats]:update"] == "skipped"
    assert got[f"member[{DAVE}]:delete"] == "done" and not report.ok
    _, report = await plan_and_apply(cfg, emu, sleeps=[])
    assert report.ok and (await make_plan(cfg, {"svc": emu})).operations == []


async def test_creates_go_out_as_one_bulk_call():
    emu = fake_emulator(member(1, ALICE, "Admin"), seats=5)
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}, {"who": CAROL}, {"who": DAVE}])
    _, report = await plan_and_apply(cfg, emu)
    assert report.ok and [r.batched for r in report.results] == [3, 3, 3]
    assert len(emu.calls("POST", "/members/bulk")) == 1 and not emu.calls("POST", "/members$")


async def test_concurrency_is_capped_per_service():
    people = [ALICE, BOB, CAROL, DAVE]
    emu = fake_emulator(*[member(i + 1, p, "Admin" if i == 0 else "User") for i, p in enumerate(people)])
    peak = count_in_flight(emu)
    cfg = fake_config([{"who": p, "role": "Admin"} for p in people], limits={"concurrency": 2})
    plan, report = await plan_and_apply(cfg, emu)
    assert report.ok and len(plan.operations) == 3 and peak[0] == 2


async def test_creates_that_become_ready_one_by_one_still_share_a_bulk_call():
    """Each new member waits for a different leaver's seat: with one request at a time they become
    ready one after another, and still go out together instead of one bulk call each."""
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, CAROL), member(3, DAVE), member(4, ERIN), seats=4)
    emu.latency = 0.01  # the leavers are removed one after another, not in the same instant
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}, {"who": FRANK}], limits={"concurrency": 1})
    plan, report = await plan_and_apply(cfg, emu, allow_mass_removal=True)
    creates = [op for op in plan.operations if op.action == "create"]
    assert len(creates) == 2 and len({tuple(op.depends_on) for op in creates}) == 2  # a seat each, not the same
    assert report.ok and len(emu.calls("POST", "/members/bulk")) == 1
    assert [r.batched for r in report.results if r.action == "create"] == [2, 2]


# ---- writes whose answer was lost -------------------------------------------------------------
async def test_a_read_back_that_fails_is_retried_before_the_write_is_sent_again():
    """The seat count's answer is lost and the read-back's first try fails (both HTTP tries): it is
    read back again, finds the count set, and the write is not repeated."""
    emu = fake_emulator(member(1, ALICE, "Admin"))
    emu.inject(kind="drop", method="PUT", path="/seats$")
    emu.inject(kind="status", status=503, method="GET", path="/seats$", after=1, times=2)  # the plan's read passes
    _, report = await plan_and_apply(fake_config([{"who": ALICE, "role": "Admin"}], seats=5,
                                                 limits={"retries": 1}), emu, sleeps=[])
    [result] = report.results
    assert result.status == "done" and "read back" in result.message
    assert len(emu.calls("PUT", "/seats$")) == 1 and emu.state["seats"] == 5


async def test_a_seat_count_whose_outcome_cannot_be_read_back_is_not_sent_again():
    """No read-back can tell whether the count was set: the write is not repeated blind (on a
    service that adds or removes seats, a repeat overshoots). It fails, and the next plan, made
    from what the service holds, shows nothing left."""
    emu = fake_emulator(member(1, ALICE, "Admin"))
    emu.inject(kind="drop", method="PUT", path="/seats$")
    down = emu.inject(kind="status", status=503, method="GET", path="/seats$", after=1, times=99)
    cfg = fake_config([{"who": ALICE, "role": "Admin"}], seats=5)
    _, report = await plan_and_apply(cfg, emu, sleeps=[])
    [result] = report.results
    assert result.status == "failed" and "not sent again" in result.message
    assert len(emu.calls("PUT", "/seats$")) == 1 and emu.state["seats"] == 5
    down.times = 0
    assert (await make_plan(cfg, {"svc": emu})).operations == []


async def test_a_create_whose_outcome_cannot_be_read_back_is_not_sent_again():
    emu = fake_emulator(member(1, ALICE, "Admin"), seats=5)
    emu.inject(kind="drop", method="POST", path="/members/bulk$")
    emu.inject(kind="status", status=503, method="GET", path="/members$", after=1, times=99)
    _, report = await plan_and_apply(fake_config(TWO), emu, sleeps=[])
    [result] = report.results
    assert result.status == "failed" and "not sent again" in result.message
    assert len(emu.calls("POST", "/members")) == 1
    assert [m["email"] for m in emu.state["members"]] == [ALICE, BOB]


async def test_a_create_of_something_that_exists_by_name_finds_it_and_makes_no_second():
    emu = fake_emulator(member(1, ALICE, "Admin"), seats=5)
    plan = await make_plan(fake_config(TWO), {"svc": emu})
    emu.state["members"].append(member(7, BOB))  # made meanwhile (or by a try whose answer was lost)
    from teamform.session import Session

    async with Session(fake_config(TWO), emulators={"svc": emu}, environ={}) as session:
        report = await session.apply(plan)
    assert status(report) == {f"member[{BOB}]:create": "done"} and "already as desired" in report.results[0].message
    assert [m["email"] for m in emu.state["members"]] == [ALICE, BOB]
