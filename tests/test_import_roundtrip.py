"""`teamform import` then `plan` gives no changes, for every installed provider with an emulator.

Providers arrive during the day: this test is parametrized over whatever is installed. A provider
without ``export`` fails here, loudly, rather than being skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_harness import invoke
from click.testing import CliRunner

from teamform.cli import cli
from teamform.importer import env_name, has_export
from teamform.provider import installed

EXAMPLE = Path(__file__).resolve().parent.parent / "teams.example.yaml"
PROVIDERS = installed()


def state_for(provider: str) -> tuple[str, dict]:
    """The example file reduced to one service of ``provider`` (or a bare sandbox entry)."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    services = {n: s for n, s in (doc.get("services") or {}).items() if s.get("provider") == provider}
    name = next(iter(services), provider)
    entry = services.get(name) or {"provider": provider, "sandbox": True}
    return name, {**doc, "services": {name: entry}}


def sandboxed(provider: str) -> tuple[type, str]:
    """(provider class, service name) with teams.yaml holding that service; skip a provider
    without an emulator, fail one that cannot export."""
    cls = PROVIDERS[provider]
    if cls.emulator_class is None:
        pytest.skip(f"provider {provider} has no emulator")
    if not has_export(cls):
        pytest.fail(f"provider {provider} does not implement export(live): `teamform import` cannot work for it")
    name, doc = state_for(provider)
    Path("teams.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return cls, name


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_import_then_plan_gives_no_changes(provider, in_tmp):
    cls, name = sandboxed(provider)

    result = invoke("import", "--service", name, "--out", "imported.yaml")
    assert result.exit_code == 0, result.output
    imported = yaml.safe_load(Path("imported.yaml").read_text())
    entry = imported["services"][name]
    assert entry["provider"] == provider and entry["sandbox"] is True
    assert all(str(v).startswith("env:") for v in (entry.get("credentials") or {}).values())
    assert set(entry.get("credentials") or {}) == set(cls.credential_names)

    assert invoke("validate", "-f", "imported.yaml").exit_code == 0
    assert_plans_only_offboardings(imported)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_import_after_apply_matches_the_file(provider, in_tmp):
    sandboxed(provider)
    applied = invoke("apply", "--auto-approve", "--allow-mass-removal")
    assert applied.exit_code == 0, applied.output
    assert invoke("import", "--out", "imported.yaml").exit_code == 0
    assert invoke("plan", "-f", "imported.yaml", "--detailed-exitcode").exit_code == 0
    assert invoke("plan", "--detailed-exitcode").exit_code == 0


def test_import_writes_people_and_env_references(in_tmp):
    Path("teams.yaml").write_text(
        "version: 1\npeople: {alice@example.com: {name: Alice Doe}}\n"
        "services:\n  team-a:\n    provider: krisp\n    sandbox: true\n")
    result = invoke("import")
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.output)
    assert doc["people"]["alice@example.com"] == {"name": "Alice Doe"}
    assert "mallory@example.com" in doc["people"], "people found only in the service are listed too"
    assert doc["services"]["team-a"]["credentials"] == {
        "api_key": f"env:{env_name('team-a', 'api_key')}", "secret": "env:TEAM_A_SECRET"}


def test_import_of_an_unreadable_service_writes_nothing(in_tmp):
    Path("teams.yaml").write_text(
        "version: 1\nservices:\n  krisp:\n    provider: krisp\n    credentials: {api_key: env:K, secret: env:S}\n"
        "    base_url: http://127.0.0.1:9\n    limits: {retries: 0, timeout: 2}\n")
    result = CliRunner().invoke(cli, ["import", "--out", "out.yaml"], env={"K": "k", "S": "s"})
    assert result.exit_code == 1
    assert "could not read live state" in result.output and not Path("out.yaml").exists()


def test_importing_every_service_at_once_plans_empty_even_where_services_disagree_on_a_name(in_tmp):
    """The sandbox seeds give Mallory one last name in Debrief and another in WorkDrive: no single
    name in people can match both, so she gets none (each service keeps its own) and the file says so."""
    Path("teams.yaml").write_text(EXAMPLE.read_text())
    assert invoke("import", "--out", "imported.yaml").exit_code == 0
    text = Path("imported.yaml").read_text()
    line = next(line for line in text.splitlines() if line.strip().startswith("mallory@example.com:"))
    assert line.endswith("# teamform import: no name, the services disagree (first / last): "
                         "debrief says 'Mallory / Stone'; workdrive says 'Mallory / Moe'"), line
    assert yaml.safe_load(text)["people"]["mallory@example.com"] == {}
    assert_plans_only_offboardings(yaml.safe_load(text))


def assert_plans_only_offboardings(imported: dict) -> None:
    """imported.yaml plans nothing, but for the offboardings it keeps: an offboarding in the file is
    a decision import keeps (dropping it would undo it silently)."""
    gone = [e for e, p in (imported.get("people") or {}).items() if isinstance(p, dict) and p.get("offboarded")]
    plan = invoke("plan", "-f", "imported.yaml", "--detailed-exitcode", "--no-color")
    assert plan.exit_code in (0, 2), plan.output
    changes = [x for x in plan.output.splitlines() if x.lstrip().startswith(("+ ", "- ", "~ ", "-/+ "))]
    assert all(any(e in x for e in gone) for x in changes), f"import → plan should be empty:\n{plan.output}"
    if not gone:
        assert plan.exit_code == 0 and "No changes" in plan.output


def test_the_same_full_name_split_differently_is_a_disagreement_too(in_tmp):
    Path("teams.yaml").write_text(EXAMPLE.read_text())
    assert invoke("plan").exit_code in (0, 2)  # seeds the sandbox
    sandbox = Path(".teamform/sandbox")
    debrief = json.loads((sandbox / "debrief.json").read_text())
    for u in debrief["users"].values() if isinstance(debrief["users"], dict) else debrief["users"]:
        if u["email"] == "alice@example.com":
            u["first_name"], u["last_name"] = "Alice Mae", "Doe"
    (sandbox / "debrief.json").write_text(json.dumps(debrief))
    workdrive = json.loads((sandbox / "workdrive.json").read_text())
    for u in workdrive["users"].values():
        if u["email"] == "alice@example.com":
            u["firstName"], u["lastName"] = "Alice", "Mae Doe"
    (sandbox / "workdrive.json").write_text(json.dumps(workdrive))
    assert invoke("import", "--out", "imported.yaml").exit_code == 0
    alice = next(line for line in Path("imported.yaml").read_text().splitlines()
                 if line.strip().startswith("alice@example.com:"))
    assert "# teamform import: no name, the services disagree (first / last)" in alice, alice
    assert_plans_only_offboardings(yaml.safe_load(Path("imported.yaml").read_text()))
