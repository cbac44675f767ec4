"""CrankWheel's published Postman collection, endpoint by endpoint, against the emulator; then the
calls NOTES.md adds (one user, PATCH, DELETE, the auth header); then the provider: it sends what
the document requires, reads what it returns, and never takes a part of the list for the whole.

The collection is kept beside the provider (``providers/crankwheel/crankwheel-api.postman.json``,
a copy of ``shared/api-docs/``) and walked here, so a change to it shows up as a failing test.
Where the document is silent and the emulator chooses, the test's name says ``invented`` and the
provider's README lists the choice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teamform.testing import load, make_plan, plan_apply
from teamform_crankwheel import api
from teamform_crankwheel.emulator import PREFIX, CrankWheelEmulator, user
from teamform_crankwheel.emulator.seed import PROSPECT_ENRICHED, PROSPECT_FIXED, PROSPECT_QUESTIONS, demo_session

DOCUMENT = Path(api.__file__).resolve().parent / "crankwheel-api.postman.json"
DOC = json.loads(DOCUMENT.read_text())
RW, RO = "rw-key", "ro-key"
OWNER = "owner@example.com"


def _requests(items: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for item in items:
        if "item" in item:
            out.update(_requests(item["item"]))
        else:
            out[item["name"]] = item
    return out


ENDPOINTS = _requests(DOC["item"])


def documented(name: str) -> dict:
    return ENDPOINTS[name]["request"]


def bold_values(text: str, after: str) -> list[str]:
    """The ``* **value**`` bullets that follow ``after`` in a description."""
    block = text.split(after, 1)[1].split("\n\n")[0]
    return re.findall(r"^\* \*\*(\w+)\*\*", block, re.M)


def emulator(*users: dict, **extra: Any) -> CrankWheelEmulator:
    state = {"keys": {RW: api.READ_WRITE, RO: api.READ_ONLY}, "users": [user(OWNER, "owner"), *users],
             "onboarding_emails": [], "sessions": [], "demo_sessions": [], "canceled_requests": []}
    return CrankWheelEmulator({**state, **extra})


def client(emu: CrankWheelEmulator, key: str | None = RW) -> httpx.AsyncClient:
    """A client at the document's own host and path; only the scheme is NOTES' https."""
    headers = {"Accept": "*/*", **({"Authorization": f"Basic {key}"} if key else {})}
    return httpx.AsyncClient(transport=emu.transport(), base_url="https://meeting.is/ss/api", headers=headers)


def doc_path(name: str) -> str:
    """The path of a documented request, relative to ``/ss/api``."""
    path = urlsplit(documented(name)["url"]).path
    assert path.startswith(PREFIX)
    return path[len(PREFIX):]


def form(**fields: str) -> dict[str, str]:
    return {api.field(k): v for k, v in fields.items()}


def create_form(**fields: str) -> dict[str, str]:
    return form(**{"email": "new@example.com", "privilege": "user", "in_demo_pool": "false",
                   "send_onboarding_email": "false", **fields})


# ---- the document as a whole ------------------------------------------------------------------

def test_the_document_has_exactly_the_four_requests_walked_here():
    found = {name: (e["request"]["method"], urlsplit(e["request"]["url"]).path) for name, e in ENDPOINTS.items()}
    assert found == {"UsageGet": ("GET", PREFIX + api.USAGE), "DemoUsageGet": ("GET", PREFIX + api.DEMO_USAGE),
                     "UserAccessGet": ("GET", PREFIX + api.USERS), "UserAccessPost2": ("POST", PREFIX + api.USERS)}


def test_the_base_is_the_documents_host_and_path_over_https_as_notes_says():
    hosts = {urlsplit(documented(n)["url"]).netloc for n in ENDPOINTS}
    assert hosts == {"meeting.is"}
    assert api.DEFAULT_BASE_URL == "https://meeting.is" + PREFIX


def test_the_documented_privileges_are_exactly_the_providers_in_every_description():
    for name in ("UserAccessGet", "UserAccessPost2"):
        assert set(bold_values(documented(name)["description"], "Possible values for **privilege** are:")) \
            == set(api.PRIVILEGES)


async def test_every_documented_request_needs_the_api_key_invented_401():
    """The document says only to put the key in the Authorization header; NOTES gives its form
    (Basic and the raw key). The 401 and its ``{"error"}`` body are the emulator's choice."""
    emu = emulator()
    async with client(emu, key=None) as c:
        for name, entry in ENDPOINTS.items():
            r = await c.request(entry["request"]["method"], doc_path(name), params={"from": 0, "to": 1})
            assert r.status_code == 401 and r.json() == {"error": "missing Authorization header"}, name
    assert emu.state["users"] == [user(OWNER, "owner")]


