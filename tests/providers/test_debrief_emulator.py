"""The Debrief emulator over direct HTTP: every documented rule and refusal, in the error shape
of NOTES.md (``{"errorType", "response": {field: message}}``; 404 with an empty body)."""

import httpx
import pytest

from teamform.testing import ManualClock
from teamform_debrief import api
from teamform_debrief.emulator import DebriefEmulator

CREDS = DebriefEmulator.sandbox_credentials
BASE = "http://debrief.test"


@pytest.fixture
def clock():
    return ManualClock(1000.0)


@pytest.fixture
def emu(clock):
    return DebriefEmulator(token_lifetime=3600, clock=clock)


@pytest.fixture
async def http(emu):
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as client:
        yield client


def login_body(**over):
    return {"grant_type": "password", "username": CREDS["username"], "password": CREDS["password"],
            "client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"], **over}


async def login(http, **over) -> dict:
    r = await http.post(api.LOGIN, json=login_body(**over))
    assert r.status_code == 200, r.text
    return r.json()


async def as_ops(http) -> httpx.AsyncClient:
    http.headers["Authorization"] = f"Bearer {(await login(http))['access_token']}"
    return http


def refused(r: httpx.Response, status: int, field: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["errorType"] == api.ERROR_TYPES[status] and field in body["response"]
    return body["response"][field]


async def test_login_gives_tokens_that_expire_and_refresh(http, clock):
    tokens = await login(http)
    assert tokens["expires_in"] == "3600" and tokens["refresh_token"] and tokens["access_token"]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await http.get(api.ME, headers=headers)).status_code == 200
    clock.now += 3600
    assert "expired" in refused(await http.get(api.ME, headers=headers), 401, "token")
    r = await http.post(api.REFRESH, json={"client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"],
                                          "refresh_token": tokens["refresh_token"]})
    fresh = r.json()
    assert r.status_code == 200 and fresh["access_token"] != tokens["access_token"]
    assert (await http.get(api.ME, headers={"Authorization": f"Bearer {fresh['access_token']}"})).status_code == 200
    again = await http.post(api.REFRESH, json={**CREDS, "refresh_token": tokens["refresh_token"]})
    refused(again, 401, "refresh_token")  # refresh tokens rotate: the old one is spent


@pytest.mark.parametrize("over, status, field", [
    ({"grant_type": "client_credentials"}, 400, "grant_type"),
    ({"client_secret": "wrong"}, 401, "client"),
    ({"password": "wrong"}, 401, "username"),
    ({"username": "nobody@example.com"}, 401, "username"),
])
async def test_login_refusals(http, over, status, field):
    refused(await http.post(api.LOGIN, json=login_body(**over)), status, field)


async def test_requests_need_a_valid_bearer_token(http):
    refused(await http.get(api.USERS), 401, "token")
    refused(await http.get(api.USERS, headers={"Authorization": "Bearer nonsense"}), 401, "token")


async def test_me_and_bare_array_lists(http):
    await as_ops(http)
    me = (await http.get(api.ME)).json()
    assert me["email"] == CREDS["username"] and me["role"] == "owner" and me["team_id"] == "team-1"
    users, apps = (await http.get(api.USERS)).json(), (await http.get(api.APPS)).json()
    assert isinstance(users, list) and isinstance(apps, list)
    assert {a["name"] for a in apps} == {"Support Bot", "Legacy Dashboard"}


async def test_adding_without_password_is_an_invitation_and_cancel_removes_it(http):
    await as_ops(http)
    r = await http.post(api.TEAM_ADD.format(team_id="team-1"),
                        json={"email": "new@example.com", "first_name": "N", "last_name": "E", "role": "developer"})
    assert r.status_code == 201 and r.json()["status"] == api.INVITED
    token = r.json()["invite_token"]
    assert (await http.post(api.INVITE_CANCEL.format(token=token))).status_code == 200
    assert "new@example.com" not in {u["email"] for u in (await http.get(api.USERS)).json()}
    assert (await http.post(api.INVITE_CANCEL.format(token=token))).status_code == 404


