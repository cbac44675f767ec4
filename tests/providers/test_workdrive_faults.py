"""WorkDrive under faults and hostile answers (issue 17): a write whose outcome is unknown is read
back before anything is sent again, a create finds what it made before, a malformed 2xx is a
clean, retryable error, and every case converges without a second copy of anything."""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from teamform.session import Session
from teamform.testing import make_plan, no_sleep, plan_apply
from teamform_workdrive import api
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

sys.path.insert(0, str(Path(__file__).parent))
from test_workdrive_apply import ENV, org, state_file  # noqa: E402  (shared builders)

#: every failing read is tried 1 + limits.retries (5) times by the transport, and the applier's
#: read-back 3 times by the provider; a failed bulk call reads back once first: this many
#: failing answers make a batch's read-back and the first operation's read-back fail
READ_BACK_FAILS = 6 + 3 * 6


async def plan_of(config, emu):
    return await make_plan(config, {"wd": emu}, environ=ENV)


def users_by_email(emu):
    return {u["email"].lower(): u for u in emu.state["users"].values()}


def archived_file(*emails, status="ARCHIVE"):
    return state_file(list(emails), {"users": [{"who": e, "status": status} for e in emails]})


# ---- the known one: a new user the file wants archived -------------------------------------
async def test_a_new_archived_user_is_created_and_archived_in_one_apply():
    emu = WorkDriveEmulator(org())
    config = archived_file("a@example.com")
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    [op] = plan.operations
    assert op.summary.startswith("created, then set to ARCHIVE")
    assert report.ok and users_by_email(emu)["a@example.com"]["status"] == "ARCHIVE"
    assert (await plan_of(config, emu)).operations == []


async def test_new_users_archived_blocked_and_active_in_one_bulk_create():
    emu = WorkDriveEmulator(org())
    config = state_file(["a@example.com", "b@example.com", "c@example.com"], {"users": [
        {"who": "a@example.com", "status": "ARCHIVE"}, {"who": "b@example.com", "status": "BLOCKED"},
        {"who": "c@example.com"}]})
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok and len(emu.calls("POST", "/users/bulk-create$")) == 1
    statuses = {e: u["status"] for e, u in users_by_email(emu).items()}
    assert statuses == {"a@example.com": "ARCHIVE", "b@example.com": "BLOCKED", "c@example.com": "INVITED"}
    assert [e.body for e in emu.calls("PATCH")] == ['{"status":"ARCHIVE"}', '{"status":"BLOCKED"}']
    assert (await plan_of(config, emu)).operations == []


async def test_a_status_set_whose_answer_is_lost_is_read_back_not_repeated():
    emu = WorkDriveEmulator(org())
    emu.inject(kind="drop", method="PATCH", path="/users/")
    _, report = await plan_apply(archived_file("a@example.com"), {"wd": emu}, environ=ENV)
    assert report.ok and "read back" in report.results[0].message
    assert len(emu.calls("PATCH")) == 1 and len(emu.calls("POST", "/users/bulk-create$")) == 1
    assert users_by_email(emu)["a@example.com"]["status"] == "ARCHIVE"


async def test_a_status_set_that_keeps_failing_is_reported_failed_and_the_next_apply_converges():
    emu = WorkDriveEmulator(org())
    emu.inject(kind="status", status=503, method="PATCH", times=100)
    config = archived_file("a@example.com")
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert not report.ok and report.results[0].status == "failed"  # never "done" while it is invited
    assert len(emu.calls("POST", "/users/bulk-create$")) == 1  # the retries found the user: not created again
    emu.faults.clear()
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert [op.changes for op in plan.operations] == [['status: "ACTIVE" → "ARCHIVE"']] and report.ok
    assert len(users_by_email(emu)) == 1 and (await plan_of(config, emu)).operations == []


