"""Hostile answers and retried writes on CrankWheel (issue 17): a write whose outcome is unknown
is read back, never repeated blind; an answer of the wrong shape is a clean error naming
CrankWheel and the field; a malformed 2xx leaves nobody half-changed, and the next plan is empty."""

from __future__ import annotations

import logging
import re
from typing import Any, Callable

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from teamform.session import Session
from teamform.testing import load, make_plan, no_sleep, plan_apply
from teamform_crankwheel import CrankWheelError, api
from teamform_crankwheel.emulator import CrankWheelEmulator, user

OWNER = "alice@example.com"
PEOPLE = [OWNER, "bob@example.com", "erin@example.com"]


def state_file(*members: str) -> str:
    people = "\n".join(f"  {p}: {{}}" for p in PEOPLE)
    lines = "\n".join(f"      - {m}" for m in [f"{{who: {OWNER}, privilege: owner}}", *members])
    return (f"version: 1\npeople:\n{people}\nservices:\n  cw:\n    provider: crankwheel\n    sandbox: true\n"
            f"    limits: {{requests_per_minute: 100000}}\n    members:\n{lines}\n")


def state(*users: dict) -> dict[str, Any]:
    return {"keys": {"sandbox-key": api.READ_WRITE}, "users": [user(OWNER, "owner"), *users],
            "onboarding_emails": [], "sessions": [], "demo_sessions": []}


class Garbling(CrankWheelEmulator):
    """The emulator, except that the answers to ``method`` on paths matching ``path`` are
    replaced: ``answer(response) -> Response``, after the request was handled (``handle=True``)
    or instead of handling it."""

    def __init__(self, state: dict, method: str, path: str, answer: Callable[[Response], Response], *,
                 handle: bool = True, times: int = 1) -> None:
        self.method, self.pattern, self.answer, self.handle, self.times = method, path, answer, handle, times
        super().__init__(state)

    def _endpoint(self, handler, status: int):
        run = super()._endpoint(handler, status)

        async def garbled(request: Request) -> Response:
            if self.times and request.method == self.method and re.search(self.pattern, request.url.path):
                self.times -= 1
                response = await run(request) if self.handle else Response(status_code=status)
                return self.answer(response)
            return await run(request)
        return garbled


def ops(plan) -> list[tuple[str, str]]:
    return [(op.action, op.key) for op in plan.operations]


def posts(emu) -> int:
    return len(emu.calls("POST"))


async def next_plan_is_empty(config, emu) -> bool:
    plan = await make_plan(config, {"cw": emu})
    return not plan.errors and not plan.operations


# ---- a write whose outcome is unknown is never repeated blind ---------------------------------

async def test_a_lost_create_whose_read_back_fails_too_is_looked_up_not_posted_again():
    emu = CrankWheelEmulator(state())
    emu.inject(kind="drop", method="POST", path=api.USERS)
    # the read-back after the lost answer fails, and so does the next look-up: 2 x (1 + 5 retries)
    emu.inject(kind="status", status=503, method="GET", path="erin", times=12)
    config = load(state_file("{who: erin@example.com, privilege: admin}"))
    plan, report = await plan_apply(config, {"cw": emu})
    assert ops(plan) == [("create", "erin@example.com")]
    assert report.ok, report.results
    assert posts(emu) == 1 and emu.state["onboarding_emails"] == ["erin@example.com"]
    assert emu.state["users"][1] == user("erin@example.com", "admin", False)
    assert await next_plan_is_empty(config, emu)


async def test_a_create_that_failed_before_the_service_acted_is_posted_again_after_a_look_up():
    emu = CrankWheelEmulator(state())
    emu.inject(kind="status", status=503, method="POST", path=api.USERS)  # nothing done, and said so
    plan, report = await plan_apply(load(state_file("{who: erin@example.com}")), {"cw": emu})
    assert report.ok and posts(emu) == 2
    # between the two POSTs the one user was read (404), and the list confirmed her absent
    calls = [(c.method, c.path.rsplit("/", 1)[-1], c.status) for c in emu.log]  # the log's paths are decoded
    first, second = [i for i, c in enumerate(calls) if c[0] == "POST"]
    assert ("GET", "erin@example.com", 404) in calls[first:second]
    assert ("GET", "user_access", 200) in calls[first:second]


async def test_a_lost_update_answer_is_verified_field_by_field():
    emu = CrankWheelEmulator(state(user("bob@example.com", "user", False)))
    config = load(state_file("{who: bob@example.com, privilege: admin, in_demo_pool: true}"))
    async with Session(config, emulators={"cw": emu}, sleep=no_sleep) as s:
        plan, _ = await s.make_plan()
        [op] = plan.operations
        provider = s.providers["cw"]
        emu.state["users"][1]["privilege"] = "admin"  # only half of it holds
        assert not await provider.verify(op)
        emu.state["users"][1]["in_demo_pool"] = True
        assert await provider.verify(op)
        emu.state["users"][1]["in_demo_pool"] = None  # null is false: not as desired
        assert not await provider.verify(op)


