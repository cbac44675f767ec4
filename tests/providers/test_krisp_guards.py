"""Krisp's lockout guard and invitation upkeep, against its emulator: its API keys belong to the
team, not a person, so only ``policy.identity`` names whom to keep; a pending seat's
``join_date`` dates its invitation, and with no way to resend one the plan lists the stale ones."""

import datetime as dt
import sys
from pathlib import Path

from teamform.session import Session
from teamform.testing import load, make_plan
from teamform_krisp.emulator import seat

sys.path.insert(0, str(Path(__file__).parent))
from test_krisp_plan import emulator, members, ops, state_file  # noqa: E402  (shared builders)


def found(plan, code):
    return [f for sp in plan.services for f in sp.findings if f.code == code]


async def test_policy_identity_keeps_the_key_owner_on_the_team_and_an_admin():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com", role="Admin"))
    file = state_file(members("{who: alice@example.com, role: Admin}"), policy="policy: {identity: bob@example.com}")
    plan = await make_plan(load(file), {"krisp": emu})
    assert ops(plan) == [] and [f.subject for f in found(plan, "lockout")] == ["member[bob@example.com]"]
    file = state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com, role: User}"),
                      policy="policy: {identity: bob@example.com}")
    plan = await make_plan(load(file), {"krisp": emu})
    assert ops(plan) == [] and "keeps role 'Admin'" in found(plan, "lockout")[0].message
    # without it, the same file removes bob
    plan = await make_plan(load(state_file(members("{who: alice@example.com, role: Admin}"))), {"krisp": emu})
    assert ops(plan) == [("delete", "bob@example.com")]


async def test_stale_invitations_are_listed_with_their_age():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"),
                   seat(2, email="bob@example.com", status="pending_accept"))
    emu.state["seats"][1]["join_date"] = "2025-03-01T10:00:00Z"
    file = state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com}"),
                      policy="policy: {resend_invitations_after_days: 14}")
    async with Session(load(file), emulators={"krisp": emu}, environ={}) as session:
        plan, _ = await session.make_plan(today=dt.date(2025, 3, 24))
        assert ops(plan) == []
        [stale] = found(plan, "invitation")
        assert stale.level == "warning" and "krisp cannot send again: member[bob@example.com] (23 days)" in stale.message
        plan, _ = await session.make_plan(today=dt.date(2025, 3, 14))
        assert not found(plan, "invitation")
