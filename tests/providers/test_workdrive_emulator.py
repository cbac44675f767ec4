"""The WorkDrive emulator refuses what WorkDrive refuses, over HTTP (no provider involved)."""

import httpx
import pytest

from teamform_workdrive import api
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

KEY = {api.API_KEY_HEADER: "k"}


def org():
    users = [new_user(uid(1), "head@x.com", "Hed", department=uid(20)),
             new_user(uid(2), "member@x.com", "Mem", department=uid(20), location=uid(30)),
             new_user(uid(3), "other@x.com", "Oth", department=uid(21))]
    return {"api_key": "k", "users": {u["id"]: u for u in users},
            "departments": {uid(20): {"id": uid(20), "name": "Eng", "heads": [uid(1)]},
                            uid(21): {"id": uid(21), "name": "Ops", "heads": [uid(3)]}},
            "locations": {uid(30): {"id": uid(30), "name": "Berlin"}},
            "groups": {uid(40): {"id": uid(40), "name": "Admins", "members": [uid(1)]}}, "next_id": 100}


@pytest.fixture
def emu():
    return WorkDriveEmulator(org())


async def call(emu, method, path, headers=KEY, **kw):
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://127.0.0.1/api", headers=headers) as c:
        r = await c.request(method, path, **kw)
        return r.status_code, (r.json() if r.content else None)


@pytest.mark.parametrize("headers", [{}, {api.API_KEY_HEADER: "wrong"}])
async def test_x_api_key_is_required(emu, headers):
    status, body = await call(emu, "GET", api.USERS, headers=headers)
    assert (status, body["code"], body["message"]) == (401, "UNAUTHORIZED", "Unauthorized -- Your API key is wrong.")


async def test_lists_are_paged_with_meta(emu):
    status, body = await call(emu, "GET", api.USERS, params={"cur_page": 2, "per_page": 2})
    assert status == 200 and [u["email"] for u in body["users"]] == ["other@x.com"]
    assert body["meta"] == {"perPage": 2, "totalPages": 2, "totalResults": 3, "curPage": 2, "nextPage": 0}
    status, body = await call(emu, "GET", api.USERS, params={"per_page": api.MAX_PER_PAGE + 1})
    assert (status, body["code"]) == (400, "VALIDATION_ERROR")


async def test_user_view_names_department_head_and_location(emu):
    _, body = await call(emu, "GET", api.USERS, params={"per_page": 100})
    head, member = body["users"][:2]
    assert head["isDepartmentHead"] and not member["isDepartmentHead"]
    assert member["location"] == {"id": uid(30), "name": "Berlin"} and head["location"] == {}


async def test_bulk_create_refuses_duplicate_emails_atomically(emu):
    data = [{"email": "new@x.com"}, {"email": "HEAD@x.com"}, {"email": "NEW@x.com"}]
    status, body = await call(emu, "POST", api.USERS_BULK_CREATE, json={"data": data})
    assert (status, body["code"], body["emails"]) == (409, "EMAIL_EXISTS", ["HEAD@x.com", "NEW@x.com"])
    assert len(emu.state["users"]) == 3  # nothing created


async def test_bulk_create_checks_reports_to_and_batch_size(emu):
    status, body = await call(emu, "POST", api.USERS_BULK_CREATE,
                              json={"data": [{"email": "a@x.com"}, {"email": "b@x.com", "reportsTo": "nobody"}]})
    assert (status, body["code"]) == (400, "REPORTS_TO_NOT_FOUND") and len(emu.state["users"]) == 3
    many = [{"email": f"u{i}@x.com"} for i in range(api.MAX_BATCH + 1)]
    status, body = await call(emu, "POST", api.USERS_BULK_CREATE, json={"data": many})
    assert (status, body["code"]) == (413, "BATCH_TOO_LARGE")


async def test_bulk_create_makes_invited_users(emu):
    status, body = await call(emu, "POST", api.USERS_BULK_CREATE,
                              json={"data": [{"email": "a@x.com", "firstName": "A", "reportsTo": uid(1)}]})
    assert status == 201 and body[0]["status"] == "INVITED" and body[0]["reportsTo"] == uid(1)


async def test_update_user_status_and_unknown_reports_to(emu):
    status, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={"status": "ARCHIVE"})
    assert status == 200 and body["status"] == "ARCHIVE"
    status, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={"reportsTo": uid(99)})
    assert (status, body["code"]) == (400, "REPORTS_TO_NOT_FOUND")


async def test_a_department_is_created_with_its_head(emu):
    status, body = await call(emu, "POST", api.DEPARTMENTS, json={"name": "New", "members": [{"id": uid(2)}]})
    assert (status, body["code"]) == (400, "DEPARTMENT_HEAD_REQUIRED")
    status, body = await call(emu, "POST", api.DEPARTMENTS,
                              json={"name": "New", "members": [{"id": uid(2), "isAdmin": True}]})
    assert status == 201 and emu.state["departments"][body["id"]]["heads"] == [uid(2)]
    status, body = await call(emu, "POST", api.DEPARTMENTS, json={"name": "new", "members": [{"id": uid(2), "isAdmin": True}]})
    assert (status, body["code"]) == (409, "NAME_EXISTS")


