"""The Krisp emulator against the Krisp Portal API document, section by section.

The document (shared/api-docs/krisp-team-api.md, the published collection's overview) gives the
authentication, the versioned base URL, the rate limit, the response-code and error-code tables
and the seat fields; it has no endpoint paths (NOTES.md: choose them). So every test on an
endpoint's path, its parameters, its defaults and its paging says "invented": the provider's
README lists those choices. What the document does say is checked as it says it.
"""

from __future__ import annotations

import base64
import datetime as dt

import httpx
import pytest

from teamform.config import ConfigError
from teamform.emulator import RateLimit
from teamform.testing import load, make_plan
from teamform_krisp import KrispProvider, api
from teamform_krisp.emulator import KrispEmulator, seat

KEY, SECRET = KrispEmulator.sandbox_credentials["api_key"], KrispEmulator.sandbox_credentials["secret"]
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}

# ---- the document's tables, copied as they are --------------------------------------------

#: "Response codes": code -> (message example, HTTP status)
RESPONSE_CODES = {0: ("Success", 200), 1: ("Authentication failure", 401), 1015: ("Not found", 400),
                  1016: ("Validation error", 400), 1023: ("Forbidden", 400), 1026: ("Too Many Requests", 429),
                  10000: ("Internal server error", 500)}

#: "Error codes": error code -> (situation, UI message). Its last row has the two columns the other
#: way round ("Not enough permissions." as the situation): the emulator answers it as the other rows.
ERROR_CODES = {
    "AUTH_HEADER_MISSING": ("Make sure to include authorization header in request headers",
                            "Problem during authentication."),
    "AUTH_HEADER_WRONG_FORMAT": ("Only Basic and Bearer tokens are supported", "Problem during authentication."),
    "AUTH_BASIC_ONLY": ("Happens when the authorization header is not basic", "Problem during authentication."),
    "AUTH_BASIC_INVALID_TOKEN": ("Happens when basic auth credentials are wrong", "Problem during authentication."),
    "VALIDATION_ERROR": ("Happens when API receives inputs from a client that are unexpected or wrong",
                         "Something went wrong."),
    "NOT_PERMITTED_ADD_SEATS": ("Happens when team payment type is invoice", "Not enough permissions."),
    "SEAT_NOT_FOUND": ("Happens when seat not found", "Seat not found."),
    "NOT_PERMITTED_CHANGE_SEAT_STATUS": ("Happens when seat type is not device", "Not enough permissions."),
    "SEAT_IS_EMPTY": ("Happens when trying change empty seat status", "Seat is empty."),
    "SEAT_IS_NOT_EMPTY": ("Happens when trying to delete seat but seat already has a user assigned",
                          "Seat is in use. remove assigned user from the seat before deleting it."),
    "NOT_PERMITTED_DELETE_SEAT": ("Happens when team payment type is invoice", "Not enough permissions."),
    "NOT_PERMITTED_INVITE_USER": ("Happens when access denied inviting new members", "Not enough permissions."),
    "NOT_EMPTY_SEAT": ("Happens when trying to log in but don't have empty seats", "You don't have empty seats."),
    "ALREADY_MEMBER": ("User is already assigned to another seat within the same team",
                       "User is already a team member."),
    "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT": (
        "Happens when you try unassign last administrator in the them", "Not enough permissions."),
}

#: "Response Data": the seat fields and their possible values
SEAT_TYPES = {"device", "standard"}
SEAT_STATUSES = {"unassigned", "active", "inactive", "blocked", "logged_in", "pending_accept", "pending_login"}
SEAT_ROLES = {"Admin", "User"}
SEAT_FIELDS = {"id", "type", "status", "role", "join_date", "nickname", "user"}
USER_FIELDS = {"id", "hostname", "email"}


# ---- helpers --------------------------------------------------------------------------------

