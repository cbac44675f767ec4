"""Reading Debrief when the real service differs from its document: the document shows bare
arrays and no paging, so the reader must take a list whole whether the server pages after all
(at any size), ignores paging parameters, or never ends, and never take part of one for all of
it; answers of the wrong shape are incomplete reads naming the field; and the endpoints the
document does not show (``/user/me``, the invitation token) may be missing."""

import json

import pytest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import teamform.paging
from teamform.session import Session
from teamform.testing import load, make_plan, no_sleep, plan_apply
from teamform_debrief import api
from teamform_debrief.emulator import DebriefEmulator, app, user
from teamform_debrief.emulator import applications as app_routes, tokens, users as user_routes
from teamform_debrief.emulator.common import Refusal, refusal_response

CREDS = DebriefEmulator.sandbox_credentials
PEOPLE = [f"p{i}" for i in range(24)]
LISTS = {api.USERS: user_routes.list_users, api.APPS: app_routes.list_apps,
         api.APP_USERS: app_routes.list_app_users}


class Lists(DebriefEmulator):
    """Answers the three lists through ``page(items, query)``: a server that pages its own way."""

    def page(self, items: list, query) -> object:
        return items

    def routes(self) -> list[Route]:
        def serve(handler):
            async def run(request):
                try:
                    items = handler(self, request.path_params, {}, tokens.caller_of(self, request))
                except Refusal as exc:
                    return refusal_response(exc)
                return JSONResponse(self.page(items, request.query_params))
            return run
        return [Route(path, serve(h), methods=["GET"]) for path, h in LISTS.items()] + super().routes()


class SkipLimit(Lists):
    """Honours skip and limit, at most 10 a page: smaller pages than teamform asks for."""

    def page(self, items, query):
        skip, limit = int(query.get("skip", 0)), min(int(query.get("limit", 10)), 10)
        return items[skip:skip + limit]


class LimitOnly(Lists):
    """Honours limit, ignores skip (it pages by another parameter)."""

    def page(self, items, query):
        return items[:int(query.get("limit", 10))]


class OffByOne(SkipLimit):
    def page(self, items, query):
        skip = max(0, int(query.get("skip", 0)) - 1)
        return items[skip:skip + 10]


class Endless(Lists):
    """Every page holds someone new."""

    def page(self, items, query):
        if not items or "@" not in str(items[0].get("email")) or "role" not in items[0] or "status" not in items[0]:
            return items
        n = int(query.get("skip", 0))
        return items if n == 0 else [{**items[0], "id": f"x{n}", "email": f"x{n}@example.com"}]


def state_file(members=("ops",), applications: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()} Doe}}" for p in ["ops", *PEOPLE])
    listed = "\n".join(f"      - {{who: {m}@example.com{', role: owner' if m == 'ops' else ''}}}" for m in members)
    apps = f"    applications:\n{applications}" if applications else ""
    return (f"version: 1\npeople:\n{people}\nservices:\n  debrief:\n    provider: debrief\n    sandbox: true\n"
            f"    limits: {{requests_per_minute: 100000}}\n"  # not the default's real-time waits: many pages here
            f"    members:\n{listed}\n{apps}")


def emulator(cls=DebriefEmulator, n_users: int = 24, n_apps: int = 4, **kw) -> DebriefEmulator:
    members = [user(f"u{i}", f"P{i}@Example.com" if i % 2 else f"p{i}@example.com", f"P{i}", "Doe",
                    status="invited" if i % 3 == 0 else "active") for i in range(n_users)]
    apps = [app(f"a{i}", f"App {i}", "d") for i in range(n_apps)]
    rows = [{"app_id": a["id"], "user_id": u["id"], "role": "developer"} for a in apps for u in members]
    return cls({"teams": [{"id": "team-1", "team_name": "T", "email": "ops@example.com"}],
                "users": [user("ops", "ops@example.com", "Ops", "Doe", "owner", password=CREDS["password"]), *members],
                "applications": apps, "app_users": rows,
                "clients": [{"client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"]}],
                "next_id": 100}, **kw)