async def test_the_last_head_cannot_leave_or_be_demoted(emu):
    for method, path, body in [
        ("PATCH", api.DEPARTMENT_HEADS, {"remove": uid(1)}),
        ("POST", api.DEPARTMENT_MEMBERS, {"removeMembers": [uid(1)]}),
    ]:
        status, answer = await call(emu, method, path.format(id=uid(20)), json=body)
        assert (status, answer["code"]) == (400, "DEPARTMENT_HEAD_REQUIRED")
    # moving the last head of Eng into Ops leaves Eng without one
    status, answer = await call(emu, "POST", api.DEPARTMENT_MEMBERS.format(id=uid(21)), json={"addMembers": [{"id": uid(1)}]})
    assert (status, answer["code"]) == (400, "DEPARTMENT_HEAD_REQUIRED")
    status, answer = await call(emu, "DELETE", api.USER.format(id=uid(1)))
    assert (status, answer["code"]) == (400, "DEPARTMENT_HEAD_REQUIRED")
    assert emu.state["departments"][uid(20)]["heads"] == [uid(1)]


async def test_head_swap_add_then_remove(emu):
    status, _ = await call(emu, "PATCH", api.DEPARTMENT_HEADS.format(id=uid(20)), json={"add": [{"id": uid(2)}]})
    assert status == 200
    status, body = await call(emu, "PATCH", api.DEPARTMENT_HEADS.format(id=uid(20)), json={"remove": uid(1)})
    assert status == 200 and emu.state["departments"][uid(20)]["heads"] == [uid(2)]


async def test_a_department_with_members_cannot_be_deleted_heads_leave_with_it(emu):
    status, body = await call(emu, "DELETE", api.DEPARTMENT.format(id=uid(20)))
    assert (status, body["code"], body["emails"]) == (409, "DEPARTMENT_NOT_EMPTY", ["member@x.com"])
    await call(emu, "POST", api.DEPARTMENT_MEMBERS.format(id=uid(20)), json={"removeMembers": [uid(2)]})
    status, _ = await call(emu, "DELETE", api.DEPARTMENT.format(id=uid(20)))
    assert status == 200 and emu.state["users"][uid(1)]["department"] is None


async def test_locations_members_and_deletion(emu):
    status, body = await call(emu, "DELETE", api.LOCATION.format(id=uid(30)))
    assert (status, body["code"]) == (409, "LOCATION_NOT_EMPTY")
    status, body = await call(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)),
                              json={"addMembers": [uid(1)], "removeMembers": [uid(2)]})
    assert status == 200 and [m["email"] for m in body["members"]] == ["head@x.com"]
    status, body = await call(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)), json={"addMembers": ["ghost"]})
    assert (status, body["code"], body["ids"]) == (400, "USER_NOT_FOUND", ["ghost"])
    status, body = await call(emu, "POST", api.LOCATIONS, json={"name": "Paris"})
    assert status == 201 and body["name"] == "Paris"


async def test_security_groups_exist_only_and_take_id_lists(emu):
    status, body = await call(emu, "POST", api.SECURITY_GROUPS, json={"name": "New"})
    assert (status, body["message"]) == (404, "Cannot POST /api/security_groups")  # no such endpoint
    status, body = await call(emu, "POST", api.GROUP_MEMBERS.format(id="nope"), json={"ids": [uid(2)]})
    assert (status, body["code"]) == (404, "GROUP_NOT_FOUND")
    status, _ = await call(emu, "POST", api.GROUP_MEMBERS.format(id=uid(40)), json={"ids": [uid(2), uid(3)]})
    status, body = await call(emu, "GET", api.GROUP_MEMBERS.format(id=uid(40)), params={"per_page": 2, "cur_page": 2})
    assert [u["email"] for u in body["users"]] == ["other@x.com"] and body["meta"]["totalResults"] == 3
    status, _ = await call(emu, "DELETE", api.GROUP_MEMBERS.format(id=uid(40)), json={"ids": [uid(2)]})
    assert emu.state["groups"][uid(40)]["members"] == [uid(1), uid(3)]


async def test_bulk_delete_refuses_unknown_ids_and_clears_reports_to(emu):
    emu.state["users"][uid(4)] = new_user(uid(4), "report@x.com", reports_to=uid(2))
    status, body = await call(emu, "DELETE", api.USERS_BULK_DELETE, json={"id": [uid(2), "ghost"]})
    assert (status, body["ids"]) == (400, ["ghost"]) and uid(2) in emu.state["users"]
    status, _ = await call(emu, "DELETE", api.USERS_BULK_DELETE, json={"id": [uid(2)]})
    assert status == 200 and uid(2) not in emu.state["users"]
    assert emu.state["users"][uid(4)]["reportsTo"] is None