async def test_a_lost_delete_answer_is_verified_with_the_documented_list():
    emu = CrankWheelEmulator(state(user("bob@example.com")))
    emu.inject(kind="drop", method="DELETE")
    config = load(state_file())
    plan, report = await plan_apply(config, {"cw": emu})
    assert ops(plan) == [("delete", "bob@example.com")] and report.ok
    assert "read back" in report.results[0].message and len(emu.calls("DELETE")) == 1
    assert emu.calls("GET")[-1].path.endswith(api.USERS)


# ---- malformed 2xx answers to writes ----------------------------------------------------------

GARBAGE = {
    "html": lambda r: Response("<html>Created</html>", status_code=r.status_code, media_type="text/html"),
    "empty": lambda r: Response(status_code=r.status_code),
    "list": lambda r: JSONResponse([], status_code=r.status_code),
    "email-list": lambda r: JSONResponse({"email": ["x"], "privilege": "user", "in_demo_pool": False},
                                         status_code=r.status_code),
    "privilege-object": lambda r: JSONResponse({"email": "erin@example.com", "privilege": {"name": "admin"},
                                                "in_demo_pool": False}, status_code=r.status_code),
    "someone-else": lambda r: JSONResponse(user("bob@example.com", "admin"), status_code=r.status_code),
}


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
async def test_a_create_that_took_but_answered_garbage_is_read_back_and_done(garbage):
    emu = Garbling(state(), "POST", api.USERS, garbage)
    config = load(state_file("{who: erin@example.com, privilege: admin, in_demo_pool: true}"))
    _, report = await plan_apply(config, {"cw": emu})
    assert report.ok, report.results
    assert posts(emu) == 1 and emu.calls("GET", "erin")
    assert emu.state["users"][1] == user("erin@example.com", "admin", True)
    assert await next_plan_is_empty(config, emu)


async def test_a_create_answered_2xx_that_did_not_take_fails_with_words_not_a_traceback():
    emu = Garbling(state(), "POST", api.USERS, GARBAGE["html"], handle=False, times=100)
    _, report = await plan_apply(load(state_file("{who: erin@example.com}")), {"cw": emu})
    [result] = report.results
    assert result.status == "failed"
    assert result.message.startswith("CrankWheel answered the create of erin@example.com (HTTP 201)")
    assert "does not list erin@example.com" in result.message
    # each POST after the first came only after a read showed her absent
    assert posts(emu) == result.attempts and len(emu.calls("GET", api.USERS + "$")) >= result.attempts - 1


async def test_a_create_whose_answer_shows_a_field_ignored_is_patched_at_once():
    def ignore_demo_pool(response: Response) -> Response:
        emu.state["users"][-1]["in_demo_pool"] = False  # the service dropped it
        return JSONResponse(emu.state["users"][-1], status_code=201)

    emu = Garbling(state(), "POST", api.USERS, ignore_demo_pool)
    config = load(state_file("{who: erin@example.com, in_demo_pool: true}"))
    _, report = await plan_apply(config, {"cw": emu})
    assert report.ok and [c.body for c in emu.calls("PATCH")] == ["user_access%5Bin_demo_pool%5D=true"]
    assert emu.state["users"][1]["in_demo_pool"] is True and await next_plan_is_empty(config, emu)


@pytest.mark.parametrize("garbage", ["html", "list", "privilege-object"])
async def test_an_update_that_took_but_answered_garbage_is_read_back_and_done(garbage):
    emu = Garbling(state(user("bob@example.com")), "PATCH", "bob", GARBAGE[garbage])
    config = load(state_file("{who: bob@example.com, privilege: admin}"))
    _, report = await plan_apply(config, {"cw": emu})
    assert report.ok and len(emu.calls("PATCH")) == 1 and emu.calls("GET", "bob")
    assert await next_plan_is_empty(config, emu)


async def test_an_update_the_service_answers_unchanged_fails_once_with_the_field():
    """A PATCH whose fields the service ignored (they come from third-party clients, not the
    document) answers 200 with the user as it was: a failure naming the field, not "done"."""
    emu = Garbling(state(user("bob@example.com")), "PATCH", "bob",
                   lambda r: JSONResponse(user("bob@example.com"), status_code=200), handle=False)
    _, report = await plan_apply(load(state_file("{who: bob@example.com, privilege: admin}")), {"cw": emu})
    [result] = report.results
    assert result.status == "failed" and len(emu.calls("PATCH")) == 1
    assert result.message == "CrankWheel did not take the change of bob@example.com: privilege is 'user', not 'admin'"


