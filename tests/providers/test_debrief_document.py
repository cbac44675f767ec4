"""The Debrief emulator against its document (shared/api-docs/debrief-management-api.md), one
endpoint at a time, in the document's order: required fields, enums, answers' fields and shape
as in the document's examples, status codes and error bodies, and no paging (none is documented).

NOTES.md decides where it and the document disagree: errors are ``{"errorType", "response":
{field: message}}`` with 400 validation / 401 authorization / 403 forbidden, 404 with an empty
body; the four path slips (remove user, cancel invite, current user, add user to app).
Where the document is silent and the emulator chooses, the test says "invented" and the
provider's README lists the choice.
"""

import httpx
import pytest

from teamform_debrief import api
from teamform_debrief.emulator import DebriefEmulator

CREDS = DebriefEmulator.sandbox_credentials
LOGIN_BODY = {"grant_type": "password", "username": CREDS["username"], "password": CREDS["password"],
              "client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"]}
TEAM = "team-1"


@pytest.fixture
def emu():
    return DebriefEmulator()


@pytest.fixture
async def anon(emu):
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://debrief.test") as client:
        yield client


@pytest.fixture
async def http(anon):
    r = await anon.post(api.LOGIN, json=LOGIN_BODY)
    anon.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return anon


def refused(r: httpx.Response, status: int, field: str) -> str:
    """An error in the shape NOTES.md gives: the errorType for the status, the field named."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"errorType", "response"} and body["errorType"] == api.ERROR_TYPES[status], body
    assert field in body["response"], body
    return body["response"][field]


def not_found(r: httpx.Response) -> None:
    """NOTES.md: not found is 404 with an empty body."""
    assert r.status_code == 404 and r.content == b"", (r.status_code, r.text)


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


# ---- Authentication ---------------------------------------------------------------------
async def test_login_answers_exactly_the_documented_fields(anon):
    r = await anon.post(api.LOGIN, json=LOGIN_BODY)
    assert r.status_code == 200 and set(r.json()) == {"expires_in", "refresh_token", "access_token"}
    assert r.json()["expires_in"] == "3600"  # a string, as in the document


@pytest.mark.parametrize("missing, status, field", [
    ("grant_type", 400, "grant_type"), ("username", 401, "username"), ("password", 401, "username"),
    ("client_id", 401, "client"), ("client_secret", 401, "client")])
async def test_login_refuses_a_body_without_each_documented_field_invented_statuses(anon, missing, status, field):
    """Invented: which status and field each refusal names (the document shows none)."""
    refused(await anon.post(api.LOGIN, json=without(LOGIN_BODY, missing)), status, field)


async def test_forgot_and_reset_password_answer_200_not_the_documents_500(anon):
    """The document shows both succeeding with HTTP 500, a slip: 200 here. Invented: an unknown
    email is 404, a spent reset token 400."""
    r = await anon.post(api.FORGOT_PASSWORD, json={"email": CREDS["username"].upper()})
    assert r.status_code == 200 and set(r.json()) == {"email", "token"}
    token = r.json()["token"]
    not_found(await anon.post(api.FORGOT_PASSWORD, json={"email": "nobody@example.com"}))
    r = await anon.post(api.RESET_PASSWORD, json={"token": token, "password": "12345678"})
    assert r.status_code == 200 and r.json() == {"status": "Successfully reset password"}
    refused(await anon.post(api.RESET_PASSWORD, json={"token": token, "password": "x"}), 400, "token")
    assert (await anon.post(api.LOGIN, json={**LOGIN_BODY, "password": "12345678"})).status_code == 200


async def test_change_password_invented_answer_and_refusal(http):
    refused(await http.post(api.CHANGE_PASSWORD, json={"old_password": "wrong", "new_password": "n"}), 400,
            "old_password")
    r = await http.post(api.CHANGE_PASSWORD, json={"old_password": CREDS["password"], "new_password": "n3w"})
    assert r.status_code == 200
    assert (await http.post(api.LOGIN, json={**LOGIN_BODY, "password": "n3w"})).status_code == 200


async def test_logout_invalidates_the_token(http):
    assert (await http.post(api.LOGOUT)).status_code == 200
    refused(await http.get(api.USERS), 401, "token")


async def test_client_generates_management_client_credentials_invented_answer(http):
    r = await http.post(api.CLIENT, json={"name": "my-app-name", "redirectURI": "http://debrief.com", "trusted": True})
    assert r.status_code == 201 and {"client_id", "client_secret"} <= set(r.json())
    body = {**LOGIN_BODY, "client_id": r.json()["client_id"], "client_secret": r.json()["client_secret"]}
    assert (await http.post(api.LOGIN, json=body)).status_code == 200
    refused(await http.post(api.CLIENT, json={"redirectURI": "x"}), 400, "name")


async def test_every_other_endpoint_needs_the_bearer_token(anon):
    refused(await anon.get(api.USERS), 401, "token")
    refused(await anon.get(api.APPS, headers={"Authorization": "Bearer nonsense"}), 401, "token")


# ---- Teams ------------------------------------------------------------------------------
async def test_get_team_current_and_by_id_invented_shape(http):
    """The heading says GET /team (the current team), the example URL /team/123: both served.
    Invented: the answer {id, team_name, email}."""
    current = (await http.get(api.TEAMS)).json()
    assert current == {"id": TEAM, "team_name": "Example Co", "email": CREDS["username"]}
    assert (await http.get(api.TEAM.format(team_id=TEAM))).json() == current
    not_found(await http.get(api.TEAM.format(team_id="123")))


async def test_create_team_answers_201_with_id_and_name_and_refuses_a_taken_name_with_400(anon):
    body = {"team_name": "Test team", "email": "founder@example.com", "password": "12345678",
            "first_name": "Mm", "last_name": "Mo"}
    r = await anon.post(api.TEAMS, json=body)
    assert r.status_code == 201 and set(r.json()) == {"id", "team_name"} and r.json()["team_name"] == "Test team"
    again = await anon.post(api.TEAMS, json={**body, "email": "other@example.com"})
    assert again.status_code == 400  # the document shows 500; NOTES.md: a validation error is 400
    assert again.json() == {"errorType": "validation", "response": {
        "team_name": "Team with this name already exist. Please choose a different name"}}


@pytest.mark.parametrize("missing", ["team_name", "email", "password"])
async def test_create_team_requires_name_email_password_invented(anon, missing):
    body = {"team_name": "T2", "email": "t2@example.com", "password": "12345678"}
    refused(await anon.post(api.TEAMS, json=without(body, missing)), 400, missing)


async def test_team_exists_both_documented_answers(anon):
    assert (await anon.post(api.TEAM_EXISTS, json={"team": "example co"})).json() == {"exists": True}
    assert (await anon.post(api.TEAM_EXISTS, json={"team": "My example team"})).json() == {"exists": False}


async def test_update_team_takes_the_documented_body_and_changes_only_the_name(http):
    """The document: id and email are read-only, the name can change. Invented: the read-only
    email (and the password) in its example body are ignored, not refused."""
    r = await http.patch(api.TEAM.format(team_id=TEAM),
                         json={"name": "asdf team", "email": "user@example.com", "password": "12345678"})
    assert r.status_code == 200 and r.json() == {"id": TEAM, "team_name": "asdf team", "email": CREDS["username"]}


async def test_add_user_with_a_password_creates_without_one_invites(http):
    add = api.TEAM_ADD.format(team_id=TEAM)
    doc = {"first_name": "Jane", "last_name": "Doe", "email": "testuser1@example.com", "password": "12345678",
           "role": "admin"}
    created = await http.post(add, json=doc)
    assert created.status_code == 201 and created.json()["status"] == api.ACTIVE
    invited = await http.post(add, json={**without(doc, "password"), "email": "testuser2@example.com"})
    assert invited.json()["status"] == api.INVITED and invited.json()["invite_token"]


async def test_add_user_invented_answer_shape(http):
    """Invented: the answer is the user as GET /user lists it (201), with status and, for a
    pending invitation, its token."""
    r = await http.post(api.TEAM_ADD.format(team_id=TEAM), json={"email": "n@example.com", "role": "developer"})
    assert r.status_code == 201
    assert set(r.json()) == {"id", "email", "first_name", "last_name", "role", "status", "invite_token"}


@pytest.mark.parametrize("body, field", [
    ({"email": "x@example.com", "role": "boss"}, "role"),             # outside the team roles
    ({"email": "x@example.com"}, "role"),                             # invented: role is required
    ({"role": "developer"}, "email"),                                 # invented: email is required
    ({"email": "not-an-email", "role": "developer"}, "email"),        # invented
    ({"email": "ALICE@example.com", "role": "developer"}, "email"),   # invented: emails unique regardless of case
])
async def test_add_user_refusals(http, body, field):
    refused(await http.post(api.TEAM_ADD.format(team_id=TEAM), json=body), 400, field)


async def test_remove_user_is_the_urls_path_not_the_headings(http):
    not_found(await http.delete(f"/team/{TEAM}/add/u3"))  # the heading's path is a slip (NOTES.md)
    assert (await http.delete(api.TEAM_USER.format(team_id=TEAM, user_id="u3"))).status_code == 200
    not_found(await http.delete(api.TEAM_USER.format(team_id=TEAM, user_id="u3")))


# ---- Users ------------------------------------------------------------------------------
async def test_accept_invite_exchanges_the_token_for_a_password(http, anon, emu):
    token = next(u for u in emu.state["users"] if u["email"] == "dave@example.com")["invite_token"]
    del anon.headers["Authorization"]  # accepting needs no login
    r = await anon.post(api.INVITE_ACCEPT.format(token=token), json={"password": "Password1"})
    assert r.status_code == 200 and r.json()["status"] == api.ACTIVE
    not_found(await anon.post(api.INVITE_ACCEPT.format(token=token), json={"password": "Password1"}))
    assert (await anon.post(api.LOGIN, json={**LOGIN_BODY, "username": "dave@example.com",
                                             "password": "Password1"})).status_code == 200


async def test_cancel_invite_is_its_own_path(http, emu):
    """The document shows the accept URL under "Cancel invite"; NOTES.md: /invite/:token/cancel."""
    token = next(u for u in emu.state["users"] if u["email"] == "dave@example.com")["invite_token"]
    assert (await http.post(api.INVITE_CANCEL.format(token=token))).status_code == 200
    assert "dave@example.com" not in {u["email"] for u in (await http.get(api.USERS)).json()}
    not_found(await http.post(api.INVITE_CANCEL.format(token=token)))


async def test_resend_email_invented_refusals(anon):
    """Invented: 200 for a pending user, 400 for one who already accepted, 404 for an unknown email."""
    assert (await anon.post(api.RESEND_EMAIL, json={"email": "dave@example.com"})).status_code == 200
    refused(await anon.post(api.RESEND_EMAIL, json={"email": "alice@example.com"}), 400, "email")
    not_found(await anon.post(api.RESEND_EMAIL, json={"email": "nobody@example.com"}))


async def test_user_exists_both_documented_answers(anon):
    assert (await anon.post(api.USER_EXISTS, json={"email": "ALICE@example.com"})).json() == {"exists": True}
    assert (await anon.post(api.USER_EXISTS, json={"email": "user@example.com"})).json() == {"exists": False}


async def test_exchange_refresh_token_takes_the_documented_body_invented_answer(anon):
    """The document shows no answer: the login's, here."""
    tokens = (await anon.post(api.LOGIN, json=LOGIN_BODY)).json()
    body = {"client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"],
            "refresh_token": tokens["refresh_token"]}
    r = await anon.post(api.REFRESH, json=body)
    assert r.status_code == 200 and set(r.json()) == {"expires_in", "refresh_token", "access_token"}
    refused(await anon.post(api.REFRESH, json=body), 401, "refresh_token")  # invented: refresh tokens rotate
    refused(await anon.post(api.REFRESH, json={**body, "client_secret": "x"}), 401, "client")


