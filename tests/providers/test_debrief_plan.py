"""Debrief end to end through teamform.testing: the issue's checks (team first, applications
first on the way out, destructive deletion, an apply past a short token lifetime, the login user
kept, plan/apply/plan-empty) and the rules the plan must respect."""

import pytest

from teamform.config import ConfigError
from teamform.render.text import render_text
from teamform.testing import converge, load, make_plan, plan_apply
from teamform_debrief.emulator import DebriefEmulator, app, user

PEOPLE = ["ops", "alice", "bob", "carol", "dave", "erin"]


def state_file(members: str, applications: str | None = "", policy: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()} Doe}}" for p in PEOPLE)
    apps = "" if applications is None else f"    applications:\n{applications or '      []'}"
    return f"""
version: 1
people:
{people}
services:
  debrief:
    provider: debrief
    sandbox: true
    {policy}
    members:
{members}
{apps}
"""


def lines(*entries: str, indent: int = 6) -> str:
    return "\n".join(" " * indent + f"- {e}" for e in entries)


def application(name: str, *users: str, description: str = "d") -> str:
    body = f"      - name: {name}\n        description: {description}\n        users:"
    return body + ("\n" + lines(*users, indent=10) if users else " []")


OPS = "{who: ops@example.com, role: owner}"


def emulator(users=(), apps=(), rows=(), **kw) -> DebriefEmulator:
    creds = DebriefEmulator.sandbox_credentials
    base = [user("u1", "ops@example.com", "Ops", "Doe", "owner", password=creds["password"])]
    return DebriefEmulator({"teams": [{"id": "team-1", "team_name": "T", "email": "ops@example.com"}],
                            "users": base + list(users), "applications": list(apps),
                            "app_users": [dict(zip(("app_id", "user_id", "role"), r)) for r in rows],
                            "clients": [{"client_id": creds["client_id"], "client_secret": creds["client_secret"]}],
                            "next_id": 100}, **kw)


def ops(plan):
    return [(op.action, op.kind, op.key) for op in plan.operations]


def position(plan, action, kind, key):
    return ops(plan).index((action, kind, key))


async def test_sandbox_seed_converges(example_text):
    config = load(example_text)
    emu = DebriefEmulator()
    plan, report = await plan_apply(config, {"debrief": emu}, services=["debrief"])
    assert plan.operations and report.ok, report.by_status("failed")
    assert not (await make_plan(config, {"debrief": emu}, services=["debrief"])).operations


async def test_a_new_person_joins_the_team_before_two_applications():
    emu = emulator(apps=[app("a1", "One"), app("a2", "Two")])
    config = load(state_file(lines(OPS, "{who: carol@example.com}"),
                             application("One", "{who: carol@example.com}") + "\n" +
                             application("Two", "{who: carol@example.com, role: admin}")))
    plan, report = await plan_apply(config, {"debrief": emu})
    team = ("create", "team_user", "carol@example.com")
    joins = [op for op in plan.operations if op.kind == "application_user"]
    assert len(joins) == 2 and all("debrief:team_user[carol@example.com]:create" in op.depends_on for op in joins)
    assert all(position(plan, *team) < position(plan, op.action, op.kind, op.key) for op in joins)
    assert report.ok and emu.calls("POST", "/team/team-1/add")
    carol = next(u for u in emu.state["users"] if u["email"] == "carol@example.com")
    assert carol["status"] == "invited"  # no password: an invitation, and a pending member
    assert {(r["app_id"], r["role"]) for r in emu.state["app_users"]} == {("a1", "developer"), ("a2", "admin")}
    assert not (await make_plan(config, {"debrief": emu})).operations


async def test_a_new_application_exists_before_anyone_is_added_to_it():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe")])
    config = load(state_file(lines(OPS, "{who: bob@example.com}"), application("Fresh", "{who: bob@example.com}")))
    plan = await converge(config, {"debrief": emu})
    assert not plan.operations and emu.state["app_users"][0]["user_id"] == "u2"