WHOLE = state_file(["ops", *PEOPLE], "\n".join(
    f"      - {{name: App {i}, description: d, users: [{', '.join(f'{{who: p{j}@example.com}}' for j in range(24))}]}}"
    for i in range(4)))


# ---- paging the document does not show ------------------------------------------------
async def test_as_documented_each_list_is_read_whole_in_one_or_two_requests():
    """A list of 10 or more is asked for again past its end: the same answer means the server
    does not page and the first answer was the list. A shorter one is the list (no server pages
    by fewer than api.SMALLEST_PAGE)."""
    emu = emulator()
    plan = await make_plan(load(WHOLE), {"debrief": emu})
    assert not plan.errors and not plan.operations, plan.errors
    assert [e.query for e in emu.calls("GET", "^/user$")] == ["limit=1000&skip=0", "limit=1000&skip=25"]
    assert [e.query for e in emu.calls("GET", "^/application$")] == ["limit=1000&skip=0"]  # 4 applications
    assert len(emu.calls("GET", "^/application/a0/users$")) == 2


@pytest.mark.parametrize("server", [SkipLimit, LimitOnly])
async def test_a_server_that_pages_its_own_way_is_read_whole(server):
    emu = emulator(server)
    plan = await make_plan(load(WHOLE), {"debrief": emu})
    assert not plan.errors and not plan.operations, plan.errors
    if server is SkipLimit:  # 8 users in pages of 3, then an empty page
        assert [e.query for e in emu.calls("GET", "^/user$")] == [f"limit=1000&skip={n}" for n in (0, 10, 20, 25)]


async def test_a_server_that_ignores_skip_and_fills_the_page_is_an_incomplete_read(monkeypatch):
    """Honours limit, ignores skip, and gives exactly as many as asked: the rest may be missing."""
    monkeypatch.setattr(api, "PAGE_LIMIT", 12)
    emu = emulator(LimitOnly)
    plan = await make_plan(load(state_file()), {"debrief": emu})
    assert not plan.operations and "the same page twice" in plan.errors[0]


async def test_a_list_that_never_ends_is_an_incomplete_read_not_a_hang(monkeypatch):
    monkeypatch.setattr(teamform.paging, "MAX_PAGES", 25)
    emu = emulator(Endless)
    plan = await make_plan(load(state_file()), {"debrief": emu})
    assert not plan.operations and "did not end after 25 pages" in plan.errors[0]


async def test_overlapping_pages_are_an_incomplete_read_not_duplicates():
    emu = emulator(OffByOne)
    plan = await make_plan(load(state_file()), {"debrief": emu})
    assert not plan.operations and "twice" in plan.errors[0]


