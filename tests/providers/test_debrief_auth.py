"""DebriefAuth against the emulator: login, renewal before expiry, one renewal on a 401, a
refused refresh falls back to a login, clear refusals, and tokens never shown."""

import logging

import httpx
import pytest

from teamform.http import open_client
from teamform.provider import ProviderError
from teamform.testing import ManualClock
from teamform_debrief import api
from teamform_debrief.auth import DebriefAuth
from teamform_debrief.emulator import DebriefEmulator

CREDS = DebriefEmulator.sandbox_credentials


@pytest.fixture
def clock():
    return ManualClock()


def client(emu, auth) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=emu.transport(), base_url="http://debrief.test", auth=auth)


def statuses(emu, path):
    return [e.status for e in emu.log if e.path == path]


async def test_logs_in_once_and_reuses_the_token(clock):
    emu, auth = DebriefEmulator(clock=clock), DebriefAuth(CREDS, clock=clock)
    async with client(emu, auth) as http:
        for _ in range(3):
            assert (await http.get(api.ME)).status_code == 200
    assert auth.logins == 1 and auth.refreshes == 0 and len(emu.calls("POST", api.LOGIN)) == 1


async def test_renews_before_expiry_without_a_401(clock):
    emu, auth = DebriefEmulator(token_lifetime=100, clock=clock), DebriefAuth(CREDS, clock=clock)
    async with client(emu, auth) as http:
        for _ in range(5):
            assert (await http.get(api.USERS)).status_code == 200
            clock.now += 45
    assert auth.refreshes >= 2 and auth.logins == 1
    assert 401 not in statuses(emu, api.USERS)


async def test_renews_once_on_a_401(clock):
    emu, auth = DebriefEmulator(clock=clock), DebriefAuth(CREDS, clock=clock)
    async with client(emu, auth) as http:
        await http.get(api.ME)
        emu.tokens.clear()  # revoked server-side, though not expired by our clock
        assert (await http.get(api.USERS)).status_code == 200
    assert statuses(emu, api.USERS) == [401, 200] and auth.refreshes == 1


async def test_a_second_401_is_returned_not_looped(clock):
    emu, auth = DebriefEmulator(token_lifetime=0, clock=clock), DebriefAuth(CREDS, clock=lambda: -1e9)
    async with client(emu, auth) as http:
        r = await http.get(api.USERS)
    assert r.status_code == 401 and statuses(emu, api.USERS) == [401, 401]
    assert auth.refreshes == 1


async def test_a_refused_refresh_falls_back_to_a_login(clock):
    emu, auth = DebriefEmulator(token_lifetime=100, clock=clock), DebriefAuth(CREDS, clock=clock)
    async with client(emu, auth) as http:
        await http.get(api.ME)
        emu.refresh_tokens.clear()
        clock.now += 200
        assert (await http.get(api.ME)).status_code == 200
    assert auth.logins == 2 and [e.status for e in emu.calls("POST", api.REFRESH)] == [401]


async def test_a_refused_login_says_why_without_the_secrets(clock):
    auth = DebriefAuth({**CREDS, "password": "wrong-password"}, clock=clock)
    async with client(DebriefEmulator(clock=clock), auth) as http:
        with pytest.raises(ProviderError) as err:
            await http.get(api.ME)
    text = str(err.value)
    assert "refused the login for ops@example.com" in text and "HTTP 401" in text and "check the username" in text
    assert "wrong-password" not in text and CREDS["client_secret"] not in text


async def test_base_path_is_kept_for_the_token_endpoints(clock):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith(api.LOGIN):
            return httpx.Response(200, json={"access_token": "a", "refresh_token": "r", "expires_in": "3600"})
        return httpx.Response(200, json={})

    auth = DebriefAuth(CREDS, base_path="/management/", clock=clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth,
                                 base_url="https://api.example.com/management") as http:
        await http.get("/user/me")
    assert seen == ["/management/login", "/management/user/me"]


async def test_tokens_never_appear_in_logs_or_repr(clock, caplog):
    emu, auth = DebriefEmulator(token_lifetime=10, clock=clock), DebriefAuth(CREDS, clock=clock)
    caplog.set_level(logging.DEBUG)
    http = open_client("http://debrief.test", inner=emu.transport(), auth=auth)
    async with http:
        await http.get(api.ME)
        clock.now += 20
        await http.get(api.ME)
    secrets = [*emu.tokens, *emu.refresh_tokens, CREDS["password"], CREDS["client_secret"]]
    assert secrets and not [s for s in secrets if s in caplog.text or s in repr(auth)]


async def test_the_emulators_request_log_keeps_no_password_or_token(clock):
    """/_emulator/log is served over HTTP by `sandbox serve`: even sandbox secrets stay out of it."""
    emu, auth = DebriefEmulator(token_lifetime=10, clock=clock), DebriefAuth(CREDS, clock=clock)
    async with client(emu, auth) as http:
        await http.get(api.ME)
        clock.now += 20
        await http.get(api.ME)
    logged = " ".join(f"{e.query} {e.body}" for e in emu.log)
    secrets = [*emu.refresh_tokens, CREDS["password"], CREDS["client_secret"]]
    assert '"password": "***"' in logged and not [s for s in secrets if s in logged]


def test_the_request_log_redacts_nested_secret_fields_and_secret_path_segments():
    from teamform.emulator import _redact_body
    assert _redact_body(b'{"a": [{"secret_key": "s1"}], "b": {"refresh_token": "t1"}, "c": 1}') == \
        '{"a": [{"secret_key": "***"}], "b": {"refresh_token": "***"}, "c": 1}'
    assert DebriefEmulator.secret_path.sub("***", "/invite/invite-u4/cancel") == "/invite/***/cancel"



async def test_invitation_tokens_in_paths_are_not_logged_with_v(caplog):
    caplog.set_level(logging.DEBUG, logger="teamform.http")
    emu = DebriefEmulator()
    async with open_client("http://debrief.test", inner=emu.transport(), secret_path=api.SECRET_PATH) as http:
        await http.post(api.INVITE_CANCEL.format(token="invite-u4"))
    assert "/invite/***/cancel" in caplog.text and "invite-u4" not in caplog.text
