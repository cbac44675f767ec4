"""The workflows' own steps, run as GitHub Actions would run them: install input, approvers,
the failure comment, the plan-failed comment and the re-run guard."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gitops_harness import (ROOT, WORKFLOWS, bash, created_bodies, fake, git, github_script,  # noqa: F401
                            index, load, step, steps)


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


def run_plan_step(tmp_path: Path, teamform_body: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """The plan workflow's plan step with a stand-in teamform: (its run, the step outputs)."""
    bin_dir = fake(tmp_path, "teamform", teamform_body)
    out = tmp_path / "output"
    out.write_text("")
    result = bash(step("teamform-plan.yml", "plan", "plan")["run"], tmp_path,
                  {"STATE_FILE": "teams.yaml", "GITHUB_OUTPUT": str(out)}, bin_dir)
    return result, dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_plan_failure_before_rendering_posts_a_failure_comment_and_fails(tmp_path):
    """A missing variable: exit 1, nothing on stdout. The sticky comment says so; the job fails."""
    from teamform.render.markdown import MARKER

    error = "teams.yaml:7:28: env KRISP_API_KEY is not set for ```dave``` <!-- x --> @team"
    result, outputs = run_plan_step(tmp_path, f"echo {error!r} >&2\nexit 1\n")
    assert result.returncode == 0, result.stderr
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

    result, outputs = run_plan_step(tmp_path, f"printf '%s\\n' '{MARKER}' '### plan' \nexit 2\n")
    assert result.returncode == 0, result.stderr
    assert outputs == {"has-changes": "true", "exit-code": "2", "failed": "false"}
    context = {"payload": {"pull_request": {"number": 3, "head": {"sha": "b" * 40}}}}
    calls = github_script(step("teamform-plan.yml", "plan", "Sticky comment")["with"]["script"], tmp_path, {},
                          context=context)
    assert created_bodies(calls) == [f"{MARKER}\n### plan\n"]


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