# ---- answers of the wrong shape --------------------------------------------------------
class Answers(DebriefEmulator):
    """Answers ``GET path`` with ``body`` (raw bytes or JSON-able), once or always."""

    def __init__(self, *args, path: str, body, status: int = 200, **kw) -> None:
        super().__init__(*args, **kw)
        self.path, self.body, self.status = path, body, status

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == self.path:
            raw = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
            await Response(raw, self.status, media_type="application/json")(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def ops_user(**over) -> dict:
    return {"id": "ops", "email": "ops@example.com", "first_name": "O", "last_name": "D", "role": "owner",
            "status": "active", **over}


@pytest.mark.parametrize("path, body, says", [
    ("/user", {"users": []}, "team users answered in an unexpected shape (the answer is dict, not a list)"),
    ("/user", [ops_user(), "p1@example.com"], "team users[1] is str, not an object"),
    ("/user", [ops_user(), ops_user(id="u2", email="b@example.com", role=["admin"])], "team users[1] has role list"),
    ("/user", [ops_user(), ops_user(id="u2", email={"a": "b"})], "team users[1] has email dict"),
    ("/user", [ops_user(), ops_user(id="u2", email="nobody")], "team users[1] has email 'nobody', not an email"),
    ("/user", [ops_user(), ops_user(id=None, email="b@example.com")], "team users[1] has id None"),
    ("/user", b"<html>oops</html>", "something that is not JSON"),
    ("/user/me", ["ops"], "/user/me answered list, not an object"),
    ("/user/me", {"email": "ops@example.com", "role": {"name": "owner"}}, "/user/me has role dict"),
    ("/application", [{"id": "a1", "name": 5, "description": "d"}], "applications[0] has name int"),
    ("/application/a0/users", [{"id": "u1", "email": "p1@example.com", "role": None}], "has role missing"),
])
async def test_an_answer_of_the_wrong_shape_is_an_incomplete_read_naming_the_field(path, body, says):
    emu = emulator(Answers, n_users=2, n_apps=1, path=path, body=body)
    plan = await make_plan(load(state_file()), {"debrief": emu})
    assert not plan.operations and len(plan.errors) == 1
    assert says in plan.errors[0] and ("Debrief" in plan.errors[0] or "debrief" in plan.errors[0]), plan.errors[0]


# ---- what the document does not show ---------------------------------------------------
async def test_without_user_me_the_login_user_is_found_in_the_list_with_a_warning():
    emu = emulator(Answers, n_users=2, n_apps=0, path="/user/me", body=b"", status=404)
    config = load(state_file(["ops", "p0", "p1", "p5"]))
    plan, report = await plan_apply(config, {"debrief": emu})
    assert report.ok and any("no /user/me (404)" in w for w in plan.services[0].warnings)
    assert emu.calls("GET", "^/team$")  # the team id from GET /team, the current team
    assert any(u["email"] == "p5@example.com" for u in emu.state["users"])
    assert not (await make_plan(config, {"debrief": emu})).operations


async def test_without_a_team_id_anywhere_the_plan_warns_and_team_writes_fail_cleanly():
    emu = emulator(Answers, n_users=0, n_apps=0, path="/user/me", body=b"", status=404)
    emu.state["teams"] = []  # GET /team answers 404 too
    config = load(state_file(["ops", "p5"]))
    async with Session(config, emulators={"debrief": emu}, sleep=no_sleep, environ={}) as s:
        plan, _ = await s.make_plan()
        assert any("shows no team id" in w for w in plan.services[0].warnings)
        report = await s.apply(plan)
    [failed] = report.by_status("failed")
    assert "Debrief shows no team id" in failed.message and not emu.calls("POST", "/add$")


async def test_a_pending_invitation_without_a_token_in_the_list_is_removed_from_the_team_with_a_warning():
    emu = emulator(n_users=1, n_apps=0)  # p0 is invited
    real = user_routes.user_view
    user_routes.user_view = lambda u, admin=False: {k: v for k, v in real(u, admin=admin).items() if k != "invite_token"}
    try:
        plan, report = await plan_apply(load(state_file()), {"debrief": emu})
    finally:
        user_routes.user_view = real
    assert report.ok and any("no invitation token for p0@example.com" in w for w in plan.services[0].warnings)
    assert emu.calls("DELETE", "^/team/team-1/user/u0$") and not emu.calls("POST", "cancel")
    assert [u["email"] for u in emu.state["users"]] == ["ops@example.com"]


async def test_a_cancel_path_that_answers_404_falls_back_to_removing_the_user(caplog):
    emu = emulator(n_users=1, n_apps=0)
    emu.inject(kind="status", status=404, method="POST", path="/cancel$")
    plan, report = await plan_apply(load(state_file()), {"debrief": emu})
    assert report.ok and emu.calls("DELETE", "^/team/team-1/user/u0$")
    assert [u["email"] for u in emu.state["users"]] == ["ops@example.com"]
    assert "removing them from the team instead" in caplog.text
