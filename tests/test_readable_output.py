"""Readable output: within a service, changes are listed by address (kind, then name) as Terraform
lists resources, while the plan applies in dependency order; the apply's final report keeps each
service's lines together; the journal shows names with the case the plan showed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from cli_harness import invoke

from teamform.apply import Report, Result
from teamform.render.markdown import esc
from teamform.render.text import render_report

EXAMPLE = Path(__file__).resolve().parent.parent / "teams.example.yaml"


def only(*services: str) -> str:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["services"] = {n: s for n, s in doc["services"].items() if n in services}
    return yaml.safe_dump(doc, sort_keys=False)


#: a change's line in text or in markdown's diff block: its symbol, its address, what happens
ADDRESS = re.compile(r"^\s*(?:\+|~|!|-/\+|-) (\w+\[.*?\])(?: \(pending invitation\))? (?:will|must) be ")


def _natural(address: str):
    return tuple(int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", address))


def test_plan_lists_by_address_but_applies_in_dependency_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(only("krisp", "workdrive", "teamsapi"))
    text = invoke("plan").output
    planned = json.loads(invoke("plan", "--format", "json").output)
    for service in planned["services"]:
        block = text.split(f"{service['name']} ({service['provider']})\n", 1)[1].split("\n\n", 1)[0]
        shown = [m.group(1) for m in map(ADDRESS.match, block.splitlines()) if m]
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
    heads = [m.group(1) for m in map(ADDRESS.match, block.splitlines()) if m]
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


def test_addresses_sort_as_people_read_them():
    """Names compare case-insensitively (the service's spelling is shown: Bob@Example.com comes
    between alice and carol), numbers by value (seat[2] before seat[10]); markdown lists the same."""
    from teamform.model import Resource
    from teamform.plan.ops import Operation, Plan, ServicePlan
    from teamform.render import render

    def op(kind: str, key: str, display: str | None = None) -> Operation:
        live = Resource(kind, key, {"role": "User"}, display=display)
        return Operation("svc", "update", kind, key, before=live,
                         after=Resource(kind, key, {"role": "Admin"}, display=display),
                         changes=["role: User -> Admin"])

    ops = [op("seat", "10"), op("member", "carol@example.com"), op("seat", "2"),
           op("member", "bob@example.com", "Bob@Example.com"), op("member", "alice@example.com")]
    plan = Plan(services=[ServicePlan("svc", "fake", operations=ops)])
    order = ["member[alice@example.com]", "member[Bob@Example.com]", "member[carol@example.com]", "seat[2]", "seat[10]"]
    text = render(plan, "text")
    assert [text.index(f" {a} ") for a in order] == sorted(text.index(f" {a} ") for a in order), text
    md = render(plan, "markdown")
    assert [md.index(f" {a} ") for a in order] == sorted(md.index(f" {a} ") for a in order), md
    assert [o.label for o in plan.services[0].operations][0] == "seat[10]", "the plan itself keeps its order"
