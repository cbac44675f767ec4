"""Shared helpers for the workflow tests: read the workflows, and run their steps the way
GitHub Actions would (bash -e for run:, a node stand-in for actions/github-script)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


def steps(workflow: str, job: str) -> list[dict]:
    return load(workflow)["jobs"][job]["steps"]


def step(workflow: str, job: str, name_part: str) -> dict:
    """The step whose id is name_part, else the one step whose name contains it."""
    found = [s for s in steps(workflow, job) if name_part == s.get("id")] or \
        [s for s in steps(workflow, job) if name_part in str(s.get("name", ""))]
    assert len(found) == 1, (workflow, name_part, [s.get("name") for s in steps(workflow, job)])
    return found[0]


def index(workflow: str, job: str, name_part: str) -> int:
    return steps(workflow, job).index(step(workflow, job, name_part))


def bash(script: str, cwd: Path, env: dict[str, str], path_dir: Path | None = None) -> subprocess.CompletedProcess:
    """Run a `run:` script the way Actions does when no shell is given: bash -e."""
    import os

    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    if path_dir:
        full["PATH"] = f"{path_dir}:{full['PATH']}"
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=full, capture_output=True, text=True, timeout=60)


def fake(tmp: Path, name: str, body: str) -> Path:
    """An executable `name` in tmp/bin running the bash `body`."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / name
    exe.write_text("#!/usr/bin/env bash\n" + body)
    exe.chmod(0o755)
    return bin_dir


# A stand-in for actions/github-script: runs the body as an async function with mocked github,
# context and core; every REST call and core call is recorded and printed as JSON.
HARNESS = r"""
const fs = require('fs');
const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const calls = [];
const rec = (name) => async (params) => { calls.push([name, params]); return { data: spec.responses[name] ?? [] }; };
const rest = new Proxy({}, { get: (_, ns) => new Proxy({}, { get: (_, fn) => {
  const f = rec(`${ns}.${fn}`); f.key = `${ns}.${fn}`; return f; } }) });
const github = { rest, paginate: async (fn, params) => (await fn(params)).data };
const core = new Proxy({}, { get: (_, fn) => (...args) => { calls.push([`core.${fn}`, args]); } });
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
(async () => {
  await new AsyncFunction('require', 'github', 'context', 'core', spec.script)(require, github, spec.context, core);
  console.log(JSON.stringify(calls));
})().catch(e => { console.error(e); process.exit(1); });
"""


def github_script(script: str, cwd: Path, env: dict[str, str], responses: dict | None = None,
                  context: dict | None = None, path_dir: Path | None = None) -> list:
    import json
    import os

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not available to run the workflow's github-script")
    ctx = {"repo": {"owner": "o", "repo": "r"}, "runId": 4242, "sha": "a" * 40,
           "serverUrl": "https://github.com", "payload": {}, **(context or {})}
    (cwd / "harness.cjs").write_text(HARNESS)
    (cwd / "spec.json").write_text(json.dumps({"script": script, "context": ctx, "responses": responses or {}}))
    full = {"PATH": os.environ["PATH"], **env}
    if path_dir:
        full["PATH"] = f"{path_dir}:{full['PATH']}"
    done = subprocess.run([node, "harness.cjs", "spec.json"], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def created_bodies(calls: list) -> list[str]:
    return [params["body"] for name, params in calls
            if name in ("issues.createComment", "issues.updateComment", "issues.create")]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout.strip()