def team(*seats, **overrides):
    seats = seats or (seat(1, email="admin@example.com", role="Admin", nickname="Boss"),
                      seat(2, email="user@example.com"), seat(3, email="new@example.com", status="pending_accept"),
                      seat(4), seat(5, "device", email="kiosk@example.com", status="logged_in"), seat(6, "device"))
    return {"team": {"name": "T", "type": "email", "payment_type": "card", **overrides},
            "credentials": dict(KrispEmulator.sandbox_credentials), "seats": list(seats),
            "next_id": 1 + max(s["id"] for s in seats)}


@pytest.fixture
def emu():
    return KrispEmulator(team())


async def call(emulator, method, path, headers=AUTH, version="v2", **kw):
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=f"http://127.0.0.1/api/{version}",
                                 headers=headers) as c:
        response = await c.request(method, path, **kw)
        return response.status_code, response.json()


def refused(status, body, error_code):
    """The document's failure envelope: code and HTTP status from its two tables, the UI message."""
    code = api.ERRORS[error_code][0]
    assert body["code"] == code and body["error_code"] == error_code, body
    assert status == RESPONSE_CODES[code][1], (status, body)
    assert body["message"] == ERROR_CODES.get(error_code, ("", RESPONSE_CODES[code][0]))[1], body
    assert isinstance(body["situation"], str) and body["situation"], body
    return body


def ok(status, body):
    assert status == 200 and body["code"] == 0 and body["message"] == "Success", body
    assert "error_code" not in body
    return body["data"]


def documented_seat(s):
    """One seat as the "Response Data" table describes it."""
    assert set(s) == SEAT_FIELDS, s
    assert isinstance(s["id"], int) and s["id"] > 0
    assert s["type"] in SEAT_TYPES and s["status"] in SEAT_STATUSES and s["role"] in SEAT_ROLES
    assert s["nickname"] is None or isinstance(s["nickname"], str)
    if s["user"] is None:  # an empty seat: no user, no join date (the document is silent: invented)
        assert s["status"] == "unassigned" and s["join_date"] is None
        return s
    assert s["status"] != "unassigned"
    dt.datetime.fromisoformat(s["join_date"].replace("Z", "+00:00"))  # ISO 8601
    assert set(s["user"]) == USER_FIELDS
    assert isinstance(s["user"]["id"], int) and s["user"]["id"] > 0
    assert isinstance(s["user"]["hostname"], str) and "@" in s["user"]["email"]
    return s


def seats_answer(data, count=None):
    """``data.count`` and ``data.seats``: the only data shape the document shows."""
    assert isinstance(data["count"], int) and data["count"] >= 0
    for s in data["seats"]:
        documented_seat(s)
    if count is not None:
        assert data["count"] == count
    return data["seats"]


# ---- Authentication -------------------------------------------------------------------------

@pytest.mark.parametrize("header, error_code", [
    (None, "AUTH_HEADER_MISSING"),
    ("Basic", "AUTH_HEADER_WRONG_FORMAT"),
    ("Digest abc", "AUTH_HEADER_WRONG_FORMAT"),
    ("Bearer abc", "AUTH_BASIC_ONLY"),
    ("Basic " + base64.b64encode(f"{KEY}:wrong".encode()).decode(), "AUTH_BASIC_INVALID_TOKEN"),
    ("Basic not-base64!", "AUTH_BASIC_INVALID_TOKEN"),
])
@pytest.mark.parametrize("method, path", [("GET", api.SEATS), ("POST", api.INVITE), ("DELETE", "/team/seats/4")])
async def test_every_request_needs_basic_auth(emu, header, error_code, method, path):
    status, body = await call(emu, method, path, headers={"Authorization": header} if header else {})
    refused(status, body, error_code)
    assert body["situation"] == ERROR_CODES[error_code][0]
    assert [s["id"] for s in emu.state["seats"]] == [1, 2, 3, 4, 5, 6]