async def test_user_list_is_a_bare_array_invented_fields(http):
    """The document shows no answer. Invented: {id, email, first_name, last_name, role, status},
    and for admins and owners a pending invitation's invite_token (teamform needs it to cancel
    an invitation: see the provider's README)."""
    users = (await http.get(api.USERS)).json()
    assert isinstance(users, list) and len(users) == 5
    for u in users:
        extra = {"invite_token"} if u["status"] == api.INVITED else set()
        assert set(u) == {"id", "email", "first_name", "last_name", "role", "status"} | extra


@pytest.mark.parametrize("path", [api.USERS, api.APPS, api.APP_USERS.format(app_id="a1")])
async def test_lists_are_not_paged_whatever_the_query_says(http, path):
    """No paging is documented: paging parameters of any common spelling are ignored."""
    whole = (await http.get(path)).json()
    assert len(whole) > 1
    for query in ({"limit": 1}, {"skip": 1, "limit": 1}, {"page": 2, "per_page": 1}, {"offset": 1}):
        assert (await http.get(path, params=query)).json() == whole


async def test_current_user_is_user_me_not_the_documents_user(http):
    """The document's URL is /user (the list); NOTES.md: /user/me. Invented: the answer is the
    user as listed, with team_id."""
    me = (await http.get(api.ME)).json()
    assert me == {"id": "u1", "email": CREDS["username"], "first_name": "Teamform", "last_name": "Ops",
                  "role": "owner", "status": api.ACTIVE, "team_id": TEAM}
    assert isinstance((await http.get(api.USERS)).json(), list)


