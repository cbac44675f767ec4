"""Readable output: within a service, changes are listed by address (kind, then name) as Terraform
lists resources, while the plan applies in dependency order; the apply's final report keeps each
service's lines together; the journal shows names with the case the plan showed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from teamform.apply import Report, Result
from teamform.cli import cli
from teamform.render.markdown import esc
from teamform.render.text import render_report

EXAMPLE = Path(__file__).resolve().parent.parent / "teams.example.yaml"


def only(*services: str) -> str:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["services"] = {n: s for n, s in doc["services"].items() if n in services}
    return yaml.safe_dump(doc, sort_keys=False)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), env={"TEAMFORM_JOURNAL": "journal.jsonl"})


def _natural(address: str):
    import re

    return tuple(int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", address))


def test_plan_lists_by_address_but_applies_in_dependency_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(only("krisp", "workdrive"))
    text = invoke("plan").output
    planned = json.loads(invoke("plan", "--format", "json").output)
    for service in planned["services"]:
        block = text.split(f"{service['name']} ({service['provider']})\n", 1)[1].split("\n\n", 1)[0]
        shown = [line.split()[1] for line in block.splitlines() if line[:4].strip()[:1] in ("+", "~", "-")]
        assert shown == sorted(shown, key=lambda a: (a.split("[")[0], _natural(a))), block
        labels = [op["id"].split(":")[1] for op in service["operations"]]
        assert sorted(map(str.casefold, shown)) == sorted(map(str.casefold, labels))
        if service["name"] == "krisp":
            # the seat is added before the new member who needs it: the plan file keeps that order
            assert labels.index("seats[standard]") < labels.index("member[erin@example.com]"), labels
            assert shown[-1] == "seats[standard]" and shown != labels, (labels, shown)


def test_markdown_lists_by_address_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(only("krisp"))
    md = invoke("plan", "--format", "markdown").output
    block = md.split("<details>", 1)[1].split("```diff\n", 1)[1].split("```", 1)[0]
    heads = [line.split()[1] for line in block.splitlines() if line.split() and "[" in line.split()[1]
             and line.split()[1].split("[")[0].isidentifier() and " will be " in line or " must be " in line]
    assert heads == sorted(heads, key=lambda a: (a.split("[")[0], _natural(a))), block
    assert heads, block


def test_the_final_report_keeps_each_services_lines_together():
    report = Report([
        Result("krisp:member[a@example.com]:create", "krisp", "create", "member[a@example.com]", "failed", "402"),
        Result("teamsapi:member[T/b@example.com]:create", "teamsapi", "create", "member[T/b@example.com]", "failed", "500"),
        Result("krisp:member[c@example.com]:create", "krisp", "create", "member[c@example.com]", "failed", "402"),
    ])
    lines = render_report(report).splitlines()
    assert [line.split()[1].split(":")[0] for line in lines[:3]] == ["krisp", "krisp", "teamsapi"], lines


def test_the_journal_shows_names_as_the_plan_did(tmp_path, monkeypatch):
    """Teams API holds Bob as Bob@Example.com: the plan says so, and so does the journal (its ids,
    which resuming matches on, have keys lower-cased)."""
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(only("teamsapi"))
    assert "member[Engineering/Bob@Example.com]" in invoke("plan").output
    applied = invoke("apply", "--auto-approve", "--allow-mass-removal")
    assert applied.exit_code == 0, applied.output
    shown = invoke("journal", "-v", "--journal", "journal.jsonl").output
    assert "teamsapi: -/+ member[Engineering/Bob@Example.com] replaced" in shown, shown
    md = invoke("journal", "--markdown", "--journal", "journal.jsonl").output
    assert esc("teamsapi: -/+ member[Engineering/Bob@Example.com]") in md, md
