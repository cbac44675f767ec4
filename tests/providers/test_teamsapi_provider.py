"""The Teams API provider end to end: plan and apply against its emulator, in process."""

import json

from teamform.render.text import render_text
from teamform.testing import converge, load, make_plan, plan_apply
from teamform_teamsapi import api
from teamform_teamsapi.emulator import TeamsApiEmulator, membership, team, user

PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank"]


def state_file(teams: str, policy: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()} Doe}}" for p in PEOPLE)
    return f"""
version: 1
people:
{people}
services:
  ta:
    provider: teamsapi
    sandbox: true
    {policy}
    teams:
{teams}
"""


def members(*entries: str, name: str = "Eng") -> str:
    lines = "\n".join(f"          - {e}" for e in entries)
    return f"      {name}:\n        members:\n{lines}"


def emulator(*rows, limit: int = 5, teams=None) -> TeamsApiEmulator:
    """rows: (user id, email, role, accepted, invited) on team_1 'Eng' owned by user 1 (alice)."""
    users = [user(1, "alice@example.com", "Alice", "Doe")]
    ms = [membership(1, "team_1", 1, "Admin", invited=False)]
    for uid, email, role, accepted, invited in rows:
        users.append(user(uid, email, email.split("@")[0].title(), "Doe"))
        ms.append(membership(uid + 1000, "team_1", uid, role, accepted, invited))
    return TeamsApiEmulator({"users": users, "tokens": {"sandbox-token": 1}, "memberships": ms,
                             "teams": [team("team_1", "Eng", 1, limit), *(teams or [])],
                             "roles": ["Admin", "Member", "Viewer"], "default_users_limit": 3,
                             "next_id": 5000})


def ops(plan):
    return [(op.action, op.key) for op in plan.operations]


def writes(emu):
    return [(e.method, e.path) for e in emu.log if e.method != "GET"]


ALICE = "{who: alice@example.com, role: Admin}"
BOB = (2, "bob@example.com", "Member", True, True)
CAROL_PENDING = (3, "carol@example.com", "Member", False, True)


async def test_plan_apply_then_plan_is_empty():
    emu = emulator(BOB)
    config = load(state_file(members(ALICE, "{who: bob@example.com}", "{who: dave@example.com, role: Viewer}")))
    plan = await converge(config, {"ta": emu})
    assert not plan.has_changes and not plan.errors
    [post] = emu.calls("POST", api.INVITATION)
    assert json.loads(post.body) == {"email": "dave@example.com", "firstName": "Dave", "lastName": "Doe",
                                     "phone": None, "role": "Viewer", "teamId": "team_1"}


async def test_role_change_is_a_replace_with_a_warning_cancel_then_invite():
    emu = emulator(BOB)
    config = load(state_file(members(ALICE, "{who: bob@example.com, role: Admin}")))
    plan, report = await plan_apply(config, {"ta": emu})
    [op] = plan.operations
    assert (op.action, op.key) == ("replace", "Eng/bob@example.com")
    assert any("lose access" in w for w in op.warnings)
    assert report.ok and writes(emu) == [("DELETE", "/teams/invitation/2"), ("POST", api.INVITATION)]
    bob = [m for m in emu.state["memberships"] if m["userId"] == 2]
    assert [(m["role"], m["invitationAccepted"]) for m in bob] == [("Admin", False)]
    assert not (await make_plan(config, {"ta": emu})).has_changes


async def test_inviting_past_users_limit_fails_at_plan_time_and_sends_nothing():
    emu = emulator(BOB, CAROL_PENDING, limit=4)
    config = load(state_file(members(ALICE, "{who: bob@example.com}", "{who: carol@example.com}",
                                     "{who: dave@example.com}", "{who: erin@example.com}")))
    plan = await make_plan(config, {"ta": emu})
    [error] = plan.errors
    assert "usersLimit is 4 but the plan needs 5" in error and "1 seat(s) missing" in error
    assert "pending invitations count" in error
    assert emu.calls("POST") == []


