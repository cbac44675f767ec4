"""The CrankWheel provider end to end: plan and apply against its emulator, in process."""

from teamform.session import Session
from teamform.testing import converge, load, make_plan, no_sleep, plan_apply
from teamform_crankwheel import api
from teamform_crankwheel.emulator import CrankWheelEmulator, user

PEOPLE = ["alice", "bob", "carol", "dave", "erin"]


def state_file(*entries: str, settings: str = "", policy: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()}}}" for p in PEOPLE)
    members = "\n".join(f"      - {e}" for e in entries)
    return f"""
version: 1
people:
{people}
services:
  cw:
    provider: crankwheel
    sandbox: true
    {settings}
    {policy}
    members:
{members}
"""


def emulator(*users):
    return CrankWheelEmulator({"keys": {"sandbox-key": api.READ_WRITE, "ro-key": api.READ_ONLY},
                               "users": list(users),
                               "onboarding_emails": [], "sessions": [], "demo_sessions": []})


def ops(plan):
    return [(op.action, op.key) for op in plan.operations]


def writes(emu):
    return [(e.method, e.path.rsplit("/", 1)[-1]) for e in emu.log if e.method != "GET"]


ALICE_OWNER = "{who: alice@example.com, privilege: owner}"


async def test_create_is_form_encoded_answers_201_and_sends_onboarding():
    emu = emulator(user("alice@example.com", "owner"))
    config = load(state_file(ALICE_OWNER, "{who: erin@example.com, privilege: admin, in_demo_pool: true}"))
    plan, report = await plan_apply(config, {"cw": emu})
    assert ops(plan) == [("create", "erin@example.com")] and report.ok
    [post] = emu.calls("POST", api.USERS)
    assert post.status == 201
    assert post.body == ("user_access%5Bemail%5D=erin%40example.com&user_access%5Bprivilege%5D=admin"
                         "&user_access%5Bin_demo_pool%5D=true&user_access%5Bsend_onboarding_email%5D=true")
    assert emu.state["users"][1] == user("erin@example.com", "admin", True)
    assert emu.state["onboarding_emails"] == ["erin@example.com"]


async def test_onboarding_email_off_is_sent_as_false_and_noted():
    emu = emulator(user("alice@example.com", "owner"))
    config = load(state_file(ALICE_OWNER, "{who: erin@example.com}", settings="send_onboarding_email: false"))
    plan, report = await plan_apply(config, {"cw": emu})
    assert report.ok and emu.state["onboarding_emails"] == []
    assert "send_onboarding_email%5D=false" in emu.calls("POST")[0].body
    assert any("no onboarding email" in n for n in plan.services[0].notes)
    assert emu.state["users"][1] == user("erin@example.com", "user", False)


async def test_privilege_change_is_an_update_in_place():
    emu = emulator(user("alice@example.com", "owner"), user("bob@example.com", "user"))
    plan, report = await plan_apply(load(state_file(ALICE_OWNER, "{who: bob@example.com, privilege: reporting}")),
                                    {"cw": emu})
    [op] = plan.operations
    assert op.action == "update" and op.changes == ['privilege: "user" → "reporting"'] and op.demotion
    assert report.ok and writes(emu) == [("PATCH", "bob@example.com")]
    assert emu.calls("PATCH")[0].body == "user_access%5Bprivilege%5D=reporting"
    assert emu.state["users"][1] == user("bob@example.com", "reporting", False)


async def test_null_demo_pool_reads_as_false():
    emu = emulator(user("alice@example.com", "owner", None), user("bob@example.com", "user", None))
    config = load(state_file(ALICE_OWNER, "{who: bob@example.com, in_demo_pool: false}"))
    plan = await make_plan(config, {"cw": emu})
    assert not plan.errors and ops(plan) == []


async def test_demo_pool_left_out_keeps_the_live_value_and_can_be_set():
    emu = emulator(user("alice@example.com", "owner", True), user("bob@example.com", "user", True))
    config = load(state_file(ALICE_OWNER, "{who: bob@example.com, in_demo_pool: false}"))
    plan, _ = await plan_apply(config, {"cw": emu})
    assert ops(plan) == [("update", "bob@example.com")]
    assert emu.calls("PATCH")[0].body == "user_access%5Bin_demo_pool%5D=false"
    assert [u["in_demo_pool"] for u in emu.state["users"]] == [True, False]


async def test_case_only_email_difference_is_no_change():
    emu = emulator(user("Alice@Example.COM", "owner"), user("BOB@example.com", "admin"))
    config = load(state_file(ALICE_OWNER, "{who: Bob@Example.com, privilege: admin}"))
    plan = await make_plan(config, {"cw": emu})
    assert not plan.errors and ops(plan) == []


async def test_removing_the_only_owner_is_refused_at_plan_time():
    for entries in (["{who: alice@example.com, privilege: admin}"], ["{who: bob@example.com}"]):
        emu = emulator(user("alice@example.com", "owner"), user("bob@example.com", "user"))
        plan = await make_plan(load(state_file(*entries)), {"cw": emu})
        assert plan.services[0].errors == [
            "a CrankWheel company needs an owner (the billing contact): the plan would leave none, so it is refused"]
        assert writes(emu) == []


