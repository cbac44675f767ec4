"""The pre-commit hook this repository ships runs `teamform validate` on each state file it is
given, as pre-commit runs it: its entry, split as a shell would, with the file names appended."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
[HOOK] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())

GOOD = "version: 1\npeople:\n  alice@example.com: {name: Alice}\nservices:\n  krisp:\n    provider: krisp\n" \
       "    sandbox: true\n    members:\n      - {who: alice@example.com, role: Admin}\n"


def run_hook(tmp_path: Path, *files: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run([*shlex.split(HOOK["entry"]), *HOOK.get("args", []), *files], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_hook_validates_every_file_it_is_given(tmp_path):
    (tmp_path / "teams.yaml").write_text(GOOD)
    (tmp_path / "teams-prod.yml").write_text(GOOD.replace("role: Admin", "role: Admn"))
    (tmp_path / "teams-other.yaml").write_text(GOOD.replace("{who: alice@example.com", "{who: bob@example.com"))

    ok = run_hook(tmp_path, "teams.yaml")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "teams.yaml: valid" in ok.stdout

    bad = run_hook(tmp_path, "teams-prod.yml", "teams.yaml", "teams-other.yaml")
    assert bad.returncode != 0
    assert "teams-prod.yml:9:40: services.krisp.members[0].role: 'Admn' is not allowed" in bad.stderr
    assert "teams-other.yaml:9:15: services.krisp.members[0].who: 'bob@example.com' is not in people" in bad.stderr, \
        "a bad file does not stop the next from being checked"
    assert "teams.yaml: valid" in bad.stdout


def test_the_hook_picks_state_files_only():
    files = re.compile(HOOK["files"])
    assert HOOK["pass_filenames"] is True and HOOK["language"] == "python"
    for path in ("teams.yaml", "teams.example.yaml", "rosters/teams-prod.yml"):
        assert files.search(path), path
    for path in (".pre-commit-hooks.yaml", "docs/steams.yaml", "teams.yaml.bak", "pyproject.toml"):
        assert not files.search(path), path