# ---- UsageGet: GET /usage?from=&to= -----------------------------------------------------------

async def test_usage_get_answers_stats_in_aggregate_and_per_agent_and_sessions_invented_names():
    """The document: a JSON document; "stats" gives meetings and seconds in aggregate and per
    agent; "sessions" gives each session's start and end, the agent's email, its duration in
    seconds, a log of what was shared when, and how many viewers and where. It names none of
    these fields: ``meetings``, ``seconds``, ``per_agent``, ``start_ts``, ``end_ts``, ``agent``,
    ``duration``, ``shared``, ``viewers`` are invented."""
    emu = emulator()
    emu.state["sessions"] = [CrankWheelEmulator().state["sessions"][0]]
    async with client(emu) as c:
        r = await c.get(doc_path("UsageGet"), params={"from": 0, "to": 2_000_000_000})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"stats", "sessions"}
    assert body["stats"] == {"meetings": 1, "seconds": 1800,
                             "per_agent": {"alice@example.com": {"meetings": 1, "seconds": 1800}}}
    [session] = body["sessions"]
    assert set(session) == {"start_ts", "end_ts", "agent", "duration", "shared", "viewers"}
    assert session["end_ts"] - session["start_ts"] == session["duration"]
    assert set(session["viewers"]) == {"count", "locations"} and session["shared"][0]["what"] == "screen"


async def test_usage_counts_only_sessions_that_start_in_the_window_invented():
    emu = CrankWheelEmulator()  # three sessions, at 1767603600, 1767607200, 1767610800
    emu.state["keys"][RW] = api.READ_WRITE
    async with client(emu) as c:
        r = await c.get(doc_path("UsageGet"), params={"from": 1767607200, "to": 1767610800})
    assert r.json()["stats"]["meetings"] == 1 and r.json()["stats"]["per_agent"] == {
        "bob@example.com": {"meetings": 1, "seconds": 600}}


@pytest.mark.parametrize("name", ["UsageGet", "DemoUsageGet"])
async def test_usage_with_the_documents_placeholder_timestamps_is_400_invented(name):
    """The document's own URLs carry ``from={}&to={}``; it says only that they are timestamps.
    Seconds since the epoch, and 400 for anything else, are the emulator's choice."""
    query = urlsplit(documented(name)["url"]).query
    async with client(emulator()) as c:
        r = await c.get(doc_path(name) + "?" + query)
        missing = await c.get(doc_path(name))
    assert r.status_code == missing.status_code == 400 and "timestamps" in r.json()["error"]


# ---- DemoUsageGet: GET /demo_usage?from=&to= --------------------------------------------------

async def test_demo_usage_get_counts_cancelled_requests_and_lists_sessions():
    emu = emulator(demo_sessions=[demo_session(100, "agent@example.com"), demo_session(200),
                                  demo_session(5000, "late@example.com")],
                   canceled_requests=[150, 160, 9000])
    async with client(emu) as c:
        r = await c.get(doc_path("DemoUsageGet"), params={"from": 0, "to": 1000})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"total_canceled_requests", "sessions"}
    assert body["total_canceled_requests"] == 2 and len(body["sessions"]) == 2


async def test_demo_usage_sessions_have_the_documented_fields_and_values():
    """start_ts, last_event_ts, availability_bucket (full_capacity, half_capacity, no_capacity),
    seconds_to_respond (seconds, or "never"), handled_by only when handled, call_confirmed and
    screenshared (true, false or "n/a"), accepted_from (extension, email or n/a), prospect_info."""
    emu = emulator(demo_sessions=[demo_session(100, "agent@example.com", bucket="half_capacity"),
                                  demo_session(200, bucket="no_capacity"),
                                  demo_session(300, "b@example.com", accepted_from="email", screenshared=False)])
    async with client(emu) as c:
        sessions = (await c.get(doc_path("DemoUsageGet"), params={"from": 0, "to": 1000})).json()["sessions"]
    common = {"start_ts", "last_event_ts", "availability_bucket", "seconds_to_respond", "call_confirmed",
              "screenshared", "accepted_from", "prospect_info"}
    for s in sessions:
        handled = s["seconds_to_respond"] != "never"
        assert set(s) == common | ({"handled_by"} if handled else set())
        assert s["availability_bucket"] in {"full_capacity", "half_capacity", "no_capacity"}
        assert s["call_confirmed"] in ({True, False} if handled else {"n/a"})
        assert s["screenshared"] in ({True, False} if handled else {"n/a"})
        assert s["accepted_from"] in ({"extension", "email"} if handled else {"n/a"})
        assert isinstance(s["seconds_to_respond"], int) or not handled
        assert s["last_event_ts"] >= s["start_ts"]