async def test_requests_are_logged(emu):
    await call(emu, "GET", api.USERS)
    assert [(e.method, e.path, e.status) for e in emu.calls("GET", "/users")] == [("GET", "/api/users", 200)]


async def test_a_write_refused_half_way_leaves_every_record_as_it_was(emu):
    """The emulator keeps what a write changes in place and puts it back on a refusal (no copy of
    the whole organization per write): here a bulk delete has taken the head out of Admins, out
    of Eng and off the boss of another user before Eng is found left without a head."""
    import json

    emu.state["users"][uid(2)]["reportsTo"] = uid(1)
    before = json.dumps(emu.state, sort_keys=True)
    status, body = await call(emu, "GET", api.USERS, params={"per_page": 100})  # lookups built
    assert status == 200
    status, body = await call(emu, "DELETE", api.USERS_BULK_DELETE, json={"id": [uid(1)]})
    assert (status, body["code"]) == (400, "DEPARTMENT_HEAD_REQUIRED")
    assert json.dumps(emu.state, sort_keys=True) == before
    # a bulk create whose second user names an unknown department: the first, placed as a head
    # of Ops, is gone again and Ops has its one head
    data = [{"email": "a@x.com", "department": uid(21), "isDepartmentHead": True},
            {"email": "b@x.com", "department": uid(99)}]
    status, body = await call(emu, "POST", api.USERS_BULK_CREATE, json={"data": data})
    assert (status, body["code"]) == (404, "DEPARTMENT_NOT_FOUND")
    assert json.dumps(emu.state, sort_keys=True) == before
    _, body = await call(emu, "GET", api.USERS, params={"per_page": 100})
    assert [u["email"] for u in body["users"]] == ["head@x.com", "member@x.com", "other@x.com"]
    _, body = await call(emu, "GET", api.DEPARTMENTS)
    assert [(d["name"], d["memberCount"]) for d in body["departments"]] == [("Eng", 2), ("Ops", 1)]


async def test_lookups_kept_through_writes_answer_as_lookups_built_afresh(emu):
    """Users by department, location and supervisor are kept up to date write by write (not built
    again after each): every list answers in the users' order (the order they were created in),
    as the same state read by a fresh emulator answers it, through moves, creates, deletes and a
    refused delete."""
    reads = [(api.USERS, {}), (api.USERS, {"location": uid(30)}), (api.USERS, {"department": uid(20)}),
             (api.DEPARTMENT_MEMBERS.format(id=uid(20)), {}), (api.DEPARTMENT_MEMBERS.format(id=uid(21)), {}),
             (api.LOCATION_MEMBERS.format(id=uid(30)), {}), (api.USER_SUPERVISORS, {}), (api.DEPARTMENTS, {}),
             (api.LOCATIONS, {})]

    async def answers(e):
        return [await call(e, "GET", path, params={"per_page": 100, **params}) for path, params in reads]

    async def same_as_fresh():
        async with httpx.AsyncClient(transport=emu.transport(), base_url="http://127.0.0.1") as c:
            state = (await c.get("/_emulator/state")).json()  # read as a request: the lookups stay
        assert await answers(emu) == await answers(WorkDriveEmulator(state))

    await same_as_fresh()  # the lookups are built
    status, created = await call(emu, "POST", api.USERS_BULK_CREATE, json={"data": [
        {"email": "new@x.com", "department": uid(20), "location": uid(30)}, {"email": "two@x.com"}]})
    assert status == 201
    new, two = (u["id"] for u in created)
    eng, ops = api.DEPARTMENT_MEMBERS.format(id=uid(20)), api.DEPARTMENT_MEMBERS.format(id=uid(21))
    await call(emu, "POST", eng, json={"addMembers": [{"id": two}]})
    await call(emu, "POST", ops, json={"addMembers": [{"id": uid(2)}]})
    await same_as_fresh()
    _, body = await call(emu, "POST", eng, json={"addMembers": [{"id": uid(2)}]})  # back, in its place
    assert [m["email"] for m in body["members"]] == ["head@x.com", "member@x.com", "new@x.com", "two@x.com"]
    await call(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)), json={"addMembers": [uid(1)]})
    await call(emu, "PATCH", api.USER.format(id=two), json={"reportsTo": new})
    await call(emu, "PATCH", api.USER.format(id=uid(3)), json={"reportsTo": uid(1)})
    _, body = await call(emu, "GET", api.USER_SUPERVISORS)
    assert [u["email"] for u in body["users"]] == ["head@x.com", "new@x.com"]
    await same_as_fresh()
    status, _ = await call(emu, "DELETE", api.USERS_BULK_DELETE, json={"id": [uid(2), new]})
    assert status == 200
    await same_as_fresh()
    status, body = await call(emu, "DELETE", api.USERS_BULK_DELETE, json={"id": [two, uid(1)]})
    assert (status, body["code"]) == (400, "DEPARTMENT_HEAD_REQUIRED")
    _, body = await call(emu, "GET", api.USERS)
    assert [u["email"] for u in body["users"]] == ["head@x.com", "other@x.com", "two@x.com"]
    await same_as_fresh()
