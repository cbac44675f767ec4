"""No credential value in any output, whatever a service echoes back."""

from __future__ import annotations

from starlette.responses import JSONResponse

from engine_fixtures import fake_config, fake_emulator, member
from teamform.render import render, render_report
from teamform.session import Session
from teamform.testing.fake_emulator import API_KEY, FakeEmulator


class Echoing(FakeEmulator):
    """A service that puts the key it was sent into its error messages."""

    def error_response(self, status, message, *, retry_after=None):
        return JSONResponse({"error": f"{message} (you sent key {API_KEY})"}, status_code=status)


async def test_a_key_echoed_in_a_read_error_is_masked_in_every_rendering():
    emu = fake_emulator(member(1, "alice@example.com", "Admin"))
    echoing = Echoing(emu.state)
    echoing.inject(kind="status", status=400, method="GET", path="/members", times=99)
    async with Session(fake_config([{"who": "alice@example.com", "role": "Admin"}]), emulators={"svc": echoing},
                       environ={}) as session:
        plan, _ = await session.make_plan()
    assert plan.errors and "you sent key ***" in plan.errors[0]
    for fmt in ("text", "markdown", "json"):
        assert API_KEY not in render(plan, fmt)


async def test_a_key_echoed_in_a_write_error_is_masked_in_the_results():
    echoing = Echoing({"seats": 3, "members": [member(1, "alice@example.com", "Admin"),
                                               member(2, "bob@example.com")], "next_id": 9})
    echoing.inject(kind="status", status=400, method="DELETE", times=99)
    seen = []
    async with Session(fake_config([{"who": "alice@example.com", "role": "Admin"}]), emulators={"svc": echoing},
                       environ={}) as session:
        plan, _ = await session.make_plan()
        report = await session.apply(plan, on_result=seen.append)
    [failed] = report.by_status("failed")
    assert "you sent key ***" in failed.message
    assert API_KEY not in render_report(report) and all(API_KEY not in r.message for r in seen)
