"""Debrief under hostile answers (issue 17): transient failures of reads and of the OAuth login
are retried like any other; a write whose answer is lost is read back, never repeated blind; a
create finds what an earlier, lost attempt made; answers of the wrong shape are clean errors
naming the service and the field."""

import re

import httpx
import pytest

from teamform.http import open_client
from teamform.provider import Context
from teamform.retry import RetryPolicy
from teamform.session import Session
from teamform.testing import ManualClock, load, make_plan, no_sleep, plan_apply
from teamform_debrief import DebriefProvider, DebriefSettings, api
from teamform_debrief.auth import DebriefAuth
from teamform_debrief.emulator import DebriefEmulator, app, user

PEOPLE = ["ops", "bob", "carol"]
CREDS = DebriefEmulator.sandbox_credentials


def state_file(members: str, applications: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()} Doe}}" for p in PEOPLE)
    apps = f"    applications:\n{applications}" if applications else ""
    return (f"version: 1\npeople:\n{people}\nservices:\n  debrief:\n    provider: debrief\n    sandbox: true\n"
            f"    members:\n{members}\n{apps}")


OPS = "      - {who: ops@example.com, role: owner}"
BOB = "      - {who: bob@example.com}"


class Flaky(DebriefEmulator):
    """Resets the connection (nothing done) for the next ``times`` requests matching ``method``
    and the ``path`` pattern."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.resets: list[list] = []

    def reset(self, method: str, path: str, times: int = 1) -> None:
        self.resets.append([method, re.compile(path), times])

    async def __call__(self, scope, receive, send) -> None:
        for rule in self.resets:
            if scope["type"] == "http" and rule[2] and scope["method"] == rule[0] and rule[1].search(scope["path"]):
                rule[2] -= 1
                self._record(scope, 0, b"")
                raise httpx.ReadError("connection reset by peer")
        await super().__call__(scope, receive, send)


def emulator(cls=DebriefEmulator, users=(), apps=(), rows=()) -> DebriefEmulator:
    base = [user("u1", "ops@example.com", "Ops", "Doe", "owner", password=CREDS["password"])]
    return cls({"teams": [{"id": "team-1", "team_name": "T", "email": "ops@example.com"}],
                "users": base + list(users), "applications": list(apps),
                "app_users": [dict(zip(("app_id", "user_id", "role"), r)) for r in rows],
                "clients": [{"client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"]}],
                "next_id": 100})


def logins(emu) -> list[int]:
    return [e.status for e in emu.calls("POST", "^/login$")]


# ---- transient failures of reads and of the login are retried -------------------------
@pytest.mark.parametrize("fault", ["503", "429", "timeout", "reset"])
async def test_a_transient_failure_of_the_login_is_retried_and_the_plan_is_made(fault):
    emu = emulator(Flaky, users=[user("u2", "bob@example.com", "Bob", "Doe")])
    if fault == "timeout":  # the service logs in, the answer is lost
        emu.inject(kind="drop", method="POST", path="^/login$", times=2)
    elif fault == "reset":
        emu.reset("POST", "^/login$", times=2)
    else:
        emu.inject(kind="status", status=int(fault), method="POST", path="^/login$", times=2, retry_after=0)
    plan = await make_plan(load(state_file(OPS)), {"debrief": emu})
    assert not plan.errors, plan.errors
    assert [op.key for op in plan.operations] == ["bob@example.com"]
    assert len(logins(emu)) == 3 and logins(emu)[-1] == 200


def provider_on(client: httpx.AsyncClient) -> DebriefProvider:
    """A provider on a client of our own (no session): enough for ``call``."""
    return DebriefProvider(Context("debrief", DebriefSettings(), dict(CREDS), None, None, sandbox=True), client)


async def test_a_transient_failure_of_the_refresh_is_retried():
    clock = ManualClock()
    emu = emulator(Flaky)
    emu.token_lifetime, emu.clock = 100, clock
    auth = DebriefAuth(CREDS, clock=clock)
    async with open_client("http://debrief.test", inner=emu.transport(), auth=auth,
                           retry=RetryPolicy(sleep=no_sleep)) as client:
        provider = provider_on(client)
        await provider.call("GET", api.ME)
        clock.now = 95  # stale: the next request refreshes first
        emu.reset("POST", "^/oauth/token$", times=1)
        assert (await provider.call("GET", api.ME))["email"] == "ops@example.com"
    assert [e.status for e in emu.calls("POST", "^/oauth/token$")] == [0, 200] and auth.logins == 1


async def test_a_refused_login_is_not_retried_and_names_the_user_not_the_secret():
    emu = emulator()
    emu.state["users"][0]["password"] = "changed"
    plan = await make_plan(load(state_file(OPS)), {"debrief": emu})
    assert len(logins(emu)) == 1 and "refused the login for ops@example.com (HTTP 401" in plan.errors[0]
    assert CREDS["password"] not in plan.errors[0] and CREDS["client_secret"] not in plan.errors[0]


@pytest.mark.parametrize("path", ["^/user$", "^/application$", "^/application/a1/users$", "^/user/me$"])
async def test_a_connection_reset_on_a_read_is_retried(path):
    emu = emulator(Flaky, apps=[app("a1", "One", "d")])
    emu.reset("GET", path, times=2)
    plan = await make_plan(load(state_file(OPS, "      - {name: One, description: d}")), {"debrief": emu})
    assert not plan.errors and not plan.operations
    assert [e.status for e in emu.calls("GET", path)][:3] == [0, 0, 200]


async def test_a_read_that_keeps_failing_aborts_the_plan_after_the_retries():
    emu = emulator(Flaky)
    emu.reset("GET", "^/user$", times=100)
    plan = await make_plan(load(state_file(OPS)), {"debrief": emu})
    assert "could not read live state" in plan.errors[0] and not plan.operations
    assert len(emu.calls("GET", "^/user$")) == 6  # the first try and limits.retries (5)


async def test_the_login_of_an_apply_is_retried_and_each_write_is_made_once():
    emu = emulator(Flaky)
    config = load(state_file(OPS + "\n" + BOB, "      - {name: New, description: d, users: [{who: bob@example.com}]}"))
    plan = await make_plan(config, {"debrief": emu})
    emu.reset("POST", "^/login$", times=1)
    emu.inject(kind="status", status=502, method="POST", path="^/login$", times=1)
    async with Session(config, emulators={"debrief": emu}, sleep=no_sleep, environ={}) as s:
        report = await s.apply(plan)
    assert report.ok, report.by_status("failed")
    assert len(emu.calls("POST", "^/team/team-1/add$")) == 1 and len(emu.calls("POST", "^/application$")) == 1
    assert not (await make_plan(config, {"debrief": emu})).operations


async def test_a_write_that_fails_is_not_sent_again_by_the_provider():
    """Only the applier repeats a write, after reading back."""
    emu = emulator(Flaky)
    emu.reset("POST", "^/application$", times=1)
    async with open_client("http://debrief.test", inner=emu.transport(), auth=DebriefAuth(CREDS),
                           retry=RetryPolicy(sleep=no_sleep)) as client:
        with pytest.raises(httpx.ReadError):
            await provider_on(client).call("POST", api.APPS, json={"name": "A", "description": "d", "icon": "i"})
    assert len(emu.calls("POST", "^/application$")) == 1 and not emu.state["applications"]


# ---- a write whose outcome is unknown is read back, never repeated blind ----------------
APP_FILE = state_file(OPS + "\n" + BOB, "      - {name: One, description: d, users: [{who: bob@example.com, role: admin}]}")
WRITES = [("POST", "^/team/team-1/add$", "^/user$"), ("POST", "^/application$", "^/application$"),
          ("POST", "^/application/a1/users/u2$", "^/application/a1/users$")]


def start(kind: str) -> DebriefEmulator:
    """One write of ``kind`` to make: Bob joins the team, application One is created, or Bob
    joins One."""
    bob = [user("u2", "bob@example.com", "Bob", "Doe")]
    one = [app("a1", "One", "d")]
    return {"team": lambda: emulator(Garbled), "application": lambda: emulator(Garbled, users=bob),
            "app_user": lambda: emulator(Garbled, users=bob, apps=one)}[kind]()


class Garbled(Flaky):
    """Makes the change, then answers ``body`` instead (for the next request matching)."""

    garble: tuple | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.garble and scope["method"] == self.garble[0] \
                and re.search(self.garble[1], scope["path"]):
            body, self.garble = self.garble[2], None

            async def swallow(message) -> None:
                pass
            await super().__call__(scope, receive, swallow)
            await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await super().__call__(scope, receive, send)


def made(emu) -> tuple[int, int, int]:
    return (len(emu.state["users"]), len(emu.state["applications"]), len(emu.state["app_users"]))


@pytest.mark.parametrize("kind, write", list(zip(["team", "application", "app_user"], WRITES)))
async def test_a_lost_answer_is_read_back_with_one_list_not_a_whole_fetch(kind, write):
    method, path, listing = write
    emu = start(kind)
    config = load(APP_FILE)
    plan = await make_plan(config, {"debrief": emu})
    emu.inject(kind="drop", method=method, path=path)
    async with Session(config, emulators={"debrief": emu}, sleep=no_sleep, environ={}) as s:
        emu.log.clear()
        report = await s.apply(plan)
    assert report.ok, report.by_status("failed")
    assert len(emu.calls(method, path)) == 1 and made(emu) == (2, 1, 1)
    assert "read back" in " ".join(r.message for r in report.results)
    dropped = next(i for i, e in enumerate(emu.log) if e.method == method and re.search(path, e.path))
    after = [e.path for e in emu.log[dropped + 1:] if e.method == "GET"]
    assert re.search(listing, after[0]) and "/user/me" not in after, after  # the one list, not a fetch
    assert not (await make_plan(config, {"debrief": emu})).operations


@pytest.mark.parametrize("kind, write", list(zip(["team", "application", "app_user"], WRITES)))
async def test_a_lost_answer_whose_read_back_fails_finds_the_existing_one_instead_of_a_second(kind, write):
    """The read-back fails (every try the transport makes); the applier reads back again and finds
    the one made, at the planned values: the create is not sent a second time, never two."""
    method, path, listing = write
    emu = start(kind)
    config = load(APP_FILE)
    plan = await make_plan(config, {"debrief": emu})
    emu.inject(kind="drop", method=method, path=path)
    emu.inject(kind="status", status=503, method="GET", path=listing, times=6)  # one whole read-back
    async with Session(config, emulators={"debrief": emu}, sleep=no_sleep, environ={}) as s:
        report = await s.apply(plan)
    assert report.ok, report.by_status("failed")
    assert len(emu.calls(method, path)) == 1 and made(emu) == (2, 1, 1)
    assert emu.state["app_users"][0]["role"] == "admin"
    assert not (await make_plan(config, {"debrief": emu})).operations


async def test_the_read_back_of_an_application_users_removal_is_done_when_the_application_is_gone():
    """Deleting an application takes its users with it: reading back the removal of one of them
    finds no application (404), which means gone (done), not a failed read."""
    emu = emulator(users=[user("u2", "bob@example.com", "Bob", "Doe")], apps=[app("a1", "One", "d")],
                   rows=[("a1", "u2", "developer")])
    config = load(state_file(OPS + "\n" + BOB) + "    applications: []\n")
    plan, report = await plan_apply(config, {"debrief": emu})
    assert report.ok and sorted(op.id for op in plan.operations) == [
        "debrief:application[one]:delete", "debrief:application_user[one/bob@example.com]:delete"]
    assert not emu.state["applications"]
    async with Session(config, emulators={"debrief": emu}, sleep=no_sleep, environ={}) as s:
        assert [await s.providers["debrief"].verify(op) for op in plan.operations] == [True, True]


async def test_a_taken_email_on_another_team_is_a_clear_failure():
    emu = emulator()
    emu.state["users"].append(user("x9", "bob@example.com", "Bob", "Doe", team_id="team-2"))
    plan, report = await plan_apply(load(state_file(OPS + "\n" + BOB)), {"debrief": emu})
    [failed] = report.by_status("failed")
    assert "bob@example.com is not on this team" in failed.message and "another team" in failed.message


@pytest.mark.parametrize("body", [b"<html>created</html>", b"[]", b'{"ok": true}', b'{"id": ["a9"]}'])
@pytest.mark.parametrize("kind, write", list(zip(["team", "application"], WRITES)))
async def test_a_malformed_answer_to_a_create_is_read_back_not_a_crash(kind, write, body):
    method, path, _ = write
    emu = start(kind)
    emu.garble = (method, path, body)
    config = load(APP_FILE)
    plan, report = await plan_apply(config, {"debrief": emu})
    assert report.ok, report.by_status("failed")
    assert len(emu.calls(method, path)) == 1 and made(emu) == (2, 1, 1)
    assert not (await make_plan(config, {"debrief": emu})).operations


@pytest.mark.parametrize("method, path", [("PATCH", "^/user/u2$"), ("PATCH", "^/application/a1$"),
                                          ("POST", "^/application/a1/users/u2$")])
async def test_a_malformed_answer_to_a_write_whose_answer_is_not_needed_is_done(method, path):
    emu = emulator(Garbled, users=[user("u2", "bob@example.com", "Robert", "Doe")], apps=[app("a1", "One", "old")])
    emu.garble = (method, path, b"<html>ok</html>")
    config = load(APP_FILE)
    plan, report = await plan_apply(config, {"debrief": emu})
    assert report.ok, report.by_status("failed")
    assert not (await make_plan(config, {"debrief": emu})).operations
