"""Lockout guards on the fake provider: the identity teamform acts as (from the service's whoami
answer, or ``policy.identity`` where the API cannot say) is never removed, demoted, suspended or
replaced, whatever the file says; an admin group keeps a member. Each refusal is a typed finding."""

from __future__ import annotations

from engine_fixtures import fake_config, fake_emulator, member
from teamform.session import Session
from teamform.testing import make_plan, plan_apply

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


def ops(plan) -> dict[str, object]:
    return {op.id.split(":", 1)[1]: op for op in plan.operations}


def found(plan, code: str) -> list:
    return [f for sp in plan.services for f in sp.findings if f.code == code]


def acting_as(email: str | None, *members, groups=None):
    emu = fake_emulator(*members)
    emu.state["me"] = email
    if groups is not None:
        emu.state["groups"] = groups
    return emu


async def test_the_identity_the_service_names_is_not_removed_when_the_file_leaves_it_out():
    members = (member(1, ALICE, "Admin"), member(2, BOB, "Admin"), member(3, CAROL))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": CAROL}])
    plan = await make_plan(cfg, {"svc": acting_as(BOB, *members)})
    assert plan.operations == []
    [lockout] = found(plan, "lockout")
    assert lockout.level == "warning" and lockout.subject == f"member[{BOB}]" and "removal is refused" in lockout.message
    # the same file, with a key nobody owns: bob goes
    plan = await make_plan(cfg, {"svc": acting_as(None, *members)})
    assert set(ops(plan)) == {f"member[{BOB}]:delete"} and not found(plan, "lockout")


async def test_the_identity_is_not_demoted_and_others_are():
    emu = acting_as(BOB, member(1, ALICE, "Admin"), member(2, BOB, "Admin"))
    cfg = fake_config([{"who": ALICE, "role": "User"}, {"who": BOB, "role": "User"}])
    plan = await make_plan(cfg, {"svc": emu}, allow_mass_removal=True)
    assert set(ops(plan)) == {f"member[{ALICE}]:update"}
    [lockout] = found(plan, "lockout")
    assert "keeps role 'Admin'" in lockout.message


async def test_the_identity_is_not_suspended_and_others_are():
    emu = acting_as(BOB, member(1, ALICE, "Admin"), member(2, BOB, "Admin"), member(3, CAROL))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB, "role": "Admin", "status": "suspended"},
                       {"who": CAROL, "status": "suspended"}])
    plan = await make_plan(cfg, {"svc": emu})
    assert set(ops(plan)) == {f"member[{CAROL}]:update"}
    assert ops(plan)[f"member[{CAROL}]:update"].changes == ['status: "active" → "suspended"']
    [lockout] = found(plan, "lockout")
    assert "keeps status 'active'" in lockout.message and lockout.subject == f"member[{BOB}]"


async def test_the_identity_is_never_replaced_which_would_remove_it_first():
    emu = acting_as(BOB, member(1, ALICE, "Admin"), member(2, BOB, "Admin"), member(3, CAROL))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB, "role": "Admin", "plan": "pro"},
                       {"who": CAROL, "plan": "pro"}])
    plan = await make_plan(cfg, {"svc": emu})
    assert set(ops(plan)) == {f"member[{CAROL}]:replace"}
    [lockout] = found(plan, "lockout")
    assert "keeps plan as it is" in lockout.message


async def test_policy_identity_protects_where_the_api_cannot_say():
    members = (member(1, ALICE, "Admin"), member(2, BOB, "Admin"))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}], policy={"identity": "Bob@Example.com"})
    plan = await make_plan(cfg, {"svc": acting_as(None, *members)})
    assert plan.operations == [] and len(found(plan, "lockout")) == 1