def test_prospect_info_keys_are_the_documents():
    """Every ``prospect-*`` key the description names, except its example of a custom question
    (``prospect-shoesize``), is in each emulated session's prospect_info."""
    named = set(re.findall(r"prospect-[a-z-]*[a-z]", documented("DemoUsageGet")["description"]))
    assert named - {"prospect-shoesize"} == set(PROSPECT_FIXED) | set(PROSPECT_ENRICHED) | set(PROSPECT_QUESTIONS)
    assert set(demo_session(0)["prospect_info"]) == named - {"prospect-shoesize"}
    assert demo_session(0)["prospect_info"]["prospect-request-origin"].startswith("https://meeting.is/ss/showu/")


# ---- UserAccessGet: GET /user_access ----------------------------------------------------------

async def test_user_access_get_is_a_bare_list_of_email_privilege_and_demo_pool():
    emu = emulator(user("Mixed@Example.com", "reporting", True), user("n@example.com", "admin", None),
                   user("f@example.com", "user", False))
    async with client(emu) as c:
        r = await c.get(doc_path("UserAccessGet"))
    assert r.status_code == 200 and isinstance(r.json(), list)
    for item in r.json():
        assert set(item) == {"email", "privilege", "in_demo_pool"}
        assert item["privilege"] in api.PRIVILEGES and item["in_demo_pool"] in (True, False, None)
    # the email as it was listed, and null kept as null ("should be considered the same as false")
    assert r.json()[1:3] == [user("Mixed@Example.com", "reporting", True), user("n@example.com", "admin", None)]


async def test_user_access_get_is_the_full_list_unpaged_whatever_the_query():
    """"Retrieve a full list of all users": no paging, so paging parameters change nothing and
    no paging headers come."""
    many = [user(f"u{i:03d}@example.com") for i in range(250)]
    emu = emulator(*many)
    async with client(emu) as c:
        plain = await c.get(doc_path("UserAccessGet"))
        asked = await c.get(doc_path("UserAccessGet"),
                            params={"page": 2, "per_page": 10, "limit": 10, "offset": 100, "cursor": "x"})
    assert len(plain.json()) == 251 and asked.json() == plain.json()
    for r in (plain, asked):
        assert not {"link", "x-total-count", "x-total", "x-next-page", "total"} & set(r.headers)


# ---- UserAccessPost2: POST /user_access -------------------------------------------------------

def test_the_documented_create_fields_are_the_providers():
    body = documented("UserAccessPost2")["body"]
    assert body["mode"] == "urlencoded"
    assert [f["key"] for f in body["urlencoded"]] == sorted(api.field(f) for f in api.CREATE_FIELDS)


async def test_create_answers_201_with_email_privilege_and_demo_pool():
    """The description says 201 with the three attributes; the collection's saved response says
    200 "OK". The emulator answers 201 (NOTES agrees); the provider accepts either."""
    assert [r["code"] for r in ENDPOINTS["UserAccessPost2"]["response"]] == [200]
    assert {200, 201} <= set(api.CREATE_OK)
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(doc_path("UserAccessPost2"), data=create_form(email="New@Example.com", privilege="admin",
                                                                      in_demo_pool="true"))
        listed = await c.get(doc_path("UserAccessGet"))
    assert r.status_code == 201 and r.json() == {"email": "New@Example.com", "privilege": "admin", "in_demo_pool": True}
    assert r.json() in listed.json()  # "creating" lists the email as allowed into the company


