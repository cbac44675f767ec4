"""The planner on the fake provider: diff, replace, policies, ordering and every refusal, as
typed findings; and it changes neither state it is given."""

from __future__ import annotations

import copy

import pytest

from engine_fixtures import fake_config, fake_emulator, member
from teamform.plan import plan_service
from teamform.session import Session
from teamform.testing import make_plan

ALICE, BOB, CAROL, DAVE = "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"


def ops(plan) -> dict[str, object]:
    return {op.id.split(":", 1)[1]: op for op in plan.operations}


def findings(plan, code: str):
    return [f for sp in plan.services for f in sp.findings if f.code == code]


async def test_create_update_and_delete_with_what_changed():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB), member(3, CAROL))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB, "role": "Admin"}, {"who": DAVE}])
    plan = await make_plan(cfg, {"svc": emu})
    got = ops(plan)
    assert set(got) == {f"member[{BOB}]:update", f"member[{DAVE}]:create", f"member[{CAROL}]:delete"}
    assert got[f"member[{BOB}]:update"].changes == ['role: "User" → "Admin"']


async def test_emails_compare_case_insensitively_and_keep_the_services_spelling():
    emu = fake_emulator(member(1, "Alice@Example.COM", "Admin"))
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}]), {"svc": emu})
    assert plan.operations == []


async def test_an_attribute_that_cannot_change_in_place_is_a_replace_with_its_warning():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB))
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB, "plan": "pro"}]),
                           {"svc": emu})
    [op] = plan.operations
    assert op.action == "replace" and "cannot change in place" in op.warnings[0]


async def test_removing_a_pending_member_says_it_cancels_the_invitation():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB, pending=True))
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}]), {"svc": emu})
    [op] = plan.operations
    assert op.action == "delete" and "cancels the invitation" in op.warnings[0]


async def test_the_planner_changes_neither_state_it_is_given():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB), member(3, "svc-bot@example.com"))
    cfg = fake_config([{"who": ALICE, "role": "User"}, {"who": BOB, "role": "Admin", "plan": "pro"}],
                      policy={"protect": [ALICE], "ignore": ["svc-*"]})
    async with Session(cfg, emulators={"svc": emu}, environ={}) as session:
        live = (await session.fetch())["svc"]
        provider = session.providers["svc"]
        desired = provider.desired(live)
        before = (copy.deepcopy(list(desired)), copy.deepcopy(list(live)))
        sp = plan_service("svc", provider, desired, live, cfg.services["svc"].policy, cfg.directory)
    assert sp.operations and sp.findings
    assert (list(desired), list(live)) == before


async def test_seats_grow_before_members_take_them_and_shrink_after_they_leave():
    emu = fake_emulator(member(1, ALICE, "Admin"), seats=1)
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], seats=2), {"svc": emu})
    assert ops(plan)[f"member[{BOB}]:create"].depends_on == ["svc:seats[seats]:update"]
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB), seats=2)
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}], seats=1), {"svc": emu})
    assert ops(plan)["seats[seats]:update"].depends_on == [f"svc:member[{BOB}]:delete"]


async def test_too_few_seats_is_a_capacity_finding_naming_the_pool():
    emu = fake_emulator(member(1, ALICE, "Admin"), seats=1)
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], seats=1), {"svc": emu})
    [found] = findings(plan, "capacity")
    assert found.level == "error" and found.subject == "seats[seats]" and "1 more needed" in found.message


async def test_a_new_admin_is_promoted_before_the_old_one_leaves():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB))
    plan = await make_plan(fake_config([{"who": BOB, "role": "Admin"}]), {"svc": emu}, allow_mass_removal=True)
    assert ops(plan)[f"member[{ALICE}]:delete"].depends_on == [f"svc:member[{BOB}]:update"]


async def test_leaving_no_admin_is_a_guard_finding():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB))
    plan = await make_plan(fake_config([{"who": ALICE}, {"who": BOB}]), {"svc": emu})
    [found] = findings(plan, "guard")
    assert found.level == "error" and "needs an Admin" in found.message


async def test_protected_people_are_neither_removed_nor_demoted_and_the_plan_says_so():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB, "Admin"), member(3, CAROL))
    cfg = fake_config([{"who": ALICE, "role": "User"}, {"who": BOB, "role": "Admin"}],
                      policy={"protect": [ALICE, CAROL]})
    plan = await make_plan(cfg, {"svc": emu})
    assert plan.operations == []
    subjects = {f.subject for f in findings(plan, "policy") if f.level == "warning"}
    assert subjects == {f"member[{ALICE}]", f"member[{CAROL}]"}


async def test_ignore_matches_the_person_as_well_as_the_key():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, "Svc-Bot@Example.com"))
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}], policy={"ignore": ["svc-*"]}),
                           {"svc": emu})
    assert plan.operations == [] and findings(plan, "policy")[0].level == "note"


async def test_not_authoritative_leaves_unlisted_members_alone():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB))
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}], policy={"authoritative": False}),
                           {"svc": emu})
    assert plan.operations == [] and "left alone" in plan.services[0].notes[0]


@pytest.mark.parametrize("limit, refused", [(1, True), (2, False), ("10%", False)])
async def test_the_removal_cap_is_a_finding_unless_overridden(limit, refused):
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB), member(3, CAROL), member(4, DAVE))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": DAVE}], policy={"max_removals": limit})
    plan = await make_plan(cfg, {"svc": emu})
    assert bool(findings(plan, "removal_cap")) == refused
    assert not findings(await make_plan(cfg, {"svc": emu}, allow_mass_removal=True), "removal_cap")


async def test_a_failed_read_is_a_finding_and_plans_nothing():
    emu = fake_emulator(member(1, ALICE, "Admin"), member(2, BOB))
    emu.inject(kind="status", status=500, method="GET", path="/members", times=99)
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}]), {"svc": emu})
    assert plan.operations == [] and findings(plan, "failed_read")[0].level == "error"


async def test_findings_survive_the_plan_file():
    from teamform.plan import Plan
    from teamform.render import render

    emu = fake_emulator(member(1, ALICE, "Admin"), seats=1)
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], seats=1), {"svc": emu})
    import json

    again = Plan.from_dict(json.loads(render(plan, "json")))
    assert again.services[0].findings == plan.services[0].findings
