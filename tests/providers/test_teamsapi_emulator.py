"""The Teams API emulator over direct HTTP: every documented call, rule and error."""

import httpx
import pytest

from teamform_teamsapi import api
from teamform_teamsapi.emulator import TeamsApiEmulator, membership, team, user

BASE = "http://teams.test"


def state(limit: int = 4) -> dict:
    return {"users": [user(1, "alice@example.com", "Alice", "Doe"), user(2, "bob@example.com", "Bob", "Roe"),
                      user(3, "carol@example.com", "Carol", "Poe")],
            "tokens": {"t-alice": 1, "t-bob": 2, "t-carol": 3},
            "teams": [team("team_1", "Eng", 1, limit)],
            "memberships": [membership(1, "team_1", 1, "Admin", invited=False), membership(2, "team_1", 2, "Member"),
                            membership(3, "team_1", 3, "Viewer", accepted=False)],
            "roles": ["Admin", "Member", "Viewer"], "default_users_limit": 5, "next_id": 100}


@pytest.fixture
def emu():
    return TeamsApiEmulator(state())


def client(emu, token: str | None = "t-alice") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=emu.transport(), base_url=BASE, headers=headers)


def invitation(email: str = "dave@example.com", role: str = "Member", team_id: str | None = "team_1") -> dict:
    return {"email": email, "firstName": "Dave", "lastName": "Loe", "phone": None, "role": role, "teamId": team_id}


async def test_every_call_needs_a_valid_bearer_token(emu):
    for token in (None, "wrong"):
        async with client(emu, token) as c:
            response = await c.get(api.TEAM)
        assert response.status_code == 401 and response.json()["error"] == "Unauthorized"
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE,
                                 headers={"Authorization": "Basic dDphbGljZQ=="}) as c:
        assert (await c.get(api.ROLES)).status_code == 401
    async with client(emu) as c:
        assert (await c.post(api.INVITATION, json=invitation(), headers={"Authorization": "Bearer x"})).status_code == 401
    assert emu.state["memberships"] == state()["memberships"]


async def test_team_roles_limit_and_all_teams_as_documented(emu):
    async with client(emu) as c:
        assert (await c.get(api.TEAM)).json() == {"usersLimit": 4, "name": "Eng", "count": 3}
        assert (await c.get(api.ROLES)).json()[0] == {"label": "Admin", "value": "Admin"}
        assert (await c.get(api.LIMIT)).json() is True
        [listed] = (await c.get(api.ALL_TEAMS)).json()
    assert listed["membersCount"] == 3 and listed["usersLimit"] == 4
    assert listed["owner"] == {"id": 1, "firstName": "Alice", "lastName": "Doe", "email": "alice@example.com"}


async def test_members_are_listed_without_emails_and_invitations_carry_them(emu):
    async with client(emu) as c:
        members = (await c.get(api.MEMBERS, params={"teamId": "team_1"})).json()
        invitations = (await c.get(api.INVITATIONS, params={"teamId": "team_1"})).json()
    assert [m["id"] for m in members] == [1, 2, 3] and all("email" not in m for m in members)
    assert members[2]["invitationAccepted"] is False
    assert [(i["userId"], i["email"]) for i in invitations] == [(2, "bob@example.com"), (3, "carol@example.com")]


async def test_only_the_team_list_is_paged_and_bad_paging_values_refused(emu):
    async with client(emu) as c:
        whole = (await c.get(api.MEMBERS, params={"offset": 2, "limit": 1})).json()
        assert [m["id"] for m in whole] == [1, 2, 3]  # not paged in the document: parameters ignored
        for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": "x"}):
            response = await c.get(api.ALL_TEAMS, params=bad)
            assert response.status_code == 400, bad
        assert (await c.get(api.ALL_TEAMS, params={"globalSearch": "nope"})).json() == []


async def test_invitation_creates_a_pending_member(emu):
    async with client(emu) as c:
        response = await c.post(api.INVITATION, json=invitation(role="Viewer"))
        members = (await c.get(api.MEMBERS, params={"teamId": "team_1"})).json()
    assert response.status_code == 200 and response.json()["message"] == "Invitation email sent"
    assert members[-1]["role"] == "Viewer" and members[-1]["invitationAccepted"] is False


async def test_unknown_role_and_missing_fields_are_refused(emu):
    async with client(emu) as c:
        bad_role = await c.post(api.INVITATION, json=invitation(role="Owner"))
        body = invitation()
        del body["phone"]
        missing = await c.post(api.INVITATION, json=body)
        bad_email = await c.post(api.INVITATION, json=invitation(email="nobody"))
    assert bad_role.status_code == 400 and "role must be one of" in bad_role.json()["message"]
    assert missing.status_code == 400 and "phone" in missing.json()["message"]
    assert bad_email.status_code == 400
    assert len(emu.state["memberships"]) == 3


async def test_duplicate_invitation_is_refused_whatever_the_case(emu):
    async with client(emu) as c:
        pending = await c.post(api.INVITATION, json=invitation(email="Carol@Example.com"))
        member = await c.post(api.INVITATION, json=invitation(email="bob@example.com"))
    assert pending.status_code == member.status_code == 409
    assert len(emu.state["memberships"]) == 3


async def test_invitation_past_users_limit_is_refused_pending_included(emu):
    async with client(emu) as c:
        assert (await c.post(api.INVITATION, json=invitation())).status_code == 200  # 4 of 4, one pending
        over = await c.post(api.INVITATION, json=invitation(email="erin@example.com"))
        assert (await c.get(api.LIMIT)).json() is False
    assert over.status_code == 403 and "users limit" in over.json()["message"]


