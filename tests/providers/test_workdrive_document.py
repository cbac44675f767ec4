"""The WorkDrive emulator against the document (shared/api-docs/workdrive-api.txt), endpoint by
endpoint, in the document's order: the sections User, Departments, Locations and Security
Groups, which are the ones teamform uses. Each test names the endpoint; where the document is
silent and the emulator chooses, the test says "invented" and the provider's README lists the
choice. Then what the provider sends is checked against what the document asks for."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from teamform.testing import make_plan, plan_apply
from teamform_workdrive import api
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

sys.path.insert(0, str(Path(__file__).parent))
from test_workdrive_apply import ENV, org, state_file  # noqa: E402  (shared builders)

KEY = {api.API_KEY_HEADER: "k"}

#: the keys of the document's examples
USER_KEYS = {"id", "createdAt", "updatedAt", "createdBy", "updatedBy", "orgId", "userName", "email", "status",
             "firstName", "lastName", "picture", "cover", "bio", "phone", "reportsTo", "designation", "department",
             "isDepartmentHead", "color", "isExpert", "availability", "location"}
LISTED_USER_KEYS = USER_KEYS | {"reportsToObj"}
CREATED_USER_KEYS = USER_KEYS | {"teamMembers", "userAdditionalTeams", "addAdditionalLocations"}
UPDATED_USER_KEYS = CREATED_USER_KEYS | {"badges"}
MINI_KEYS = {"id", "firstName", "lastName", "picture", "cover", "color", "online", "availability", "designation",
             "department", "availabilityStatusText", "phone", "email", "status"}
META_KEYS = {"perPage", "totalPages", "totalResults", "curPage", "nextPage"}
DEPT_RECORD_KEYS = {"id", "createdAt", "updatedAt", "createdBy", "updatedBy", "orgId", "type", "name"}
DEPT_MEMBERS_KEYS = DEPT_RECORD_KEYS | {"departmentHeads", "members"}
LOC_RECORD_KEYS = {"id", "createdAt", "updatedAt", "createdBy", "updatedBy", "name", "orgId"}


def organization(extra_users: int = 0):
    """Eng (head Hed, member Mem), Ops (head Oth), Berlin (Mem), Admins (Hed); ``extra_users``
    more people in no department, for paging."""
    users = [new_user(uid(1), "head@x.com", "Hed", department=uid(20)),
             new_user(uid(2), "member@x.com", "Mem", department=uid(20), location=uid(30), reports_to=uid(1)),
             new_user(uid(3), "other@x.com", "Oth", department=uid(21)),
             *[new_user(uid(100 + i), f"u{i:02d}@x.com") for i in range(extra_users)]]
    return {"api_key": "k", "users": {u["id"]: u for u in users},
            "departments": {uid(20): {"id": uid(20), "name": "Eng", "heads": [uid(1)]},
                            uid(21): {"id": uid(21), "name": "Ops", "heads": [uid(3)]}},
            "locations": {uid(30): {"id": uid(30), "name": "Berlin"}},
            "groups": {uid(40): {"id": uid(40), "name": "Admins", "members": [uid(1)]}}, "next_id": 500}


@pytest.fixture
def emu():
    return WorkDriveEmulator(organization())


async def call(emu, method, path, headers=KEY, **kw):
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://127.0.0.1/api", headers=headers) as c:
        r = await c.request(method, path, **kw)
        return r.status_code, (r.json() if r.content else None)


async def refused(emu, method, path, status=400, code="VALIDATION_ERROR", **kw):
    before = json.dumps(emu.state, sort_keys=True)
    got, body = await call(emu, method, path, **kw)
    assert (got, body["code"]) == (status, code), body
    assert set(body) >= {"statusCode", "error", "code", "message"} and body["statusCode"] == status
    assert json.dumps(emu.state, sort_keys=True) == before  # a refused call changes nothing
    return body


# ---- Authentication, Errors ---------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {api.API_KEY_HEADER: "wrong"}])
async def test_authentication_the_x_api_key_header_and_the_documented_401(emu, headers):
    status, body = await call(emu, "GET", api.USERS, headers=headers)
    assert (status, body["message"]) == (401, "Unauthorized -- Your API key is wrong.")


async def test_errors_invented_body_shape_and_the_documented_meanings(emu):
    """Invented: the document lists status codes and their meanings, no body; the emulator
    answers {statusCode, error, code, message} (NestJS style) with the documented meaning when
    it has nothing more specific to say."""
    body = await refused(emu, "PATCH", api.USER.format(id="nope"), 404, "NOT_FOUND", json={})
    assert body["message"] == "Not Found -- The specified content could not be found."


async def test_invented_an_endpoint_the_document_does_not_have_answers_404(emu):
    status, body = await call(emu, "POST", api.SECURITY_GROUPS, json={"name": "New"})
    assert (status, body["message"]) == (404, "Cannot POST /api/security_groups")
    status, body = await call(emu, "GET", "/nothing/here")
    assert (status, body["statusCode"]) == (404, 404)


# ---- User: Get All Users ------------------------------------------------------------------
async def test_get_all_users_pages_by_default_ten_from_page_one():
    emu = WorkDriveEmulator(organization(extra_users=9))  # 12 users
    status, body = await call(emu, "GET", api.USERS)
    assert status == 200 and set(body) == {"users", "meta"} and len(body["users"]) == 10
    assert body["meta"] == {"perPage": 10, "totalPages": 2, "totalResults": 12, "curPage": 1, "nextPage": 2}
    status, body = await call(emu, "GET", api.USERS, params={"cur_page": 2, "per_page": 5})
    assert [u["email"] for u in body["users"]] == ["u02@x.com", "u03@x.com", "u04@x.com", "u05@x.com", "u06@x.com"]
    assert body["meta"]["curPage"] == 2 and body["meta"]["totalPages"] == 3


async def test_get_all_users_meta_is_integers_and_invented_next_page_zero_on_the_last(emu):
    """Invented: nextPage on the last page (the document's example shows integers only: 0)."""
    _, body = await call(emu, "GET", api.USERS, params={"cur_page": 1, "per_page": 5})
    assert set(body["meta"]) == META_KEYS and all(type(v) is int for v in body["meta"].values())
    assert body["meta"]["nextPage"] == 0
    _, body = await call(emu, "GET", api.USERS, params={"cur_page": 9})
    assert body["users"] == [] and body["meta"]["totalResults"] == 3  # past the end: empty, not an error


async def test_invented_per_page_at_most_100_and_paging_parameters_must_be_integers(emu):
    """Invented: the document gives no maximum page size and no error for a bad one."""
    await refused(emu, "GET", api.USERS, params={"per_page": api.MAX_PER_PAGE + 1})
    await refused(emu, "GET", api.USERS, params={"cur_page": "one"})
    await refused(emu, "GET", api.USERS, params={"cur_page": 0})


async def test_get_all_users_fields_as_in_the_example(emu):
    _, body = await call(emu, "GET", api.USERS)
    head, member, _ = body["users"]
    assert set(member) == LISTED_USER_KEYS
    assert isinstance(member["picture"], dict) and isinstance(member["cover"], dict)
    assert type(member["availability"]) is int and isinstance(member["isExpert"], bool)
    assert member["department"] == uid(20) and head["isDepartmentHead"] and not member["isDepartmentHead"]
    assert set(member["reportsToObj"]) == MINI_KEYS | {"departmentData"}
    assert member["reportsToObj"]["email"] == "head@x.com"


async def test_get_all_users_invented_location_object_and_no_supervisor_object(emu):
    """Invented: the document shows location as {} and reportsToObj always; the emulator puts
    {id, name} in location ({} for none) and null for a user who reports to nobody."""
    _, body = await call(emu, "GET", api.USERS)
    head, member, _ = body["users"]
    assert member["location"] == {"id": uid(30), "name": "Berlin"} and head["location"] == {}
    assert head["reportsToObj"] is None


async def test_get_all_users_filters_by_department_and_location(emu):
    _, body = await call(emu, "GET", api.USERS, params={"department": uid(20)})
    assert [u["email"] for u in body["users"]] == ["head@x.com", "member@x.com"]
    _, body = await call(emu, "GET", api.USERS, params={"location": uid(30)})
    assert [u["email"] for u in body["users"]] == ["member@x.com"] and body["meta"]["totalResults"] == 1


# ---- User: Get All Team Supervisors -------------------------------------------------------
async def test_get_all_team_supervisors_is_paged_with_the_documented_fields(emu):
    status, body = await call(emu, "GET", api.USER_SUPERVISORS)
    assert status == 200 and body["users"] == [{"id": uid(1), "email": "head@x.com", "firstName": "Hed",
                                                  "lastName": ""}]
    assert set(body["meta"]) == META_KEYS and body["meta"]["perPage"] == 10


async def test_get_all_team_supervisors_invented_user_id_gives_that_users_supervisor(emu):
    """Invented: what userId selects ("the user corresponding to which supervisor listing will fetch")."""
    _, body = await call(emu, "GET", api.USER_SUPERVISORS, params={"userId": uid(2)})
    assert [u["id"] for u in body["users"]] == [uid(1)]
    _, body = await call(emu, "GET", api.USER_SUPERVISORS, params={"userId": uid(1)})
    assert body["users"] == []


# ---- User: Create a User ------------------------------------------------------------------
async def test_create_a_user_answers_the_documented_fields(emu):
    status, body = await call(emu, "POST", api.USER_ADD, json={
        "email": "new@x.com", "phone": "+1", "firstName": "New", "lastName": "User", "designation": "Manager",
        "skill": ["go"], "defaultVisibility": "public", "addAdditionalTeams": [uid(1)]})
    assert status == 201 and set(body) == CREATED_USER_KEYS
    assert (body["email"], body["firstName"], body["designation"], body["phone"]) == ("new@x.com", "New", "Manager", "+1")
    assert body["userAdditionalTeams"] == [uid(1)]


async def test_create_a_user_invented_status_invited_201_and_email_required(emu):
    """Invented: the status of a new user (the create call has none: it sends an onboarding
    email), the 201, and that email is required (the document marks nothing required)."""
    status, body = await call(emu, "POST", api.USER_ADD, json={"email": "new@x.com"})
    assert (status, body["status"]) == (201, api.NEW_USER_STATUS)
    await refused(emu, "POST", api.USER_ADD, json={"firstName": "No Email"})


@pytest.mark.parametrize("field, value", [("defaultVisibility", "everyone"), ("isDepartmentHead", "yes"),
                                          ("skill", "go"), ("firstName", ["A"]), ("department", 7),
                                          ("addAdditionalLocations", [1])])
async def test_create_a_user_refuses_values_outside_the_documented_types_and_enums(emu, field, value):
    await refused(emu, "POST", api.USER_ADD, json={"email": "new@x.com", field: value})


async def test_create_a_user_without_reports_to_reports_to_the_departments_head(emu):
    """The document: "If the reportsTo option is not included in the payload, the respective
    admins of the given location or department will be assigned as user boss"."""
    _, body = await call(emu, "POST", api.USER_ADD, json={"email": "new@x.com", "department": uid(20)})
    assert body["reportsTo"] == uid(1) and body["department"] == uid(20)
    _, body = await call(emu, "POST", api.USER_ADD, json={"email": "n2@x.com", "department": uid(20),
                                                           "reportsTo": uid(3)})
    assert body["reportsTo"] == uid(3)


async def test_invented_create_a_user_refuses_a_taken_email_unknown_ids(emu):
    """Invented: the codes (the document has none): EMAIL_EXISTS 409 (case-insensitive),
    REPORTS_TO_NOT_FOUND 400, DEPARTMENT_NOT_FOUND 404, GROUP_NOT_FOUND 404."""
    body = await refused(emu, "POST", api.USER_ADD, 409, "EMAIL_EXISTS", json={"email": "HEAD@x.com"})
    assert body["emails"] == ["HEAD@x.com"]
    await refused(emu, "POST", api.USER_ADD, 400, "REPORTS_TO_NOT_FOUND", json={"email": "n@x.com", "reportsTo": "x"})
    await refused(emu, "POST", api.USER_ADD, 404, "DEPARTMENT_NOT_FOUND", json={"email": "n@x.com", "department": "x"})
    await refused(emu, "POST", api.USER_ADD, 404, "GROUP_NOT_FOUND", json={"email": "n@x.com", "securityGroup": "x"})


async def test_create_a_user_with_a_security_group_puts_them_in_it(emu):
    _, body = await call(emu, "POST", api.USER_ADD, json={"email": "n@x.com", "securityGroup": uid(40)})
    assert body["id"] in emu.state["groups"][uid(40)]["members"]


# ---- User: Update a User ------------------------------------------------------------------
async def test_update_a_user_every_field_is_optional_and_the_answer_is_documented(emu):
    status, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={})
    assert status == 200 and set(body) == UPDATED_USER_KEYS and body["badges"] == []
    status, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={
        "firstName": "M", "lastName": "L", "status": "ARCHIVE", "phone": "+13756366604", "isExpert": True,
        "availability": "AWAY", "designation": "Web Developer", "bio": "hi", "reportsTo": uid(3)})
    assert status == 200
    assert (body["firstName"], body["status"], body["isExpert"], body["reportsTo"]) == ("M", "ARCHIVE", True, uid(3))