def test_the_provider_sends_basic_base64_of_key_and_secret():
    provider = KrispProvider.__new__(KrispProvider)
    provider.ctx = type("Ctx", (), {"credentials": {"api_key": "k", "secret": "s:x"}})()
    request = next(provider.auth().auth_flow(httpx.Request("GET", "https://teams.krisp.ai/api/v2/team")))
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"k:s:x").decode()


# ---- Versioning and HTTPS -------------------------------------------------------------------

def file(extra=""):
    return f"""
version: 1
people: {{admin@example.com: {{}}}}
services:
  krisp:
    provider: krisp
    {extra}
    members: [{{who: admin@example.com, role: Admin}}]
"""


def test_the_version_is_in_the_url_after_api():
    config = load(file("sandbox: true\n    api_version: v3"))
    settings = config.services["krisp"].entry
    provider = KrispProvider(type("Ctx", (), {"settings": settings})())  # type: ignore[arg-type]
    assert provider.base_url() == "https://teams.krisp.ai/api/v3"
    with pytest.raises(ConfigError, match="api_version"):
        load(file("api_version: latest"))


def test_calls_over_plain_http_are_refused_before_they_are_made():
    with pytest.raises(ConfigError, match="https"):
        load(file("base_url: http://teams.krisp.ai"))


async def test_any_version_in_the_url_is_served_invented(emu):
    """The emulator serves every version alike (invented: one version exists here)."""
    assert ok(*await call(emu, "GET", api.TEAM, version="v1")) == ok(*await call(emu, "GET", api.TEAM))


# ---- Rate limiting --------------------------------------------------------------------------

async def test_past_700_requests_a_minute_the_ip_is_blocked_for_an_hour(emu):
    """The document's example configuration; the 700 requests themselves are sent in
    test_krisp_emulator, here a tenth of a minute's worth shows the block."""
    assert (emu.rate_limit.requests, emu.rate_limit.window, emu.rate_limit.block) == (700, 60.0, 3600.0)
    emu.rate_limit = RateLimit(requests=7, window=60.0, block=3600.0)
    now = [0.0]
    emu.clock = lambda: now[0]
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://127.0.0.1/api/v2", headers=AUTH) as c:
        for _ in range(7):
            assert (await c.get(api.TEAM)).status_code == 200
        response = await c.get(api.TEAM)
        body = response.json()
        assert response.status_code == 429 and body["code"] == 1026 and body["message"] == "Too Many Requests"
        # invented: Retry-After says how long the block lasts (the document does not mention it)
        assert response.headers["retry-after"] == "3600"
        now[0] = 3599.0  # long past the minute, still blocked
        assert (await c.get(api.TEAM)).status_code == 429
        now[0] = 3601.0
        assert (await c.get(api.TEAM)).status_code == 200


async def test_a_429_without_retry_after_is_the_documented_block_and_is_not_hammered():
    """The document promises no Retry-After: without one the provider takes the block it describes
    (an hour), past limits.max_wait, and stops with that reason after one request."""
    emu = KrispEmulator(team())
    emu.inject(kind="status", status=429, method="GET", path="/team$", times=10)
    plan = await make_plan(load(file("sandbox: true")), {"krisp": emu})
    assert "3600s" in plan.errors[0] and "max_wait" in plan.errors[0]
    assert len(emu.calls("GET", "/team$")) == 1


# ---- Response codes and error codes ---------------------------------------------------------

