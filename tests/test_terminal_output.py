"""Readable plan text: within a service, operations sorted by address as Terraform lists them."""

from click.testing import CliRunner

from teamform.cli import cli

from test_cli import FILE


def test_operations_are_sorted_by_address_within_a_service(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(FILE)
    out = CliRunner().invoke(cli, ["plan", "--no-color"]).output
    heads = [l.strip().split(" ", 2)[1] for l in out.splitlines() if l.startswith("  ") and l.strip()[:1] in "+~-"]
    assert heads == sorted(heads, key=lambda a: (a.split("[")[0], a)), out
    assert heads[:3] == ["member[dave@example.com]", "member[erin@example.com]", "member[mallory@example.com]"]