async def test_create_as_the_description_says_one_user_access_parameter_with_a_json_object():
    """"POST with a form-data body with a single parameter user_access containing as a JSON
    object" the four attributes: multipart, and url-encoded too."""
    fields = {"email": "j@example.com", "privilege": "reporting", "in_demo_pool": True, "send_onboarding_email": True}
    emu = emulator()
    async with client(emu) as c:
        multipart = await c.post(doc_path("UserAccessPost2"), data={"user_access": json.dumps(fields)},
                                 files={"unused": ("x.txt", b"")})  # files= makes it multipart/form-data
        encoded = await c.post(doc_path("UserAccessPost2"),
                               data={"user_access": json.dumps({**fields, "email": "k@example.com"})})
        broken = await c.post(doc_path("UserAccessPost2"), data={"user_access": "{not json"})
    assert multipart.request.headers["content-type"].startswith("multipart/form-data")
    assert multipart.status_code == encoded.status_code == 201
    assert multipart.json() == user("j@example.com", "reporting", True)
    assert emu.state["onboarding_emails"] == ["j@example.com", "k@example.com"]
    assert broken.status_code == 422 and "user_access" in broken.json()["errors"]


async def test_create_with_bracketed_fields_as_multipart_form_data():
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(doc_path("UserAccessPost2"), data=create_form(email="m@example.com"),
                         files={"unused": ("x.txt", b"")})
    assert r.status_code == 201 and r.json() == user("m@example.com")


@pytest.mark.parametrize("privilege", api.PRIVILEGES)
async def test_create_takes_each_documented_privilege(privilege):
    async with client(emulator()) as c:
        r = await c.post(doc_path("UserAccessPost2"), data=create_form(privilege=privilege))
    assert r.status_code == 201 and r.json()["privilege"] == privilege


@pytest.mark.parametrize("field,value", [
    ("privilege", "Admin"), ("privilege", "superuser"), ("privilege", ""),
    ("in_demo_pool", "1"), ("in_demo_pool", "yes"), ("in_demo_pool", "null"), ("in_demo_pool", "TRUE"),
    ("send_onboarding_email", "t"), ("send_onboarding_email", "0"),
    ("email", "not-an-email"),
])
async def test_create_refuses_values_outside_the_documented_ones_invented_422(field, value):
    """privilege: user, admin, owner or reporting; in_demo_pool: "true and false" (the document);
    send_onboarding_email: true or false. Rails would cast 1/0, t/f, yes/no: the document does
    not offer them, so neither does the emulator. The 422 and ``{"errors": {field: [...]}}``
    are invented (README.md)."""
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(doc_path("UserAccessPost2"), data=create_form(**{field: value}))
    assert r.status_code == 422 and list(r.json()["errors"]) == [field]
    assert emu.state["users"] == [user(OWNER, "owner")] and emu.state["onboarding_emails"] == []


@pytest.mark.parametrize("missing", api.CREATE_FIELDS)
async def test_create_needs_every_documented_field_invented_422(missing):
    """The document lists the four attributes the body carries and gives none a default: the
    emulator requires each, so a provider that leaves one out fails here, not in production."""
    fields = {k: v for k, v in create_form().items() if k != api.field(missing)}
    emu = emulator()
    async with client(emu) as c:
        r = await c.post(doc_path("UserAccessPost2"), data=fields)
    assert r.status_code == 422 and r.json() == {"errors": {missing: ["can't be blank"]}}
    assert len(emu.state["users"]) == 1


@pytest.mark.parametrize("send,emailed", [("true", ["o@example.com"]), ("false", [])])
async def test_the_onboarding_email_goes_only_when_asked(send, emailed):
    emu = emulator()
    async with client(emu) as c:
        await c.post(doc_path("UserAccessPost2"), data=create_form(email="o@example.com", send_onboarding_email=send))
    assert emu.state["onboarding_emails"] == emailed


async def test_create_of_an_email_already_listed_in_any_case_is_422_invented():
    emu = emulator(user("dup@example.com", "admin"))
    async with client(emu) as c:
        r = await c.post(doc_path("UserAccessPost2"), data=create_form(email="DUP@Example.com", send_onboarding_email="true"))
    assert r.status_code == 422 and r.json() == {"errors": {"email": ["has already been taken"]}}
    assert emu.state["users"][1] == user("dup@example.com", "admin") and emu.state["onboarding_emails"] == []