@pytest.mark.parametrize("status", api.STATUSES)
async def test_update_a_user_takes_every_documented_status(emu, status):
    code, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={"status": status})
    assert (code, body["status"]) == (200, status)


@pytest.mark.parametrize("field, value", [("status", "DELETED"), ("status", None), ("availability", "BUSY"),
                                          ("isExpert", "no"), ("isDepartmentHead", 1), ("bio", 3),
                                          ("removeAdditionalTeams", "x")])
async def test_update_a_user_refuses_values_outside_the_documented_enums_and_types(emu, field, value):
    await refused(emu, "PATCH", api.USER.format(id=uid(2)), json={field: value})


async def test_update_a_user_invented_availability_words_as_numbers(emu):
    """Invented: the update takes availability ACTIVE/AWAY, the user record shows a number."""
    _, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={"availability": "AWAY"})
    assert body["availability"] == 0
    _, body = await call(emu, "PATCH", api.USER.format(id=uid(2)), json={"availability": "ACTIVE"})
    assert body["availability"] == 1


async def test_update_a_user_that_does_not_exist_is_404(emu):
    await refused(emu, "PATCH", api.USER.format(id=uid(99)), 404, "NOT_FOUND", json={"status": "ACTIVE"})


# ---- User: Delete a User, Bulk Create User, Bulk Delete User -------------------------------
async def test_delete_a_user_and_invented_answer(emu):
    """Invented: the answer ({deleted: [id]}; the document shows none) and 404 for an unknown id."""
    status, body = await call(emu, "DELETE", api.USER.format(id=uid(2)))
    assert (status, body) == (200, {"deleted": [uid(2)]}) and uid(2) not in emu.state["users"]
    await refused(emu, "DELETE", api.USER.format(id=uid(2)), 404, "NOT_FOUND")


