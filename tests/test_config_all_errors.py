"""One run of `teamform validate` reports every located error in the file, top to bottom: an
unknown key does not hide the errors beside and below it, nor do errors in people hide the
services'. A misspelt service or provider name gets the likely one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from teamform.cli import cli
from teamform.config import ConfigError
from teamform.testing import load

FILE = """\
version: 1
people:
  alice@example.com: {name: Alice Doe}
services:
  krisp:
    provider: krisp
    sandbox: true
    seatz: {standard: 2}
    members:
      - {who: alice@example.com, role: Admn, colour: red}
      - {who: bob@example.com}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(text)
    return [str(p) for p in info.value.problems]


def test_an_unknown_service_key_does_not_hide_the_errors_under_its_siblings():
    assert problems(FILE) == [
        "teams.yaml:8:5: services.krisp.seatz: unknown key 'seatz' (did you mean 'seats'?); allowed: base_url, "
        "limits, api_version, seats, members, provider, sandbox, credentials, policy",
        "teams.yaml:10:40: services.krisp.members[0].role: 'Admn' is not allowed; expected 'Admin' or 'User'",
        "teams.yaml:10:46: services.krisp.members[0].colour: unknown key 'colour'; allowed: who, role, seat, nickname",
        "teams.yaml:11:15: services.krisp.members[1].who: 'bob@example.com' is not in people; add it to people "
        "or fix the spelling. To offboard someone, keep their entry and add offboarded: YYYY-MM-DD to it "
        "(deleting the entry is not enough)",
    ]


def test_a_misspelt_required_key_is_one_error_not_two():
    text = ("version: 1\nservices:\n  wd:\n    provider: workdrive\n    sandbox: true\n"
            "    base_ur: https://example.workdrive.example/api\n    limits: {retries: 1, timout: 3}\n")
    found = problems(text)
    assert len(found) == 2, found
    assert found[0].startswith("teams.yaml:6:5: services.wd.base_ur: unknown key 'base_ur' (did you mean 'base_url'?)")
    assert found[1].startswith("teams.yaml:7:26: services.wd.limits.timout: unknown key 'timout' (did you mean 'timeout'?)")


def test_errors_in_people_do_not_hide_the_services_errors():
    text = FILE.replace("  alice@example.com: {name: Alice Doe}\n",
                        "  alice@example.com: {nme: Alice Doe}\n  carol@example: {}\n")
    found = problems(text)
    assert any(p.startswith("teams.yaml:3:23: people.alice@example.com.nme: unknown key 'nme'") for p in found), found
    assert any("people.carol@example: 'carol@example' is not an email address" in p for p in found), found
    assert any("services.krisp.seatz" in p for p in found) and any("members[0].role" in p for p in found), found
    assert not any("'alice@example.com' is not in people" in p for p in found), "a person with bad fields is still listed"
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines), "in file order"


def test_an_unknown_provider_gets_the_likely_one():
    [problem] = problems(FILE.replace("provider: krisp", "provider: krsip").replace("seatz", "seats")
                         .replace("role: Admn, colour: red", "role: Admin").replace("bob@", "alice@"))
    assert "unknown provider 'krsip' (did you mean 'krisp'?)" in problem


def test_a_misspelt_service_name_gets_the_likely_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(
        "version: 1\nservices:\n  krisp:\n    provider: krisp\n    sandbox: true\n")
    result = CliRunner().invoke(cli, ["plan", "--service", "krsp"])
    assert result.exit_code == 1
    assert "--service krsp: no such service in teams.yaml; did you mean krisp?" in result.output


def test_credentials_are_checked_even_when_the_section_has_other_errors():
    text = FILE.replace("    sandbox: true\n", "    credentials: {api_key: env:K, secrett: env:S}\n")
    found = problems(text)
    assert any("services.krisp.credentials.secrett: unknown credential 'secrett'; krisp takes: api_key, secret" in p
               for p in found), found
    assert any("services.krisp.credentials: credential 'secret' is missing" in p for p in found), found
    assert any("services.krisp.seatz" in p for p in found) and any("members[0].role" in p for p in found), found