async def test_a_users_applications(http):
    assert [a["name"] for a in (await http.get(api.USER_APPS.format(user_id="u5"))).json()] == \
        ["Support Bot", "Legacy Dashboard"]
    not_found(await http.get(api.USER_APPS.format(user_id="u999")))


async def test_update_user_takes_the_documented_body(http, emu):
    """Every field of the document's example body; invented: a password only for oneself (403)."""
    body = {"avatar": "some_image_file.jpg", "first_name": "Lauren", "last_name": "Ipsum", "role": "admin",
            "bio": "I do things"}
    r = await http.patch(api.USER.format(user_id="u3"), json=body)
    assert r.status_code == 200 and (r.json()["first_name"], r.json()["role"]) == ("Lauren", "admin")
    bob = next(u for u in emu.state["users"] if u["id"] == "u3")
    assert (bob["avatar"], bob["bio"]) == ("some_image_file.jpg", "I do things")
    refused(await http.patch(api.USER.format(user_id="u3"), json={"password": "1234567"}), 403, "password")
    assert (await http.patch(api.USER.format(user_id="u1"), json={"password": "1234567"})).status_code == 200
    refused(await http.patch(api.USER.format(user_id="u3"), json={"role": "superuser"}), 400, "role")
    not_found(await http.patch(api.USER.format(user_id="u999"), json={"first_name": "X"}))