async def test_bulk_create_user_takes_data_and_answers_a_list_of_created_users(emu):
    status, body = await call(emu, "POST", api.USERS_BULK_CREATE, json={"data": [
        {"email": "a@x.com", "firstName": "A", "externalUserId": "e1"}, {"email": "b@x.com"}]})
    assert status == 201 and [u["email"] for u in body] == ["a@x.com", "b@x.com"]
    assert all(set(u) == CREATED_USER_KEYS for u in body)


async def test_bulk_create_user_validates_every_entry_like_create(emu):
    await refused(emu, "POST", api.USERS_BULK_CREATE, json={"data": [{"email": "a@x.com"},
                                                                      {"email": "b@x.com", "defaultVisibility": "x"}]})
    await refused(emu, "POST", api.USERS_BULK_CREATE, json={"data": []})
    await refused(emu, "POST", api.USERS_BULK_CREATE, json=[{"email": "a@x.com"}])


async def test_invented_bulk_calls_take_at_most_100(emu):
    many = [{"email": f"n{i}@x.com"} for i in range(api.MAX_BATCH + 1)]
    await refused(emu, "POST", api.USERS_BULK_CREATE, 413, "BATCH_TOO_LARGE", json={"data": many})
    await refused(emu, "DELETE", api.USERS_BULK_DELETE, 413, "BATCH_TOO_LARGE", json={"id": ["x"] * 101})