@pytest.mark.parametrize("answer", [
    lambda r: JSONResponse({"deleted": True}, status_code=200),
    lambda r: Response("OK", status_code=200, media_type="text/plain"),
    lambda r: Response("{}", status_code=204),
    lambda r: Response(status_code=202),
], ids=["200-json", "200-text", "204-with-body", "202"])
async def test_a_delete_answered_with_a_body_or_another_success_status_is_done(answer):
    emu = Garbling(state(user("bob@example.com")), "DELETE", "bob", answer)
    config = load(state_file())
    _, report = await plan_apply(config, {"cw": emu})
    assert report.ok and report.results[0].message == "" and len(emu.state["users"]) == 1
    assert await next_plan_is_empty(config, emu)


# ---- endpoints NOTES.md gives that a service may not serve ------------------------------------

async def test_a_delete_404_for_a_user_still_listed_is_a_failure_not_already_gone():
    emu = Garbling(state(user("bob@example.com")), "DELETE", "bob",
                   lambda r: JSONResponse({"status": 404, "error": "Not Found"}, status_code=404), handle=False)
    _, report = await plan_apply(load(state_file()), {"cw": emu})
    [result] = report.results
    assert result.status == "failed" and "already gone" not in result.message
    assert "does not seem to serve DELETE /user_access/{email}" in result.message


async def test_a_patch_404_for_a_user_still_listed_says_the_endpoint_seems_missing():
    emu = Garbling(state(user("bob@example.com")), "PATCH", "bob",
                   lambda r: JSONResponse({"error": "Not Found"}, status_code=404), handle=False)
    _, report = await plan_apply(load(state_file("{who: bob@example.com, privilege: admin}")), {"cw": emu})
    assert report.results[0].status == "failed" and "does not seem to serve PATCH" in report.results[0].message


async def test_without_the_one_user_read_a_lost_create_is_verified_from_the_list(caplog):
    emu = Garbling(state(), "GET", "/user_access/.", lambda r: JSONResponse({"error": "Not Found"}, status_code=404),
                   handle=False, times=100)
    emu.inject(kind="drop", method="POST", path=api.USERS)
    config = load(state_file("{who: erin@example.com}"))
    with caplog.at_level(logging.WARNING, logger="teamform.crankwheel"):
        _, report = await plan_apply(config, {"cw": emu})
    assert report.ok and posts(emu) == 1 and "already applied" in report.results[0].message
    assert any("seems missing" in r.getMessage() for r in caplog.records)


# ---- answers of the wrong shape to reads ------------------------------------------------------

@pytest.mark.parametrize("item,said", [
    ({"email": "bob@example.com", "privilege": ["admin"], "in_demo_pool": False}, "privilege ['admin'] for bob@example.com"),
    ({"email": "bob@example.com", "privilege": {"level": 2}, "in_demo_pool": False}, "privilege {'level': 2}"),
    ({"email": "bob@example.com", "privilege": "superadmin", "in_demo_pool": False}, "privilege 'superadmin'"),
    ({"email": {"address": "bob@example.com"}, "privilege": "user", "in_demo_pool": False}, "email is {'address'"),
    ({"email": "bob@example.com", "privilege": "user", "in_demo_pool": "yes"}, "in_demo_pool 'yes' for bob"),
    ({"email": "bob@example.com", "privilege": "user", "in_demo_pool": 1}, "in_demo_pool 1 for bob"),
    ("bob@example.com", "with str where a user was expected"),
    ({"email": "bob@example.com", "privilege": "x" * 500, "in_demo_pool": False}, "xxx...xxx"),
], ids=["privilege-list", "privilege-object", "privilege-unknown", "email-object", "pool-string", "pool-int",
        "bare-string", "long-value"])
async def test_a_listed_user_of_the_wrong_shape_aborts_the_plan_naming_crankwheel_and_the_field(item, said):
    emu = Garbling(state(), "GET", api.USERS + "$", lambda r: JSONResponse([user(OWNER, "owner"), item]),
                   handle=False, times=100)
    plan = await make_plan(load(state_file()), {"cw": emu}, allow_mass_removal=True)
    [error] = plan.services[0].errors
    assert plan.operations == [] and "CrankWheel answered GET /user_access with" in error and said in error
    assert len(error) < 400


async def test_usage_of_the_wrong_shape_is_an_error_naming_the_field():
    emu = Garbling(state(), "GET", api.USAGE, lambda r: JSONResponse({"stats": {"per_agent": [1, 2]}}))
    async with Session(load(state_file()), emulators={"cw": emu}, sleep=no_sleep) as s:
        with pytest.raises(CrankWheelError) as caught:
            await s.providers["cw"].usage(0, 1)
    assert "stats.per_agent" in str(caught.value)
