"""Krisp end to end: retries with backoff, lost answers read back, failures skip only dependents."""


from teamform_krisp.emulator import KrispEmulator, seat

from teamform.session import Session
from teamform.testing import count_in_flight, load, make_plan

FILE = """
version: 1
people:
  alice@example.com: {}
  bob@example.com: {}
  carol@example.com: {}
  dave@example.com: {}
services:
  krisp:
    provider: krisp
    sandbox: true
    limits: {retries: 3, max_wait: 30, concurrency: CONC}
    MEMBERS
"""


def config(members: str, concurrency: int = 4):
    return load(FILE.replace("MEMBERS", members).replace("CONC", str(concurrency)))


def emulator(*seats):
    return KrispEmulator({"team": {"name": "T", "type": "email", "payment_type": "card"},
                          "credentials": dict(KrispEmulator.sandbox_credentials), "seats": list(seats),
                          "next_id": 100})


async def run(cfg, emu, sleeps=None):
    async def sleep(seconds):
        if sleeps is not None:
            sleeps.append(seconds)

    async with Session(cfg, emulators={"krisp": emu}, sleep=sleep) as session:
        plan, _ = await session.make_plan()
        assert not plan.errors, plan.errors
        return plan, await session.apply(plan)


TWO = "members: [{who: alice@example.com, role: Admin}, {who: bob@example.com}]"


async def test_429_is_retried_after_the_retry_after_it_asks_for():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2))
    emu.inject(kind="status", status=429, method="POST", path="/team/invite", retry_after=7)
    sleeps = []
    plan, report = await run(config(TWO), emu, sleeps)
    assert report.ok and sleeps and sleeps[0] >= 7
    assert [e.status for e in emu.calls("POST", "/team/invite")] == [429, 200]


async def test_a_wait_longer_than_max_wait_gives_up_with_a_reason():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2))
    emu.inject(kind="status", status=429, method="POST", path="/team/invite", retry_after=3600, times=10)
    plan, report = await run(config(TWO), emu, [])
    [failed] = report.by_status("failed")
    assert "asked to wait 3600s" in failed.message


async def test_5xx_on_reads_is_retried():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2))
    emu.inject(kind="status", status=502, method="GET", path="/team/seats", times=2)
    plan, report = await run(config(TWO), emu, [])
    assert report.ok and len(plan.operations) == 1


async def test_a_lost_answer_is_read_back_not_repeated():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2), seat(3))
    emu.inject(kind="drop", method="POST", path="/team/invite")
    plan, report = await run(config(TWO), emu, [])
    [result] = report.results
    assert result.status == "done" and "read back" in result.message
    assert len(emu.calls("POST", "/team/invite")) == 1
    assert sum(1 for s in emu.state["seats"] if s["user"]) == 2


async def test_an_invite_repeated_after_a_lost_answer_still_sets_the_nickname():
    """The repeated invite skips bob (already on a seat from the lost call): his nickname must be set anyway."""
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2), seat(3))
    emu.inject(kind="drop", method="POST", path="/team/invite")
    cfg = config("members: [{who: alice@example.com, role: Admin}, {who: bob@example.com, nickname: Bobby}]")
    _, report = await run(cfg, emu, [])
    assert report.ok and len(emu.calls("POST", "/team/invite")) == 2
    assert [s["nickname"] for s in emu.state["seats"] if s["user"]] == [None, "Bobby"]
    assert (await make_plan(cfg, {"krisp": emu})).operations == []


async def test_a_final_failure_skips_what_depends_on_it_and_the_rest_goes_on():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"),
                   seat(3, email="carol@example.com"))
    emu.inject(kind="status", status=400, method="POST", path="/seats/2/unassign")
    cfg = config("seats: {standard: 2}\n    members: [{who: alice@example.com, role: Admin}, "
                 "{who: dave@example.com, role: Admin}]")
    plan, report = await run(cfg, emu, [])
    status = {r.op_id.split(":", 1)[1]: r.status for r in report.results}
    assert status["member[bob@example.com]:delete"] == "failed"
    assert status["seats[standard]:update"] == "skipped"
    assert status["member[carol@example.com]:delete"] == "done"
    assert not report.ok
    plan, report = await run(cfg, emu, [])
    assert report.ok
    assert (await make_plan(cfg, {"krisp": emu})).operations == []


async def test_concurrency_is_capped_per_service():
    people = ["alice", "bob", "carol", "dave"]
    emu = emulator(*[seat(i + 1, email=f"{p}@example.com", role="Admin" if i == 0 else "User")
                     for i, p in enumerate(people)])
    peak = count_in_flight(emu)
    everyone_admin = "members: [" + ", ".join(f"{{who: {p}@example.com, role: Admin}}" for p in people) + "]"
    plan, report = await run(config(everyone_admin, concurrency=2), emu, [])
    assert report.ok and len(plan.operations) == 3
    assert peak[0] == 2