async def test_bulk_delete_user_takes_the_id_list_and_refuses_unknown_ids_whole(emu):
    """The body parameter is ``id`` (a list); invented: an unknown id refuses the call whole,
    naming the ids (USER_NOT_FOUND), and the answer {deleted: ids}."""
    body = await refused(emu, "DELETE", api.USERS_BULK_DELETE, 400, "USER_NOT_FOUND", json={"id": [uid(2), "ghost"]})
    assert body["ids"] == ["ghost"]
    status, body = await call(emu, "DELETE", api.USERS_BULK_DELETE, json={"id": [uid(2)]})
    assert (status, body) == (200, {"deleted": [uid(2)]})
    await refused(emu, "DELETE", api.USERS_BULK_DELETE, json={"ids": [uid(1)]})


# ---- Departments --------------------------------------------------------------------------
async def test_get_all_departments_pages_by_ten_with_the_documented_fields(emu):
    status, body = await call(emu, "GET", api.DEPARTMENTS)
    assert status == 200 and set(body) == {"departments", "meta"} and body["meta"]["perPage"] == 10
    eng = body["departments"][0]
    assert set(eng) == {"id", "name", "memberCount", "admins"} and eng["memberCount"] == 2
    assert [set(a) for a in eng["admins"]] == [MINI_KEYS] and eng["admins"][0]["email"] == "head@x.com"
    _, body = await call(emu, "GET", api.DEPARTMENTS, params={"cur_page": 2, "per_page": 1})
    assert [d["name"] for d in body["departments"]] == ["Ops"]


