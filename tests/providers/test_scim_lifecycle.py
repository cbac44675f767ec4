"""SCIM and people's lives, against scim2-server: a previous address renamed in place (PATCH
userName and emails, same id, groups kept), and an offboarded person deactivated first then
deleted after policy.offboarding.remove_after_days."""

from __future__ import annotations

import yaml

from teamform.testing import converge, load, make_plan
from teamform_scim import ScimEmulator
from teamform_scim.emulator.seed import group, user

BASE = "https://scim.example.com/scim/v2"


def config(people, **section):
    doc = {"version": 1, "people": people,
           "services": {"svc": {"provider": "scim", "sandbox": True, "base_url": BASE,
                                "limits": {"requests_per_minute": 100000}, **section}}}
    return load(yaml.safe_dump(doc, sort_keys=False))


def emulator(users=(), groups=()):
    return ScimEmulator({"Users": list(users), "Groups": list(groups)}, profile="full")


def on(day):
    return {"environ": {"TEAMFORM_TODAY": day}}


async def test_a_previous_address_is_renamed_in_place_and_the_groups_follow():
    emu = emulator([user("u-alice", "alice@example.com", "Alice", "Example"),
                    user("u-bob", "bob@old.example", "Bob", "Example")],
                   [group("g1", "Ops", ["u-alice", "u-bob"])])
    people = {"alice@example.com": {"name": "Alice Example"},
              "robert@example.com": {"name": "Bob Example", "previously": ["bob@old.example"]}}
    cfg = config(people, users=[{"who": "alice@example.com"}, {"who": "robert@example.com"}],
                 groups={"Ops": ["alice@example.com", "robert@example.com"]})
    plan = await make_plan(cfg, {"svc": emu})
    [op] = plan.operations  # no member change: the group holds the account, whatever its name
    assert (op.action, op.kind, op.renamed_from) == ("update", "user", "bob@old.example")
    assert op.label == "user[bob@old.example → robert@example.com]" and not op.warnings
    assert (await converge(cfg, {"svc": emu})).operations == []
    robert = emu.user("robert@example.com")
    assert robert["id"] == "u-bob" and robert["emails"][0]["value"] == "robert@example.com"


async def test_staged_offboarding_deactivates_then_deletes_after_the_days():
    emu = emulator([user("u-alice", "alice@example.com", "Alice", "Example"),
                    user("u-erin", "erin@example.com", "Erin", "Example")],
                   [group("g1", "Ops", ["u-alice", "u-erin"])])
    people = {"alice@example.com": {"name": "Alice Example"},
              "erin@example.com": {"name": "Erin Example", "offboarded": "2026-01-10"}}
    cfg = config(people, users=[{"who": "alice@example.com"}, {"who": "erin@example.com"}],
                 groups={"Ops": ["alice@example.com", "erin@example.com"]},
                 policy={"offboarding": {"suspend_first": True, "remove_after_days": 14}, "max_removals": 5})
    plan = await make_plan(cfg, {"svc": emu}, **on("2026-01-12"))
    got = sorted((op.action, op.kind, op.key) for op in plan.operations)
    assert got == [("delete", "member", "ops/erin@example.com"), ("update", "user", "erin@example.com")]
    assert (await converge(cfg, {"svc": emu}, **on("2026-01-12"))).operations == []
    assert emu.user("erin@example.com")["active"] is False
    later = await make_plan(cfg, {"svc": emu}, **on("2026-01-24"))
    [op] = later.operations
    assert (op.action, op.key) == ("delete", "erin@example.com")
    assert (await converge(cfg, {"svc": emu}, **on("2026-01-24"))).operations == []
    assert emu.user("erin@example.com") is None  # deleted, not only deactivated


def test_a_saved_plan_with_a_rename_and_a_suspension_applies_exactly(tmp_path, monkeypatch, example_text):
    from click.testing import CliRunner

    from teamform.cli import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(example_text)
    env = {"TEAMFORM_JOURNAL": "journal.jsonl", "TEAMFORM_TODAY": "2026-06-01"}

    def run(*args):
        return CliRunner().invoke(cli, list(args), env=env)

    saved = run("plan", "--service", "scim", "--out", "plan.json")
    assert saved.exit_code == 0 and "grace.hill@old.example → grace@example.com" in saved.output, saved.output
    applied = run("apply", "plan.json")
    assert applied.exit_code == 0 and "0 failed" in applied.output, applied.output
    again = run("plan", "--service", "scim", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_import_writes_an_old_address_the_service_holds_as_it_is_and_says_whose_it_is(tmp_path, monkeypatch,
                                                                                       example_text):
    from click.testing import CliRunner

    from teamform.cli import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(example_text)
    imported = CliRunner().invoke(cli, ["import", "--service", "scim", "--out", "imported.yaml"])
    assert imported.exit_code == 0, imported.output
    text = (tmp_path / "imported.yaml").read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("grace.hill@old.example"))
    assert "a previous address of grace@example.com" in line, text
    again = CliRunner().invoke(cli, ["plan", "-f", "imported.yaml", "--service", "scim", "--no-color"])
    assert again.exit_code == 0, again.output
    # the imported file describes the service as it is; it keeps the file's decisions (Trent's
    # offboarding), so that is the only change left
    changes = [x for x in again.output.splitlines() if x.lstrip().startswith(("+ ", "- ", "~ ", "-/+ "))]
    assert changes and all("trent@example.com" in x for x in changes), again.output