async def test_each_response_code_comes_with_its_http_status(emu):
    ok(*await call(emu, "GET", api.TEAM))                                                    # 0
    refused(*await call(emu, "GET", api.TEAM, headers={}), "AUTH_HEADER_MISSING")            # 1
    refused(*await call(emu, "DELETE", api.SEAT.format(id=99)), "SEAT_NOT_FOUND")            # 1015
    refused(*await call(emu, "POST", api.SEATS, json={"type": "standard"}), "VALIDATION_ERROR")  # 1016
    invoice = KrispEmulator(team(payment_type="invoice"))
    refused(*await call(invoice, "POST", api.SEATS, json={"type": "standard", "quantity": 1}),
            "NOT_PERMITTED_ADD_SEATS")                                                       # 1023
    emu.inject(kind="status", status=429)
    status, body = await call(emu, "GET", api.TEAM)
    assert (status, body["code"]) == (429, 1026)                                             # 1026
    emu.inject(kind="status", status=500)
    status, body = await call(emu, "GET", api.TEAM)
    assert (status, body["code"], body["message"]) == (500, 10000, "Internal server error")  # 10000


def test_every_documented_error_code_is_known_to_the_emulator_and_the_provider():
    from teamform_krisp.emulator import DOCUMENTED

    for error_code, (situation, message) in ERROR_CODES.items():
        assert DOCUMENTED[error_code] == (situation, message), error_code
        assert error_code in api.ERRORS and api.ERRORS[error_code][0] in RESPONSE_CODES


def test_which_response_code_each_error_code_has_is_invented():
    """The document does not say which body code goes with which error code: auth codes 1, not
    found 1015, refusals for invoice/device/last-Admin 1023 (Forbidden), the rest 1016 (Validation)."""
    assert {e: api.ERRORS[e][0] for e in ERROR_CODES} == {
        **{e: 1 for e in ERROR_CODES if e.startswith("AUTH_")},
        "SEAT_NOT_FOUND": 1015,
        **{e: 1023 for e in ERROR_CODES if e.startswith("NOT_PERMITTED")},
        **{e: 1016 for e in ("VALIDATION_ERROR", "SEAT_IS_EMPTY", "SEAT_IS_NOT_EMPTY", "NOT_EMPTY_SEAT",
                             "ALREADY_MEMBER")}}


async def test_the_provider_reads_each_refusal_in_its_own_words(emu):
    """A refusal from Krisp becomes the provider's sentence with Krisp's message beside it."""
    from teamform_krisp import KrispError

    response = httpx.Response(400, json={"code": 1016, "error_code": "SEAT_IS_NOT_EMPTY",
                                         "message": ERROR_CODES["SEAT_IS_NOT_EMPTY"][1], "situation": "seat 4"})
    error = KrispError.from_response(response)
    assert error.code == "SEAT_IS_NOT_EMPTY" and not error.retryable
    assert "unassign its user before deleting it" in str(error) and "seat 4" in str(error)
    in_200 = KrispError.from_response(httpx.Response(200, json={"code": 10000, "message": "Internal server error"}))
    assert in_200.retryable  # the envelope says "internal error" whatever the status


# ---- Response data: the seat list -----------------------------------------------------------

async def test_the_seat_list_shows_every_documented_field(emu):
    seats = seats_answer(ok(*await call(emu, "GET", api.SEATS)), count=6)
    assert {s["status"] for s in seats} == {"active", "pending_accept", "unassigned", "logged_in"}
    assert [s["role"] for s in seats if s["user"] is None] == ["User", "User"]  # never null: Admin or User


async def test_seat_list_paging_is_invented(emu):
    """Not in the document: ``page`` (from 1) and ``limit`` (default 20, at most 100); ``count`` is
    every matching seat (the document's "number of matching results"), on every page."""
    emu.state["seats"] += [seat(i) for i in range(7, 31)]
    first = ok(*await call(emu, "GET", api.SEATS))
    assert (first["count"], len(first["seats"]), first["page"], first["limit"]) == (30, 20, 1, 20)
    second = ok(*await call(emu, "GET", api.SEATS, params={"page": 2, "limit": 20}))
    assert (second["count"], [s["id"] for s in second["seats"]]) == (30, list(range(21, 31)))
    assert ok(*await call(emu, "GET", api.SEATS, params={"page": 9}))["seats"] == []
    for bad in ({"limit": 101}, {"limit": 0}, {"page": 0}, {"page": "x"}):
        refused(*await call(emu, "GET", api.SEATS, params=bad), "VALIDATION_ERROR")