async def test_invented_mini_users_designation_and_department_objects(emu):
    """Invented: the document shows designation and department of a head or member as {}."""
    _, body = await call(emu, "GET", api.DEPARTMENTS)
    assert body["departments"][0]["admins"][0]["department"] == {"id": uid(20), "name": "Eng"}
    assert body["departments"][0]["admins"][0]["designation"] == {}


async def test_create_a_department_with_its_head_answers_the_documented_record(emu):
    status, body = await call(emu, "POST", api.DEPARTMENTS, json={"name": "Management", "members": [
        {"id": uid(2), "isAdmin": True, "existingDept": uid(20), "isDepartmentHead": False}]})
    assert status == 201 and set(body) == DEPT_RECORD_KEYS and body["name"] == "Management"
    assert emu.state["users"][uid(2)]["department"] == body["id"]


async def test_create_a_department_needs_a_head(emu):
    """"There should be atleast one department Head": a member with isAdmin (the heads
    endpoint: "It should be true while creating a new department")."""
    await refused(emu, "POST", api.DEPARTMENTS, 400, "DEPARTMENT_HEAD_REQUIRED", json={"name": "M", "members": [
        {"id": uid(2), "existingDept": uid(20), "isDepartmentHead": False}]})
    await refused(emu, "POST", api.DEPARTMENTS, 400, "DEPARTMENT_HEAD_REQUIRED", json={"name": "M"})


