"""The Teams API's lockout guard, against its emulator: the owner of the account's own team is
who teamform acts as; on another team it is never removed, demoted, or replaced to raise its role
(a replace cancels the membership and sends an invitation that only that account could accept).
The document dates no invitation and has no resend: the upkeep policy says it cannot apply."""

import datetime as dt
import sys
from pathlib import Path

from teamform.session import Session
from teamform.testing import load, make_plan
from teamform_teamsapi.emulator import membership, team

sys.path.insert(0, str(Path(__file__).parent))
from test_teamsapi_provider import ALICE, BOB, CAROL_PENDING, emulator, members, ops, state_file  # noqa: E402


def found(plan, code):
    return [f for sp in plan.services for f in sp.findings if f.code == code]


def with_bobs_team(role="Member"):
    emu = emulator(BOB, teams=[team("team_2", "Bobs", 2)])
    emu.state["memberships"] += [membership(6, "team_2", 2, "Admin", invited=False),
                                 membership(7, "team_2", 1, role)]
    return emu


async def test_the_acting_identity_is_not_replaced_to_change_its_role_on_another_team():
    bobs = members("{who: bob@example.com, role: Admin}", "{who: alice@example.com, role: Admin}", name="Bobs")
    config = load(state_file(members(ALICE, "{who: bob@example.com}") + "\n" + bobs))
    plan = await make_plan(config, {"ta": with_bobs_team()})
    assert ops(plan) == [] and not plan.errors
    [lockout] = found(plan, "lockout")
    assert lockout.subject == "member[Bobs/alice@example.com]" and "keeps role as it is" in lockout.message
    # another member's role change is still the documented replace
    bobs = members("{who: bob@example.com, role: Admin}", "{who: alice@example.com, role: Member}", name="Bobs")
    config = load(state_file(members(ALICE, "{who: bob@example.com, role: Admin}") + "\n" + bobs))
    plan = await make_plan(config, {"ta": with_bobs_team()})
    assert ops(plan) == [("replace", "Eng/bob@example.com")]


async def test_the_acting_identity_is_not_taken_off_another_team():
    bobs = members("{who: bob@example.com, role: Admin}", name="Bobs")
    plan = await make_plan(load(state_file(members(ALICE, "{who: bob@example.com}") + "\n" + bobs)),
                           {"ta": with_bobs_team()})
    assert ops(plan) == [] and [f.subject for f in found(plan, "lockout")] == ["member[Bobs/alice@example.com]"]


async def test_undated_invitations_are_noted_when_the_upkeep_policy_is_set():
    config = load(state_file(members(ALICE, "{who: carol@example.com}"),
                             policy="policy: {resend_invitations_after_days: 14}"))
    async with Session(config, emulators={"ta": emulator(CAROL_PENDING)}, environ={}) as session:
        plan, _ = await session.make_plan(today=dt.date(2025, 3, 24))
    assert ops(plan) == []
    [note] = found(plan, "invitation")
    assert note.level == "note" and "teamsapi does not say when an invitation was sent" in note.message