# ---- a create whose outcome is unknown ----------------------------------------------------
async def test_a_lost_bulk_create_with_a_failing_read_back_is_not_created_twice():
    emu = WorkDriveEmulator(org())
    emu.inject(kind="drop", method="POST", path="/users/bulk-create$")
    emu.inject(kind="status", status=503, method="GET", path="/users$", times=READ_BACK_FAILS, after=1)
    config = archived_file("a@example.com", "b@example.com")
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    assert len(emu.calls("POST", "/users/bulk-create$")) == 1  # each retry read first and found them
    assert {e: u["status"] for e, u in users_by_email(emu).items()} == {"a@example.com": "ARCHIVE",
                                                                        "b@example.com": "ARCHIVE"}
    assert (await plan_of(config, emu)).operations == []


async def test_a_lost_department_create_with_a_failing_read_back_finds_it_first():
    users = [new_user(uid(1), "a@example.com", "A", "Test")]
    emu = WorkDriveEmulator(org(users))
    emu.inject(kind="drop", method="POST", path="/departments$")
    emu.inject(kind="status", status=503, method="GET", path="/departments$", times=READ_BACK_FAILS, after=1)
    config = state_file(["a@example.com"], {"departments": {"Eng": {"heads": ["a@example.com"]}}})
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    assert len(emu.calls("POST", "/departments$")) == 1 and len(emu.state["departments"]) == 1
    assert (await plan_of(config, emu)).operations == []


async def test_a_create_that_meets_an_existing_email_brings_that_user_to_the_plan():
    """The plan was made before someone made the user: EMAIL_EXISTS; the others are created and
    the existing one gets what the plan says, without a second user."""
    emu = WorkDriveEmulator(org())
    config = state_file(["a@example.com", "b@example.com"], {"users": [
        {"who": "a@example.com", "designation": "CTO", "status": "BLOCKED"}, {"who": "b@example.com"}]})
    async with Session(config, emulators={"wd": emu}, sleep=no_sleep, environ=ENV) as s:
        plan, _ = await s.make_plan()
        emu.state["users"][uid(9)] = new_user(uid(9), "A@example.com", "Someone", "Else")
        report = await s.apply(plan)
    assert report.ok, report.by_status("failed")
    a = users_by_email(emu)["a@example.com"]
    assert (a["id"], a["firstName"], a["designation"], a["status"]) == (uid(9), "A", "CTO", "BLOCKED")
    assert len(emu.state["users"]) == 2 and (await plan_of(config, emu)).operations == []


# ---- answers of the wrong shape to a write ------------------------------------------------
class Garbled(WorkDriveEmulator):
    """Makes the change, then answers ``answer`` (a Response) once, on the route ``method``
    ``template`` (an ``api`` path) where the request's path is ``path`` (the template's, if not given)."""

    def __init__(self, state, method, template, answer, path=None) -> None:
        self.garble = (method, template, answer, "/api" + path if path else None)
        self.garbled = 0
        super().__init__(state)

    def routes(self):
        method, template, answer, path = self.garble
        real = next(r for r in super().routes() if r.path == "/api" + template and method in (r.methods or ()))

        async def run(request: Request):
            response = await real.endpoint(request)
            if self.garbled or response.status_code >= 400 or path and request.url.path != path:
                return response
            self.garbled += 1
            return answer
        return [Route("/api" + template, run, methods=[method]), *super().routes()]


NOT_JSON = PlainTextResponse("<html><body>OK</body></html>", status_code=200)


async def test_a_bulk_create_answered_with_html_is_read_back_and_converges():
    emu = Garbled(org(), "POST", api.USERS_BULK_CREATE, NOT_JSON)
    config = archived_file("a@example.com", "b@example.com")
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    assert emu.garbled == 1 and len(emu.calls("POST", "/users/bulk-create$")) == 1
    assert [u["status"] for u in emu.state["users"].values()] == ["ARCHIVE", "ARCHIVE"]
    assert (await plan_of(config, emu)).operations == []