@pytest.mark.parametrize("member", [{"id": 5, "isAdmin": True}, {"id": uid(2), "isAdmin": "yes"},
                                    {"id": uid(2), "isAdmin": True, "isDepartmentHead": "no"},
                                    {"id": uid(2), "isAdmin": True, "existingDept": []}])
async def test_create_a_department_refuses_members_of_the_wrong_types(emu, member):
    await refused(emu, "POST", api.DEPARTMENTS, json={"name": "M", "members": [member]})


async def test_invented_a_department_name_is_required_and_unique(emu):
    await refused(emu, "POST", api.DEPARTMENTS, json={"members": [{"id": uid(2), "isAdmin": True}]})
    await refused(emu, "POST", api.DEPARTMENTS, 409, "NAME_EXISTS", json={"name": "eng", "members": [
        {"id": uid(2), "isAdmin": True}]})


async def test_update_department_head_adds_a_list_and_removes_one_id(emu):
    status, body = await call(emu, "PATCH", api.DEPARTMENT_HEADS.format(id=uid(20)), json={
        "add": [{"id": uid(2), "isAdmin": False, "existingDept": uid(20), "isDepartmentHead": False}]})
    assert status == 200 and set(body) == DEPT_RECORD_KEYS
    status, _ = await call(emu, "PATCH", api.DEPARTMENT_HEADS.format(id=uid(20)), json={"remove": uid(1)})
    assert status == 200 and emu.state["departments"][uid(20)]["heads"] == [uid(2)]
    await refused(emu, "PATCH", api.DEPARTMENT_HEADS.format(id=uid(20)), json={"remove": [uid(2)]})
    await refused(emu, "PATCH", api.DEPARTMENT_HEADS.format(id=uid(20)), json={"add": {"id": uid(1)}})


async def test_update_department_members_answers_heads_and_members(emu):
    status, body = await call(emu, "POST", api.DEPARTMENT_MEMBERS.format(id=uid(21)), json={
        "addMembers": [{"id": uid(2), "isAdmin": False, "existingDept": uid(20), "isDepartmentHead": False}]})
    assert status == 200 and set(body) == DEPT_MEMBERS_KEYS and body["departmentHeads"] == [uid(3)]
    assert [m["email"] for m in body["members"]] == ["member@x.com", "other@x.com"]
    assert all(set(m) == MINI_KEYS for m in body["members"])
    status, body = await call(emu, "POST", api.DEPARTMENT_MEMBERS.format(id=uid(21)), json={"removeMembers": [uid(2)]})
    assert status == 200 and [m["email"] for m in body["members"]] == ["other@x.com"]


async def test_get_department_members_is_not_paged(emu):
    status, body = await call(emu, "GET", api.DEPARTMENT_MEMBERS.format(id=uid(20)), params={"per_page": 1})
    assert status == 200 and set(body) == DEPT_MEMBERS_KEYS and "meta" not in body
    assert [m["email"] for m in body["members"]] == ["head@x.com", "member@x.com"]


async def test_update_a_department_renames_it(emu):
    status, body = await call(emu, "PATCH", api.DEPARTMENT.format(id=uid(20)), json={"name": "Engineering"})
    assert status == 200 and set(body) == DEPT_RECORD_KEYS and body["name"] == "Engineering"


async def test_delete_a_department_and_invented_rules(emu):
    """Invented: a department with members other than its heads cannot be deleted
    (DEPARTMENT_NOT_EMPTY naming them); its heads leave with it; the answer {id}."""
    body = await refused(emu, "DELETE", api.DEPARTMENT.format(id=uid(20)), 409, "DEPARTMENT_NOT_EMPTY")
    assert body["emails"] == ["member@x.com"]
    status, body = await call(emu, "DELETE", api.DEPARTMENT.format(id=uid(21)))
    assert (status, body) == (200, {"id": uid(21)}) and emu.state["users"][uid(3)]["department"] is None
    await refused(emu, "DELETE", api.DEPARTMENT.format(id=uid(21)), 404, "DEPARTMENT_NOT_FOUND")