# ---- Applications -----------------------------------------------------------------------
async def test_application_list_items_are_exactly_the_documented_fields(http):
    apps = (await http.get(api.APPS)).json()
    assert isinstance(apps, list) and apps and all(set(a) == {"id", "name", "description"} for a in apps)


async def test_get_application_is_the_documented_object(http):
    assert (await http.get(api.APP.format(app_id="a1"))).json() == \
        {"id": "a1", "name": "Support Bot", "description": "Answers chats"}
    not_found(await http.get(api.APP.format(app_id="5b8e91fc0c984e5a140c28a4")))


DOC_APP = {"name": "test app", "description": "checking for creds", "icon": "your_icon.jpg"}


async def test_create_application_answers_201_with_the_documented_fields(http, emu):
    r = await http.post(api.APPS, json=DOC_APP)
    assert r.status_code == 201 and set(r.json()) == {"id", "name", "description"}
    assert emu.state["applications"][-1]["icon"] == "your_icon.jpg"


@pytest.mark.parametrize("missing", ["name", "description", "icon"])
async def test_create_application_requires_name_description_and_icon(http, missing):
    """"All apps require a name, description and icon". Invented: a blank one counts as missing."""
    assert "required" in refused(await http.post(api.APPS, json=without(DOC_APP, missing)), 400, missing)
    refused(await http.post(api.APPS, json={**DOC_APP, missing: "  "}), 400, missing)


