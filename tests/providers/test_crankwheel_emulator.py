"""CrankWheel's documented rules and errors, against its emulator over direct HTTP (form-encoded)."""

import httpx
import pytest

from teamform_crankwheel import api
from teamform_crankwheel.emulator import CrankWheelEmulator, user

RW, RO = "rw-key", "ro-key"


def emulator(*users, owners=("owner@example.com",)):
    people = [user(e, "owner") for e in owners] + list(users)
    return CrankWheelEmulator({"keys": {RW: api.READ_WRITE, RO: api.READ_ONLY}, "users": people,
                               "onboarding_emails": [], "sessions": [], "demo_sessions": []})


def client(emu, key=RW, scheme="Basic"):
    headers = {"Authorization": f"{scheme} {key}"} if key else {}
    return httpx.AsyncClient(transport=emu.transport(), base_url="http://cw/ss/api", headers=headers)


def form(**fields):
    return {api.field(k): v for k, v in fields.items()}


def create_form(**fields):
    """A create with every field the document lists, these overriding."""
    return form(**{"privilege": "user", "in_demo_pool": "false", "send_onboarding_email": "false", **fields})


def emails(emu):
    return [u["email"] for u in emu.state["users"]]


@pytest.mark.parametrize("key,scheme", [(None, "Basic"), ("wrong", "Basic"), (RW, "Bearer")])
async def test_reads_need_the_raw_key_in_a_basic_header(key, scheme):
    async with client(emulator(), key, scheme) as c:
        r = await c.get(api.USERS)
    assert r.status_code == 401 and "error" in r.json()


async def test_base64_of_the_key_is_not_the_raw_key():
    async with httpx.AsyncClient(transport=emulator().transport(), base_url="http://cw/ss/api",
                                 auth=httpx.BasicAuth(RW, "")) as c:
        assert (await c.get(api.USERS)).status_code == 401


async def test_the_list_is_unpaged_and_shows_null_demo_pool_as_is():
    emu = emulator(user("a@example.com", "user", None), user("b@example.com", "reporting", True))
    async with client(emu) as c:
        r = await c.get(api.USERS)
    assert r.status_code == 200
    assert r.json()[1:] == [{"email": "a@example.com", "privilege": "user", "in_demo_pool": None},
                            {"email": "b@example.com", "privilege": "reporting", "in_demo_pool": True}]


async def test_create_is_form_encoded_and_answers_201_with_the_user():
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(api.USERS, data=form(email="New@Example.com", privilege="admin", in_demo_pool="true",
                                              send_onboarding_email="true"))
    assert r.status_code == 201
    assert r.json() == {"email": "New@Example.com", "privilege": "admin", "in_demo_pool": True}
    assert emu.state["onboarding_emails"] == ["New@Example.com"]
    assert "user_access%5Bemail%5D=New%40Example.com" in emu.calls("POST")[0].body


async def test_create_without_onboarding_sends_no_email():
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(api.USERS, data=form(email="n@example.com", privilege="user", in_demo_pool="false",
                                              send_onboarding_email="false"))
    assert r.status_code == 201 and emu.state["onboarding_emails"] == []


@pytest.mark.parametrize("fields,bad", [
    ({"email": "x@example.com", "privilege": "superuser"}, "privilege"),
    ({"email": "not-an-email", "privilege": "user"}, "email"),
    ({"email": "x@example.com", "in_demo_pool": "maybe"}, "in_demo_pool"),
])
async def test_create_refuses_invalid_fields(fields, bad):
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(api.USERS, data=create_form(**fields))
    assert r.status_code == 422 and bad in r.json()["errors"]
    assert emails(emu) == ["owner@example.com"]


async def test_an_email_is_listed_once_whatever_its_case():
    emu = emulator(user("dup@example.com"))
    async with client(emu) as c:
        r = await c.post(api.USERS, data=create_form(email="DUP@example.com"))
    assert r.status_code == 422 and r.json()["errors"]["email"] == ["has already been taken"]


async def test_a_read_only_key_reads_but_cannot_write():
    emu = emulator(user("u@example.com"))
    async with client(emu, RO) as c:
        assert (await c.get(api.USERS)).status_code == 200
        writes = [await c.post(api.USERS, data=create_form(email="n@example.com")),
                  await c.patch(api.user_path("u@example.com"), data=form(privilege="admin")),
                  await c.delete(api.user_path("u@example.com"))]
    assert [r.status_code for r in writes] == [403, 403, 403]
    assert emu.state["users"][1] == user("u@example.com")


async def test_one_user_by_url_encoded_email_any_case():
    emu = emulator(user("first+tag@example.com", "admin"))
    async with client(emu) as c:
        found = await c.get(api.user_path("First+Tag@Example.com"))
        missing = await c.get(api.user_path("ghost@example.com"))
    assert "%2B" in str(found.request.url) and "%40" in str(found.request.url)
    assert found.status_code == 200 and found.json()["privilege"] == "admin"
    assert missing.status_code == 404