async def test_swapping_the_owner_promotes_the_new_one_first():
    emu = emulator(user("alice@example.com", "owner"), user("bob@example.com", "user"))
    config = load(state_file("{who: alice@example.com, privilege: admin}", "{who: bob@example.com, privilege: owner}"))
    plan, report = await plan_apply(config, {"cw": emu})
    promote, demote = plan.operations
    assert (promote.key, demote.key) == ("bob@example.com", "alice@example.com")
    assert demote.depends_on == [promote.id] and demote.demotion and not promote.demotion
    assert report.ok and writes(emu) == [("PATCH", "bob@example.com"), ("PATCH", "alice@example.com")]
    assert [u["privilege"] for u in emu.state["users"]] == ["admin", "owner"]


async def test_a_new_owner_is_created_before_the_old_one_is_removed():
    emu = emulator(user("alice@example.com", "owner"))
    plan, report = await plan_apply(load(state_file("{who: erin@example.com, privilege: owner}")), {"cw": emu})
    assert ops(plan) == [("create", "erin@example.com"), ("delete", "alice@example.com")]
    assert report.ok and writes(emu) == [("POST", "user_access"), ("DELETE", "alice@example.com")]


async def test_a_failed_read_aborts_the_plan_and_removes_nothing():
    emu = emulator(user("alice@example.com", "owner"), user("bob@example.com", "user"))
    emu.inject(kind="status", status=500, method="GET", path=api.USERS, times=100)
    plan = await make_plan(load(state_file(ALICE_OWNER)), {"cw": emu})
    assert ops(plan) == [] and "could not read live state" in plan.services[0].errors[0]


async def test_a_list_that_does_not_look_like_users_aborts_the_plan():
    emu = emulator(user("alice@example.com", "owner"), {"privilege": "user"})
    plan = await make_plan(load(state_file(ALICE_OWNER)), {"cw": emu})
    assert ops(plan) == [] and "a user whose email is None" in plan.services[0].errors[0]


async def test_a_lost_create_answer_is_read_back_not_repeated():
    emu = emulator(user("alice@example.com", "owner"))
    emu.inject(kind="drop", method="POST", path=api.USERS)
    plan, report = await plan_apply(load(state_file(ALICE_OWNER, "{who: erin@example.com}")), {"cw": emu})
    assert report.ok and len(emu.calls("POST")) == 1
    assert emu.calls("GET", "erin")  # verified through the one-user read


async def test_a_user_listed_meanwhile_is_brought_to_the_desired_privilege():
    emu = emulator(user("alice@example.com", "owner"))
    config = load(state_file(ALICE_OWNER, "{who: erin@example.com, privilege: admin}"))
    async with Session(config, emulators={"cw": emu}, sleep=no_sleep) as session:
        plan, _ = await session.make_plan()
        assert ops(plan) == [("create", "erin@example.com")]
        emu.state["users"].append(user("Erin@example.com", "user"))  # someone lists her meanwhile
        report = await session.apply(plan)
    assert report.ok and emu.state["users"][1] == user("Erin@example.com", "admin", False)
    # the PATCH path is the service's own spelling of the email
    assert writes(emu) == [("POST", "user_access"), ("PATCH", "Erin@example.com")]


async def test_a_user_removed_meanwhile_counts_as_removed():
    emu = emulator(user("alice@example.com", "owner"), user("bob@example.com", "user"))
    async with Session(load(state_file(ALICE_OWNER)), emulators={"cw": emu}, sleep=no_sleep) as session:
        plan, _ = await session.make_plan()
        assert ops(plan) == [("delete", "bob@example.com")]
        emu.state["users"].pop()  # someone removes him meanwhile
        report = await session.apply(plan)
    [result] = report.results
    assert report.ok and result.status == "done" and "already gone" in result.message
    assert emu.calls("DELETE")[0].status == 404


async def test_a_read_only_key_fails_the_write_with_a_clear_message():
    emu = emulator(user("alice@example.com", "owner"))
    text = state_file(ALICE_OWNER, "{who: erin@example.com}").replace("sandbox: true", "credentials: {api_key: env:CW_KEY}")
    plan, report = await plan_apply(load(text), {"cw": emu}, environ={"CW_KEY": "ro-key"})
    [result] = report.results
    assert result.status == "failed" and "read-only" in result.message
    assert [u["email"] for u in emu.state["users"]] == ["alice@example.com"]


async def test_plan_apply_then_the_next_plan_is_empty():
    emu = CrankWheelEmulator()  # the sandbox seed: drift against these members
    config = load(state_file(ALICE_OWNER, "{who: bob@example.com, privilege: admin}", "{who: carol@example.com}",
                             "{who: dave@example.com, privilege: reporting, in_demo_pool: false}",
                             "{who: erin@example.com, in_demo_pool: true}"))
    first = await make_plan(config, {"cw": emu})
    assert sorted(ops(first)) == [("create", "erin@example.com"), ("delete", "mallory@example.com"),
                                  ("update", "bob@example.com"), ("update", "dave@example.com")]
    assert not (await converge(config, {"cw": emu})).operations