async def test_a_person_removed_from_everything_leaves_applications_first():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe")],
                   apps=[app("a1", "One"), app("a2", "Two")], rows=[("a1", "u2", "developer"), ("a2", "u2", "admin")])
    config = load(state_file(lines(OPS), application("One") + "\n" + application("Two")))
    plan, report = await plan_apply(config, {"debrief": emu})
    leave = position(plan, "delete", "team_user", "bob@example.com")
    for key in ("one/bob@example.com", "two/bob@example.com"):
        assert position(plan, "delete", "application_user", key) < leave
    assert report.ok and not emu.state["app_users"]
    methods = [(e.method, e.path) for e in emu.log if e.method == "DELETE"]
    assert methods[-1] == ("DELETE", "/team/team-1/user/u2")


async def test_deleting_an_application_is_destructive_and_counts_for_the_removal_cap():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe")],
                   apps=[app("a1", "Keep"), app("a2", "Old"), app("a3", "Older")], rows=[("a2", "u2", "developer")])
    config = load(state_file(lines(OPS, "{who: bob@example.com}"), application("Keep"), policy="policy: {max_removals: 1}"))
    plan = await make_plan(config, {"debrief": emu})
    deletes = {op.key: op for op in plan.operations if op.action == "delete"}
    assert deletes["old"].destructive and deletes["older"].destructive
    assert not deletes["old/bob@example.com"].destructive
    assert any("removes 2" in e for e in plan.errors)  # two applications over max_removals 1
    plan, report = await plan_apply(config, {"debrief": emu}, allow_mass_removal=True)
    assert position(plan, "delete", "application_user", "old/bob@example.com") < \
        position(plan, "delete", "application", "old")
    assert report.ok and [a["name"] for a in emu.state["applications"]] == ["Keep"]


