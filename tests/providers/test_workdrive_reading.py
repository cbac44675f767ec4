"""The WorkDrive reader against services that differ from the document: lists not paged, paged
with their own size, ignoring cur_page, never ending, moving while read; answers of the wrong
shape; and the security-group member list the document does not have answering 404. Whatever
happens: every item once, no hang, and never a partial read taken as whole."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from teamform.testing import make_plan, plan_apply
from teamform_workdrive import api
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

sys.path.insert(0, str(Path(__file__).parent))
from test_workdrive_apply import ENV, org, state_file  # noqa: E402  (shared builders)

PEOPLE = [f"p{i:02d}@example.com" for i in range(25)]


def crowd(count: int = 25) -> dict[str, Any]:
    return org([new_user(uid(100 + i), PEOPLE[i], f"P{i:02d}", "Test") for i in range(count)],
               groups=[("Everyone", [uid(100 + i) for i in range(count)])])


def everyone_file(page_size: int = 100, **section):
    return state_file(PEOPLE, {"page_size": page_size, "users": [{"who": e} for e in PEOPLE],
                               "security_groups": {"Everyone": PEOPLE}, **section})


class Served(WorkDriveEmulator):
    """The emulator, with its lists answered by ``serve(items, key, cur, per)`` instead."""

    def __init__(self, state, serve) -> None:
        self.serve = serve
        super().__init__(state)

    def page(self, request: Request, items: Sequence[Any], key: str) -> dict[str, Any]:
        q = request.query_params  # every item shown (the emulator makes only a page's views)
        return self.serve(list(items), key, int(q.get("cur_page", 1)), int(q.get("per_page", 10)))


def meta_page(items, key, cur, per):
    pages = (len(items) + per - 1) // per
    return {key: items[(cur - 1) * per: cur * per],
            "meta": {"perPage": per, "totalPages": pages, "totalResults": len(items), "curPage": cur,
                     "nextPage": cur + 1 if cur < pages else 0}}


async def plan_of(config, emu):
    return await make_plan(config, {"wd": emu}, environ=ENV)


def reads(emu, path="/users$"):
    return len(emu.calls("GET", path))


async def test_a_service_that_pages_with_its_own_size_is_read_whole():
    for asked in (100, 5):  # its pages smaller, then larger than asked
        emu = Served(crowd(), lambda items, key, cur, per: meta_page(items, key, cur, 10))  # per_page ignored
        plan = await plan_of(everyone_file(page_size=asked), emu)
        assert not plan.errors and plan.operations == [], asked
        assert reads(emu) == 3  # 10 + 10 + 5, as its totalPages said


async def test_a_service_that_answers_everything_at_once_is_read_in_one_request():
    emu = Served(crowd(), lambda items, key, cur, per: meta_page(items, key, 1, max(len(items), 1)))
    plan = await plan_of(everyone_file(page_size=5), emu)
    assert not plan.errors and plan.operations == [] and reads(emu) == 1


async def test_a_service_that_ignores_cur_page_is_an_incomplete_read_not_a_loop():
    emu = Served(crowd(), lambda items, key, cur, per: meta_page(items, key, 1, per))  # always page 1
    plan = await plan_of(everyone_file(page_size=10), emu)
    assert plan.operations == [] and "could not read live state" in plan.errors[0]
    assert "twice" in plan.errors[0] and reads(emu) == 2


def endless(items, key, cur, per):
    """Every page says one more follows, with new items each time."""
    fresh = [{"id": uid(9000 + cur * per + i), "name": f"G{cur}-{i}", "memberCount": 0} for i in range(per)]
    return {key: fresh, "meta": {"perPage": per, "totalPages": cur + 1, "totalResults": 10 ** 6,
                                 "curPage": cur, "nextPage": cur + 1}}


async def test_a_list_that_never_ends_stops_as_an_incomplete_read():
    emu = Served(crowd(3), lambda items, key, cur, per: (endless if key == "groups" else meta_page)(items, key, cur, per))
    plan = await plan_of(state_file(PEOPLE[:3], {"users": [{"who": e} for e in PEOPLE[:3]]}), emu)
    assert plan.operations == [] and "does not end" in plan.errors[0]
    assert reads(emu, "/security_groups$") <= 4


async def test_a_list_that_moves_while_it_is_read_is_an_incomplete_read():
    def moving(items, key, cur, per):
        if key == "users" and cur == 2:  # someone was added at the front after page 1 was read
            items = [items[-1], *items]
        return meta_page(items, key, cur, per)

    emu = Served(crowd(), moving)
    plan = await plan_of(everyone_file(page_size=10), emu)
    assert plan.operations == [] and "twice" in plan.errors[0]


async def test_fewer_items_than_total_results_is_an_incomplete_read():
    def short(items, key, cur, per):
        page = meta_page(items, key, cur, per)
        page["meta"]["totalResults"] += 1
        return page

    plan = await plan_of(everyone_file(page_size=10), Served(crowd(), short))
    assert plan.operations == [] and "ended after 25 of 26" in plan.errors[0]


async def test_a_page_without_meta_is_an_incomplete_read():
    plan = await plan_of(everyone_file(), Served(crowd(), lambda items, key, cur, per: {key: items}))
    assert plan.operations == [] and "'meta'" in plan.errors[0]


# ---- answers of the wrong shape: a clean error naming the service and the field -----------
def twisted(change):
    def serve(items, key, cur, per):
        page = meta_page(items, key, cur, per)
        change(key, page)
        return page
    return serve


def _set(kind, field, value, where=0):
    def change(key, page):
        if key == kind and page[key]:
            page[key][where][field] = value
    return change


async def assert_clean_error(change, *words):
    emu = Served(crowd(3), twisted(change))
    emu.state["departments"][uid(20)] = {"id": uid(20), "name": "Eng", "heads": [uid(100)]}
    emu.state["users"][uid(100)]["department"] = uid(20)
    plan = await plan_of(state_file(PEOPLE[:3], {"users": [{"who": e} for e in PEOPLE[:3]]}), emu)
    assert plan.operations == [] and len(plan.errors) == 1, plan.errors
    error = plan.errors[0]
    assert "workdrive" in error.lower() and all(w in error for w in words), error
    assert "TypeError" not in error and "Traceback" not in error and "object has no attribute" not in error


async def test_an_email_that_is_a_list_names_the_list_and_the_field():
    await assert_clean_error(_set("users", "email", ["p00@example.com"]), "users list", "email", "a list", "not a string")


async def test_a_status_that_is_an_object_names_the_user_and_the_field():
    await assert_clean_error(_set("users", "status", {"code": "ACTIVE"}), "p00@example.com", "status")


async def test_heads_that_are_an_object_name_the_department():
    await assert_clean_error(_set("departments", "admins", {"id": uid(100)}), "department Eng", "admins")


async def test_a_location_that_is_a_list_names_the_user():
    await assert_clean_error(_set("users", "location", [uid(30)]), "location of p00@example.com")


async def test_a_users_list_that_is_not_a_list_is_named():
    await assert_clean_error(lambda key, page: page.update(users={"p00": {}}) if key == "users" else None,
                             "'users' is dict")


async def test_a_group_member_that_is_a_number_names_the_group():
    def change(key, page):
        if key == "users" and page[key] and "createdAt" not in page[key][0]:  # a member list (mini users)
            page[key][0] = 7
    await assert_clean_error(change, "the members of Everyone", "a number")


class NotJson(WorkDriveEmulator):
    def routes(self):
        async def html(request: Request):
            return PlainTextResponse("<html>maintenance</html>", status_code=200)
        return [Route("/api" + api.USERS, html, methods=["GET"]), *super().routes()]


async def test_a_list_answered_with_something_that_is_not_json_is_named():
    plan = await plan_of(state_file(PEOPLE[:1], {"users": [{"who": PEOPLE[0]}]}), NotJson(crowd(1)))
    assert plan.operations == [] and "not JSON" in plan.errors[0] and "the users list" in plan.errors[0]
    assert "Expecting value" not in plan.errors[0]


# ---- the security-group member list the document does not have ----------------------------
async def test_without_a_group_member_list_the_rest_is_planned_and_applied_with_a_warning():
    emu = WorkDriveEmulator(crowd(3))
    emu.group_member_list = False  # as the document has it: no GET /security_groups/{id}/members
    config = state_file(PEOPLE[:4], {"users": [{"who": e, "designation": "Staff"} for e in PEOPLE[:4]],
                                     "security_groups": {"Everyone": PEOPLE[:4]}})
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok and not plan.errors
    assert {op.kind for op in plan.operations} == {"user"}  # 1 created, 3 retitled; no group change
    [warning] = [w for w in plan.warnings if "security group 'Everyone'" in w]
    assert "answered 404" in warning and "the 4 people the file puts in it are neither added nor removed" in warning
    assert emu.state["groups"][uid(40)]["members"] == [uid(100), uid(101), uid(102)]  # untouched
    again = await plan_of(config, emu)
    assert again.operations == [] and again.warnings == plan.warnings


async def test_without_a_group_member_list_groups_the_file_does_not_name_give_no_warning():
    emu = WorkDriveEmulator(crowd(2))
    emu.group_member_list = False
    plan = await plan_of(state_file(PEOPLE[:2], {"users": [{"who": e} for e in PEOPLE[:2]]}), emu)
    assert not plan.errors and not plan.warnings and plan.operations == []


async def test_a_group_member_list_failing_otherwise_still_aborts_the_read():
    emu = WorkDriveEmulator(crowd(2))
    emu.inject(kind="status", status=500, method="GET", path="/members$", times=50)
    plan = await plan_of(state_file(PEOPLE[:2], {"users": [{"who": e} for e in PEOPLE[:2]]}), emu)
    assert plan.operations == [] and "could not read live state" in plan.errors[0]
