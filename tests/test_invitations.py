"""Invitation upkeep on the fake provider: ``policy.resend_invitations_after_days`` plans a resend
of each invitation pending that long where the service can resend, warns with their ages where it
cannot, and says so where the service does not date its invitations. "Today" is passed in."""

from __future__ import annotations

import dataclasses
import datetime as dt

import yaml

from engine_fixtures import PEOPLE, fake_config, fake_emulator, member
from teamform.plan import Plan
from teamform.render import render
from teamform.render.text import render_text
from teamform.testing import load, make_plan, plan_apply
from teamform.testing.fake import FakeProvider, MEMBER

ALICE, BOB, CAROL, DAVE = "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"
TODAY = dt.date(2025, 3, 24)
POLICY = {"resend_invitations_after_days": 14}


def found(plan, code: str) -> list:
    return [f for sp in plan.services for f in sp.findings if f.code == code]


def emulator():
    return fake_emulator(member(1, ALICE, "Admin"),
                         member(2, BOB, pending=True, invited_at="2025-03-01T09:30:00Z"),     # 23 days
                         member(3, CAROL, pending=True, invited_at="2025-03-14T18:00:00+00:00"),  # 10 days
                         member(4, DAVE, pending=True, invited_at="2025-02-01T00:00:00Z"))    # 51 days


def everyone(**section):
    return fake_config([{"who": e, "role": "Admin" if e == ALICE else "User"} for e in (ALICE, BOB, CAROL, DAVE)],
                       **section)


async def test_invitations_pending_past_the_policy_are_resent_and_shown_as_such():
    plan = await make_plan(everyone(policy=POLICY), {"svc": emulator()}, today=TODAY)
    resends = {op.key: op for op in plan.operations}
    assert set(resends) == {BOB, DAVE}
    op = resends[BOB]
    assert op.action == "update" and op.resend and op.summary == "sent the invitation again (pending 23 days)"
    text = render_text(plan)
    assert f"~ member[{BOB}] (pending invitation) will be sent the invitation again (pending 23 days)" in text
    assert "invitation sent 2025-03-01: pending 23 days, over resend_invitations_after_days 14" in text
    markdown = render(plan, "markdown")
    assert "sent the invitation again (pending 23 days)" in markdown
    assert "pending invitation that this plan will change" not in markdown


async def test_the_day_decides_and_without_the_policy_nothing_is_resent():
    earlier = await make_plan(everyone(policy=POLICY), {"svc": emulator()}, today=dt.date(2025, 3, 10))
    assert [(op.key, op.summary) for op in earlier.operations] == [(DAVE, "sent the invitation again (pending 37 days)")]
    assert (await make_plan(everyone(), {"svc": emulator()}, today=TODAY)).operations == []


async def test_applying_resends_them_and_the_next_plan_is_empty():
    emu = emulator()
    emu.now = lambda: dt.datetime(2025, 3, 24, 8, 0, tzinfo=dt.timezone.utc)
    plan, report = await plan_apply(everyone(policy=POLICY), {"svc": emu}, today=TODAY)
    assert report.ok and len(emu.calls("POST", "/resend")) == 2
    assert {m["email"]: m["invited_at"][:10] for m in emu.state["members"] if m["pending"]} == {
        BOB: "2025-03-24", CAROL: "2025-03-14", DAVE: "2025-03-24"}
    assert (await make_plan(everyone(policy=POLICY), {"svc": emu}, today=TODAY)).operations == []


async def test_a_saved_plan_keeps_the_resend():
    plan = await make_plan(everyone(policy=POLICY), {"svc": emulator()}, today=TODAY)
    again = Plan.from_dict(plan.to_dict())
    assert [op.resend for op in again.operations] == [True, True]


async def test_an_invitation_the_plan_removes_or_changes_is_not_resent():
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB, "role": "Admin"}, {"who": CAROL}],
                      policy=POLICY)
    plan = await make_plan(cfg, {"svc": emulator()}, today=TODAY)
    assert {(op.key, op.action, op.resend) for op in plan.operations} == {(BOB, "update", False),
                                                                         (DAVE, "delete", False)}


async def test_ignored_invitations_are_left_alone():
    plan = await make_plan(everyone(policy={**POLICY, "ignore": ["dave@*"]}), {"svc": emulator()}, today=TODAY)
    assert [op.key for op in plan.operations] == [BOB]


class NoResend(FakeProvider):
    """The fake service without a way to resend (as most services here)."""

    kinds = tuple(dataclasses.replace(k, resendable=False) if k.name == MEMBER else k for k in FakeProvider.kinds)


async def test_where_the_service_cannot_resend_a_warning_lists_them_with_their_age():
    doc = {"version": 1, "people": {p: {} for p in PEOPLE}, "services": {"svc": {
        "provider": "fake", "sandbox": True, "policy": POLICY,
        "members": [{"who": e, "role": "Admin" if e == ALICE else "User"} for e in (ALICE, BOB, CAROL, DAVE)]}}}
    cfg = load(yaml.safe_dump(doc), providers={"fake": NoResend})
    plan = await make_plan(cfg, {"svc": emulator()}, today=TODAY)
    assert plan.operations == []
    [stale] = found(plan, "invitation")
    assert stale.level == "warning"
    assert (f"2 invitation(s) pending over 14 days, which fake cannot send again: member[{DAVE}] (51 days), "
            f"member[{BOB}] (23 days)") in stale.message


async def test_a_service_that_does_not_date_invitations_says_the_policy_cannot_apply():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB, pending=True))
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], policy=POLICY),
                           {"svc": emu}, today=TODAY)
    assert plan.operations == []
    [undated] = found(plan, "invitation")
    assert undated.level == "note" and "does not say when an invitation was sent" in undated.message