# ---- Locations ----------------------------------------------------------------------------
async def test_get_all_locations_pages_by_ten_with_the_documented_fields(emu):
    status, body = await call(emu, "GET", api.LOCATIONS)
    assert status == 200 and set(body) == {"locations", "meta"} and body["meta"]["perPage"] == 10
    assert set(body["locations"][0]) == LOC_RECORD_KEYS | {"memberCount"}
    assert body["locations"][0]["memberCount"] == 1


async def test_invented_create_a_location_path_and_answer(emu):
    """The document's "Create a Location" shows POST /api/departments (a slip: it is the
    department create); invented: POST /locations {name}, answered with the location record."""
    status, body = await call(emu, "POST", api.LOCATIONS, json={"name": "California"})
    assert status == 201 and set(body) == LOC_RECORD_KEYS and body["name"] == "California"
    await refused(emu, "POST", api.LOCATIONS, json={})
    await refused(emu, "POST", api.LOCATIONS, 409, "NAME_EXISTS", json={"name": "berlin"})


async def test_update_location_members_takes_id_lists_and_answers_the_members(emu):
    status, body = await call(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)),
                              json={"addMembers": [uid(1)], "removeMembers": [uid(2)]})
    assert status == 200 and set(body) == LOC_RECORD_KEYS | {"members"}
    assert [m["email"] for m in body["members"]] == ["head@x.com"]
    await refused(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)), json={"addMembers": [{"id": uid(1)}]})
    await refused(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)), 400, "USER_NOT_FOUND",
                  json={"addMembers": ["ghost"]})


async def test_get_location_members_is_not_paged(emu):
    status, body = await call(emu, "GET", api.LOCATION_MEMBERS.format(id=uid(30)), params={"cur_page": 2})
    assert status == 200 and "meta" not in body and [m["email"] for m in body["members"]] == ["member@x.com"]


async def test_update_a_location_renames_it(emu):
    status, body = await call(emu, "PATCH", api.LOCATION.format(id=uid(30)), json={"name": "Munich"})
    assert status == 200 and set(body) == LOC_RECORD_KEYS and body["name"] == "Munich"


async def test_delete_a_location_and_invented_not_empty(emu):
    """Invented: a location with members cannot be deleted (LOCATION_NOT_EMPTY)."""
    await refused(emu, "DELETE", api.LOCATION.format(id=uid(30)), 409, "LOCATION_NOT_EMPTY")
    await call(emu, "POST", api.LOCATION_MEMBERS.format(id=uid(30)), json={"removeMembers": [uid(2)]})
    status, _ = await call(emu, "DELETE", api.LOCATION.format(id=uid(30)))
    assert status == 200 and emu.state["locations"] == {}


# ---- Security Groups ----------------------------------------------------------------------
async def test_get_all_security_groups_pages_by_ten_with_the_documented_fields(emu):
    status, body = await call(emu, "GET", api.SECURITY_GROUPS)
    assert status == 200 and body["groups"] == [{"id": uid(40), "name": "Admins", "memberCount": 1}]
    assert set(body["meta"]) == META_KEYS and body["meta"]["perPage"] == 10


async def test_add_and_remove_users_of_a_security_group_take_ids(emu):
    """Invented: the answer ({id, name, memberCount}: the document shows none)."""
    status, body = await call(emu, "POST", api.GROUP_MEMBERS.format(id=uid(40)), json={"ids": [uid(2), uid(3)]})
    assert status == 200 and body["memberCount"] == 3
    status, body = await call(emu, "DELETE", api.GROUP_MEMBERS.format(id=uid(40)), json={"ids": [uid(1)]})
    assert status == 200 and emu.state["groups"][uid(40)]["members"] == [uid(2), uid(3)]
    await refused(emu, "POST", api.GROUP_MEMBERS.format(id=uid(40)), json={"ids": uid(2)})
    await refused(emu, "POST", api.GROUP_MEMBERS.format(id="nope"), 404, "GROUP_NOT_FOUND", json={"ids": [uid(2)]})