async def test_with_password_creates_an_active_user_and_an_accepted_invite_is_active(http):
    await as_ops(http)
    r = await http.post(api.TEAM_ADD.format(team_id="team-1"),
                        json={"email": "pw@example.com", "role": "admin", "password": "secret123"})
    assert r.json()["status"] == api.ACTIVE
    dave = next(u for u in (await http.get(api.USERS)).json() if u["email"] == "dave@example.com")
    accepted = await http.post(api.INVITE_ACCEPT.format(token=dave["invite_token"]), json={"password": "x1234567"})
    assert accepted.status_code == 200 and accepted.json()["status"] == api.ACTIVE


async def test_unknown_role_and_duplicate_email_are_refused(http):
    await as_ops(http)
    add = api.TEAM_ADD.format(team_id="team-1")
    assert "developer, admin, owner" in refused(await http.post(add, json={"email": "x@example.com", "role": "boss"}),
                                                 400, "role")
    refused(await http.post(add, json={"email": "ALICE@example.com", "role": "admin"}), 400, "email")
    refused(await http.patch(api.USER.format(user_id="u3"), json={"role": "superuser"}), 400, "role")
    app_user = api.APP_USER.format(app_id="a1", user_id="u3")
    refused(await http.patch(app_user, json={"role": "owner"}), 400, "role")


async def test_duplicate_team_name_is_refused(http):
    body = {"team_name": "example co", "email": "founder@example.com", "password": "12345678",
            "first_name": "F", "last_name": "O"}
    message = refused(await http.post(api.TEAMS, json=body), 400, "team_name")
    assert "already exist" in message
    assert (await http.post(api.TEAM_EXISTS, json={"team": "Example Co"})).json() == {"exists": True}
    created = await http.post(api.TEAMS, json={**body, "team_name": "Other Co"})
    assert created.status_code == 201 and created.json()["team_name"] == "Other Co"
    assert (await http.post(api.USER_EXISTS, json={"email": "founder@example.com"})).json() == {"exists": True}


async def test_a_user_must_be_on_the_team_before_an_application(http, emu):
    await as_ops(http)
    other = await http.post(api.TEAMS, json={"team_name": "Other", "email": "o@example.com", "password": "p",
                                             "first_name": "O", "last_name": "T"})
    assert other.status_code == 201
    outsider = next(u["id"] for u in emu.state["users"] if u["email"] == "o@example.com")
    message = refused(await http.post(api.APP_USER.format(app_id="a1", user_id=outsider), json={"role": "developer"}),
                      400, "user_id")
    assert "not on the team" in message
    refused(await http.post(api.APP_USER.format(app_id="a1", user_id="u999"), json={"role": "developer"}), 400, "user_id")


async def test_application_users_roles_and_listing(http):
    await as_ops(http)
    path = api.APP_USER.format(app_id="a2", user_id="u3")
    assert (await http.post(path, json={"role": "admin"})).status_code == 201
    refused(await http.post(path, json={"role": "admin"}), 400, "user_id")  # already there
    assert (await http.patch(path, json={"role": "developer"})).status_code == 200
    listed = (await http.get(api.APP_USERS.format(app_id="a2"))).json()
    assert {(u["email"], u["role"]) for u in listed} == {("Bob@Example.com", "developer"),
                                                        ("mallory@example.com", "admin")}
    assert (await http.delete(path)).status_code == 200
    gone = await http.delete(path)
    assert gone.status_code == 404 and gone.content == b""


async def test_team_admins_and_owners_are_not_listed_as_application_users(http):
    await as_ops(http)
    assert (await http.post(api.APP_USER.format(app_id="a1", user_id="u2"), json={"role": "developer"})).status_code == 201
    listed = {u["email"] for u in (await http.get(api.APP_USERS.format(app_id="a1"))).json()}
    assert "alice@example.com" not in listed  # alice is a team admin: she sees every application anyway
    await http.patch(api.USER.format(user_id="u3"), json={"role": "admin"})
    assert "Bob@Example.com" not in {u["email"] for u in (await http.get(api.APP_USERS.format(app_id="a1"))).json()}


async def test_applications_crud_and_unique_names(http, emu):
    await as_ops(http)
    created = await http.post(api.APPS, json={"name": "New App", "description": "d", "icon": "i.png"})
    assert created.status_code == 201
    app_id = created.json()["id"]
    refused(await http.post(api.APPS, json={"name": "new app", "description": "x", "icon": "i.png"}), 400, "name")
    refused(await http.post(api.APPS, json={"description": "no name", "icon": "i.png"}), 400, "name")
    refused(await http.patch(api.APP.format(app_id=app_id), json={"name": "Support Bot"}), 400, "name")
    assert (await http.patch(api.APP.format(app_id=app_id), json={"description": "e"})).json()[0]["description"] == "e"
    assert (await http.delete(api.APP.format(app_id="a2"))).json() == {"status": "ok"}
    assert (await http.get(api.APP.format(app_id="a2"))).status_code == 404
    assert all(r["app_id"] != "a2" for r in emu.state["app_users"])  # its users went with it


