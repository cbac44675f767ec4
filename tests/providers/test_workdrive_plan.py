"""WorkDrive plans: unknown security groups, heads required, staged offboarding, short reads."""

import sys
from pathlib import Path

import pytest

from teamform.config import ConfigError
from teamform.testing import converge, make_plan, plan_apply
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

sys.path.insert(0, str(Path(__file__).parent))
from test_workdrive_apply import ENV, org, state_file  # noqa: E402  (shared builders)

RECENT = "2999-01-01T00:00:00.000Z"  # "just changed", whatever today is


def staff(*extra):
    users = [new_user(uid(1), "alice@example.com", "Alice", "Test", department=uid(20)),
             new_user(uid(2), "bob@example.com", "Bob", "Test", department=uid(20)), *extra]
    return org(users, departments=[(uid(20), "Eng", [uid(1)])],
               groups=[("Admins", [uid(1)]), ("Everyone", [uid(1), uid(2)]), ("Finance", [])])


def eng_file(emails=("alice@example.com", "bob@example.com"), **section):
    base = {"departments": {"Eng": {"heads": ["alice@example.com"], "members": ["bob@example.com"]}}}
    return state_file(list(emails), {**base, **section})


async def plan_of(config, emu):
    return await make_plan(config, {"wd": emu}, environ=ENV)


async def test_an_unknown_security_group_is_a_plan_error_naming_the_groups():
    emu = WorkDriveEmulator(staff())
    plan = await plan_of(eng_file(security_groups={"Admin": ["alice@example.com"]}), emu)
    assert len(plan.errors) == 1
    error = plan.errors[0]
    assert "security group 'Admin' does not exist" in error and "did you mean 'Admins'?" in error
    assert "existing groups: Admins, Everyone, Finance" in error
    assert not [e for e in emu.log if e.method != "GET"]


async def test_groups_the_file_does_not_name_are_left_alone():
    emu = WorkDriveEmulator(staff())
    plan = await plan_of(eng_file(security_groups={"Admins": ["alice@example.com", "bob@example.com"]}), emu)
    assert [op.id for op in plan.operations] == ["wd:group_member[Admins/bob@example.com]:create"]


async def test_a_plan_leaving_a_department_without_a_head_is_an_error():
    emu = WorkDriveEmulator(staff())
    config = state_file(["alice@example.com", "bob@example.com"], {"locations": {"X": ["bob@example.com"]},
                        "departments": {"Ops": {"heads": ["alice@example.com"]}}, "users": [
                            {"who": "bob@example.com", "department": "Eng"}]})
    plan = await plan_of(config, emu)
    assert any("needs at least one head in department 'Eng'" in e for e in plan.errors), plan.errors


async def test_heads_are_required_in_the_file():
    from teamform.config import ConfigError

    with pytest.raises(ConfigError, match="a department needs at least one head"):
        eng_file(departments={"Eng": {"heads": []}})


def test_a_user_in_two_departments_is_a_located_error_before_any_read():
    with pytest.raises(ConfigError) as info:
        eng_file(users=[{"who": "bob@example.com", "department": "Ops"}])
    [problem] = info.value.problems
    assert problem.path == "services.wd.users[0].department" and "department 'Eng' and 'Ops'" in problem.message
    assert problem.line is not None


def test_a_user_in_two_locations_is_located_at_the_second_listing():
    with pytest.raises(ConfigError) as info:
        eng_file(locations={"Remote": ["alice@example.com"], "Office": ["bob@example.com", "alice@example.com"]})
    [problem] = info.value.problems
    assert problem.path == "services.wd.locations.Office[1]" and "location 'Remote' and 'Office'" in problem.message


async def test_an_unknown_supervisor_is_an_error():
    emu = WorkDriveEmulator(staff())
    config = eng_file(("alice@example.com", "bob@example.com", "carl@example.com"),
                      users=[{"who": "bob@example.com", "reports_to": "carl@example.com"}])
    plan = await plan_of(config, emu)
    assert any("reports to carl@example.com, who is not a WorkDrive user" in e for e in plan.errors)


async def test_offboarding_deletes_by_default():
    emu = WorkDriveEmulator(staff(new_user(uid(3), "gone@example.com")))
    await plan_apply(eng_file(), {"wd": emu}, environ=ENV)
    assert emu.calls("DELETE", "/users/bulk-delete$") and uid(3) not in emu.state["users"]


def staged(**policy):
    config = eng_file(security_groups={"Everyone": ["alice@example.com", "bob@example.com"]})
    config.services["wd"].entry.policy = config.services["wd"].provider_cls.Policy(
        offboarding="archive", max_removals="50%", **policy)
    return config