async def test_seat_list_filter_by_type_is_invented_and_its_values_are_the_documents(emu):
    data = ok(*await call(emu, "GET", api.SEATS, params={"type": "device"}))
    assert data["count"] == 2 and {s["type"] for s in seats_answer(data)} == {"device"}
    refused(*await call(emu, "GET", api.SEATS, params={"type": "premium"}), "VALIDATION_ERROR")


async def test_the_team_endpoint_is_invented(emu):
    """``GET /team`` is not in the document: name, type (email/device), payment_type (card/invoice)."""
    assert ok(*await call(emu, "GET", api.TEAM)) == {"name": "T", "type": "email", "payment_type": "card"}


# ---- Adding and deleting seats (invented paths; the document's codes) ------------------------

async def test_adding_seats(emu):
    added = seats_answer(ok(*await call(emu, "POST", api.SEATS, json={"type": "device", "quantity": 2})), count=2)
    assert [(s["type"], s["status"]) for s in added] == [("device", "unassigned")] * 2
    assert len(emu.state["seats"]) == 8


@pytest.mark.parametrize("body", [{"type": "standard"}, {"type": "standard", "quantity": 0},
                                  {"type": "standard", "quantity": -1}, {"type": "standard", "quantity": 1.5},
                                  {"type": "standard", "quantity": True}, {"type": "standard", "quantity": [1]},
                                  {"type": "premium", "quantity": 1}, {"type": None, "quantity": 1}])
async def test_adding_seats_needs_a_positive_whole_quantity_and_a_documented_type(emu, body):
    refused(*await call(emu, "POST", api.SEATS, json=body), "VALIDATION_ERROR")
    assert len(emu.state["seats"]) == 6


async def test_adding_seats_type_defaults_to_standard_invented(emu):
    [added] = seats_answer(ok(*await call(emu, "POST", api.SEATS, json={"quantity": 1})))
    assert added["type"] == "standard"


async def test_invoice_teams_cannot_add_or_delete_seats():
    emu = KrispEmulator(team(payment_type="invoice"))
    refused(*await call(emu, "POST", api.SEATS, json={"type": "standard", "quantity": 1}), "NOT_PERMITTED_ADD_SEATS")
    refused(*await call(emu, "DELETE", api.SEAT.format(id=4)), "NOT_PERMITTED_DELETE_SEAT")
    assert len(emu.state["seats"]) == 6


async def test_only_an_unassigned_seat_can_be_deleted(emu):
    body = refused(*await call(emu, "DELETE", api.SEAT.format(id=2)), "SEAT_IS_NOT_EMPTY")
    assert body["situation"] == ERROR_CODES["SEAT_IS_NOT_EMPTY"][0]
    refused(*await call(emu, "DELETE", api.SEAT.format(id=3)), "SEAT_IS_NOT_EMPTY")  # a pending invitation too
    ok(*await call(emu, "DELETE", api.SEAT.format(id=4)))
    refused(*await call(emu, "DELETE", api.SEAT.format(id=4)), "SEAT_NOT_FOUND")
    refused(*await call(emu, "DELETE", "/team/seats/four"), "VALIDATION_ERROR")


# ---- Who is on a seat (invented paths; the document's codes) ---------------------------------

async def test_changing_role_and_nickname(emu):
    [changed] = seats_answer(ok(*await call(emu, "PATCH", api.SEAT.format(id=2),
                                            json={"role": "Admin", "nickname": "Zoë"})), count=1)
    assert (changed["role"], changed["nickname"]) == ("Admin", "Zoë")
    [cleared] = seats_answer(ok(*await call(emu, "PATCH", api.SEAT.format(id=2), json={"nickname": None})))
    assert (cleared["role"], cleared["nickname"]) == ("Admin", None)