async def test_removing_a_team_user_removes_them_from_applications(http, emu):
    await as_ops(http)
    assert (await http.delete(api.TEAM_USER.format(team_id="team-1", user_id="u5"))).status_code == 200
    assert all(r["user_id"] != "u5" for r in emu.state["app_users"])
    assert (await http.delete(api.TEAM_USER.format(team_id="team-1", user_id="u5"))).status_code == 404


async def test_the_last_owner_cannot_leave_or_be_demoted(http):
    await as_ops(http)
    assert "owner" in refused(await http.patch(api.USER.format(user_id="u1"), json={"role": "admin"}), 400, "role")
    refused(await http.delete(api.TEAM_USER.format(team_id="team-1", user_id="u1")), 400, "role")
    await http.patch(api.USER.format(user_id="u2"), json={"role": "owner"})
    assert (await http.patch(api.USER.format(user_id="u1"), json={"role": "admin"})).status_code == 200


async def test_developers_see_only_their_applications_and_change_nothing(http, emu):
    emu.state["users"][2]["password"] = "bobpass"
    tokens = await login(http, username="bob@example.com", password="bobpass")
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    assert [a["name"] for a in (await http.get(api.APPS)).json()] == ["Support Bot"]
    assert (await http.get(api.APP.format(app_id="a2"))).status_code == 404
    refused(await http.post(api.APPS, json={"name": "Mine", "description": ""}), 403, "role")
    refused(await http.patch(api.USER.format(user_id="u3"), json={"role": "owner"}), 403, "role")
    assert (await http.patch(api.USER.format(user_id="u3"), json={"first_name": "Robert"})).status_code == 200
    assert "invite_token" not in str((await http.get(api.USERS)).json())


async def test_injected_faults_answer_in_the_error_shape(http, emu):
    await as_ops(http)
    emu.inject(kind="status", status=503, path="/user$", times=1)
    r = await http.get(api.USERS)
    assert r.status_code == 503 and r.json()["errorType"] == "server"
    emu.inject(kind="status", status=429, retry_after=2, times=1)
    r = await http.get(api.USERS)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"


async def test_sandbox_knobs_let_an_apply_outlive_a_token(monkeypatch):
    monkeypatch.setenv("DEBRIEF_SANDBOX_TOKEN_LIFETIME", "3")
    monkeypatch.setenv("DEBRIEF_SANDBOX_SECONDS_PER_REQUEST", "1")
    emu = DebriefEmulator()
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        tokens = await login(http)
        assert tokens["expires_in"] == "3"
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert [(await http.get(api.ME, headers=headers)).status_code for _ in range(3)] == [200, 200, 401]


async def test_users_keep_their_order_through_cancels_and_invitations_are_found_by_token(http):
    await as_ops(http)
    add = api.TEAM_ADD.format(team_id="team-1")
    tokens = {}
    for name in ("x", "y", "z"):
        r = await http.post(add, json={"email": f"{name}@example.com", "role": "developer"})
        tokens[name] = r.json()["invite_token"]
    before = [u["email"] for u in (await http.get(api.USERS)).json()]
    assert (await http.post(api.INVITE_CANCEL.format(token=tokens["y"]))).status_code == 200
    accept = api.INVITE_ACCEPT.format(token=tokens["x"])
    assert (await http.post(accept, json={"password": "x1234567"})).status_code == 200
    assert (await http.post(accept, json={"password": "x1234567"})).status_code == 404  # used: no longer found
    await http.post(add, json={"email": "w@example.com", "role": "developer"})
    assert [u["email"] for u in (await http.get(api.USERS)).json()] == [
        e for e in before if e != "y@example.com"] + ["w@example.com"]
    assert (await http.delete(api.TEAM_USER.format(team_id="team-1", user_id="u5"))).status_code == 200  # Mallory
    rows = (await http.get(api.APP_USERS.format(app_id="a1"))).json()
    assert [r["email"] for r in rows] == ["Bob@Example.com", "dave@example.com"]
