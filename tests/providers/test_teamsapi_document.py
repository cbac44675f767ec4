"""The emulator against the Teams API document (shared/api-docs/teams-api.txt), endpoint by endpoint.

Each test names the endpoint and checks what the document says of it: required fields, types and
enums, defaults, the response's fields and shape as in the document's example, its status, and
paging exactly as documented (only ``GET /teams/all`` is paged). What the document does not say
and the emulator had to choose is marked "invented" in the test's name or docstring, and listed in
the provider's README ("REST choices where the document is silent").
"""

from __future__ import annotations

import httpx
import pytest

from teamform_teamsapi import api
from teamform_teamsapi.emulator import TeamsApiEmulator, membership, team, user

BASE = "http://teams.test"
DONE = {  # the document's example answers, word for word
    "invite": {"message": "Invitation email sent",
               "description": "Wait for the invited person to finish their registration."},
    "leave": {"message": "Left the team successfully", "description": "You have left the team successfully."},
    "accept": {"message": "Invitation accepted successfully",
               "description": "You have accepted the invitation successfully."},
    "decline": {"message": "Invitation declined successfully",
                "description": "You have declined the invitation successfully."},
    "cancel": {"message": "Invitation cancelled successfully",
               "description": "The invitation has been cancelled successfully."},
    "delete": {"message": "Team deleted successfully", "description": "The team has been deleted successfully."},
}
MEMBER_FIELDS = {"id", "firstName", "lastName", "phone", "role", "isActive", "invitationAccepted"}
TEAM_FIELDS = {"id", "name", "usersLimit", "membersCount", "owner", "subscription", "isImpersonationEnabled"}
OWNER_FIELDS = {"id", "firstName", "lastName", "email"}
INVITATION = {"email": "user@example.com", "firstName": "John", "lastName": "Doe", "phone": "123-456-7890",
              "role": "Viewer", "teamId": "team_1"}  # the document's example body


def state() -> dict:
    """Alice owns Eng (limit 30) with 24 members, more than any default page; Bob is an accepted
    member, Carol invited; Alice is on 12 teams in all (more than one page of GET /teams/all)."""
    users = [user(1, "alice@example.com", "Alice", "Doe"), user(2, "bob@example.com", "Bob", "Roe"),
             user(3, "carol@example.com", "Carol", "Poe")]
    users += [user(10 + i, f"p{i}@example.org", f"P{i}", "Loe") for i in range(21)]
    ms = [membership(1, "team_1", 1, "Admin", invited=False), membership(2, "team_1", 2, "Member"),
          membership(3, "team_1", 3, "Viewer", accepted=False)]
    ms += [membership(10 + i, "team_1", 10 + i, "Member") for i in range(21)]
    teams = [team("team_1", "Eng", 1, 30)]
    for i in range(2, 13):
        teams.append(team(f"team_{i}", f"Side {i:02}", 1))
        ms.append(membership(100 + i, f"team_{i}", 1, "Admin", invited=False))
    return {"users": users, "tokens": {"t-alice": 1, "t-bob": 2, "t-carol": 3}, "teams": teams,
            "memberships": ms, "roles": ["Admin", "Member", "Viewer"], "default_users_limit": 5, "next_id": 1000}


@pytest.fixture
def emu():
    return TeamsApiEmulator(state())


def client(emu, token: str | None = "t-alice") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=emu.transport(), base_url=BASE, headers=headers)


# ---- GET /teams ------------------------------------------------------------------------------
async def test_get_teams_answers_the_callers_team_as_in_the_example(emu):
    async with client(emu) as c:
        response = await c.get(api.TEAM)
    assert response.status_code == 200
    assert response.json() == {"usersLimit": 30, "name": "Eng", "count": 24}


async def test_get_teams_invented_404_when_the_caller_owns_no_team(emu):
    async with client(emu, "t-bob") as c:
        response = await c.get(api.TEAM)
    assert response.status_code == 404


# ---- GET /teams/members ----------------------------------------------------------------------
async def test_get_members_fields_as_in_the_example_and_no_email(emu):
    async with client(emu) as c:
        response = await c.get(api.MEMBERS)
    assert response.status_code == 200
    members = response.json()
    assert all(set(m) == MEMBER_FIELDS for m in members)
    assert members[0] == {"id": 1, "firstName": "Alice", "lastName": "Doe", "phone": None, "role": "Admin",
                          "isActive": True, "invitationAccepted": True}
    assert members[2]["invitationAccepted"] is False


