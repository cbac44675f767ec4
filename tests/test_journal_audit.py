"""The audit journal: one JSON line per apply, with CI context, and never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from teamform import journal as J
from teamform.cli import cli
from teamform.engine import Session
from teamform.render import render_json
from teamform.testing import load, no_sleep
from teamform_krisp.emulator import KrispEmulator

SECRET_KEY = "sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRET = "shh-Very-Secret-Value-0123456789"

FILE = """
version: 1
people:
  alice@example.com: {name: Alice}
  erin@example.com: {name: Erin}
services:
  krisp:
    provider: krisp
    base_url: http://127.0.0.1
    credentials: {api_key: env:KRISP_API_KEY, secret: env:KRISP_SECRET}
    policy: {max_removals: 100%}
    members:
      - {who: alice@example.com, role: Admin}
      - {who: erin@example.com}
"""


def github_env(tmp_path: Path, event: dict) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_REF": "refs/heads/main", "GITHUB_REPOSITORY": "acme/roster", "GITHUB_RUN_ID": "99",
            "GITHUB_EVENT_PATH": str(path), "GITHUB_TOKEN": "ghs_should_never_be_written"}


async def test_apply_with_real_credentials_writes_no_secret(tmp_path):
    """Not the sandbox: the credentials come from the environment, and the emulator demands them."""
    state = KrispEmulator().seed()
    state["credentials"] = {"api_key": SECRET_KEY, "secret": SECRET}
    emulator = KrispEmulator(state)
    environ = {"KRISP_API_KEY": SECRET_KEY, "KRISP_SECRET": SECRET}
    config = load(FILE)
    async with Session(config, emulators={"krisp": emulator}, environ=environ, sleep=no_sleep) as session:
        plan, _ = await session.make_plan()
        assert not plan.errors and plan.has_changes
        (tmp_path / "plan.json").write_text(render_json(plan))
        report = await session.apply(plan)
        secrets = [v for p in session.providers.values() for v in p.ctx.credentials.values()]
    assert SECRET in secrets and report.ok
    env = github_env(tmp_path, {"pull_request": {"number": 12, "user": {"login": "author"}}})
    entry = J.entry(plan, report, secrets=secrets, environ={**env, **environ})
    journal = J.append(tmp_path / "journal.jsonl", entry)
    for path in (journal, tmp_path / "plan.json"):
        text = path.read_text()
        for secret in (SECRET_KEY, SECRET, "ghs_should_never_be_written"):
            assert secret not in text, f"{secret} leaked into {path.name}"
    assert entry["ci"]["sha"].startswith("0123456789ab") and entry["ci"]["pull_request"]["number"] == 12


def test_an_error_message_carrying_a_credential_is_masked(tmp_path):
    from teamform.apply import Report, Result
    from teamform.plan.ops import Plan

    report = Report([Result("x", "krisp", "create", "member[x]", "failed", f"401 for key {SECRET_KEY}")])
    entry = J.entry(Plan(), report, secrets=[SECRET_KEY], environ={})
    assert SECRET_KEY not in json.dumps(entry) and "***" in entry["operations"][0]["message"]
    assert entry["ci"] is None


def test_cli_apply_appends_an_entry_naming_commit_pr_and_approvers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE.replace("base_url: http://127.0.0.1", "sandbox: true"))
    env = github_env(tmp_path, {"pull_request": {"number": 7, "user": {"login": "author"},
                                                 "merged_by": {"login": "lead"}},
                                "reviews": [{"user": {"login": "reviewer1"}, "state": "APPROVED"},
                                            {"user": {"login": "reviewer2"}, "state": "CHANGES_REQUESTED"}]})
    env.update(KRISP_API_KEY=SECRET_KEY, KRISP_SECRET=SECRET)
    runner = CliRunner()
    assert runner.invoke(cli, ["plan", "--out", "plan.json"], env=env).exit_code == 0
    result = runner.invoke(cli, ["apply", "plan.json"], env=env)
    assert result.exit_code == 0, result.output
    journal = Path(".teamform/journal.jsonl")
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(entries) == 1
    e = entries[0]
    assert e["ok"] and e["plan_hash"] and e["saved_plan"] == "plan.json" and e["plan_file_sha256"]
    assert {op["status"] for op in e["operations"]} == {"done"}
    assert all(op["seconds"] >= 0 and op["attempts"] >= 1 for op in e["operations"])
    assert e["ci"]["sha"] == env["GITHUB_SHA"] and e["ci"]["ref"] == "refs/heads/main"
    assert e["ci"]["pull_request"] == {"number": 7, "author": "author", "merged_by": "lead", "source": "event"}
    assert e["ci"]["approvers"] == ["reviewer1"] and e["ci"]["approvers_source"] == "event"
    for path in (journal, Path("plan.json")):
        assert SECRET not in path.read_text() and SECRET_KEY not in path.read_text()
        assert "ghs_should_never_be_written" not in path.read_text()

    shown = runner.invoke(cli, ["journal", "-v"])
    assert "commit 0123456789ab on refs/heads/main, PR #7, approved by reviewer1" in shown.output
    assert "krisp:member[erin@example.com]:create" in shown.output
    markdown = runner.invoke(cli, ["journal", "--markdown", "-n", "1"])
    assert "teamform apply succeeded" in markdown.output and "@example" not in markdown.output.replace("&#64;", "")


def test_push_event_without_pull_request_says_approvers_are_not_available(tmp_path):
    env = github_env(tmp_path, {"head_commit": {"id": "abc"}})
    ci = J.ci_context(env)
    assert "pull_request" not in ci and ci["approvers"] is None
    assert ci["approvers_source"] == "not available in this CI event"
    ci = J.ci_context({**env, "TEAMFORM_PR_NUMBER": "31", "TEAMFORM_APPROVERS": "ann, bo,bad name!"})
    assert ci["pull_request"]["number"] == 31 and ci["approvers"] == ["ann", "bo"]


def test_second_apply_appends_and_a_torn_line_is_skipped(tmp_path):
    path = tmp_path / "j.jsonl"
    J.append(path, {"ok": True, "n": 1})
    with path.open("a") as fh:
        fh.write('{"torn": \n')
    J.append(path, {"ok": False, "n": 2})
    assert [e["n"] for e in J.read(path)] == [1, 2]
    assert [e["n"] for e in J.read(path, last=1)] == [2]


@pytest.mark.parametrize("value", ["-"])
def test_journal_can_be_turned_off(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE.replace("base_url: http://127.0.0.1", "sandbox: true"))
    result = CliRunner().invoke(cli, ["apply", "--auto-approve", "--journal", value])
    assert result.exit_code == 0, result.output
    assert not Path(".teamform/journal.jsonl").exists()
