"""The SCIM sandbox through the CLI, as the README shows it: the example's scim service plans,
applies and then plans empty against scim2-server with its state under .teamform/sandbox/;
two SCIM services in one file keep two stores."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from teamform.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args), env={"TEAMFORM_JOURNAL": "journal.jsonl"})


def test_the_example_plans_applies_and_then_plans_empty(tmp_path, monkeypatch, example_text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(example_text)
    plan = run("plan", "--service", "scim", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    for line in ("+ user[carol@example.com] will be created", "~ user[dave@example.com] will be updated in place",
                 'last_name: "Low" → "Loe"', "+ group[Support] will be created",
                 "~ user[trent@example.com] will be suspended (active: false): offboarded on 2025-03-31",
                 "~ user[grace.hill@old.example → grace@example.com] will be renamed in place",
                 "- group[Contractors] will be removed", "- member[trent@example.com in Engineering] will be removed"):
        assert line in plan.output, plan.output
    assert "peggy" not in plan.output  # left earlier, already deactivated: nothing to do
    applied = run("apply", "--service", "scim", "--auto-approve")
    assert applied.exit_code == 0 and "0 failed" in applied.output, applied.output
    again = run("plan", "--service", "scim", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    store = json.loads((tmp_path / ".teamform" / "sandbox" / "scim.json").read_text())
    trent = next(u for u in store["Users"] if u["userName"] == "trent@example.com")
    assert trent["active"] is False and {g["displayName"] for g in store["Groups"]} == {"Engineering", "Support"}
    assert run("sandbox", "reset", "--service", "scim").exit_code == 0
    assert run("plan", "--service", "scim", "--detailed-exitcode").exit_code == 2


def test_two_scim_sandbox_services_keep_their_own_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    people = {f"{p}@example.com": {"name": f"{p.title()} Example"} for p in ("alice", "bob", "carol")}
    scim = {"provider": "scim", "sandbox": True, "credentials": {"token": "env:X"}}
    doc = {"version": 1, "people": people, "services": {
        "zoom": {**scim, "base_url": "https://zoom.example/scim/v2", "users": [{"who": "alice@example.com"}],
                 "policy": {"max_removals": 10}},
        "slack": {**scim, "base_url": "https://slack.example/scim/v2", "user_name": "{local}",
                  "policy": {"max_removals": 10},
                  "users": [{"who": "bob@example.com"}], "groups": {"Support": ["bob@example.com"]}}}}
    (tmp_path / "teams.yaml").write_text(yaml.safe_dump(doc))
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert run("plan", "--detailed-exitcode").exit_code == 0
    zoom, slack = (json.loads((tmp_path / ".teamform" / "sandbox" / f"{n}.scim.json").read_text())
                   for n in ("zoom", "slack"))
    active = {n: {u["userName"]: u["active"] for u in store["Users"]} for n, store in (("zoom", zoom), ("slack", slack))}
    # each started from the seed; each went its own way
    assert active["zoom"]["Alice@Example.com"] is True and active["zoom"]["bob@example.com"] is False
    assert active["slack"]["bob"] is True and "bob@example.com" not in active["slack"]
    assert not zoom["Groups"] and [g["displayName"] for g in slack["Groups"]] == ["Support"]