class Ticking:
    """Every look at the clock is one second later: tokens expire during the apply."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


async def test_an_apply_that_outlives_its_token_refreshes_and_does_not_fail():
    emu = emulator(apps=[app("a1", "One")], token_lifetime=6, clock=Ticking())
    people = [f"{p}@example.com" for p in PEOPLE[1:]]
    config = load(state_file(lines(OPS, *[f"{{who: {p}}}" for p in people]),
                             application("One", *[f"{{who: {p}}}" for p in people])))
    plan, report = await plan_apply(config, {"debrief": emu})
    assert len(report.by_status("done")) == len(plan.operations) == 11, report.by_status("failed")
    assert [e for e in emu.log if e.status == 401] and emu.calls("POST", "/oauth/token")
    assert len(emu.calls("POST", "/login")) <= 2  # a fetch and an apply session: refreshes, not re-logins


async def test_the_login_user_is_never_removed_or_demoted_and_the_plan_says_why():
    emu = emulator(users=[user("u2", "alice@example.com", "Alice", "Doe", "owner")])
    plan = await make_plan(load(state_file(lines("{who: alice@example.com, role: owner}"))), {"debrief": emu})
    assert not plan.errors and not plan.operations
    [warning] = plan.services[0].warnings
    assert "team_user[ops@example.com]" in warning and "lockout guard" in warning and "kept" in warning
    assert "No changes to make, but see the 1 warning(s)" in render_text(plan)  # not "matches the file"
    demote = await make_plan(load(state_file(lines("{who: alice@example.com, role: owner}",
                                                   "{who: ops@example.com, role: developer}"))), {"debrief": emu})
    assert not demote.operations and "keeps role 'owner'" in demote.services[0].warnings[0]


async def test_team_admins_in_applications_are_not_planned_and_the_plan_says_so():
    emu = emulator(users=[user("u2", "alice@example.com", "Alice", "Doe", "admin")], apps=[app("a1", "One")])
    config = load(state_file(lines(OPS, "{who: alice@example.com, role: admin}"),
                             application("One", "{who: alice@example.com}", "{who: ops@example.com}")))
    plan = await converge(config, {"debrief": emu})
    assert not plan.operations and not emu.state["app_users"]
    warnings = " ".join(plan.services[0].warnings)
    assert "alice@example.com is a team admin or owner" in warnings and "ops@example.com" in warnings


async def test_a_demoted_admin_joins_applications_after_the_demotion():
    emu = emulator(users=[user("u2", "alice@example.com", "Alice", "Doe", "admin")], apps=[app("a1", "One")])
    config = load(state_file(lines(OPS, "{who: alice@example.com}"), application("One", "{who: alice@example.com}")))
    plan = await converge(config, {"debrief": emu})
    assert not plan.operations and emu.state["app_users"] == [{"app_id": "a1", "user_id": "u2", "role": "developer"}]


async def test_an_application_user_must_be_a_team_member():
    emu = emulator(apps=[app("a1", "One")])
    plan = await make_plan(load(state_file(lines(OPS), application("One", "{who: bob@example.com}"))), {"debrief": emu})
    assert any("bob@example.com is on application 'One' but not in services.debrief.members" in e for e in plan.errors)


async def test_removing_a_pending_person_cancels_the_invitation():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe", status="invited")])
    plan, report = await plan_apply(load(state_file(lines(OPS))), {"debrief": emu})
    assert plan.operations[0].pending and report.ok
    assert emu.calls("POST", r"^/invite/\*\*\*/cancel$") and not emu.calls("DELETE")  # the token is not logged
    assert "invite-u2" not in str([op.to_dict() for op in plan.operations])  # tokens stay out of plan files


async def test_a_pending_member_is_not_invited_again():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe", status="invited")])
    assert not (await make_plan(load(state_file(lines(OPS, "{who: Bob@Example.com}"))), {"debrief": emu})).operations


async def test_names_roles_and_descriptions_update_in_place():
    emu = emulator(users=[user("u2", "Bob@Example.com", "Robert", "Doe")], apps=[app("a1", "one", "old")],
                   rows=[("a1", "u2", "developer")])
    config = load(state_file(lines(OPS, "{who: bob@example.com, role: admin}"),
                             application("One", description="new")))
    plan = await converge(config, {"debrief": emu})
    assert not plan.operations
    bob = emu.state["users"][1]
    assert (bob["first_name"], bob["role"], bob["id"]) == ("Bob", "admin", "u2")
    assert emu.state["applications"][0] == {**app("a1", "One", "new")}


async def test_without_an_applications_key_applications_are_left_alone():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe"), user("u3", "carol@example.com", "Carol", "Doe")],
                   apps=[app("a1", "One")], rows=[("a1", "u2", "developer"), ("a1", "u3", "developer")])
    plan = await make_plan(load(state_file(lines(OPS, "{who: bob@example.com}"), applications=None)), {"debrief": emu})
    assert ops(plan) == [("delete", "application_user", "one/carol@example.com"),
                         ("delete", "team_user", "carol@example.com")]
    assert any("left as they are" in n for n in plan.services[0].notes)


async def test_a_developer_login_is_a_partial_read_and_aborts_the_plan():
    emu = emulator()
    emu.state["users"][0]["role"] = "developer"
    emu.state["users"].append(user("u9", "owner@example.com", "O", "W", "owner"))
    plan = await make_plan(load(state_file(lines(OPS))), {"debrief": emu})
    assert not plan.operations and "only team admins and owners see every application" in plan.errors[0]


async def test_a_failed_read_aborts_the_plan_and_removes_nothing():
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe")], apps=[app("a1", "One")])
    emu.inject(kind="status", status=500, path="/application/a1/users", times=10)
    plan = await make_plan(load(state_file(lines(OPS), application("One"))), {"debrief": emu})
    assert not plan.operations and "could not read live state" in plan.errors[0]


async def test_a_lost_answer_is_checked_not_repeated():
    emu = emulator()
    emu.inject(kind="drop", method="POST", path="^/application$")
    plan, report = await plan_apply(load(state_file(lines(OPS), application("New"))), {"debrief": emu})
    assert report.ok and len(emu.state["applications"]) == 1 and "read back" in report.results[0].message


async def test_deleting_what_is_already_gone_is_done():
    emu = emulator(apps=[app("a1", "Gone")])
    config = load(state_file(lines(OPS), application("Other")))
    plan = await make_plan(config, {"debrief": emu})
    emu.state["applications"] = [a for a in emu.state["applications"] if a["id"] != "a1"]
    from teamform.session import Session
    from teamform.testing import no_sleep
    async with Session(config, emulators={"debrief": emu}, sleep=no_sleep, environ={}) as s:
        await s.fetch()
        report = await s.apply(plan)
    assert report.ok


@pytest.mark.parametrize("section, message", [
    ("    members:\n      - {who: ops@example.com, role: boss}\n", "'owner', 'admin' or 'developer'"),
    ("    members: []\n    applications:\n      - {name: A}\n      - {name: a}\n", "listed twice"),
    ("    members: []\n    applications:\n      - {name: A, users: [{who: zed@example.com}]}\n", "not in people"),
])
def test_bad_sections_get_located_errors(section, message):
    text = f"version: 1\npeople:\n  ops@example.com: {{}}\nservices:\n  debrief:\n    provider: debrief\n" \
           f"    sandbox: true\n{section}"
    with pytest.raises(ConfigError) as err:
        load(text)
    assert message in str(err.value) and "services.debrief" in str(err.value)


async def test_a_new_application_is_created_with_the_fields_the_document_requires():
    """name, description and icon: teamform sends its default icon (it does not manage icons)."""
    emu = emulator()
    await plan_apply(load(state_file(lines(OPS), application("Fresh", description="Does things"))), {"debrief": emu})
    [created] = emu.state["applications"]
    assert (created["name"], created["description"], created["icon"]) == ("Fresh", "Does things", "default.png")


async def test_a_new_application_without_a_description_is_a_plan_error_not_a_refused_apply():
    emu = emulator(apps=[app("a1", "Old", "")])
    text = state_file(lines(OPS), "      - {name: New}\n      - {name: Old}")
    plan = await make_plan(load(text), {"debrief": emu})
    assert len(plan.errors) == 1 and "'New' is new and has no description" in plan.errors[0]


@pytest.mark.parametrize("entry, where", [("{name: ' '}", "applications[0].name"),
                                          ("{name: A, description: ''}", "applications[0].description")])
def test_blank_application_names_and_descriptions_get_located_errors(entry, where):
    with pytest.raises(ConfigError) as err:
        load(state_file(lines(OPS), f"      - {entry}"))
    assert f"services.debrief.{where}" in str(err.value) and "must not be blank" in str(err.value)


@pytest.mark.parametrize("applications", [None, application("One")])
async def test_a_promotion_removes_the_persons_application_roles_first_and_the_plan_says_so(applications):
    """Debrief stops listing a team admin on applications: their roles are removed in the plan,
    before the promotion, not hidden by it (found by the conformance kit)."""
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe")], apps=[app("a1", "One", "d")],
                   rows=[("a1", "u2", "developer")])
    config = load(state_file(lines(OPS, "{who: bob@example.com, role: admin}"), applications))
    plan, report = await plan_apply(config, {"debrief": emu})
    assert position(plan, "delete", "application_user", "one/bob@example.com") < \
        position(plan, "update", "team_user", "bob@example.com")
    assert any("bob@example.com becomes a team admin or owner" in n for n in plan.services[0].notes)
    assert report.ok and not emu.state["app_users"]
    assert not (await make_plan(config, {"debrief": emu})).operations