async def test_staged_offboarding_archives_first_and_then_holds():
    emu = WorkDriveEmulator(staff(new_user(uid(3), "gone@example.com")))
    emu.state["groups"][uid(41)]["members"].append(uid(3))
    plan, report = await plan_apply(staged(archive_grace_days=30), {"wd": emu}, environ=ENV)
    changes = {op.id: op.changes for op in plan.operations}
    assert changes["wd:user[gone@example.com]:update"] == ['status: "ACTIVE" → "ARCHIVE"']
    assert "wd:group_member[Everyone/gone@example.com]:delete" in changes
    assert emu.state["users"][uid(3)]["status"] == "ARCHIVE"  # kept, archived
    assert (await plan_of(staged(archive_grace_days=30), emu)).operations == []


async def test_archived_users_are_deleted_after_the_grace_period_only():
    recent = new_user(uid(3), "recent@example.com", status="ARCHIVE", at=RECENT)
    old = new_user(uid(4), "old@example.com", status="ARCHIVE")
    emu = WorkDriveEmulator(staff(recent, old))
    plan = await plan_of(staged(archive_grace_days=30), emu)
    assert [op.id for op in plan.operations] == ["wd:user[old@example.com]:delete"]
    assert "past archive_grace_days (30)" in plan.operations[0].summary  # the plan says why now
    config = staged(archive_grace_days=30)
    config.services["wd"].entry.policy.offboarding = "delete"
    recent_deleted = [op for op in (await plan_of(config, emu)).operations if op.key == "recent@example.com"]
    assert recent_deleted and recent_deleted[0].summary == ""  # deleted by policy, not by the grace period
    assert (await plan_of(staged(), emu)).operations == []  # no grace period: kept until the file says so


async def test_the_file_can_delete_an_archived_user_now():
    emu = WorkDriveEmulator(staff(new_user(uid(3), "gone@example.com", status="ARCHIVE", at=RECENT)))
    config = staged()
    config.services["wd"].entry.delete = ["Gone@example.com"]
    [op] = (await plan_of(config, emu)).operations
    assert op.summary == "deleted (listed under delete)" and op.destructive
    nxt = await converge(config, {"wd": emu}, environ=ENV)
    assert nxt.operations == [] and uid(3) not in emu.state["users"]


async def test_protected_people_are_not_archived():
    emu = WorkDriveEmulator(staff(new_user(uid(3), "svc@example.com")))
    config = staged(protect=[])
    config.services["wd"].entry.policy.ignore = ["svc@*"]
    assert (await plan_of(config, emu)).operations == []


async def test_the_protected_are_not_archived_and_the_plan_says_why():
    emu = WorkDriveEmulator(staff(new_user(uid(3), "svc@example.com")))
    config = staged(protect=["svc@example.com"])
    plan = await plan_of(config, emu)
    assert plan.operations == []
    assert any("svc@example.com" in w and "protected by policy.protect" in w for w in plan.warnings), plan.warnings


async def test_an_ignore_glob_on_the_person_keeps_an_unlisted_user_unarchived():
    # the person's own spelling is mixed case, the key lower-cased: the engine's ignore matches
    # both, as the planner does, so staged offboarding does not even want them archived
    emu = WorkDriveEmulator(staff(new_user(uid(3), "Svc.Bot@Example.com")))
    for glob in ("svc.bot@*", "Svc.Bot@Example.com"):
        config = staged()
        config.services["wd"].entry.policy.ignore = [glob]
        plan = await plan_of(config, emu)
        assert plan.operations == [] and not [w for w in plan.warnings if "matches policy.ignore" in w], glob


async def test_a_cut_short_read_aborts_the_plan():
    emu = WorkDriveEmulator(staff(*[new_user(uid(100 + i), f"u{i}@example.com") for i in range(150)]))
    emu.short_pages = 1
    plan = await plan_of(eng_file(), emu)
    assert plan.operations == [] and "ended after 151 of 152" in plan.errors[0]
    emu.inject(kind="status", status=503, method="GET", path="/users$", times=20)
    plan = await plan_of(eng_file(), emu)
    assert plan.operations == [] and "could not read live state" in plan.errors[0]


async def test_lists_are_read_with_the_largest_page_and_every_page():
    emu = WorkDriveEmulator(staff(*[new_user(uid(100 + i), f"u{i}@example.com") for i in range(250)]))
    await plan_of(eng_file(), emu)
    pages = [e.query for e in emu.calls("GET", "/users$")]
    assert pages == ["cur_page=1&per_page=100", "cur_page=2&per_page=100", "cur_page=3&per_page=100"]
