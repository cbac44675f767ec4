"""`teamform show PLAN_FILE`: a saved plan as text, markdown or JSON, reading no service."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from teamform.cli import cli
from teamform.render.context import marker

STATE = """\
version: 1
people:
  alice@example.com: {name: Alice}
  erin@example.com: {name: Erin}
services:
  krisp:
    provider: krisp
    sandbox: true
    policy: {max_removals: 100%}
    members:
      - {who: alice@example.com, role: Admin}
      - {who: erin@example.com}
"""


@pytest.fixture
def saved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(STATE)
    made = CliRunner().invoke(cli, ["plan", "--out", "plan.json"])
    assert made.exit_code == 0, made.output
    return tmp_path / "plan.json", made.output.split("Saved the plan")[0]


def show(*args: str, **kw):
    return CliRunner().invoke(cli, ["show", *args], env={"GITHUB_RUN_ID": ""}, **kw)


def test_text_is_what_plan_printed(saved):
    path, printed = saved
    result = show(str(path))
    assert result.exit_code == 0, result.output
    assert result.output == printed
    assert "+ member[erin@example.com] will be created" in result.output


def test_json_is_the_plan_file(saved):
    path, _ = saved
    result = show(str(path), "--format", "json")
    assert json.loads(result.output) == json.loads(path.read_text())


def test_markdown_is_the_comment_and_names_the_plan_file(saved):
    path, _ = saved
    result = show(str(path), "--format", "markdown")
    assert result.exit_code == 0
    assert result.output.startswith(marker("teams.yaml") + "\n## teamform plan: `teams.yaml`")
    assert f"plan file sha256 `{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}`" in result.output
    drift = show(str(path), "--format", "markdown", "--kind", "drift")
    assert drift.output.startswith(marker("teams.yaml", "drift") + "\n## teamform drift: `teams.yaml`")


def test_standard_input(saved):
    path, printed = saved
    assert show("-", input=path.read_text()).output == printed


def test_markdown_length(saved, tmp_path):
    path, _ = saved
    plan = json.loads(path.read_text())
    op = plan["services"][0]["operations"][0]
    plan["services"][0]["operations"] = [dict(op, key=f"user{i}@example.com", id=f"x{i}") for i in range(1200)]
    big = tmp_path / "big.json"
    big.write_text(json.dumps(plan))
    short = show(str(big), "--format", "markdown").output
    full = show(str(big), "--format", "markdown", "--max-chars", "0").output
    assert len(short) < 65_536 < len(full)
    assert len(show(str(big), "--format", "markdown", "--max-chars", "5000").output) <= 5000


@pytest.mark.parametrize("content, message", [
    (None, "no such plan file"),
    (b"not json", "not a teamform plan"),
    (b"\xff\xfe", "not a teamform plan: not UTF-8"),
    (b'{"format_version": 99}', "plan format 99 is not supported"),
    (b"[1, 2]", "not a teamform plan"),
    (b'{"format_version": 1, "services": [{"name": "x"}]}', "not a teamform plan"),
])
def test_a_bad_plan_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_bytes(content)
    result = show(str(path))
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
