"""The command line, as a user runs it, against the sandbox in a temporary directory."""

import json

import pytest
from click.testing import CliRunner

from teamform.cli import cli

FILE = """\
version: 1
people:
  alice@example.com: {name: Alice Doe}
  bob@example.com: {name: Bob Roe}
  carol@example.com: {name: Carol Poe}
  dave@example.com: {name: Dave Loe}
  erin@example.com: {name: Erin Moe}
groups:
  support: [bob@example.com, carol@example.com]
services:
  krisp:
    provider: krisp
    sandbox: true
    credentials: {api_key: env:KRISP_API_KEY, secret: env:KRISP_SECRET}
    policy: {max_removals: 2}
    seats: {standard: 6}
    members:
      - {who: alice@example.com, role: Admin, nickname: Alice}
      - {who: group:support}
      - {who: dave@example.com, role: Admin}
      - {who: Erin@Example.com}
"""


@pytest.fixture
def tf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(FILE)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


def test_plan_apply_plan_round_trip(tf):
    first = tf("plan", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "+ member[erin@example.com] will be created" in first.output
    assert "- member[mallory@example.com] will be removed" in first.output
    assert '~ member[dave@example.com] will be updated in place' in first.output
    assert "Plan: 1 to add, 2 to change, 1 to remove, 0 to replace." in first.output
    applied = tf("apply", "--auto-approve")
    assert applied.exit_code == 0 and "Apply complete: 4 done, 0 failed, 0 skipped" in applied.output
    again = tf("plan", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.output


def test_apply_needs_confirmation_outside_a_terminal(tf):
    result = tf("apply")
    assert result.exit_code == 1 and "--auto-approve" in result.output
    assert tf("plan", "--detailed-exitcode").exit_code == 2


def test_json_plan_and_saved_plan_apply(tf, tmp_path):
    result = tf("plan", "--format", "json", "--out", "plan.json")
    data = json.loads(result.stdout)
    assert data["format_version"] == 2 and data["summary"]["create"] == 1
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["state_hash"] and saved["services"][0]["live_fingerprint"]
    applied = tf("apply", "plan.json")
    assert applied.exit_code == 0 and "4 done" in applied.output


def test_a_saved_plan_is_refused_after_live_state_changed(tf, tmp_path):
    assert tf("plan", "--out", "plan.json").exit_code == 0
    store = tmp_path / ".teamform" / "sandbox" / "krisp.json"
    state = json.loads(store.read_text())
    state["seats"][3]["role"] = "Admin"  # someone promoted Dave by hand
    store.write_text(json.dumps(state))
    result = tf("apply", "plan.json")
    assert result.exit_code == 1 and "plan is stale" in result.output and "member[dave@example.com]" in result.output
    assert json.loads(store.read_text())["seats"][4]["user"]["email"] == "mallory@example.com"


def test_a_saved_plan_is_refused_when_the_file_changed(tf, tmp_path):
    assert tf("plan", "--out", "plan.json").exit_code == 0
    (tmp_path / "teams.yaml").write_text(FILE.replace("seats: {standard: 6}", "seats: {standard: 7}"))
    result = tf("apply", "plan.json")
    assert result.exit_code == 1 and "different version" in result.output


def test_markdown_format(tf):
    result = tf("plan", "--format", "markdown")
    assert result.exit_code == 0 and "<!-- teamform-plan -->" in result.output


def test_bad_input_is_one_clear_error_and_no_traceback(tf, tmp_path):
    (tmp_path / "teams.yaml").write_text(FILE.replace("{who: dave@example.com, role: Admin}",
                                                      "{who: dave@example.com, rol: Admin}"))
    result = tf("plan")
    assert result.exit_code == 1
    assert "teams.yaml:20:" in result.output and "unknown key 'rol'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / ".teamform").exists(), "nothing was read or changed"


def test_missing_env_variable_outside_the_sandbox(tf, tmp_path, monkeypatch):
    monkeypatch.delenv("KRISP_SECRET", raising=False)
    monkeypatch.setenv("KRISP_API_KEY", "k")
    (tmp_path / "teams.yaml").write_text(FILE.replace("    sandbox: true\n", ""))
    result = tf("plan")
    assert result.exit_code == 1
    assert "teams.yaml:13:" in result.output and "KRISP_SECRET is not set" in result.output


def test_validate_schema_providers_and_sandbox_reset(tf, tmp_path):
    assert "valid (5 people, 1 groups, 1 services)" in tf("validate").output
    schema = json.loads(tf("schema").output)
    assert schema["$schema"].startswith("http://json-schema.org/draft-07")
    assert "krisp" in tf("providers").output
    tf("apply", "--auto-approve")
    assert "Reset" in tf("sandbox", "reset").output
    assert tf("plan", "--detailed-exitcode").exit_code == 2


def test_unknown_service_selection(tf):
    result = tf("plan", "--service", "nope")
    assert result.exit_code == 1 and "no such service" in result.output


def test_a_saved_plan_of_several_services_applies_only_the_one_asked_for(tmp_path, monkeypatch, example_text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(example_text)
    runner = CliRunner()
    assert runner.invoke(cli, ["plan", "--out", "plan.json"]).exit_code == 0
    applied = runner.invoke(cli, ["apply", "plan.json", "--service", "krisp"])
    assert applied.exit_code == 0, applied.output
    assert "stale" not in applied.output and "crankwheel" not in applied.output
    after = json.loads(runner.invoke(cli, ["plan", "--format", "json"]).stdout)
    left = {s["name"] for s in after["services"] if s["operations"]}
    assert "krisp" not in left and "crankwheel" in left
    refused = runner.invoke(cli, ["apply", "plan.json", "--service", "nope"])
    assert refused.exit_code == 1 and "has no service nope" in refused.output


def test_a_sandbox_service_moved_to_another_provider_gets_that_providers_emulator(tf, tmp_path):
    assert tf("plan").exit_code == 0  # creates the krisp sandbox
    (tmp_path / "teams.yaml").write_text("version: 1\npeople:\n  alice@example.com: {}\nservices:\n"
                                         "  krisp:\n    provider: crankwheel\n    sandbox: true\n"
                                         "    members: [{who: alice@example.com, privilege: owner}]\n")
    result = tf("plan", "--allow-mass-removal")
    assert result.exit_code == 0 and "user[mallory@example.com] will be removed" in result.output
    other = tmp_path / ".teamform" / "sandbox" / "krisp.eu.krisp.json"  # the store of a service "krisp.eu"
    other.write_text("{}")
    assert tf("sandbox", "reset", "--service", "krisp").exit_code == 0
    assert [p.name for p in (tmp_path / ".teamform" / "sandbox").glob("krisp*.json")] == [other.name]


def test_a_refused_apply_is_journaled_with_its_reason(tf, tmp_path):
    (tmp_path / "teams.yaml").write_text(FILE.replace("role: Admin, nickname: Alice", "role: User, nickname: Alice")
                                         .replace("{who: dave@example.com, role: Admin}", "{who: dave@example.com}"))
    result = tf("apply", "--auto-approve", "--journal", "j.jsonl")
    assert result.exit_code == 1 and "nothing was applied" in result.output
    assert tf("apply", "missing-plan.json", "--journal", "j.jsonl").exit_code == 1
    first, second = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert first["outcome"] == "refused" and "at least one Admin" in first["reason"] and first["services"] == ["krisp"]
    assert second["outcome"] == "refused" and "no such plan file" in second["reason"]
    assert "refused" in tf("journal", "--journal", "j.jsonl").output
    assert first["reason"].count("at least one Admin") == 1


def test_an_apply_with_nothing_to_do_is_journaled_too(tf, tmp_path):
    assert tf("apply", "--auto-approve", "--journal", "j.jsonl").exit_code == 0
    again = tf("apply", "--auto-approve", "--journal", "j.jsonl")
    assert again.exit_code == 0 and "No changes" in again.output
    from teamform import journal as J

    entries = J.read(tmp_path / "j.jsonl")
    assert len(entries) == 2 and entries[1]["ok"] and entries[1]["operations"] == []


def test_allow_stale_unrelated_skips_a_service_that_cannot_be_read_and_applies_the_rest(tmp_path, monkeypatch,
                                                                                        example_text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(example_text)
    runner = CliRunner()
    assert runner.invoke(cli, ["plan", "--out", "plan.json"]).exit_code == 0
    store = tmp_path / ".teamform" / "sandbox" / "workdrive.json"
    state = json.loads(store.read_text())
    state["api_key"] = "rotated"  # WorkDrive now refuses teamform's key
    store.write_text(json.dumps(state))
    result = runner.invoke(cli, ["apply", "plan.json", "--allow-stale-unrelated"])
    assert result.exit_code == 1
    assert "skipped (stale): workdrive:" in result.output and "✓ krisp:" in result.output
    assert "workdrive cannot be planned now, so none of its operations run: could not read live state" in result.output


def test_sandbox_reset_refuses_a_path_as_a_service_name(tf, tmp_path):
    (tmp_path / ".teamform" / "sandbox").mkdir(parents=True)
    victim = tmp_path / "victim.json"
    victim.write_text("{}")
    result = tf("sandbox", "reset", "--service", "../../victim")
    assert result.exit_code == 1 and "is not allowed" in result.output
    assert victim.exists()


def test_a_service_that_cannot_be_read_does_not_stop_the_others_apply(tmp_path, monkeypatch, example_text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(example_text)
    runner = CliRunner()
    assert runner.invoke(cli, ["plan"]).exit_code == 0  # creates the sandbox stores
    store = tmp_path / ".teamform" / "sandbox" / "workdrive.json"
    state = json.loads(store.read_text())
    state["api_key"] = "rotated"  # WorkDrive now refuses teamform's key
    store.write_text(json.dumps(state))
    result = runner.invoke(cli, ["apply", "--auto-approve", "--journal", "j.jsonl"])
    assert result.exit_code == 1, "an unread service is still a failure to report"
    assert "✓ krisp:" in result.output and "nothing was applied" not in result.output
    assert "Not applied, because their live state could not be read: workdrive" in result.output
    again = runner.invoke(cli, ["plan", "--service", "krisp", "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