async def test_invented_the_member_list_of_a_security_group(emu):
    """Not in the document: GET /security_groups/{id}/members, paged like every list,
    {users, meta}; an emulator with ``group_member_list = False`` answers 404 there, as a
    service that has only the documented endpoints would."""
    status, body = await call(emu, "GET", api.GROUP_MEMBERS.format(id=uid(40)))
    assert status == 200 and [u["email"] for u in body["users"]] == ["head@x.com"] and body["meta"]["totalResults"] == 1
    emu.group_member_list = False
    status, body = await call(emu, "GET", api.GROUP_MEMBERS.format(id=uid(40)))
    assert status == 404 and body["message"] == f"Cannot GET /api/security_groups/{uid(40)}/members"


# ---- what the provider sends --------------------------------------------------------------
async def test_the_provider_sends_the_documented_bodies():
    """Every write teamform makes, against the document's request bodies: the bulk create's
    data list, a department created with its heads ({id, isAdmin, isDepartmentHead,
    existingDept}), member lists of ids, the security group's ids, the bulk delete's id list."""
    users = [new_user(uid(1), "old@x.com", department=uid(20)), new_user(uid(2), "gone@x.com")]
    emu = WorkDriveEmulator(org(users, departments=[(uid(20), "Eng", [uid(1)])], groups=[("Admins", [])]))
    config = state_file(["old@x.com", "new@x.com"], {
        "users": [{"who": "new@x.com", "designation": "Engineer", "reports_to": "old@x.com"}],
        "departments": {"Ops": {"heads": ["old@x.com"], "members": ["new@x.com"]}},
        "locations": {"Berlin": ["new@x.com"]}, "security_groups": {"Admins": ["new@x.com"]}})
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    sent = {(e.method, e.path): json.loads(e.body) for e in emu.log if e.method != "GET" and e.body}
    new_id = next(u["id"] for u in emu.state["users"].values() if u["email"] == "new@x.com")
    ops = next(d["id"] for d in emu.state["departments"].values() if d["name"] == "Ops")
    berlin = next(iter(emu.state["locations"]))
    assert sent[("POST", "/api/users/bulk-create")] == {"data": [
        {"email": "new@x.com", "firstName": "New", "lastName": "Test", "designation": "Engineer", "reportsTo": uid(1)}]}
    # old@ heads Eng now: "isDepartmentHead: is the user already head of any other department"
    assert sent[("POST", "/api/departments")] == {"name": "Ops", "members": [
        {"id": uid(1), "isAdmin": True, "isDepartmentHead": True, "existingDept": uid(20)}]}
    assert sent[("POST", f"/api/departments/{ops}/members")] == {"addMembers": [
        {"id": new_id, "isAdmin": False, "isDepartmentHead": False}]}  # no department now: no existingDept
    assert sent[("POST", "/api/locations")] == {"name": "Berlin"}
    assert sent[("POST", f"/api/locations/{berlin}/members")] == {"addMembers": [new_id]}
    assert sent[("POST", f"/api/security_groups/{uid(40)}/members")] == {"ids": [new_id]}
    assert sent[("DELETE", "/api/users/bulk-delete")] == {"id": [uid(2)]}


async def test_the_provider_reads_with_cur_page_and_per_page():
    emu = WorkDriveEmulator(organization(extra_users=4))
    config = state_file(["head@x.com"], {"page_size": 3, "users": [{"who": "head@x.com"}]})
    await make_plan(config, {"wd": emu}, environ=ENV)
    assert [e.query for e in emu.calls("GET", "/users$")] == [
        "cur_page=1&per_page=3", "cur_page=2&per_page=3", "cur_page=3&per_page=3"]
