"""The Krisp emulator refuses what Krisp refuses: every documented error code, over HTTP."""

import base64

import httpx
import pytest

from teamform_krisp import api
from teamform_krisp.emulator import KrispEmulator, seat

AUTH = {"Authorization": "Basic " + base64.b64encode(b"sandbox-key:sandbox-secret").decode()}


def team(**overrides):
    state = {"team": {"name": "T", "type": "email", "payment_type": "card"},
             "credentials": {"api_key": "sandbox-key", "secret": "sandbox-secret"},
             "seats": [seat(1, email="admin@x.com", role="Admin"), seat(2, email="user@x.com"), seat(3),
                       seat(4, "device", email="dev@x.com")],
             "next_id": 5}
    state["team"].update(overrides)
    return state


@pytest.fixture
def emu():
    return KrispEmulator(team())


def client(emulator, headers=AUTH):
    return httpx.AsyncClient(transport=emulator.transport(), base_url="http://127.0.0.1/api/v2", headers=headers)


async def call(emulator, method, path, headers=AUTH, **kw):
    async with client(emulator, headers) as c:
        response = await c.request(method, path, **kw)
        return response.status_code, response.json()


@pytest.mark.parametrize("header, code", [
    (None, "AUTH_HEADER_MISSING"),
    ("Basic", "AUTH_HEADER_WRONG_FORMAT"),
    ("Token abc", "AUTH_HEADER_WRONG_FORMAT"),
    ("Bearer abc", "AUTH_BASIC_ONLY"),
    ("Basic " + base64.b64encode(b"sandbox-key:wrong").decode(), "AUTH_BASIC_INVALID_TOKEN"),
])
async def test_auth_errors(emu, header, code):
    status, body = await call(emu, "GET", api.SEATS, headers={"Authorization": header} if header else {})
    assert (status, body["code"], body["error_code"]) == (401, 1, code)
    assert body["message"]


async def test_success_envelope_and_paging(emu):
    status, body = await call(emu, "GET", api.SEATS, params={"page": 2, "limit": 3})
    assert status == 200 and body["code"] == 0 and body["message"] == "Success"
    assert body["data"]["count"] == 4 and [s["id"] for s in body["data"]["seats"]] == [4]


async def test_page_size_is_validated(emu):
    status, body = await call(emu, "GET", api.SEATS, params={"limit": 1000})
    assert (status, body["code"], body["error_code"]) == (400, 1016, "VALIDATION_ERROR")


async def test_a_seat_in_use_cannot_be_deleted(emu):
    status, body = await call(emu, "DELETE", api.SEAT.format(id=2))
    assert (status, body["error_code"]) == (400, "SEAT_IS_NOT_EMPTY")
    assert body["message"] == "Seat is in use. remove assigned user from the seat before deleting it."  # the doc's
    assert body["situation"] == "Happens when trying to delete seat but seat already has a user assigned"
    assert (await call(emu, "DELETE", api.SEAT.format(id=3)))[0] == 200
    assert [s["id"] for s in emu.state["seats"]] == [1, 2, 4]


async def test_unknown_seat(emu):
    status, body = await call(emu, "DELETE", api.SEAT.format(id=99))
    assert (status, body["code"], body["error_code"]) == (400, 1015, "SEAT_NOT_FOUND")


async def test_invoice_teams_cannot_add_or_delete_seats():
    emu = KrispEmulator(team(payment_type="invoice"))
    status, body = await call(emu, "POST", api.SEATS, json={"type": "standard", "quantity": 1})
    assert (status, body["code"], body["error_code"]) == (400, 1023, "NOT_PERMITTED_ADD_SEATS")
    status, body = await call(emu, "DELETE", api.SEAT.format(id=3))
    assert (status, body["error_code"]) == (400, "NOT_PERMITTED_DELETE_SEAT")
    assert len(emu.state["seats"]) == 4


async def test_seat_status_is_for_device_seats_with_a_user(emu):
    status, body = await call(emu, "PATCH", api.SEAT_STATUS.format(id=2), json={"status": "blocked"})
    assert body["error_code"] == "NOT_PERMITTED_CHANGE_SEAT_STATUS"
    emu.state["seats"].append(seat(9, "device"))
    status, body = await call(emu, "PATCH", api.SEAT_STATUS.format(id=9), json={"status": "blocked"})
    assert body["error_code"] == "SEAT_IS_EMPTY"
    status, body = await call(emu, "PATCH", api.SEAT_STATUS.format(id=4), json={"status": "blocked"})
    assert status == 200 and body["data"]["seats"][0]["status"] == "blocked"