async def test_create_with_a_json_body_is_accepted_invented():
    """The document shows form bodies only; a Rails service parses a JSON body into the same
    parameters, so the emulator takes one (the provider never sends it)."""
    async with client(emulator()) as c:
        r = await c.post(doc_path("UserAccessPost2"), json={"user_access": {
            "email": "js@example.com", "privilege": "user", "in_demo_pool": False, "send_onboarding_email": False}})
        wrong = await c.post(doc_path("UserAccessPost2"), json={"user_access": {
            "email": "js2@example.com", "privilege": "user", "in_demo_pool": "maybe", "send_onboarding_email": False}})
    assert r.status_code == 201 and wrong.status_code == 422


# ---- what NOTES.md adds: one user, PATCH, DELETE, keys ----------------------------------------

async def test_get_one_user_by_url_encoded_email_has_the_lists_shape_invented_404():
    emu = emulator(user("first+tag@example.com", "admin", None))
    async with client(emu) as c:
        found = await c.get(api.user_path("First+Tag@Example.com"))
        missing = await c.get(api.user_path("ghost@example.com"))
    assert found.status_code == 200 and found.json() == user("first+tag@example.com", "admin", None)
    assert missing.status_code == 404 and missing.json() == {"error": "user not found"}


async def test_patch_takes_the_two_notes_fields_and_answers_the_user_invented_200():
    emu = emulator(user("u@example.com", "user", None))
    async with client(emu) as c:
        r = await c.patch(api.user_path("u@example.com"), data=form(privilege="admin", in_demo_pool="true"))
    assert r.status_code == 200 and r.json() == user("u@example.com", "admin", True)


@pytest.mark.parametrize("fields,bad", [({"in_demo_pool": "1"}, "in_demo_pool"), ({"privilege": "root"}, "privilege"),
                                        ({"email": "x@example.com"}, "email"),
                                        ({"send_onboarding_email": "true"}, "send_onboarding_email")])
async def test_patch_refuses_other_fields_and_values_invented_422(fields, bad):
    emu = emulator(user("u@example.com"))
    async with client(emu) as c:
        r = await c.patch(api.user_path("u@example.com"), data=form(**fields))
    assert r.status_code == 422 and list(r.json()["errors"]) == [bad] and emu.state["users"][1] == user("u@example.com")


async def test_delete_answers_204_without_a_body():
    emu = emulator(user("u@example.com"))
    async with client(emu) as c:
        r = await c.delete(api.user_path("u@example.com"))
    assert r.status_code == 204 and r.content == b"" and len(emu.state["users"]) == 1


async def test_a_read_only_key_reads_every_documented_list_and_writes_nothing_invented_403():
    emu = emulator(user("u@example.com"))
    async with client(emu, RO) as c:
        reads = [await c.get(doc_path(n), params={"from": 0, "to": 1}) for n in ("UsageGet", "DemoUsageGet", "UserAccessGet")]
        writes = [await c.post(doc_path("UserAccessPost2"), data=create_form()),
                  await c.patch(api.user_path("u@example.com"), data=form(privilege="admin")),
                  await c.delete(api.user_path("u@example.com"))]
    assert [r.status_code for r in reads] == [200, 200, 200]
    assert [r.status_code for r in writes] == [403] * 3 and writes[0].json() == {"error": "this API key is read-only"}


# ---- the provider: sends what the document requires, reads what it returns -------------------

PEOPLE = [f"u{i:03d}@example.com" for i in range(250)]


def state_file(*members: str) -> str:
    people = "\n".join(f"  {p}: {{}}" for p in [OWNER, *PEOPLE])
    lines = "\n".join(f"      - {m}" for m in [f"{{who: {OWNER}, privilege: owner}}", *members])
    return (f"version: 1\npeople:\n{people}\nservices:\n  cw:\n    provider: crankwheel\n    sandbox: true\n"
            f"    limits: {{requests_per_minute: 100000}}\n    members:\n{lines}\n")


async def test_the_provider_posts_exactly_the_documented_fields_url_encoded():
    emu = emulator()
    emu.state["keys"]["sandbox-key"] = api.READ_WRITE
    plan, report = await plan_apply(load(state_file("{who: u000@example.com, in_demo_pool: true}")), {"cw": emu})
    assert [op.action for op in plan.operations] == ["create"] and report.ok
    [post] = emu.calls("POST")
    sent = [pair.split("=")[0].replace("%5B", "[").replace("%5D", "]") for pair in post.body.split("&")]
    documented_keys = [f["key"] for f in documented("UserAccessPost2")["body"]["urlencoded"]]
    assert sorted(sent) == documented_keys and post.status == 201


