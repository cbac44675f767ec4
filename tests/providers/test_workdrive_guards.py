"""WorkDrive's lockout guards and invitation upkeep, against its emulator: its API cannot say
whose key teamform uses, so ``policy.identity`` names it, and that user is never archived,
blocked, deleted or taken out of a group; the Admins security group keeps a member; invitations
are dated by the user's ``createdAt`` and, with no way to resend them, listed in a warning."""

import datetime as dt
import sys
from pathlib import Path

import yaml

from teamform.session import Session
from teamform.testing import load, make_plan, plan_apply
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

sys.path.insert(0, str(Path(__file__).parent))
from test_workdrive_apply import ENV, org  # noqa: E402  (shared builders)


def state_file(emails, section: dict):
    """A file with these people and one WorkDrive service ``wd`` (its ``policy`` in ``section``)."""
    policy = {"max_removals": "50%", **section.pop("policy", {})}
    doc = {"version": 1, "people": {e: {"name": e.split("@")[0].title() + " Test"} for e in emails},
           "services": {"wd": {"provider": "workdrive", "base_url": "https://wd.example.com/api",
                               "credentials": {"api_key": "env:WD_KEY"}, "policy": policy, **section}}}
    return load(yaml.safe_dump(doc, sort_keys=False))

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


def staff(admins=(uid(1),)):
    users = [new_user(uid(1), ALICE, "Alice", "Test"), new_user(uid(2), BOB, "Bob", "Test"),
             new_user(uid(3), CAROL, "Carol", "Test", status="INVITED", at="2025-03-01T09:00:00.000Z")]
    return org(users, groups=[("Admins", list(admins)), ("Everyone", [uid(1), uid(2)])])


def found(plan, code):
    return [f for sp in plan.services for f in sp.findings if f.code == code]


async def test_the_identity_named_by_policy_is_never_archived_or_deleted():
    emu = WorkDriveEmulator(staff())
    users = [{"who": ALICE, "status": "ARCHIVE"}, {"who": CAROL}]
    config = state_file([ALICE, BOB, CAROL], {"users": users, "policy": {"identity": ALICE}})
    plan = await make_plan(config, {"wd": emu}, environ=ENV)
    assert {op.id for op in plan.operations} == {"wd:user[bob@example.com]:delete",
                                                 "wd:group_member[Everyone/bob@example.com]:delete"}
    assert any("keeps status 'ACTIVE'" in f.message for f in found(plan, "lockout"))
    # staged offboarding archives others, never the identity
    config = state_file([ALICE, BOB, CAROL], {"users": [{"who": CAROL}], "security_groups": {"Admins": [CAROL]},
                                              "policy": {"identity": ALICE, "offboarding": "archive"}})
    plan = await make_plan(config, {"wd": emu}, environ=ENV)
    changed = {op.id: op for op in plan.operations}
    assert changed["wd:user[bob@example.com]:update"].changes == ['status: "ACTIVE" → "ARCHIVE"']
    assert not [i for i in changed if ALICE in i and not i.endswith(":create")]
    await plan_apply(config, {"wd": emu}, environ=ENV)
    assert emu.state["users"][uid(1)]["status"] == "ACTIVE"
    assert uid(1) in next(g for g in emu.state["groups"].values() if g["name"] == "Admins")["members"]


async def test_without_policy_identity_the_same_file_archives_the_key_owner():
    emu = WorkDriveEmulator(staff())
    config = state_file([ALICE, BOB, CAROL], {"users": [{"who": ALICE, "status": "ARCHIVE"}, {"who": BOB},
                                                        {"who": CAROL}]})
    plan = await make_plan(config, {"wd": emu}, environ=ENV)
    assert [op.id for op in plan.operations] == ["wd:user[alice@example.com]:update"]


async def test_emptying_the_admins_group_is_refused_and_handing_it_over_is_ordered():
    emu = WorkDriveEmulator(staff())
    keep = {"users": [{"who": ALICE}, {"who": BOB}, {"who": CAROL}]}
    plan = await make_plan(state_file([ALICE, BOB, CAROL], {**keep, "security_groups": {"Admins": []}}),
                           {"wd": emu}, environ=ENV)
    [refusal] = plan.errors
    assert "Admins security group needs at least one member" in refusal
    # Everyone may go empty
    plan = await make_plan(state_file([ALICE, BOB, CAROL], {**keep, "security_groups": {"Everyone": []}}),
                           {"wd": emu}, environ=ENV)
    assert not plan.errors
    config = state_file([ALICE, BOB, CAROL], {**keep, "security_groups": {"Admins": [BOB]}})
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    leave = next(op for op in plan.operations if op.action == "delete")
    assert leave.depends_on == ["wd:group_member[Admins/bob@example.com]:create"] and report.ok
    assert next(g for g in emu.state["groups"].values() if g["name"] == "Admins")["members"] == [uid(2)]


async def test_stale_invitations_are_listed_with_their_age_since_workdrive_cannot_resend():
    emu = WorkDriveEmulator(staff())
    config = state_file([ALICE, BOB, CAROL], {"users": [{"who": ALICE}, {"who": BOB}, {"who": CAROL}],
                                              "policy": {"resend_invitations_after_days": 14}})
    async with Session(config, emulators={"wd": emu}, environ=ENV) as session:
        plan, _ = await session.make_plan(today=dt.date(2025, 3, 24))
        assert plan.operations == []
        [stale] = found(plan, "invitation")
        assert stale.level == "warning"
        assert "which workdrive cannot send again: user[carol@example.com] (23 days)" in stale.message
        plan, _ = await session.make_plan(today=dt.date(2025, 3, 10))
        assert not found(plan, "invitation")