async def test_invitations_need_unassigned_seats_and_skip_members(emu):
    status, body = await call(emu, "POST", api.INVITE, json={"emails": ["a@x.com", "b@x.com"], "type": "standard"})
    assert (status, body["error_code"]) == (400, "NOT_EMPTY_SEAT")
    status, body = await call(emu, "POST", api.INVITE, json={"emails": ["USER@x.com", "a@x.com"]})
    assert status == 200 and body["data"]["skipped"] == ["USER@x.com"]
    assert body["data"]["seats"][0]["status"] == "pending_accept"


async def test_invites_accept_form_encoding(emu):
    status, body = await call(emu, "POST", api.INVITE, data={"emails": "new@x.com", "type": "standard"})
    assert status == 200 and body["data"]["count"] == 1


async def test_device_team_keys_cannot_invite():
    emu = KrispEmulator(team(type="device"))
    status, body = await call(emu, "POST", api.INVITE, json={"emails": ["a@x.com"]})
    assert (status, body["error_code"]) == (400, "NOT_PERMITTED_INVITE_USER")


async def test_assigning_someone_already_on_the_team(emu):
    status, body = await call(emu, "POST", api.SEAT_ASSIGN.format(id=3), json={"email": "User@X.com"})
    assert (status, body["error_code"]) == (400, "ALREADY_MEMBER")


async def test_the_last_admin_cannot_be_unassigned_or_demoted(emu):
    for method, path, kw in [("POST", api.SEAT_UNASSIGN.format(id=1), {}),
                             ("PATCH", api.SEAT.format(id=1), {"json": {"role": "User"}})]:
        status, body = await call(emu, method, path, **kw)
        assert (status, body["error_code"]) == (400, "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT")
    await call(emu, "PATCH", api.SEAT.format(id=2), json={"role": "Admin"})
    assert (await call(emu, "POST", api.SEAT_UNASSIGN.format(id=1)))[0] == 200


async def test_an_unknown_role_is_a_validation_error(emu):
    status, body = await call(emu, "PATCH", api.SEAT.format(id=2), json={"role": "Owner"})
    assert (status, body["error_code"]) == (400, "VALIDATION_ERROR")


async def test_rate_limit_blocks_for_an_hour_past_700_a_minute(emu):
    now = [0.0]
    emu.clock = lambda: now[0]
    async with client(emu) as c:
        for _ in range(700):
            assert (await c.get(api.TEAM)).status_code == 200
        response = await c.get(api.TEAM)
        assert response.status_code == 429 and response.json()["code"] == 1026
        assert int(response.headers["retry-after"]) == 3600
        now[0] = 120.0  # a fresh minute, but still blocked
        assert (await c.get(api.TEAM)).status_code == 429
        now[0] = 3601.0
        assert (await c.get(api.TEAM)).status_code == 200


async def test_injected_faults_use_the_envelope(emu):
    emu.inject(kind="status", status=503, times=1)
    status, body = await call(emu, "GET", api.TEAM)
    assert (status, body["code"]) == (503, 10000)
    assert (await call(emu, "GET", api.TEAM))[0] == 200


def test_every_documented_error_code_has_a_message():
    documented = {"AUTH_HEADER_MISSING", "AUTH_HEADER_WRONG_FORMAT", "AUTH_BASIC_ONLY", "AUTH_BASIC_INVALID_TOKEN",
                  "VALIDATION_ERROR", "NOT_PERMITTED_ADD_SEATS", "SEAT_NOT_FOUND",
                  "NOT_PERMITTED_CHANGE_SEAT_STATUS", "SEAT_IS_EMPTY", "SEAT_IS_NOT_EMPTY",
                  "NOT_PERMITTED_DELETE_SEAT", "NOT_PERMITTED_INVITE_USER", "NOT_EMPTY_SEAT", "ALREADY_MEMBER",
                  "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT"}
    assert documented <= set(api.ERRORS)


async def test_an_invitation_takes_the_first_free_seat_in_the_seats_order(emu):
    """Free seats are kept by type in the seats' order: a seat freed early in the list is taken
    before one added at the end, and a deleted seat leaves its place."""
    assert (await call(emu, "POST", api.SEATS, json={"type": "standard", "quantity": 2}))[0] == 200  # seats 5, 6
    assert (await call(emu, "POST", api.SEAT_UNASSIGN.format(id=2)))[0] == 200
    assert (await call(emu, "DELETE", api.SEAT.format(id=3)))[0] == 200
    status, body = await call(emu, "POST", api.INVITE, json={"emails": ["a@x.com", "b@x.com"]})
    assert status == 200 and [s["id"] for s in body["data"]["seats"]] == [2, 5]
    _, body = await call(emu, "GET", api.SEATS, params={"type": "standard"})
    assert [(s["id"], s["user"] and s["user"]["email"]) for s in body["data"]["seats"]] == [
        (1, "admin@x.com"), (2, "a@x.com"), (5, "b@x.com"), (6, None)]
