"""Debrief's lockout guard, against its emulator: the login user (``GET /user/me``) is who
teamform acts as, kept on the team, at its role and in its applications, with a ``lockout``
finding. Debrief can resend an invitation (``/resend-email``) but does not say when one was
sent, so the upkeep policy notes that it cannot apply."""

import datetime as dt
import sys
from pathlib import Path

from teamform.session import Session
from teamform.testing import load, make_plan
from teamform_debrief import api
from teamform_debrief.emulator import user

sys.path.insert(0, str(Path(__file__).parent))
from test_debrief_plan import OPS, emulator, lines, ops, state_file  # noqa: E402


def found(plan, code):
    return [f for sp in plan.services for f in sp.findings if f.code == code]


async def test_the_login_user_keeps_its_place_and_role_as_a_lockout_finding():
    emu = emulator(users=[user("u2", "alice@example.com", "Alice", "Doe", "owner")])
    config = load(state_file(lines("{who: alice@example.com, role: owner}", "{who: ops@example.com, role: developer}")))
    plan = await make_plan(config, {"debrief": emu})
    assert not plan.errors and ops(plan) == []
    [lockout] = found(plan, "lockout")
    assert lockout.subject == "team_user[ops@example.com]" and "keeps role 'owner'" in lockout.message
    plan = await make_plan(load(state_file(lines("{who: alice@example.com, role: owner}"))), {"debrief": emu})
    assert ops(plan) == [] and "removal is refused" in found(plan, "lockout")[0].message


async def test_undated_invitations_are_noted_when_the_upkeep_policy_is_set():
    emu = emulator(users=[user("u2", "alice@example.com", "Alice", "Doe", status=api.INVITED)])
    config = load(state_file(lines(OPS, "{who: alice@example.com}"), policy="policy: {resend_invitations_after_days: 7}"))
    async with Session(config, emulators={"debrief": emu}, environ={}) as session:
        plan, _ = await session.make_plan(today=dt.date(2025, 3, 24))
    assert ops(plan) == []
    [note] = found(plan, "invitation")
    assert note.level == "note" and "debrief does not say when an invitation was sent" in note.message
