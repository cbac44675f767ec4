"""The CrankWheel section of the state file: validated with located errors; usage is not state."""

import pytest

from teamform.config import ConfigError
from teamform.session import Session
from teamform.testing import load, make_plan, no_sleep
from teamform_crankwheel import CrankWheelProvider, api
from teamform_crankwheel.emulator import CrankWheelEmulator

CREDS = "    credentials: {api_key: env:CRANKWHEEL_API_KEY}"


def state_file(service: str) -> str:
    return f"""
version: 1
people:
  alice@example.com: {{name: Alice}}
services:
  cw:
    provider: crankwheel
{service}
"""


def problems(service: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(state_file(service))
    return str(info.value)


def test_an_unknown_privilege_is_a_located_error_naming_the_allowed_ones():
    text = problems("    sandbox: true\n    members:\n      - {who: alice@example.com, privilege: superuser}")
    assert text.startswith("teams.yaml:10:45: services.cw.members[0].privilege: 'superuser' is not allowed")
    assert "'user', 'admin', 'owner' or 'reporting'" in text


def test_credentials_are_env_references_only():
    text = problems("    credentials: {api_key: abc123}\n    members: []")
    assert "env:NAME" in text and "abc123" not in text


def test_plain_http_is_refused_off_loopback():
    assert "https://" in problems(f"{CREDS}\n    base_url: http://meeting.is/ss/api\n    members: []")
    load(state_file(f"{CREDS}\n    base_url: http://127.0.0.1:8080/ss/api\n    members: []"))


def test_defaults_are_the_documented_https_base_and_onboarding_on():
    config = load(state_file(f"{CREDS}\n    members: [{{who: alice@example.com}}]"))
    entry = config.services["cw"].entry
    assert entry.base_url == api.DEFAULT_BASE_URL.rstrip("/") and entry.base_url.startswith("https://")
    assert entry.send_onboarding_email is True
    assert entry.members[0].privilege == "user" and entry.members[0].in_demo_pool is None


def test_unknown_keys_get_a_suggestion():
    assert "did you mean 'send_onboarding_email'" in problems("    send_onboarding_emails: true\n    members: []")


def test_the_owner_ranks_highest_so_losing_it_is_a_demotion():
    [spec] = CrankWheelProvider.kinds
    assert spec.role_rank[-1] == "owner" and spec.rank({"privilege": "admin"}) < spec.rank({"privilege": "owner"})


async def test_usage_is_never_read_for_a_plan_but_is_available_per_person():
    emu = CrankWheelEmulator()
    config = load(state_file("    sandbox: true\n    members: [{who: alice@example.com, privilege: owner}]"))
    await make_plan(config, {"cw": emu}, allow_mass_removal=True)
    assert not emu.calls("GET", "usage")
    async with Session(config, emulators={"cw": emu}, sleep=no_sleep) as session:
        usage = await session.providers["cw"].usage(0, 2_000_000_000)
    assert usage == {"alice@example.com": {"meetings": 2, "seconds": 2100},
                     "bob@example.com": {"meetings": 1, "seconds": 600}}


async def test_export_describes_live_so_that_the_next_plan_is_empty():
    emu = CrankWheelEmulator()
    people = "\n".join(f"  {u['email']}: {{}}" for u in emu.state["users"])
    async with Session(load(state_file("    sandbox: true\n    members: []")), emulators={"cw": emu},
                       sleep=no_sleep) as session:
        section = session.providers["cw"].export(await session.providers["cw"].fetch())
    members = "\n".join(f"      - {m}".replace("'", "") for m in section["members"])
    text = f"version: 1\npeople:\n{people}\nservices:\n  cw:\n    provider: crankwheel\n    sandbox: true\n" \
           f"    members:\n{members}\n"
    plan = await make_plan(load(text), {"cw": emu})
    assert not plan.errors and plan.operations == []
    assert {"who": "dave@example.com", "privilege": "reporting", "in_demo_pool": True} in section["members"]