async def test_patch_changes_privilege_and_demo_pool_in_place():
    emu = emulator(user("u@example.com", "user", None))
    async with client(emu) as c:
        r = await c.patch(api.user_path("u@example.com"), data=form(privilege="reporting", in_demo_pool="true"))
    assert r.status_code == 200 and r.json() == user("u@example.com", "reporting", True)


@pytest.mark.parametrize("fields,bad", [({"privilege": "root"}, "privilege"), ({"email": "x@example.com"}, "email")])
async def test_patch_refuses_unknown_privileges_and_fields(fields, bad):
    emu = emulator(user("u@example.com"))
    async with client(emu) as c:
        r = await c.patch(api.user_path("u@example.com"), data=form(**fields))
    assert r.status_code == 422 and bad in r.json()["errors"] and emu.state["users"][1] == user("u@example.com")


async def test_patch_and_delete_of_an_unknown_user_are_404():
    async with client(emulator()) as c:
        assert (await c.patch(api.user_path("x@example.com"), data=form(privilege="user"))).status_code == 404
        assert (await c.delete(api.user_path("x@example.com"))).status_code == 404


async def test_delete_answers_204():
    emu = emulator(user("u@example.com"))
    async with client(emu) as c:
        r = await c.delete(api.user_path("U@example.com"))
    assert r.status_code == 204 and emails(emu) == ["owner@example.com"]


async def test_the_last_owner_can_be_neither_demoted_nor_removed():
    emu = emulator()
    async with client(emu) as c:
        demote = await c.patch(api.user_path("owner@example.com"), data=form(privilege="admin"))
        remove = await c.delete(api.user_path("owner@example.com"))
    assert demote.status_code == remove.status_code == 422
    assert "owner" in demote.json()["errors"]["privilege"][0]
    assert emu.state["users"] == [user("owner@example.com", "owner")]


async def test_with_a_second_owner_the_first_can_be_demoted():
    emu = emulator(owners=("a@example.com", "b@example.com"))
    async with client(emu) as c:
        r = await c.patch(api.user_path("a@example.com"), data=form(privilege="admin"))
    assert r.status_code == 200 and r.json()["privilege"] == "admin"


async def test_usage_is_per_agent_within_the_window():
    emu = emulator()
    emu.state["sessions"] = [{"start_ts": 100, "agent": "a@example.com", "duration": 60},
                             {"start_ts": 200, "agent": "a@example.com", "duration": 30},
                             {"start_ts": 900, "agent": "b@example.com", "duration": 10}]
    async with client(emu) as c:
        r = await c.get(api.USAGE, params={"from": 0, "to": 500})
        demo = await c.get(api.DEMO_USAGE, params={"from": 0, "to": 500})
        bad = await c.get(api.USAGE, params={"from": "{}", "to": "{}"})
    assert r.json()["stats"] == {"meetings": 2, "seconds": 90, "per_agent": {"a@example.com": {"meetings": 2, "seconds": 90}}}
    assert demo.json() == {"total_canceled_requests": 0, "sessions": []}
    assert bad.status_code == 400


async def test_injected_faults_answer_in_the_service_shape():
    emu = emulator()
    emu.inject(kind="status", status=503, method="GET", path=api.USERS)
    async with client(emu) as c:
        first, second = await c.get(api.USERS), await c.get(api.USERS)
    assert first.status_code == 503 and first.json() == {"error": "injected fault 503"}
    assert second.status_code == 200


async def test_the_list_keeps_its_order_through_deletes_and_creates():
    """A delete takes the user out of its place by rank (not by a scan), a create comes last;
    the owner count that guards the last owner follows creates, promotions and deletes."""
    emu = emulator(*(user(f"{name}@example.com") for name in "abcd"))
    async with client(emu) as c:
        for gone in ("b", "owner", "d"):
            if gone == "owner":
                r = await c.post(api.USERS, data=create_form(email="e@example.com", privilege="owner"))
                assert r.status_code == 201
            assert (await c.delete(api.user_path(f"{gone}@example.com"))).status_code == 204
        assert (await c.post(api.USERS, data=create_form(email="f@example.com"))).status_code == 201
        assert [u["email"] for u in (await c.get(api.USERS)).json()] == [
            "a@example.com", "c@example.com", "e@example.com", "f@example.com"]
        assert (await c.patch(api.user_path("a@example.com"), data=form(privilege="owner"))).status_code == 200
        assert (await c.patch(api.user_path("e@example.com"), data=form(privilege="user"))).status_code == 200
        assert (await c.delete(api.user_path("a@example.com"))).status_code == 422  # the last owner