async def test_get_members_is_not_paged_the_whole_list_whatever_the_parameters(emu):
    """The document shows no paging for the members list: all 24 in one answer, and the paging
    parameters of GET /teams/all are ignored like any unknown parameter."""
    async with client(emu) as c:
        plain = (await c.get(api.MEMBERS)).json()
        for params in ({"limit": 2}, {"offset": 20, "limit": 2}, {"offset": 999}, {"limit": "x"}):
            assert (await c.get(api.MEMBERS, params=params)).json() == plain, params
    assert len(plain) == 24


async def test_get_members_invented_team_id_parameter_for_a_team_other_than_the_callers(emu):
    async with client(emu) as c:
        other = (await c.get(api.MEMBERS, params={"teamId": "team_2"})).json()
        unknown = await c.get(api.MEMBERS, params={"teamId": "team_99"})
    assert [m["id"] for m in other] == [1]
    assert unknown.status_code == 404


# ---- GET /teams/roles ------------------------------------------------------------------------
async def test_get_roles_label_value_pairs_as_in_the_example(emu):
    async with client(emu) as c:
        response = await c.get(api.ROLES)
    assert response.status_code == 200
    assert response.json() == [{"label": r, "value": r} for r in ("Admin", "Member", "Viewer")]


# ---- GET /teams/limit ------------------------------------------------------------------------
async def test_get_limit_is_a_bare_boolean(emu):
    async with client(emu) as c:
        room = await c.get(api.LIMIT)
        emu.state["teams"][0]["usersLimit"] = 24
        full = await c.get(api.LIMIT)
    assert room.status_code == 200 and room.json() is True
    assert full.json() is False  # invented meaning: "room left on the caller's team"


# ---- GET /teams/all --------------------------------------------------------------------------
async def test_get_all_fields_as_in_the_example(emu):
    async with client(emu) as c:
        response = await c.get(api.ALL_TEAMS, params={"offset": 0, "limit": 1})
    assert response.status_code == 200
    [eng] = response.json()
    assert set(eng) == TEAM_FIELDS and set(eng["owner"]) == OWNER_FIELDS
    assert eng["owner"] == {"id": 1, "firstName": "Alice", "lastName": "Doe", "email": "alice@example.com"}
    assert (eng["id"], eng["name"], eng["usersLimit"], eng["membersCount"]) == ("team_1", "Eng", 30, 24)
    assert isinstance(eng["subscription"], str) and isinstance(eng["isImpersonationEnabled"], bool)


async def test_get_all_pages_with_offset_and_limit_as_documented(emu):
    async with client(emu) as c:
        first = (await c.get(api.ALL_TEAMS, params={"offset": 0, "limit": 5})).json()
        second = (await c.get(api.ALL_TEAMS, params={"offset": 5, "limit": 5})).json()
        last = (await c.get(api.ALL_TEAMS, params={"offset": 10, "limit": 5})).json()
        past = (await c.get(api.ALL_TEAMS, params={"offset": 12, "limit": 5})).json()
    names = [t["name"] for t in first + second + last]
    assert len(first) == len(second) == 5 and len(last) == 2 and past == []
    assert names == ["Eng"] + [f"Side {i:02}" for i in range(2, 13)]


async def test_get_all_invented_default_page_of_ten_and_largest_page_of_a_hundred(emu):
    """The document gives 0 and 10 as examples, not defaults; the emulator serves 10 without a
    limit, at most 100, and refuses what is not a number in range with 400 (all invented)."""
    async with client(emu) as c:
        assert len((await c.get(api.ALL_TEAMS)).json()) == 10
        assert len((await c.get(api.ALL_TEAMS, params={"limit": 100})).json()) == 12
        for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": "x"}, {"limit": "ten"}):
            response = await c.get(api.ALL_TEAMS, params=bad)
            assert response.status_code == 400, bad