@pytest.mark.parametrize("body", [{"role": "Owner"}, {"role": ["Admin"]}, {"role": None}, {"nickname": ["a"]},
                                  {"nickname": 5}, {}])
async def test_a_change_outside_the_documented_values_is_refused(emu, body):
    refused(*await call(emu, "PATCH", api.SEAT.format(id=2), json=body), "VALIDATION_ERROR")
    assert emu.state["seats"][1] == seat(2, email="user@example.com")


async def test_an_empty_seat_has_nothing_to_change_invented(emu):
    """SEAT_IS_EMPTY is documented for a seat's status; the emulator also answers it for a role or
    nickname change, and an unassign, of an empty seat (invented)."""
    refused(*await call(emu, "PATCH", api.SEAT.format(id=4), json={"role": "Admin"}), "SEAT_IS_EMPTY")
    refused(*await call(emu, "POST", api.SEAT_UNASSIGN.format(id=4)), "SEAT_IS_EMPTY")


async def test_the_last_admin_cannot_be_unassigned_nor_demoted(emu):
    """Unassigning is documented; refusing to demote the last Admin too is the emulator's (invented)."""
    refused(*await call(emu, "POST", api.SEAT_UNASSIGN.format(id=1)), "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT")
    refused(*await call(emu, "PATCH", api.SEAT.format(id=1), json={"role": "User"}),
            "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT")
    ok(*await call(emu, "PATCH", api.SEAT.format(id=1), json={"nickname": "Still boss"}))  # not a demotion
    ok(*await call(emu, "PATCH", api.SEAT.format(id=2), json={"role": "Admin"}))
    [emptied] = seats_answer(ok(*await call(emu, "POST", api.SEAT_UNASSIGN.format(id=1))))
    assert emptied["user"] is None and emptied["status"] == "unassigned" and emptied["nickname"] is None


async def test_assigning_an_email_to_a_seat(emu):
    [placed] = seats_answer(ok(*await call(emu, "POST", api.SEAT_ASSIGN.format(id=4), json={"email": "Eve@Example.com"})))
    assert (placed["status"], placed["role"], placed["user"]["email"]) == ("pending_accept", "User", "Eve@Example.com")
    refused(*await call(emu, "POST", api.SEAT_ASSIGN.format(id=6), json={"email": "EVE@example.com"}), "ALREADY_MEMBER")
    refused(*await call(emu, "POST", api.SEAT_ASSIGN.format(id=2), json={"email": "zed@example.com"}),
            "SEAT_IS_NOT_EMPTY")
    for bad in ({}, {"email": "not-an-email"}, {"email": ["a@example.com"]}, {"email": "a @example.com"},
                {"email": "zed@example.com", "role": "Owner"}):
        refused(*await call(emu, "POST", api.SEAT_ASSIGN.format(id=6), json=bad), "VALIDATION_ERROR")


async def test_device_seat_status(emu):
    refused(*await call(emu, "PATCH", api.SEAT_STATUS.format(id=2), json={"status": "blocked"}),
            "NOT_PERMITTED_CHANGE_SEAT_STATUS")
    body = refused(*await call(emu, "PATCH", api.SEAT_STATUS.format(id=6), json={"status": "blocked"}), "SEAT_IS_EMPTY")
    assert body["situation"] == ERROR_CODES["SEAT_IS_EMPTY"][0]
    [blocked] = seats_answer(ok(*await call(emu, "PATCH", api.SEAT_STATUS.format(id=5), json={"status": "blocked"})))
    assert blocked["status"] == "blocked"
    # invented: of the documented statuses, an admin may set these three
    for status in ("logged_in", "unassigned", "gone"):
        refused(*await call(emu, "PATCH", api.SEAT_STATUS.format(id=5), json={"status": status}), "VALIDATION_ERROR")


# ---- Bulk invitation (NOTES.md's rules; invented path and answer) ----------------------------

