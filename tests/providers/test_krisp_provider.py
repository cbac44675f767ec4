"""What the Krisp provider declares to the base: the envelope's code decides an error even in a
200, an unassign that finds the seat already empty is done (a 404 is not), and import keeps
api_version."""

from pathlib import Path

import yaml
from click.testing import CliRunner
from starlette.responses import JSONResponse
from starlette.routing import Route

from teamform.cli import cli
from teamform.session import Session
from teamform.testing import load, make_plan
from teamform_krisp import api
from teamform_krisp.emulator import KrispEmulator, seat

FILE = """
version: 1
people:
  alice@example.com: {}
  bob@example.com: {}
services:
  krisp:
    provider: krisp
    sandbox: true
    members: [{who: alice@example.com, role: Admin}]
"""


def emulator(*seats):
    return KrispEmulator({"team": {"name": "T", "type": "email", "payment_type": "card"},
                          "credentials": dict(KrispEmulator.sandbox_credentials), "seats": list(seats),
                          "next_id": 100})


async def plan_then_apply(emu, between=lambda: None):
    async with Session(load(FILE), emulators={"krisp": emu}) as session:
        plan, _ = await session.make_plan()
        assert not plan.errors, plan.errors
        between()
        return plan, await session.apply(plan)


class ErrorIn200(KrispEmulator):
    """A Krisp that refuses inside a 200 answer: only the envelope's code says so."""

    def routes(self):
        async def refuse(request):
            return JSONResponse({"code": 1016, "error_code": "VALIDATION_ERROR", "message": "Something went wrong.",
                                 "situation": "bad input"}, status_code=200)
        return [Route("/api/{version}" + api.TEAM, refuse), *super().routes()]


async def test_an_error_code_in_a_200_envelope_is_an_error():
    emu = ErrorIn200(emulator(seat(1, email="alice@example.com", role="Admin")).state)
    plan = await make_plan(load(FILE), {"krisp": emu})
    assert plan.operations == []
    assert "could not read live state" in plan.errors[0] and "VALIDATION_ERROR" in plan.errors[0]


async def test_a_seat_emptied_since_the_plan_is_already_done():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"))
    plan, report = await plan_then_apply(emu, between=lambda: emu.state["seats"][1].update(seat(2)))
    [result] = report.results
    assert result.status == "done" and "already gone" in result.message and "SEAT_IS_EMPTY" in result.message


async def test_a_404_on_unassign_is_a_failure_not_already_gone():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"))
    emu.inject(kind="status", status=404, method="POST", path="/unassign$")
    plan, report = await plan_then_apply(emu)
    [result] = report.results
    assert result.status == "failed"
    assert emu.state["seats"][1]["user"] is not None


def test_import_keeps_the_api_version(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE.replace("sandbox: true", "sandbox: true\n    api_version: v2"))
    result = CliRunner().invoke(cli, ["import", "--out", "imported.yaml"], env={"TEAMFORM_JOURNAL": "journal.jsonl"})
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(Path("imported.yaml").read_text())["services"]["krisp"]["api_version"] == "v2"