async def test_update_application_answers_a_one_element_array(http, emu):
    r = await http.patch(api.APP.format(app_id="a1"), json={"name": "asdf app", "description": "asdf",
                                                            "icon": "your_icon.jpg"})
    assert r.status_code == 200 and r.json() == [{"id": "a1", "name": "asdf app", "description": "asdf"}]
    assert emu.state["applications"][0]["icon"] == "your_icon.jpg"
    refused(await http.patch(api.APP.format(app_id="a1"), json={"description": ""}), 400, "description")  # invented
    refused(await http.patch(api.APP.format(app_id="a1"), json={"name": "legacy dashboard"}), 400, "name")


async def test_delete_application_answers_status_ok_and_revokes_its_credentials(http, emu):
    creds = (await http.post(api.CREDS.format(app_id="a2"), json={"label": "l", "environment": "sandbox"})).json()
    r = await http.request("DELETE", api.APP.format(app_id="a2"), json=DOC_APP)  # the document sends a body
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    not_found(await http.get(api.APP.format(app_id="a2")))
    assert not [c for c in emu.state["credentials"] if c["id"] == creds["id"]]
    not_found(await http.delete(api.APP.format(app_id="a2")))


# ---- Dashboard, Billing, Monitoring -----------------------------------------------------
@pytest.mark.parametrize("method, path", [
    ("GET", "/dashboard"), ("GET", f"/team/{TEAM}/billing/upcoming"), ("GET", "/billing/invoice"),
    ("GET", "/billing/invoice/1"), ("POST", "/billing/methods"), ("DELETE", "/billing/methods/1"),
    ("GET", "/billing/methods"), ("GET", f"/team/{TEAM}/monitoring"), ("GET", "/application/a1/monitoring")])
async def test_dashboard_billing_and_monitoring_are_not_emulated(http, method, path):
    """Not emulated: teamform never calls them and the document shows none of their answers.
    They answer like any unknown path: 404, empty (invented)."""
    not_found(await http.request(method, path))


async def test_unknown_paths_and_methods_answer_404_with_an_empty_body_invented(http):
    not_found(await http.get("/nope"))
    not_found(await http.put(api.APPS, json={}))  # a served path, a method it does not take


# ---- Applications / Application users ---------------------------------------------------
async def test_add_user_to_app_puts_the_user_id_in_the_path(http):
    """The document's URL is /application/:app_id/user; NOTES.md: /application/:app_id/users/:user_id."""
    not_found(await http.post("/application/a2/user", json={"role": "admin"}))
    r = await http.post(api.APP_USER.format(app_id="a2", user_id="u3"), json={"role": "admin"})
    assert r.status_code == 201  # invented: 201 and {id, email, role}
    assert r.json() == {"id": "u3", "email": "Bob@Example.com", "role": "admin"}


@pytest.mark.parametrize("body", [{"role": "owner"}, {"role": ["admin"]}, {}])
async def test_add_user_to_app_role_is_admin_or_developer(http, body):
    """The document's options are admin or developer; invented: the role is required."""
    assert "developer, admin" in refused(await http.post(api.APP_USER.format(app_id="a2", user_id="u3"), json=body),
                                         400, "role")