async def test_get_all_global_search_finds_teams_by_name_invented_substring_match(emu):
    async with client(emu) as c:
        found = (await c.get(api.ALL_TEAMS, params={"globalSearch": "side 1", "limit": 100})).json()
    assert [t["name"] for t in found] == ["Side 10", "Side 11", "Side 12"]


async def test_get_all_invented_only_teams_the_caller_has_joined(emu):
    async with client(emu, "t-carol") as c:  # Carol's invitation to Eng is pending
        assert (await c.get(api.ALL_TEAMS)).json() == []
    async with client(emu, "t-bob") as c:
        assert [t["name"] for t in (await c.get(api.ALL_TEAMS)).json()] == ["Eng"]


# ---- POST /teams -----------------------------------------------------------------------------
async def test_post_teams_201_with_id_name_and_users_limit_as_in_the_example(emu):
    async with client(emu) as c:
        response = await c.post(api.TEAM, json={"teamName": "Team Name"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "usersLimit"}
    assert body["name"] == "Team Name" and body["usersLimit"] == 5 and isinstance(body["id"], str)


async def test_post_teams_team_name_is_optional_invented_null_name(emu):
    async with client(emu) as c:
        nameless = await c.post(api.TEAM, json={})
        empty_body = await c.post(api.TEAM)
    assert nameless.status_code == empty_body.status_code == 201
    assert nameless.json()["name"] is None


async def test_post_teams_invented_400_for_a_team_name_that_is_not_a_string(emu):
    async with client(emu) as c:
        response = await c.post(api.TEAM, json={"teamName": ["Eng"]})
    assert response.status_code == 400
    assert len(emu.state["teams"]) == 12


async def test_post_teams_invented_duplicate_names_are_allowed(emu):
    async with client(emu) as c:
        assert (await c.post(api.TEAM, json={"teamName": "Eng"})).status_code == 201
    assert [t["name"] for t in emu.state["teams"]].count("Eng") == 2


# ---- POST /teams/invitation ------------------------------------------------------------------
async def test_post_invitation_the_documents_example_body_and_answer(emu):
    async with client(emu) as c:
        response = await c.post(api.INVITATION, json=INVITATION)
    assert response.status_code == 200 and response.json() == DONE["invite"]


@pytest.mark.parametrize("field", ["email", "firstName", "lastName", "phone", "role", "teamId"])
async def test_post_invitation_every_field_is_required_invented_400(emu, field):
    body = {k: v for k, v in INVITATION.items() if k != field}
    async with client(emu) as c:
        response = await c.post(api.INVITATION, json=body)
    assert response.status_code == 400 and field in response.json()["message"]
    assert len(emu.state["memberships"]) == 35


async def test_post_invitation_nullable_fields_take_null_and_a_null_team_is_the_callers_invented(emu):
    body = {**INVITATION, "firstName": None, "lastName": None, "phone": None, "teamId": None}
    async with client(emu) as c:
        response = await c.post(api.INVITATION, json=body)
    assert response.status_code == 200
    assert emu.state["memberships"][-1]["teamId"] == "team_1"


@pytest.mark.parametrize("field,value", [("email", None), ("email", "not-an-email"), ("firstName", 5),
                                         ("lastName", ["Doe"]), ("phone", {"n": 1}), ("teamId", 7),
                                         ("role", None), ("role", ["Viewer"])])
async def test_post_invitation_wrong_types_refused_invented_400(emu, field, value):
    async with client(emu) as c:
        response = await c.post(api.INVITATION, json={**INVITATION, field: value})
    assert response.status_code == 400, response.json()
    assert len(emu.state["memberships"]) == 35


async def test_post_invitation_role_outside_the_enum_refused(emu):
    """The document's enum lists no values; the roles are what GET /teams/roles offers."""
    async with client(emu) as c:
        response = await c.post(api.INVITATION, json={**INVITATION, "role": "Owner"})
    assert response.status_code == 400 and "Admin, Member, Viewer" in response.json()["message"]


async def test_post_invitation_invented_409_duplicate_and_403_past_users_limit(emu):
    async with client(emu) as c:
        duplicate = await c.post(api.INVITATION, json={**INVITATION, "email": "CAROL@example.com"})
        await c.post(api.INVITATION, json=INVITATION)
        for i in range(5):
            await c.post(api.INVITATION, json={**INVITATION, "email": f"n{i}@example.com"})
        over = await c.post(api.INVITATION, json={**INVITATION, "email": "late@example.com"})
    assert duplicate.status_code == 409 and over.status_code == 403


# ---- PUT /teams/leave-team/{id} --------------------------------------------------------------
async def test_put_leave_team_answer_as_in_the_example_and_new_owner_id_optional_for_a_member(emu):
    async with client(emu, "t-bob") as c:
        response = await c.put(api.LEAVE_TEAM.format(team_id="team_1"))
    assert response.status_code == 200 and response.json() == DONE["leave"]


async def test_put_leave_team_the_owner_names_a_new_owner_by_number(emu):
    path = api.LEAVE_TEAM.format(team_id="team_1")
    async with client(emu) as c:
        as_text = await c.put(path, json={"newOwnerId": "2"})
        none = await c.put(path, json={})
        done = await c.put(path, json={"newOwnerId": 2})
    assert as_text.status_code == 400  # newOwnerId is a number (invented status)
    assert none.status_code == 400     # invented: an owner leaves only by handing the team over
    assert done.json() == DONE["leave"] and emu.state["teams"][0]["ownerId"] == 2


# ---- PUT /teams/accept-invitation/{id}, /teams/decline-invitation/{id} -----------------------
async def test_put_accept_and_decline_answers_as_in_the_example(emu):
    async with client(emu, "t-carol") as c:
        accepted = await c.put(api.ACCEPT_INVITATION.format(team_id="team_1"))
    assert accepted.status_code == 200 and accepted.json() == DONE["accept"]
    emu.state["memberships"].append(membership(999, "team_2", 3, "Member", accepted=False))
    async with client(emu, "t-carol") as c:
        declined = await c.put(api.DECLINE_INVITATION.format(team_id="team_2"))
        again = await c.put(api.DECLINE_INVITATION.format(team_id="team_2"))
    assert declined.status_code == 200 and declined.json() == DONE["decline"]
    assert again.status_code == 404  # invented: no pending invitation left


# ---- DELETE /teams/invitation/{id} -----------------------------------------------------------
async def test_delete_invitation_by_user_id_with_the_optional_membership_id(emu):
    async with client(emu) as c:
        with_id = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=3), json={"membershipId": 3})
        without = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=2))
    assert with_id.status_code == without.status_code == 200
    assert with_id.json() == without.json() == DONE["cancel"]
    assert {m["userId"] for m in emu.state["memberships"] if m["teamId"] == "team_1"}.isdisjoint({2, 3})