async def test_removals_free_seats_before_invitations_at_the_limit():
    emu = emulator(BOB, limit=2)
    config = load(state_file(members(ALICE, "{who: dave@example.com}")))
    plan, report = await plan_apply(config, {"ta": emu})
    assert report.ok and not plan.errors
    assert writes(emu) == [("DELETE", "/teams/invitation/2"), ("POST", api.INVITATION)]


async def test_a_pending_person_is_not_invited_again():
    emu = emulator(CAROL_PENDING)
    config = load(state_file(members(ALICE, "{who: Carol@Example.com}")))
    plan = await make_plan(config, {"ta": emu})
    assert not plan.has_changes and emu.calls("POST") == []


async def test_removing_a_pending_person_cancels_the_invitation():
    emu = emulator(BOB, CAROL_PENDING)
    config = load(state_file(members(ALICE, "{who: bob@example.com}")))
    plan, report = await plan_apply(config, {"ta": emu})
    [op] = plan.operations
    assert (op.action, op.key) == ("delete", "Eng/carol@example.com")
    assert any("cancels the invitation" in w for w in op.warnings)
    assert report.ok and writes(emu) == [("DELETE", "/teams/invitation/3")]
    assert json.loads(emu.calls("DELETE")[0].body) == {"membershipId": 1003}
    assert [m["userId"] for m in emu.state["memberships"]] == [1, 2]


async def test_unmatched_members_are_reported_and_never_removed():
    lee = (5, "lee@example.org", "Member", True, False)  # no invitation record
    emu = emulator(BOB, lee)
    config = load(state_file(members(ALICE)), )
    plan = await make_plan(config, {"ta": emu}, allow_mass_removal=True)
    assert ops(plan) == [("delete", "Eng/bob@example.com")]
    [warning] = plan.services[0].warnings
    assert "Eng/#5 (Lee Doe)" in warning and "never removed" in warning


async def test_unmatched_members_count_against_users_limit():
    lee = (5, "lee@example.org", "Member", True, False)
    emu = emulator(lee, limit=2)
    plan = await make_plan(load(state_file(members(ALICE, "{who: dave@example.com}"))), {"ta": emu})
    assert any("needs 3" in e for e in plan.errors) and emu.calls("POST") == []


async def test_deleting_a_team_with_unmatched_members_is_refused():
    emu = emulator(teams=[team("team_2", "Old", 1)])
    emu.state["users"].append(user(5, "lee@example.org", "Lee", "Gacy"))
    emu.state["memberships"] += [membership(6, "team_2", 1, "Admin", invited=False),
                                 membership(7, "team_2", 5, "Member", invited=False)]
    plan = await make_plan(load(state_file(members(ALICE))), {"ta": emu})
    assert any("'Old' would be deleted" in e and "cannot be matched" in e for e in plan.errors)


async def test_a_failing_page_aborts_the_plan():
    emu = emulator(BOB, CAROL_PENDING)
    emu.inject(kind="status", status=503, times=50, path="^/teams/members$")
    plan = await make_plan(load(state_file(members(ALICE))), {"ta": emu}, allow_mass_removal=True)
    [error] = plan.errors
    assert "could not read live state" in error and not plan.operations
    assert writes(emu) == []


async def test_a_member_list_shorter_than_members_count_aborts_the_plan():
    class Truncating(TeamsApiEmulator):
        async def list_members(self, request, caller):
            whole = await super().list_members(request, caller)
            return whole[:1] if "offset" not in request.query_params else []

    emu = emulator(BOB, CAROL_PENDING)
    short = Truncating(emu.state)
    plan = await make_plan(load(state_file(members(ALICE))), {"ta": short}, allow_mass_removal=True)
    assert any("the members of 'Eng'" in e and "ended after 1 of 3" in e for e in plan.errors)
    assert not plan.operations


