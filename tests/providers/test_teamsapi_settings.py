"""The teamsapi section of the state file: located errors, env references, HTTPS, auth."""

import pytest

from teamform.config import ConfigError
from teamform.testing import load, make_plan
from teamform_teamsapi.emulator import TeamsApiEmulator

HEAD = """
version: 1
people:
  alice@example.com: {name: Alice Doe}
  bob@example.com: {name: Bob Roe}
services:
  ta:
    provider: teamsapi
"""


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(HEAD + text)
    return str(info.value)


def test_credentials_are_env_references_only():
    said = problems("    credentials: {token: s3cr3t-value}\n")
    assert "services.ta.credentials.token" in said and "env:NAME" in said and "s3cr3t-value" not in said


def test_base_url_must_be_https_off_loopback():
    assert "https://" in problems("    base_url: http://teams.example.com\n    credentials: {token: env:T}\n")
    load(HEAD + "    base_url: http://127.0.0.1:8080\n    credentials: {token: env:TA_TOKEN}\n")


def test_unknown_keys_and_people_are_located():
    said = problems("    teams:\n      Eng:\n        memebrs: []\n")
    assert "services.ta.teams.Eng" in said and "did you mean 'members'" in said
    said = problems("    teams:\n      Eng:\n        members: [{who: zed@example.com}]\n")
    assert "services.ta.teams.Eng.members[0].who" in said and "not in people" in said


def test_hand_over_excludes_members_and_must_name_a_person():
    said = problems("    teams:\n      Eng: {hand_over_to: bob@example.com, members: [{who: alice@example.com}]}\n")
    assert "hand_over_to or members" in said
    assert "not in people" in problems("    teams:\n      Eng: {hand_over_to: zed@example.com}\n")


def test_team_names_without_surrounding_spaces():
    assert "surrounding spaces" in problems("    teams:\n      ' Eng': {}\n")


async def test_a_rejected_token_aborts_the_plan_and_is_never_printed():
    config = load(HEAD + "    credentials: {token: env:TA_TOKEN}\n    teams: {}\n")
    emu = TeamsApiEmulator()
    plan = await make_plan(config, {"ta": emu}, environ={"TA_TOKEN": "wrong-token-value"})
    [error] = plan.errors
    assert "401" in error and "token" in error and "wrong-token-value" not in error
    assert not plan.operations