async def test_a_bulk_create_answered_with_an_object_is_a_clean_error_and_converges():
    emu = Garbled(org(), "POST", api.USERS_BULK_CREATE, JSONResponse({"users": "created"}, status_code=201))
    config = archived_file("a@example.com")
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok and len(emu.state["users"]) == 1  # read back: created; then archived by the retry
    assert users_by_email(emu)["a@example.com"]["status"] == "ARCHIVE"


async def test_a_department_create_answered_without_an_id_is_read_back():
    emu = Garbled(org([new_user(uid(1), "a@example.com", "A", "Test")]), "POST", api.DEPARTMENTS,
                  JSONResponse(["ok"], status_code=201))
    config = state_file(["a@example.com"], {"departments": {"Eng": {"heads": ["a@example.com"]}}})
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    assert len(emu.calls("POST", "/departments$")) == 1 and (await plan_of(config, emu)).operations == []


async def test_a_move_whose_leave_answers_garbage_is_not_left_half_way():
    """Leaving the old department answered a non-JSON 200: read back (they left), then they join
    the new one in the same apply; nobody is left in no department."""
    users = [new_user(uid(1), "boss@example.com", "Boss", "Test", department=uid(20)),
             new_user(uid(2), "mover@example.com", "Mover", "Test", department=uid(20)),
             new_user(uid(3), "ops@example.com", "Ops", "Test", department=uid(21))]
    state = org(users, departments=[(uid(20), "Eng", [uid(1)]), (uid(21), "Ops", [uid(3)])])
    emu = Garbled(state, "POST", api.DEPARTMENT_MEMBERS, NOT_JSON, path=api.DEPARTMENT_MEMBERS.format(id=uid(20)))
    config = state_file(["boss@example.com", "mover@example.com", "ops@example.com"], {"departments": {
        "Eng": {"heads": ["boss@example.com"]}, "Ops": {"heads": ["ops@example.com"], "members": ["mover@example.com"]}}})
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    assert emu.garbled == 1 and emu.state["users"][uid(2)]["department"] == uid(21)
    assert (await plan_of(config, emu)).operations == []


async def test_a_status_update_answered_with_garbage_is_read_back():
    emu = Garbled(org([new_user(uid(1), "a@example.com", "A", "Test")]), "PATCH", api.USER, NOT_JSON)
    _, report = await plan_apply(archived_file("a@example.com"), {"wd": emu}, environ=ENV)
    assert report.ok and "read back" in report.results[0].message
    assert len(emu.calls("PATCH")) == 1 and emu.state["users"][uid(1)]["status"] == "ARCHIVE"


async def test_an_error_answer_that_is_not_json_is_a_clean_error():
    emu = WorkDriveEmulator(org([new_user(uid(1), "a@example.com", "A", "Test")]))
    emu.error_response = lambda status, message, retry_after=None: PlainTextResponse("<h1>Bad</h1>", status)
    emu.inject(kind="status", status=400, method="PATCH")
    _, report = await plan_apply(archived_file("a@example.com"), {"wd": emu}, environ=ENV)
    [result] = report.results
    assert result.status == "failed" and result.message == "WorkDrive 400: HTTP 400"


# ---- deletes: what is gone is done --------------------------------------------------------
async def test_a_lost_bulk_delete_with_a_failing_read_back_is_done_without_deleting_twice():
    users = [new_user(uid(1), "keep@example.com", "Keep", "Test"), new_user(uid(2), "gone@example.com"),
             new_user(uid(3), "gone2@example.com")]
    emu = WorkDriveEmulator(org(users))
    emu.inject(kind="drop", method="DELETE", path="/users/bulk-delete$")
    emu.inject(kind="status", status=503, method="GET", path="/users$", times=READ_BACK_FAILS, after=1)
    config = state_file(["keep@example.com"], {"users": [{"who": "keep@example.com"}]})
    _, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    # the read-back failed, was tried again by the applier and found both gone: nothing resent
    assert [e.status for e in emu.calls("DELETE", "/users/bulk-delete$")] == [200]  # 200: the lost one
    assert list(emu.state["users"]) == [uid(1)]