async def test_members_are_read_in_one_request_as_documented_and_teams_page_by_ten():
    rows = [(10 + i, f"p{i}@example.org", "Member", True, True) for i in range(105)]
    emu = emulator(*rows, limit=500, teams=[team(f"team_{i}", f"T{i:02}", 2) for i in range(2, 12)])
    emu.state["users"].append(user(2, "bob@example.com", "Bob", "Doe"))
    emu.state["memberships"] += [membership(i, f"team_{i}", 2, "Admin", invited=False) for i in range(2, 12)]
    emu.state["memberships"] += [membership(100 + i, f"team_{i}", 1, "Member") for i in range(2, 12)]
    config = load(state_file(members(ALICE), "policy: {authoritative: false}\n    limits: {requests_per_minute: 100000}"))
    plan = await make_plan(config, {"ta": emu})
    assert not plan.errors and not plan.operations  # not authoritative: the ten teams bob owns stay
    assert [e.query for e in emu.calls("GET", "^/teams/members$")][0] == "teamId=team_1"
    assert [e.query for e in emu.calls("GET", "^/teams/all$")] == ["offset=0&limit=10", "offset=10&limit=10"]


async def test_unknown_role_is_a_plan_time_error_naming_the_roles():
    emu = emulator()
    plan = await make_plan(load(state_file(members(ALICE, "{who: bob@example.com, role: Owner}"))), {"ta": emu})
    assert any("role 'Owner' is not a Teams API role" in e and "Admin, Member, Viewer" in e for e in plan.errors)


async def test_new_team_is_created_then_filled_and_its_creator_owns_it():
    emu = emulator()
    config = load(state_file(members(ALICE) + "\n" + members("{who: dave@example.com}", name="Design")))
    plan = await converge(config, {"ta": emu})
    assert not plan.has_changes
    assert writes(emu) == [("POST", api.TEAM), ("POST", api.INVITATION)]
    design = next(t for t in emu.state["teams"] if t["name"] == "Design")
    assert design["ownerId"] == 1


async def test_an_unlisted_owned_team_is_deleted_after_its_members_are_cancelled():
    emu = emulator(teams=[team("team_2", "Old", 1)])
    emu.state["memberships"] += [membership(6, "team_2", 1, "Admin", invited=False),
                                 membership(7, "team_2", 2, "Member")]
    emu.state["users"].append(user(2, "bob@example.com", "Bob", "Doe"))
    plan = await converge(load(state_file(members(ALICE))), {"ta": emu})
    assert not plan.has_changes
    assert writes(emu) == [("DELETE", "/teams/invitation/2"), ("DELETE", "/teams/team_2")]


async def test_an_unlisted_team_owned_by_someone_else_is_left_not_deleted():
    emu = emulator(BOB, teams=[team("team_2", "Bobs", 2)])
    emu.state["memberships"] += [membership(6, "team_2", 2, "Admin", invited=False),
                                 membership(7, "team_2", 1, "Member"), membership(8, "team_2", 3, "Member")]
    emu.state["users"].append(user(3, "carol@example.com", "Carol", "Doe"))
    plan, report = await plan_apply(load(state_file(members(ALICE, "{who: bob@example.com}"))), {"ta": emu})
    assert ops(plan) == [("delete", "Bobs")] and report.ok
    assert "team[Bobs] will be left (another account owns it)" in render_text(plan)
    assert not plan.operations[0].destructive
    assert writes(emu) == [("PUT", "/teams/leave-team/team_2")]
    assert [m["userId"] for m in emu.state["memberships"] if m["teamId"] == "team_2"] == [2, 3]


async def test_hand_over_moves_ownership_through_leave_team():
    emu = emulator(BOB, CAROL_PENDING, teams=[team("team_2", "Old", 1)])
    emu.state["memberships"] += [membership(6, "team_2", 1, "Admin", invited=False), membership(7, "team_2", 2, "Member")]
    config = load(state_file(members(ALICE, "{who: bob@example.com}", "{who: carol@example.com}")
                             + "\n      Old: {hand_over_to: bob@example.com}"))
    [hand_over] = [op for op in (await make_plan(config, {"ta": emu})).operations if op.kind == "team"]
    assert hand_over.summary.startswith("handed over to bob@example.com") and not hand_over.destructive
    plan = await converge(config, {"ta": emu})
    assert not plan.has_changes
    [put] = emu.calls("PUT")
    assert put.path == "/teams/leave-team/team_2" and json.loads(put.body) == {"newOwnerId": 2}
    assert emu.state["teams"][1]["ownerId"] == 2