async def test_only_owner_or_admin_invites_and_cancels(emu):
    async with client(emu, "t-bob") as c:
        invite = await c.post(api.INVITATION, json=invitation())
        cancel = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=3), json={"membershipId": 3})
    assert invite.status_code == cancel.status_code == 403


async def test_cancel_removes_pending_or_accepted_but_never_the_owner(emu):
    async with client(emu) as c:
        pending = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=3), json={"membershipId": 3})
        accepted = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=2))  # membershipId optional
        owner = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=1), json={"membershipId": 1})
        again = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=3), json={"membershipId": 3})
        mismatch = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=2), json={"membershipId": 1})
    assert pending.status_code == accepted.status_code == 200
    assert pending.json()["message"] == "Invitation cancelled successfully"
    assert owner.status_code == 403 and again.status_code == mismatch.status_code == 404
    assert [m["userId"] for m in emu.state["memberships"]] == [1]


async def test_accept_and_decline_by_the_invited_person(emu):
    async with client(emu, "t-carol") as c:
        assert (await c.get(api.ALL_TEAMS)).json() == []  # pending: not on the team yet
        assert (await c.put(api.ACCEPT_INVITATION.format(team_id="team_1"))).status_code == 200
        assert (await c.put(api.ACCEPT_INVITATION.format(team_id="team_1"))).status_code == 404
    assert emu.state["memberships"][2]["invitationAccepted"] is True
    async with client(emu) as c:
        await c.post(api.INVITATION, json=invitation(email="dave@example.com"))
    emu.state["tokens"]["t-dave"] = emu.state["users"][-1]["id"]
    async with client(emu, "t-dave") as c:
        declined = await c.put(api.DECLINE_INVITATION.format(team_id="team_1"))
    assert declined.json()["message"] == "Invitation declined successfully"
    assert len(emu.state["memberships"]) == 3


async def test_owner_leaves_only_by_naming_an_accepted_member_as_new_owner(emu):
    path = api.LEAVE_TEAM.format(team_id="team_1")
    async with client(emu) as c:
        assert (await c.put(path, json={})).status_code == 400
        assert (await c.put(path, json={"newOwnerId": 3})).status_code == 400  # pending
        assert (await c.put(path, json={"newOwnerId": 99})).status_code == 400
        done = await c.put(path, json={"newOwnerId": 2})
    assert done.json()["message"] == "Left the team successfully"
    assert emu.state["teams"][0]["ownerId"] == 2
    assert [m["userId"] for m in emu.state["memberships"]] == [2, 3]


async def test_a_member_leaves_without_naming_an_owner(emu):
    path = api.LEAVE_TEAM.format(team_id="team_1")
    async with client(emu, "t-bob") as c:
        assert (await c.put(path, json={"newOwnerId": 1})).status_code == 403
        assert (await c.put(path)).status_code == 200
        assert (await c.put(path)).status_code == 404
    assert emu.state["teams"][0]["ownerId"] == 1


async def test_create_and_delete_team(emu):
    async with client(emu) as c:
        assert (await c.post(api.TEAM, json={"teamName": 5})).status_code == 400
        created = await c.post(api.TEAM, json={"teamName": "Design"})
        assert created.status_code == 201
        body = created.json()
        assert body["name"] == "Design" and body["usersLimit"] == 5
        members = (await c.get(api.MEMBERS, params={"teamId": body["id"]})).json()
        assert [(m["id"], m["role"]) for m in members] == [(1, api.CREATOR_ROLE)]
        async with client(emu, "t-bob") as bob:
            assert (await bob.delete(api.TEAM_BY_ID.format(team_id="team_1"))).status_code == 403
        deleted = await c.delete(api.TEAM_BY_ID.format(team_id=body["id"]))
        assert deleted.json()["message"] == "Team deleted successfully"
        assert (await c.delete(api.TEAM_BY_ID.format(team_id=body["id"]))).status_code == 404
    assert [t["name"] for t in emu.state["teams"]] == ["Eng"]


async def test_faults_and_request_log(emu):
    emu.inject(kind="status", status=503, times=1, path="/teams/members")
    async with client(emu) as c:
        assert (await c.get(api.MEMBERS)).status_code == 503
        assert (await c.get(api.MEMBERS)).status_code == 200
    assert [e.status for e in emu.calls("GET", "/teams/members")] == [503, 200]


def test_sandbox_seed_has_drift():
    seeded = TeamsApiEmulator().state
    assert {t["name"] for t in seeded["teams"]} == {"Engineering", "Old Project"}
    assert any(not m["invitationAccepted"] for m in seeded["memberships"])
    assert any(not m["invited"] and m["userId"] != 1 for m in seeded["memberships"])


async def test_memberships_keep_their_order_through_cancels():
    emu = TeamsApiEmulator(state(limit=10))
    async with client(emu) as c:
        for email in ("dave@example.com", "erin@example.com"):
            assert (await c.post(api.INVITATION, json=invitation(email))).status_code == 200
        assert (await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=2))).status_code == 200
        assert (await c.post(api.INVITATION, json=invitation("bob@example.com"))).status_code == 200
        members = (await c.get(api.MEMBERS, params={"teamId": "team_1"})).json()
    assert [m["firstName"] for m in members] == ["Alice", "Carol", "Dave", "Dave", "Bob"]
    assert [m["userId"] for m in emu.state["memberships"]] == [1, 3, 100, 102, 2]