async def test_the_provider_reads_the_whole_unpaged_list_in_one_request_without_paging_parameters():
    emu = emulator(*[user(p.upper() if i % 7 == 0 else p, "user", [True, False, None][i % 3])
                     for i, p in enumerate(PEOPLE)])
    emu.state["keys"]["sandbox-key"] = api.READ_WRITE
    members = [f"{{who: {p}, in_demo_pool: {str(i % 3 == 0).lower()}}}" for i, p in enumerate(PEOPLE)]
    plan = await make_plan(load(state_file(*members)), {"cw": emu})
    assert not plan.errors and plan.operations == []  # null read as false, case ignored
    [read] = emu.calls("GET")
    assert read.path == PREFIX + api.USERS and read.query == ""


class Answering(CrankWheelEmulator):
    """The emulator, except that ``GET /user_access`` answers what a test says: a service that
    differs from its document in a plausible way."""

    def __init__(self, state: dict, answer: Callable[[list[dict]], Response]) -> None:
        self.answer = answer
        super().__init__(state)

    def routes(self) -> list:
        async def listing(request: Request) -> Response:
            return self.answer([dict(u) for u in self.state["users"]])
        return [Route(PREFIX + api.USERS, listing, methods=["GET"]), *super().routes()]


def paged_state() -> dict:
    users = [user(OWNER, "owner"), *[user(p) for p in PEOPLE[:30]]]
    return {"keys": {"sandbox-key": api.READ_WRITE}, "users": users, "onboarding_emails": [],
            "sessions": [], "demo_sessions": []}


@pytest.mark.parametrize("headers", [
    lambda users: {"Link": '<https://meeting.is/ss/api/user_access?page=2>; rel="next"'},
    lambda users: {"X-Total-Count": str(len(users))},
    lambda users: {"Total": str(len(users)), "Per-Page": "25"},
    lambda users: {"X-Next-Page": "2", "X-Total-Pages": "2"},
    lambda users: {"X-Total-Pages": "2"},
], ids=["link-next", "x-total-count", "total", "x-next-page", "x-total-pages"])
async def test_a_list_that_pages_with_its_own_default_size_is_not_taken_for_the_whole(headers):
    """A service that pages the list after all (25 a page) and says so as Rails paginators do:
    the first page is refused as a partial read, so the plan removes nobody on the pages not read."""
    emu = Answering(paged_state(), lambda users: JSONResponse(users[:25], headers=headers(users)))
    plan = await make_plan(load(state_file(*[f"{{who: {p}}}" for p in PEOPLE[:30]])), {"cw": emu},
                           allow_mass_removal=True)
    assert plan.operations == [] and "documented as one unpaged list" in plan.services[0].errors[0]
    assert len(emu.calls("GET")) == 1  # refused, not followed round and round


async def test_a_whole_list_with_a_total_header_that_agrees_is_read():
    emu = Answering(paged_state(), lambda users: JSONResponse(users, headers={"X-Total-Count": str(len(users))}))
    plan = await make_plan(load(state_file(*[f"{{who: {p}}}" for p in PEOPLE[:30]])), {"cw": emu})
    assert not plan.errors and plan.operations == []


@pytest.mark.parametrize("answer,said", [
    (lambda users: JSONResponse({"users": users, "meta": {"page": 1}}), "is dict, not a list"),
    (lambda users: JSONResponse(users + users[-1:]), "listed u029@example.com twice"),
    (lambda users: JSONResponse(users + [dict(users[-1], email=users[-1]["email"].upper())]), "twice"),
    (lambda users: Response("<html>maintenance</html>", media_type="text/html"), "not JSON"),
], ids=["envelope", "duplicate", "duplicate-other-case", "html"])
async def test_a_list_of_another_shape_aborts_the_plan_with_words_naming_crankwheel(answer, said):
    emu = Answering(paged_state(), answer)
    plan = await make_plan(load(state_file()), {"cw": emu}, allow_mass_removal=True)
    [error] = plan.services[0].errors
    assert plan.operations == [] and said in error and "rankwheel" in error.lower()