async def test_hand_over_to_a_pending_member_is_refused_at_plan_time():
    emu = emulator(teams=[team("team_2", "Old", 1)])
    emu.state["memberships"] += [membership(6, "team_2", 1, "Admin", invited=False),
                                 membership(7, "team_2", 3, "Member", accepted=False)]
    emu.state["users"].append(user(3, "carol@example.com", "Carol", "Doe"))
    config = load(state_file(members(ALICE) + "\n      Old: {hand_over_to: carol@example.com}"))
    plan = await make_plan(config, {"ta": emu})
    assert any("accepted their invitation" in e for e in plan.errors)


async def test_the_last_owner_is_never_removed():
    emu = emulator(BOB, teams=[team("team_2", "Bobs", 2)])
    emu.state["memberships"] += [membership(6, "team_2", 2, "Admin", invited=False), membership(7, "team_2", 1, "Admin")]
    config = load(state_file(members(ALICE, "{who: bob@example.com}") + "\n" + members(ALICE, name="Bobs")))
    plan = await make_plan(config, {"ta": emu})
    assert any("a team keeps its owner in team 'Bobs'" in e for e in plan.errors)
    assert writes(emu) == []


async def test_the_owners_role_cannot_change():
    emu = emulator(BOB, teams=[team("team_2", "Bobs", 2)])
    emu.state["memberships"] += [membership(6, "team_2", 2, "Admin", invited=False), membership(7, "team_2", 1, "Admin")]
    config = load(state_file(members(ALICE, "{who: bob@example.com}") + "\n"
                             + members(ALICE, "{who: bob@example.com, role: Member}", name="Bobs")))
    plan = await make_plan(config, {"ta": emu})
    assert any("owns the team" in e for e in plan.errors)


async def test_a_lost_invitation_answer_is_read_back_not_repeated():
    emu = emulator()
    emu.inject(kind="drop", method="POST", path=api.INVITATION)
    config = load(state_file(members(ALICE, "{who: dave@example.com}")))
    plan, report = await plan_apply(config, {"ta": emu})
    assert report.ok and len(emu.calls("POST", api.INVITATION)) == 1
    assert not (await make_plan(config, {"ta": emu})).has_changes


async def test_an_account_without_its_own_team_only_leaves_others_teams():
    emu = emulator(BOB, teams=[team("team_2", "Bobs", 2)])
    emu.state["tokens"] = {"sandbox-token": 2}  # bob owns no team, is a member of Alice's Eng
    emu.state["teams"] = [t for t in emu.state["teams"] if t["id"] == "team_1"]
    plan, report = await plan_apply(load(state_file("      {}")), {"ta": emu})
    assert ops(plan) == [("delete", "Eng")] and report.ok
    assert writes(emu) == [("PUT", "/teams/leave-team/team_1")]


async def test_listing_the_unmatched_member_warns_that_it_is_probably_them_and_counted_twice(example_text):
    """Lee (member #5, no invitation record) is in the file as lee@example.org: teamform cannot
    match them, but says why the invitation would loop and why the seat count is off."""
    text = example_text.replace("people:\n", "people:\n  lee@example.org: {name: Lee Gacy}\n", 1).replace(
        "          - {who: erin@example.com, role: Viewer}",
        "          - {who: erin@example.com, role: Viewer}\n          - {who: lee@example.org}")
    plan = await make_plan(load(text), {"teamsapi": TeamsApiEmulator()}, services=["teamsapi"])
    [error] = plan.errors
    assert "1 seat(s) missing" in error and "1 of them are members teamform cannot identify" in error
    assert any(w.startswith("lee@example.org, whom the plan invites, has the same name as unmatched[Engineering/#5")
               for w in plan.services[0].warnings)
