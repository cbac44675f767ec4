"""The state file: every error is located (file:line:col and path) and says what is allowed."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from teamform import config as cfg
from teamform.config import ConfigError, resolve_credentials
from teamform.testing import load

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
version: 1
people:
  alice@example.com: {name: Alice Doe}
  bob@example.com: {name: Bob Roe}
groups:
  support: [bob@example.com]
  everyone: [alice@example.com, group:support]
services:
  krisp:
    provider: krisp
    credentials: {api_key: env:K_KEY, secret: env:K_SECRET}
    members:
      - {who: alice@example.com, role: Admin}
      - {who: group:support}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(text)
    return [str(p) for p in info.value.problems]


def test_a_good_file_loads_and_expands_nested_groups():
    config = load(GOOD)
    assert config.directory.expand("group:everyone") == ["alice@example.com", "bob@example.com"]
    assert config.services["krisp"].provider == "krisp"


def test_a_typo_in_a_key_names_line_column_path_and_the_allowed_keys():
    text = GOOD.replace("{who: group:support}", "{who: group:support, rol: User}")
    [problem] = problems(text)
    assert problem.startswith("teams.yaml:15:")
    assert "services.krisp.members[1].rol" in problem
    assert "unknown key 'rol' (did you mean 'role'?)" in problem
    assert "allowed: who, role" in problem


def test_an_email_not_in_people_is_an_error_with_a_suggestion():
    [problem] = problems(GOOD.replace("{who: alice@example.com, role: Admin}", "{who: alise@example.com}"))
    assert "teams.yaml:14:" in problem and "services.krisp.members[0].who" in problem
    assert "'alise@example.com' is not in people" in problem
    assert "did you mean 'alice@example.com'" in problem


def test_a_person_listed_twice_with_other_settings_is_located_before_any_service_is_read():
    text = GOOD.replace("      - {who: group:support}\n", "      - {who: group:support}\n      - {who: Alice@example.com}\n")
    [problem] = problems(text)
    assert problem.startswith("teams.yaml:16:9:") and "services.krisp.members[2]" in problem
    assert "alice@example.com is listed twice with different settings" in problem


def test_a_person_listed_twice_in_a_nested_list_is_located_too():
    text = (ROOT / "teams.example.yaml").read_text().replace(
        "          - {who: bob@example.com, role: admin}",
        "          - {who: bob@example.com, role: admin}\n          - {who: bob@example.com, role: admin}")
    [problem] = problems(text)
    assert "services.debrief.applications[1].users[1]" in problem and "listed twice" in problem


def test_two_groups_giving_one_person_different_settings_are_an_error():
    text = GOOD.replace("      - {who: group:support}\n",
                        "      - {who: group:support}\n      - {who: group:everyone, role: Admin}\n")
    [problem] = problems(text)
    assert "services.krisp.members[2]" in problem
    assert "bob@example.com is in group:support and in group:everyone with different settings" in problem


def test_a_direct_entry_overrides_the_same_person_reached_through_a_group():
    text = GOOD.replace("      - {who: group:support}\n", "      - {who: group:support}\n      - {who: bob@example.com, role: Admin}\n")
    assert load(text).services["krisp"].entry.members[2].role == "Admin"


def test_an_unknown_group_lists_the_groups_that_exist():
    [problem] = problems(GOOD.replace("{who: group:support}", "{who: group:suport}"))
    assert "group 'suport' does not exist (groups: everyone, support)" in problem


def test_people_compare_case_insensitively_for_duplicates():
    text = GOOD.replace("  bob@example.com: {name: Bob Roe}", "  bob@example.com: {name: Bob Roe}\n  Alice@Example.COM: {}")
    [problem] = problems(text)
    assert "teams.yaml:6:3: people.Alice@Example.COM: duplicate person" in problem


def test_an_invalid_role_says_what_is_allowed():
    [problem] = problems(GOOD.replace("role: Admin", "role: Owner"))
    assert "services.krisp.members[0].role: 'Owner' is not allowed; expected 'Admin' or 'User'" in problem


def test_an_unknown_provider_lists_installed_ones():
    [problem] = problems(GOOD.replace("provider: krisp", "provider: krips"))
    assert ("services.krisp.provider: unknown provider 'krips' (did you mean 'krisp'?); installed providers: "
            in problem)
    assert "krisp" in problem.split("installed providers: ")[1]


def test_a_duplicate_yaml_key_is_not_silently_overwritten():
    text = GOOD.replace("groups:", "groups:\n  support: [alice@example.com]")
    [problem] = problems(text)
    assert "duplicate key 'support'" in problem


def test_yaml_syntax_errors_are_located():
    [problem] = problems("version: 1\npeople: {a@b.com: {name: x}\n")
    assert problem.startswith("teams.yaml:3:") and "not valid YAML" in problem


def test_secrets_must_be_env_references():
    [problem] = problems(GOOD.replace("env:K_SECRET", "hunter2"))
    assert "services.krisp.credentials.secret" in problem and "env:NAME" in problem
    assert "hunter2" not in problem


def test_http_is_refused_off_loopback_and_allowed_on_it():
    text = GOOD.replace("    provider: krisp\n", "    provider: krisp\n    base_url: http://teams.krisp.ai\n")
    [problem] = problems(text)
    assert "must be an https:// URL" in problem
    load(text.replace("http://teams.krisp.ai", "http://127.0.0.1:8080"))


def test_a_missing_env_variable_at_run_time_is_located():
    config = load(GOOD)
    with pytest.raises(ConfigError) as info:
        resolve_credentials(config, config.services["krisp"], {"K_KEY": "x"})
    [problem] = [str(p) for p in info.value.problems]
    assert problem.startswith("teams.yaml:12:") and "environment variable K_SECRET is not set" in problem
    assert resolve_credentials(config, config.services["krisp"], {"K_KEY": "k", "K_SECRET": "s"}) == \
        {"api_key": "k", "secret": "s"}


def test_the_schema_is_valid_draft_7_and_accepts_the_example_file():
    schema = cfg.json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    assert "$defs" not in json.dumps(schema)
    example = yaml.safe_load((ROOT / "teams.example.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(example)
    bad = dict(example, services={"krisp": {"provider": "krisp", "members": [{"who": "a@b.co", "rol": "x"}]}})
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))


def test_the_committed_schema_is_current():
    """teams.example.yaml points editors at teamform.schema.json: regenerate it with
    `teamform schema > teamform.schema.json` when a model changes."""
    committed = json.loads((ROOT / "teamform.schema.json").read_text())
    assert committed == cfg.json_schema()


def test_a_group_that_contains_itself_is_one_located_error_wherever_it_is_used():
    text = GOOD.replace("  support: [bob@example.com]", "  support: [bob@example.com, group:support]")
    found = problems(text)
    assert any("groups.support" in p and "contains itself" in p for p in found)
    example = (ROOT / "teams.example.yaml").read_text().replace(
        "groups:\n", "groups:\n  loop: [alice@example.com, group:loop]\n", 1).replace(
        "      Engineering: {heads: [alice@example.com], members: [dave@example.com]}",
        "      Engineering: {heads: [alice@example.com], members: [dave@example.com, group:loop]}")
    assert any("groups.loop" in p and "contains itself" in p for p in problems(example))


HOSTILE_FILES = {
    "provider: [krisp]": ("services:\n  k:\n    provider: [krisp]\n", "services.k.provider: provider must be a name"),
    "a self-referencing alias": ("people: &p {a@example.com: *p}\n", "an alias refers to a node that contains it"),
    "an unreadable tag": ("groups: !!int x\n", "a value cannot be read"),
    "a tab in base_url": ('services:\n  k: {provider: krisp, base_url: "https://x\\t.example.com"}\n',
                          "services.k.base_url: a URL must not contain spaces"),
    "userinfo in base_url": ('services:\n  k: {provider: krisp, base_url: "https://u:hunter22@teams.krisp.ai"}\n',
                             "services.k.base_url: a URL must not carry a user or password"),
    "a path as service name": ("services:\n  ../../victim: {provider: krisp, sandbox: true}\n",
                               "service name '../../victim' is not allowed"),
    "an absolute path as service name": ("services:\n  /etc/passwd: {provider: krisp, sandbox: true}\n",
                                         "is not allowed"),
    "a rate that never lets a request through": (
        "services:\n  k: {provider: krisp, sandbox: true, limits: {requests_per_minute: 1e-9}}\n",
        "services.k.limits.requests_per_minute: Input should be greater than or equal to 1"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_state_files_get_a_located_error_not_a_traceback(name):
    body, expected = HOSTILE_FILES[name]
    with pytest.raises(ConfigError) as caught:
        load("version: 1\n" + body if not body.startswith("people") else "version: 1\n" + body)
    assert expected in str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_an_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(ConfigError) as caught:
        load("\n".join(lines) + "\nversion: 1\n")
    assert "alias bomb" in str(caught.value)


def test_a_modest_alias_for_shared_settings_is_fine():
    text = "\n".join([
        "version: 1",
        "people: {a@example.com: {}}",
        "services:",
        "  k1: {provider: krisp, sandbox: true, limits: &limits {requests_per_minute: 60, retries: 2},",
        "       members: [{who: a@example.com, role: Admin}]}",
        "  k2: {provider: krisp, sandbox: true, limits: *limits, members: [{who: a@example.com, role: Admin}]}",
    ])
    config = load(text + "\n")
    assert config.services["k2"].entry.limits.requests_per_minute == 60


def test_plain_and_quoted_scalars_read_as_pyyaml_reads_them_however_often_they_repeat():
    # the reader builds each distinct plain scalar once: the repeats must be the same values, of
    # the same types, as PyYAML's own loader gives (YAML 1.1: yes is true, 017 is 15, 1:30 is 90)
    scalars = ["yes", "No", "on", "~", "null", "", "017", "0x1F", "1_000", "1:30", ".inf", "1e3", "2025-06-30",
               "2025-06-30T12:00:00Z", "'yes'", '"12"', "owner", "p1@example.com", "!!str 5", "!!int '7'", "! 5"]
    text = "".join(f"k{i}: [{s}, {s}]\n{s if not s.startswith(('!', chr(39), chr(34))) else f'x{i}'}x: {s}\n"
                   for i, s in enumerate(scalars) if s)
    text += "".join(f"e{i}: {s}\n" for i, s in enumerate(scalars))

    def typed(value):
        if isinstance(value, dict):
            return [(typed(k), typed(v)) for k, v in value.items()]
        if isinstance(value, list):
            return [typed(v) for v in value]
        return type(value).__name__, repr(value)

    assert typed(cfg.loader.load_text(text).data) == typed(yaml.load(text, Loader=yaml.SafeLoader))


def test_a_string_repeated_in_the_file_is_held_once_quoted_or_not():
    # a roster names each person in every service: one string each, not one per mention
    data = cfg.loader.load_text("a: p1@example.com\nb: ['p1@example.com', \"p1@example.com\"]\n"
                                "c: [p1@example.com]\n").data
    assert data["a"] is data["b"][0] is data["b"][1] is data["c"][0]


def test_the_cycle_collector_runs_again_after_a_load_good_or_refused():
    import gc

    load(GOOD)
    assert gc.isenabled()
    with pytest.raises(ConfigError):
        load(GOOD.replace("role: Admin", "role: Owner"))
    assert gc.isenabled()
    gc.disable()
    try:
        load(GOOD)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_an_error_in_a_later_service_is_located_after_the_earlier_ones_are_dropped():
    # each service's raw entries are dropped once built; a later error's position is read again
    # from the text
    text = GOOD + "  crankwheel:\n    provider: crankwheel\n    credentials: {api_key: env:C}\n" \
                  "    members:\n      - {who: alice@example.com, privilege: boss}\n"
    [problem] = problems(text)
    line = text.splitlines().index("      - {who: alice@example.com, privilege: boss}") + 1
    assert problem.startswith(f"teams.yaml:{line}:") and "services.crankwheel.members[0].privilege" in problem


def test_entries_given_the_same_keys_share_one_fields_set_and_each_still_changes_alone():
    # the fields set (model_fields_set) is shared to hold a large roster compactly; what is set
    # later, by assignment or model_copy, is the changed entry's alone
    import copy

    text = GOOD.replace("{who: group:support}", "{who: bob@example.com, role: User}")
    alice, bob = load(text).services["krisp"].entry.members
    assert alice.model_fields_set == bob.model_fields_set == {"who", "role"}
    assert alice.__pydantic_fields_set__ is bob.__pydantic_fields_set__
    bob.seat = "device"
    assert bob.model_fields_set == {"who", "role", "seat"} and alice.model_fields_set == {"who", "role"}
    renamed = alice.model_copy(update={"nickname": "Al"})
    assert renamed.model_fields_set == {"who", "role", "nickname"} and alice.model_fields_set == {"who", "role"}
    deep = alice.model_copy(update={"nickname": "Al"}, deep=True)
    assert deep.model_fields_set == {"who", "role", "nickname"} and alice.model_fields_set == {"who", "role"}
    plain = copy.copy(alice)
    plain.nickname = "A"
    assert alice.model_fields_set == {"who", "role"} and alice.nickname is None
    assert alice.model_dump(exclude_unset=True) == {"who": "alice@example.com", "role": "Admin"}


def test_on_a_day_the_directory_leaves_out_who_is_gone_however_they_are_spelt():
    import datetime as dt

    text = GOOD.replace("bob@example.com: {name: Bob Roe}", "bob@example.com: {name: Bob Roe, offboarded: 2025-03-01}")
    directory = load(text).directory
    assert directory.expand("group:everyone") == ["alice@example.com", "bob@example.com"]  # no day: everyone
    before, after = directory.as_of(dt.date(2025, 2, 28)), directory.as_of(dt.date(2025, 3, 1))
    assert before.expand("group:everyone") == ["alice@example.com", "bob@example.com"]
    assert after.expand("group:everyone") == ["alice@example.com"]
    assert after.expand("Bob@Example.com") == [] and after.expand("alice@example.com") == ["alice@example.com"]
    assert after.gone(" BOB@example.com") == (dt.date(2025, 3, 1), "offboarded on 2025-03-01")
    assert after.gone("alice@example.com") is None and before.gone("bob@example.com") is None


def test_a_groups_expansion_is_the_callers_own_list():
    directory = load(GOOD).directory
    first = directory.expand("group:everyone")
    first.append("someone@example.com")
    assert directory.expand("group:everyone") == ["alice@example.com", "bob@example.com"]