async def test_delete_invitation_invented_400_for_ids_that_are_not_numbers(emu):
    async with client(emu) as c:
        text_path = await c.request("DELETE", "/teams/invitation/bob")
        text_body = await c.request("DELETE", api.CANCEL_INVITATION.format(user_id=2), json={"membershipId": "2"})
    assert text_path.status_code == text_body.status_code == 400


# ---- DELETE /teams/{id} ----------------------------------------------------------------------
async def test_delete_team_answer_as_in_the_example_then_404_invented(emu):
    async with client(emu) as c:
        deleted = await c.delete(api.TEAM_BY_ID.format(team_id="team_2"))
        again = await c.delete(api.TEAM_BY_ID.format(team_id="team_2"))
    assert deleted.status_code == 200 and deleted.json() == DONE["delete"]
    assert again.status_code == 404


# ---- what the document does not have ---------------------------------------------------------
async def test_invented_bearer_auth_and_nestjs_error_shape(emu):
    async with client(emu, None) as c:
        response = await c.get(api.TEAM)
    assert response.status_code == 401
    assert set(response.json()) == {"statusCode", "message", "error"} and response.json()["statusCode"] == 401


async def test_invented_invitation_list_is_whole_and_ties_user_ids_to_emails(emu):
    async with client(emu) as c:
        response = await c.get(api.INVITATIONS, params={"teamId": "team_1", "limit": 2})
    invitations = response.json()
    assert response.status_code == 200 and len(invitations) == 23  # all but the owner, not paged
    assert invitations[0] == {"membershipId": 2, "userId": 2, "email": "bob@example.com", "role": "Member",
                              "invitationAccepted": True, "teamId": "team_1"}