async def test_application_users_list_leaves_out_team_admins_and_owners(http):
    """The document's NOTE: team admins see every application and are not listed."""
    await http.post(api.APP_USER.format(app_id="a1", user_id="u2"), json={"role": "developer"})  # alice: admin
    listed = (await http.get(api.APP_USERS.format(app_id="a1"))).json()
    assert "alice@example.com" not in {u["email"] for u in listed}
    # invented: each item is the user with their application role
    assert all(set(u) == {"id", "email", "first_name", "last_name", "role"} for u in listed)


async def test_update_application_user_changes_only_the_role(http):
    path = api.APP_USER.format(app_id="a1", user_id="u3")
    refused(await http.patch(path, json={"role": "owner"}), 400, "role")
    assert (await http.patch(path, json={"role": "admin", "email": "x@example.com"})).json() == \
        {"id": "u3", "role": "admin"}  # invented answer; other fields are read-only (ignored)
    not_found(await http.patch(api.APP_USER.format(app_id="a2", user_id="u3"), json={"role": "admin"}))


async def test_remove_application_user_leaves_user_application_and_credentials(http, emu):
    creds = (await http.post(api.CREDS.format(app_id="a1"), json={"environment": "production"})).json()
    assert (await http.delete(api.APP_USER.format(app_id="a1", user_id="u3"))).status_code == 200
    assert any(u["id"] == "u3" for u in emu.state["users"])
    assert (await http.get(api.CRED.format(app_id="a1", creds_id=creds["id"]))).status_code == 200
    not_found(await http.delete(api.APP_USER.format(app_id="a1", user_id="u3")))


# ---- Applications / Credentials ---------------------------------------------------------
async def test_generate_credentials_environment_is_sandbox_or_production(http):
    path = api.CREDS.format(app_id="a1")
    for bad in ({"label": "test name2"}, {"label": "x", "environment": "staging"}):
        assert "sandbox, production" in refused(await http.post(path, json=bad), 400, "environment")
    r = await http.post(path, json={"label": "test name2", "environment": "production"})
    assert r.status_code == 201  # invented: 201, {id, label, environment, client_id, client_secret}
    assert set(r.json()) == {"id", "label", "environment", "client_id", "client_secret"}


async def test_credentials_get_all_get_one_update_delete(http):
    path = api.CREDS.format(app_id="a1")
    made = (await http.post(path, json={"label": "one", "environment": "sandbox"})).json()
    one = api.CRED.format(app_id="a1", creds_id=made["id"])
    assert [c["id"] for c in (await http.get(path)).json()] == [made["id"]]
    assert "client_secret" not in (await http.get(one)).json()  # invented: the secret is shown once
    # the document's update URL has no credentials id: it goes in the body (invented)
    assert (await http.patch(path, json={"id": made["id"], "label": "new name"})).json()["label"] == "new name"
    assert (await http.patch(one, json={"label": "newer"})).json()["label"] == "newer"
    assert (await http.delete(one)).json() == {"status": "ok"}
    not_found(await http.get(one))  # the document's example: 404, Content-Length 0
    not_found(await http.get(api.CREDS.format(app_id="nope")))


# ---- errors -----------------------------------------------------------------------------
async def test_a_developer_is_refused_writes_with_403_forbidden(http, emu):
    emu.state["users"][2]["password"] = "bobpass"
    r = await http.post(api.LOGIN, json={**LOGIN_BODY, "username": "bob@example.com", "password": "bobpass"})
    http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    refused(await http.post(api.APPS, json=DOC_APP), 403, "role")


async def test_a_body_that_is_not_a_json_object_is_a_validation_error_invented(http):
    refused(await http.post(api.APPS, content=b"name=x", headers={"Content-Type": "application/json"}), 400, "body")
    refused(await http.post(api.APPS, json=["x"]), 400, "body")