async def test_a_policy_identity_the_service_does_not_hold_is_noted():
    cfg = fake_config([{"who": ALICE, "role": "Admin"}], policy={"identity": "bob@example.con"})
    plan = await make_plan(cfg, {"svc": acting_as(None, member(1, ALICE, "Admin"))})
    [said] = found(plan, "lockout")
    assert said.level == "note" and "bob@example.con holds nothing in this service" in said.message


async def test_a_policy_identity_the_service_contradicts_is_said_and_both_are_kept():
    members = (member(1, ALICE, "Admin"), member(2, BOB, "Admin"), member(3, CAROL, "Admin"))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}], policy={"identity": CAROL})
    plan = await make_plan(cfg, {"svc": acting_as(BOB, *members)})
    assert plan.operations == []
    messages = [f.message for f in found(plan, "lockout")]
    assert any("policy.identity is carol@example.com, but the service says teamform acts as bob@example.com" in m
               for m in messages)
    assert sum("removal is refused" in m for m in messages) == 2


async def test_the_provider_sees_the_acting_identity_among_the_protected():
    cfg = fake_config([{"who": ALICE, "role": "Admin"}], policy={"protect": [CAROL]})
    async with Session(cfg, emulators={"svc": acting_as(BOB, member(1, ALICE, "Admin"))}, environ={}) as s:
        live = (await s.fetch())["svc"]
        protected = s.providers["svc"].protected(live)
    assert set(protected) == {BOB, CAROL} and "lockout guard" in protected[BOB]


async def test_applying_leaves_the_identity_in_place_and_the_next_plan_has_nothing_to_do():
    emu = acting_as(BOB, member(1, ALICE, "Admin"), member(2, BOB, "Admin"), member(3, CAROL))
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB, "role": "User", "status": "suspended"}])
    await plan_apply(cfg, {"svc": emu})
    assert [(m["email"], m["role"], m["status"]) for m in emu.state["members"]] == [
        (ALICE, "Admin", "active"), (BOB, "Admin", "active")]
    plan = await make_plan(cfg, {"svc": emu})
    assert plan.operations == [] and found(plan, "lockout")


# ---- an admin group keeps a member -----------------------------------------------------------

async def test_removing_the_last_member_of_the_admin_group_is_refused():
    emu = acting_as(None, member(1, ALICE, "Admin"), member(2, BOB), groups={"admins": [BOB], "staff": [BOB]})
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], groups={"admins": [], "staff": []})
    plan = await make_plan(cfg, {"svc": emu})
    [guard] = [f for f in found(plan, "guard") if f.level == "error"]
    assert "admins group needs a member" in guard.message and guard.subject == "admins"
    # a group that is not the admin group may go empty
    plan = await make_plan(fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], groups={"staff": []}),
                           {"svc": emu})
    assert not plan.errors and set(ops(plan)) == {"group_member[staff/bob@example.com]:delete"}


async def test_handing_the_admin_group_over_adds_the_new_member_before_the_old_one_leaves():
    emu = acting_as(None, member(1, ALICE, "Admin"), member(2, BOB), groups={"admins": [BOB]})
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], groups={"admins": [ALICE]})
    plan = await make_plan(cfg, {"svc": emu})
    assert not plan.errors
    leave = ops(plan)["group_member[admins/bob@example.com]:delete"]
    assert leave.depends_on == ["svc:group_member[admins/alice@example.com]:create"]
    await plan_apply(cfg, {"svc": emu})
    assert emu.state["groups"] == {"admins": [ALICE]}


async def test_the_identity_keeps_its_admin_group_membership():
    emu = acting_as(BOB, member(1, ALICE, "Admin"), member(2, BOB), groups={"admins": [ALICE, BOB]})
    cfg = fake_config([{"who": ALICE, "role": "Admin"}, {"who": BOB}], groups={"admins": [ALICE]})
    plan = await make_plan(cfg, {"svc": emu})
    assert plan.operations == []
    [lockout] = found(plan, "lockout")
    assert lockout.subject == "group_member[admins/bob@example.com]"