async def test_inviting_fills_unassigned_seats_and_skips_members(emu):
    data = ok(*await call(emu, "POST", api.INVITE, json={"emails": ["USER@example.com", "Eve@example.com"]}))
    [invited] = seats_answer(data, count=1)
    assert (invited["id"], invited["status"], invited["role"]) == (4, "pending_accept", "User")
    assert data["skipped"] == ["USER@example.com"]


async def test_no_more_invitations_than_unassigned_seats(emu):
    body = refused(*await call(emu, "POST", api.INVITE, json={"emails": ["a@example.com", "b@example.com"]}),
                   "NOT_EMPTY_SEAT")
    assert "2 invitations but 1 unassigned standard seats" in body["situation"]
    assert emu.state["seats"][3]["user"] is None  # nobody was invited


@pytest.mark.parametrize("body", [{}, {"emails": []}, {"emails": "a@example.com"}, {"emails": ["nope"]},
                                  {"emails": [["a@example.com"]]}, {"emails": ["a@example.com"], "type": "premium"},
                                  {"emails": ["a@example.com"], "role": "Owner"}])
async def test_an_invitation_outside_the_documented_values_is_refused(emu, body):
    refused(*await call(emu, "POST", api.INVITE, json=body), "VALIDATION_ERROR")


async def test_a_device_team_key_cannot_invite():
    emu = KrispEmulator(team(type="device"))
    refused(*await call(emu, "POST", api.INVITE, json={"emails": ["a@example.com"]}), "NOT_PERMITTED_INVITE_USER")
    refused(*await call(emu, "POST", api.SEAT_ASSIGN.format(id=4), json={"email": "a@example.com"}),
            "NOT_PERMITTED_INVITE_USER")


# ---- Both body encodings ---------------------------------------------------------------------

async def test_json_and_form_encoded_bodies_are_both_accepted(emu):
    ok(*await call(emu, "POST", api.SEATS, data={"type": "standard", "quantity": "4"}))
    ok(*await call(emu, "PATCH", api.SEAT.format(id=2), data={"role": "Admin"}))
    # invented: a form carries a list as repeated fields, or one field separated by commas
    data = ok(*await call(emu, "POST", api.INVITE, data={"emails": ["a@example.com", "b@example.com"]}))
    assert data["count"] == 2
    data = ok(*await call(emu, "POST", api.INVITE, data={"emails": "c@example.com,d@example.com"}))
    assert data["count"] == 2


# ---- What the provider sends ------------------------------------------------------------------

async def test_the_provider_sends_the_fields_each_write_needs():
    """Resize (type, quantity), invite (emails, type, role), change (role/nickname), unassign."""
    from teamform.testing import plan_apply

    emu = KrispEmulator(team(seat(1, email="admin@example.com", role="Admin"), seat(2, email="old@example.com"),
                             seat(3, email="user@example.com")))
    text = """
version: 1
people: {admin@example.com: {}, user@example.com: {}, eve@example.com: {}}
services:
  krisp:
    provider: krisp
    sandbox: true
    seats: {standard: 4}
    members: [{who: admin@example.com, role: Admin}, {who: user@example.com, nickname: U},
              {who: eve@example.com, role: Admin}]
"""
    _, report = await plan_apply(load(text), {"krisp": emu}, allow_mass_removal=True)
    assert report.ok, report.results
    import json

    writes = {(e.method, e.path): json.loads(e.body) if e.body else None for e in emu.log if e.method != "GET"}
    assert writes[("POST", "/api/v2/team/seats")] == {"type": "standard", "quantity": 1}
    assert writes[("POST", "/api/v2/team/invite")] == {"emails": ["eve@example.com"], "type": "standard",
                                                       "role": "Admin"}
    assert writes[("PATCH", "/api/v2/team/seats/3")] == {"nickname": "U"}
    assert ("POST", "/api/v2/team/seats/2/unassign") in writes
