"""The workflows' own steps, run as GitHub Actions would run them, one at a time: the install
input, the names from the state file's path, approvers, the comments, and the re-run guard.
(test_gitops_callers runs whole workflows.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_harness import (ROOT, WORKFLOWS, bash, created_bodies, fake, git, github_script,  # noqa: F401
                            index, load, step, steps)
from teamform.render.context import marker, slug

REUSABLE = {"teamform-plan.yml": ["plan"], "teamform-apply.yml": ["plan", "apply"], "teamform-drift.yml": ["drift"]}
JOBS = [(w, j) for w, jobs in REUSABLE.items() for j in jobs]


def recorder(tmp_path: Path) -> Path:
    """A `python` that records pip installs (no network) and runs anything else; a `teamform`."""
    bin_dir = fake(tmp_path, "python", f'if [ "$1" = -m ]; then printf "%s\\n" "$@" > "$ARGS_OUT"; exit 0; fi\n'
                                       f'exec "{sys.executable}" "$@"\n')
    fake(tmp_path, "teamform", 'echo "teamform, version 0.1.0"\n')
    return bin_dir


def install(tmp_path: Path, workflow: str, job: str, value: str, job_context: dict | None = None):
    out = tmp_path / "args"
    out.unlink(missing_ok=True)
    env = {"INSTALL": value, "ARGS_OUT": str(out), "GITHUB_SERVER_URL": "https://github.com",
           "JOB_CONTEXT": json.dumps(job_context or {})}
    result = bash(step(workflow, job, "Install teamform")["run"], tmp_path, env, recorder(tmp_path))
    return result, (out.read_text().split("\n")[5:-1] if out.exists() else None)


@pytest.mark.parametrize("workflow, job", JOBS)
def test_install_takes_several_packages_and_name_at_url(tmp_path, workflow, job):
    result, args = install(tmp_path, workflow, job, "teamform==0.1.0  teamform-extra[x]")
    assert result.returncode == 0, result.stderr
    assert args == ["teamform==0.1.0", "teamform-extra[x]"]
    url = "git+https://github.com/o/teamform@v0.1.0"
    result, args = install(tmp_path, workflow, job, f"teamform @ {url} teamform-extra")
    assert args == [f"teamform @ {url}", "teamform-extra"] and "::warning" not in result.stdout
    assert "teamform, version 0.1.0" in result.stdout  # the log says which teamform runs


@pytest.mark.parametrize("workflow, job", JOBS)
def test_install_defaults_to_the_teamform_of_the_workflows_own_commit(tmp_path, workflow, job):
    sha = "1234567890abcdef1234567890abcdef12345678"
    assert load(workflow)["on"]["workflow_call"]["inputs"]["install"]["default"] == ""
    result, args = install(tmp_path, workflow, job, "", {"workflow_repository": "o/teamform", "workflow_sha": sha})
    assert result.returncode == 0, result.stderr
    assert args == [f"git+https://github.com/o/teamform@{sha}"]
    assert step(workflow, job, "Install teamform")["env"]["JOB_CONTEXT"] == "${{ toJSON(job) }}"
    # where the job context does not say (GitHub Enterprise Server): a clear error, not a guess
    result, args = install(tmp_path, workflow, job, "", {"status": "success"})
    assert result.returncode != 0 and args is None
    assert "::error title=teamform install::" in result.stdout and "set the install input" in result.stdout
    result, _ = install(tmp_path, workflow, job, "", {"workflow_repository": "o/t; rm -rf /", "workflow_sha": sha})
    assert result.returncode != 0


def test_an_unpinned_git_url_gets_a_warning(tmp_path):
    result, args = install(tmp_path, "teamform-apply.yml", "apply", "git+https://github.com/o/teamform")
    assert args == ["git+https://github.com/o/teamform"]
    assert "::warning title=teamform install::" in result.stdout and "pin a tag" in result.stdout


@pytest.mark.parametrize("state_file", ["teams.yaml", "./teams.yaml", "envs/prod team.yaml", "é/x.yaml", "a|b.yaml"])
def test_the_workflows_derive_names_as_teamform_does(tmp_path, state_file):
    """The comment's marker, the artifact names: bash in the workflows, Python in the renderer."""
    for workflow, job in JOBS:
        out = tmp_path / "output"
        out.write_text("")
        result = bash(step(workflow, job, "names")["run"], tmp_path, {"STATE_FILE": state_file,
                                                                     "GITHUB_OUTPUT": str(out),
                                                                     "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "1"})
        assert result.returncode == 0, result.stderr
        names = dict(line.split("=", 1) for line in out.read_text().splitlines())
        if "marker" in names:
            kind = {"teamform-plan.yml": "plan", "teamform-drift.yml": "drift"}.get(workflow, "apply-failure")
            assert names["marker"] == marker(state_file, kind), workflow
        for key in ("artifact", "applied"):
            if key in names:
                assert names[key].endswith("-" + slug(state_file)), (workflow, key)
    assert len({slug(s) for s in ("a.yaml", "b.yaml", "a/b.yaml")}) == 3


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


def test_the_merged_pull_request_its_head_approvers_and_whether_it_touched_the_file(tmp_path):
    script = step("teamform-apply.yml", "plan", "pr")["with"]["script"]
    prs = [{"number": 6, "merged_at": None, "head": {"sha": "c" * 40}},
           {"number": 7, "merged_at": "2024-01-01T00:00:00Z", "merge_commit_sha": "a" * 40, "head": {"sha": "b" * 40}}]
    for files, touched in (([{"filename": "teams.yaml"}], "true"), ([{"filename": "README.md"}], "false"),
                           ([{"filename": "new.yaml", "previous_filename": "teams.yaml"}], "true")):
        calls = github_script(script, tmp_path, {"STATE_FILE": "./teams.yaml"}, responses={
            "repos.listPullRequestsAssociatedWithCommit": prs, "pulls.listReviews": APPROVERS_REVIEWS,
            "pulls.listFiles": files})
        outputs = {args[0]: args[1] for name, args in calls if name == "core.setOutput"}
        assert outputs == {"number": "7", "head-sha": "b" * 40, "approvers": "alice,carol", "touched": touched}


@pytest.mark.parametrize("event, replan, touched, source", [
    ("push", "false", "true", "reviewed"), ("push", "true", "true", "planned"),
    ("workflow_dispatch", "false", "", "planned"), ("push", "false", "false", "none"),
])
def test_which_plan_the_apply_applies(tmp_path, event, replan, touched, source):
    out = tmp_path / "output"
    out.write_text("")
    result = bash(step("teamform-apply.yml", "plan", "source")["run"], tmp_path,
                  {"EVENT": event, "REPLAN": replan, "TOUCHED": touched, "STATE_FILE": "teams.yaml",
                   "GITHUB_OUTPUT": str(out)})
    assert result.returncode == 0 and out.read_text() == f"source={source}\n"


def artifact(name, run, head, *, fork=False, expired=False, created="2026-12-01T00:00:00Z"):
    return {"id": run * 10, "name": name, "expired": expired, "created_at": created,
            "workflow_run": {"id": run, "repository_id": 1, "head_repository_id": 2 if fork else 1, "head_sha": head}}


def test_the_reviewed_plan_is_the_newest_own_artifact_of_the_head_commit(tmp_path):
    script = step("teamform-apply.yml", "plan", "find")["with"]["script"]
    head, name = "b" * 40, "teamform-plan-teams.yaml"
    found = [artifact(name, 11, head, created="2026-12-01T00:00:01Z"),
             artifact(name, 12, head, created="2026-12-01T00:00:09Z"),      # the newest: a re-run
             artifact(name, 13, head, fork=True, created="2026-12-02T00:00:00Z"),
             artifact(name, 14, head, expired=True, created="2026-12-03T00:00:00Z"),
             artifact(name, 15, "c" * 40, created="2026-12-04T00:00:00Z"),  # an older head
             artifact("teamform-plan-other.yaml", 16, head, created="2026-12-05T00:00:00Z")]
    calls = github_script(script, tmp_path, {"HEAD_SHA": head, "ARTIFACT": name},
                          responses={"actions.listArtifactsForRepo": found})
    assert ("core.setOutput", ["run-id", "12"]) in [(n, a) for n, a in calls]
    assert not (tmp_path / "why.md").exists()

    calls = github_script(script, tmp_path, {"HEAD_SHA": head, "ARTIFACT": name},
                          responses={"actions.listArtifactsForRepo": found[2:4]})
    assert any(n == "core.setFailed" for n, _ in calls)
    why = (tmp_path / "why.md").read_text()
    assert "No `teamform-plan-teams.yaml` artifact" in why and "(only from a fork)" in why and "bbbbbbbbbbbb" in why


def test_a_pull_request_in_the_apply_job_and_only_then(tmp_path):
    """The journal's PR and approvers are exported only when there is a merged pull request."""
    s = step("teamform-apply.yml", "apply", "approvers")
    assert s["if"] == "${{ needs.plan.outputs.pr-number != '' }}"
    env_file = tmp_path / "env"
    env_file.write_text("")
    result = bash(s["run"], tmp_path, {"NUMBER": "7", "APPROVERS": "alice,carol", "GITHUB_ENV": str(env_file)})
    assert result.returncode == 0
    assert env_file.read_text() == "TEAMFORM_PR_NUMBER=7\nTEAMFORM_APPROVERS=alice,carol\n"


def test_apply_output_is_captured_for_the_failure_comment():
    validate, apply_ = step("teamform-apply.yml", "apply", "Validate"), step("teamform-apply.yml", "apply", "Apply")
    assert "tee apply.log" in validate["run"] and "pipefail" in validate["run"]
    assert "tee -a apply.log" in apply_["run"] and "teamform apply planned/plan.json" in apply_["run"]
    upload = step("teamform-apply.yml", "apply", "Upload the journal")
    for path in (".teamform/journal.jsonl", "apply.log", "after.txt", "planned/plan.json"):
        assert path in upload["with"]["path"]


JOURNAL_FAKE = """
case "$*" in
  *--json*) [ -n "$ENTRY_RUN" ] && printf '{"ok": false, "outcome": "%s", "ci": {"run_id": "%s", "run_attempt": "1"}}\\n' "${OUTCOME:-applied}" "$ENTRY_RUN" \\
            || echo "No applies recorded in .teamform/journal.jsonl." ;;
  *--markdown*) [ -n "$ENTRY_RUN" ] && echo "**teamform apply ${OUTCOME:-failed}** for run $ENTRY_RUN" \\
            || echo "No applies recorded in .teamform/journal.jsonl." ;;
esac
"""


def failure_comment(tmp_path: Path, entry_run: str, log: str | None, **env: str) -> str:
    if log is not None:
        (tmp_path / "apply.log").write_text(log)
    bin_dir = fake(tmp_path, "teamform", JOURNAL_FAKE)
    report = step("teamform-apply.yml", "apply", "Report the failure")
    env = {"ENTRY_RUN": entry_run, "GITHUB_RUN_ATTEMPT": "1", "PR_NUMBER": "7", "STATE_FILE": "teams.yaml",
           "ARTIFACT": "teamform-apply-teams.yaml-4242-1", "MARKER": marker("teams.yaml", "apply-failure"),
           "TEAMFORM_ENV": "KRISP_API_KEY=s3cr3t-value\n",
           "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/apply.yml@refs/heads/main", **env}
    calls = github_script(report["with"]["script"], tmp_path, env, path_dir=bin_dir)
    [body] = created_bodies(calls)
    assert [name for name, _ in calls if name.startswith("issues.")] == ["issues.createComment"]
    return body


WAY_FORWARD = "Run [apply.yml](https://github.com/o/r/actions/workflows/apply.yml) by hand on the default branch"


def test_failure_comment_without_a_journal_entry_shows_the_output(tmp_path):
    log = "checking teams.yaml\n" + "".join(f"line {i} `code` ``x``\n" for i in range(300)) + \
        "error: KRISP_API_KEY is not set (s3cr3t-value)\n"
    body = failure_comment(tmp_path, "", log)
    assert body.startswith("<!-- teamform-apply-failure --><!-- file: teams.yaml -->\n### ❌ teamform apply failed")
    assert "No applies recorded" not in body and "recorded no journal entry" in body
    assert "<details>" in body and "KRISP_API_KEY is not set" in body and "line 299" in body
    assert "line 0 " not in body                 # the tail only
    assert "s3cr3t-value" not in body            # a credential value never reaches a comment
    assert "\n```\n" in body                     # the fence outlasts the text's ``x`` runs
    assert WAY_FORWARD in body


def test_failure_comment_ignores_another_runs_journal_entry(tmp_path):
    body = failure_comment(tmp_path, "1111", "plan refused\n")
    assert "for run 1111" not in body and "recorded no journal entry" in body and "plan refused" in body


def test_failure_comment_uses_this_runs_journal_entry(tmp_path):
    body = failure_comment(tmp_path, "4242", "applying\n")
    assert "**teamform apply failed** for run 4242" in body and "applying" in body


def test_a_refused_plan_says_nothing_was_applied_and_what_to_do(tmp_path):
    body = failure_comment(tmp_path, "4242", "the plan is stale\n", OUTCOME="refused")
    assert "### ⛔ teamform applied nothing after merge: `teams.yaml`" in body
    assert "**nothing was changed**" in body and "holds exactly its operations" in body
    assert "**teamform apply refused** for run 4242" in body and WAY_FORWARD in body
    assert "open a new pull request" in body


def test_a_plan_that_left_changes_out_says_what_is_left(tmp_path):
    (tmp_path / "after.txt").write_text("krisp (krisp)\n  + member[erin@example.com] will be created\n")
    body = failure_comment(tmp_path, "4242", "Apply complete\n", CHECK="failure")
    assert "⚠️ teamform applied the plan, but live state still differs from `teams.yaml`" in body
    assert "+ member[erin@example.com] will be created" in body and "teamform apply failed** for" not in body


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
                          {"GITHUB_RUN_ATTEMPT": "1", "PR_NUMBER": "", "ARTIFACT": "teamform-apply-4242-1",
                           "STATE_FILE": "teams.yaml", "MARKER": "<!-- m -->"}, path_dir=bin_dir)
    [body] = created_bodies(calls)
    assert [name for name, _ in calls if name.startswith("issues.")] == ["issues.create"]
    assert len(body) < 65536 and len(body.encode("utf-16-le")) // 2 < 65536
    assert "truncated" in body and "teamform-apply-4242-1" in body and "/actions/runs/4242" in body


def test_no_plan_to_apply_says_why_and_what_to_do(tmp_path):
    script = step("teamform-apply.yml", "plan", "Say why nothing was applied")["with"]["script"]
    env = {"PR_NUMBER": "7", "STATE_FILE": "teams.yaml", "MARKER": "<!-- m -->",
           "TEAMFORM_PLAN_ENV": "KRISP_API_KEY=r3ad-only\n",
           "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/apply.yml@refs/heads/main"}
    (tmp_path / "why.md").write_text("No `teamform-plan-teams.yaml` artifact was found.\n")
    [body] = created_bodies(github_script(script, tmp_path, env))
    assert body.startswith("<!-- m -->\n### ⛔ teamform applied nothing after merge: `teams.yaml`")
    assert "No `teamform-plan-teams.yaml` artifact was found." in body and "Nothing was changed." in body
    assert WAY_FORWARD in body
    (tmp_path / "why.md").unlink()
    (tmp_path / "plan.err").write_text("teams.yaml:3: env KRISP_API_KEY (r3ad-only) is ```wrong```\n")
    calls = github_script(script, tmp_path, {**env, "PR_NUMBER": ""})
    [(name, params)] = [c for c in calls if c[0].startswith("issues.")]
    assert name == "issues.create" and params["title"] == "teamform applied nothing: teams.yaml"
    assert "r3ad-only" not in params["body"] and "\n````\nteams.yaml:3:" in params["body"]


def run_plan_step(tmp_path: Path, teamform_body: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """The plan workflow's plan step with a stand-in teamform: (its run, the step outputs)."""
    bin_dir = fake(tmp_path, "teamform", teamform_body)
    out = tmp_path / "output"
    out.write_text("")
    result = bash(step("teamform-plan.yml", "plan", "plan")["run"], tmp_path,
                  {"STATE_FILE": "teams.yaml", "GITHUB_OUTPUT": str(out)}, bin_dir)
    return result, dict(line.split("=", 1) for line in out.read_text().splitlines())


PR = {"payload": {"pull_request": {"number": 3, "head": {"sha": "b" * 40}}}}
MARK = marker("teams.yaml")


def sticky(tmp_path: Path, comments: list | None = None, head: str = "b" * 40, env: dict | None = None) -> list:
    script = step("teamform-plan.yml", "plan", "Sticky comment")["with"]["script"]
    return github_script(script, tmp_path, {"MARKER": MARK, "STATE_FILE": "teams.yaml", **(env or {})}, context=PR,
                         responses={"issues.listComments": comments or [], "pulls.get": {"head": {"sha": head}}})


def test_plan_failure_before_any_plan_posts_a_failure_comment_and_fails(tmp_path):
    """A missing variable: exit 1, no plan file. The sticky comment says so; the job fails."""
    error = "teams.yaml:7:28: env KRISP_API_KEY is not set for ```dave``` <!-- x --> @team"
    result, outputs = run_plan_step(tmp_path, f"echo {error!r} >&2\nexit 1\n")
    assert result.returncode == 0, result.stderr
    assert outputs == {"has-changes": "false", "exit-code": "1", "failed": "true"}
    assert error in result.stderr  # in the log too

    s = step("teamform-plan.yml", "plan", "Sticky comment")
    assert "steps.plan.outcome == 'success'" in s["if"] and "!cancelled()" in s["if"]
    assert "steps.validate.outcome == 'failure'" in s["if"]
    old = {"id": 99, "user": {"type": "Bot"}, "body": MARK + "\nold plan"}
    calls = sticky(tmp_path, [old])
    [(name, params)] = [c for c in calls if c[0] in ("issues.updateComment", "issues.createComment")]
    assert name == "issues.updateComment" and params["comment_id"] == 99
    body = params["body"]
    assert body.startswith(MARK + "\n### ❌ teamform plan failed: `teams.yaml`") and "bbbbbbbbbbbb" in body
    assert "\n````\n" + error + "\n````\n" in body  # a fence longer than the text's ``` run
    fail = step("teamform-plan.yml", "plan", "Fail on a plan error")
    assert "steps.plan.outputs.failed == 'true'" in fail["if"] and "exit 1" in fail["run"]


def test_a_plan_with_changes_is_saved_and_commented(tmp_path):
    result, outputs = run_plan_step(tmp_path, "echo '{}' > plan.json\necho '+ member'\nexit 2\n")
    assert result.returncode == 0, result.stderr
    assert outputs == {"has-changes": "true", "exit-code": "2", "failed": "false"}
    assert (tmp_path / "plan.txt").read_text() == "+ member\n"
    (tmp_path / "plan.md").write_text(f"{MARK}\n### plan\n")
    assert created_bodies(sticky(tmp_path)) == [f"{MARK}\n### plan\n"]


def test_each_state_file_keeps_its_own_comment(tmp_path):
    """Two callers side by side: each updates the comment whose first line is its own marker."""
    other = {"id": 1, "user": {"type": "Bot"}, "body": marker("teams/other.yaml") + "\nthe other plan"}
    legacy = {"id": 2, "user": {"type": "Bot"}, "body": "<!-- teamform-plan -->\nan old plan"}
    human = {"id": 3, "user": {"type": "User"}, "body": MARK + "\nquoting the plan"}
    mine = {"id": 4, "user": {"type": "Bot"}, "body": MARK + "\nmy old plan"}
    (tmp_path / "plan.md").write_text(f"{MARK}\n### new plan\n")
    calls = sticky(tmp_path, [other, legacy, human, mine])
    assert [(n, p.get("comment_id")) for n, p in calls if n.startswith("issues.") and n != "issues.listComments"] \
        == [("issues.updateComment", 4)]
    calls = sticky(tmp_path, [other, legacy, human])
    assert [n for n, _ in calls if n.startswith("issues.") and n != "issues.listComments"] == ["issues.createComment"]


def test_an_older_run_never_overwrites_the_comment_of_a_newer_commit(tmp_path):
    (tmp_path / "plan.md").write_text(f"{MARK}\n### plan of b\n")
    calls = sticky(tmp_path, head="c" * 40)  # the pull request moved on while this run planned
    assert not created_bodies(calls)
    assert any(n == "core.notice" and "no longer the head" in a[0] for n, a in calls)
    plan = load("teamform-plan.yml")["jobs"]["plan"]
    assert plan["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in plan["concurrency"]["group"]
    assert "inputs.state-file" in plan["concurrency"]["group"]


@pytest.mark.parametrize("paths, files, needed", [
    ("", ["teams.yaml"], True), ("", ["README.md"], False), ("", ["x/teams.yaml"], False),
    ("teams/\n.github/workflows/plan.yml", ["teams/a/b.yaml"], True),
    ("teams/*.yaml", ["teams/a/b.yaml"], False), ("teams/**/*.yaml", ["teams/a/b.yaml"], True),
    ("teams/**/*.yaml", ["teams/b.yaml"], True), ("src/", ["srcx/a.py"], False),
])
def test_does_the_pull_request_need_a_plan(tmp_path, paths, files, needed):
    script = step("teamform-plan.yml", "changes", "changes")["with"]["script"]
    context = {"repo": {"owner": "o", "repo": "r"},
               "payload": {"pull_request": {"number": 3, "head": {"repo": {"full_name": "o/r"}}}}}
    calls = github_script(script, tmp_path, {"STATE_FILE": "teams.yaml", "PATHS": paths, "VALIDATE_ONLY": "false"},
                          context=context, responses={"pulls.listFiles": [{"filename": f} for f in files]})
    outputs = {a[0]: a[1] for n, a in calls if n == "core.setOutput"}
    assert outputs == {"validate-only": "false", "needed": str(needed).lower()}


def test_a_fork_is_only_validated(tmp_path):
    script = step("teamform-plan.yml", "changes", "changes")["with"]["script"]
    for head_repo in ({"full_name": "someone/r"}, None):  # a deleted fork has no repo
        context = {"repo": {"owner": "o", "repo": "r"},
                   "payload": {"pull_request": {"number": 3, "head": {"repo": head_repo}}}}
        calls = github_script(script, tmp_path, {"STATE_FILE": "teams.yaml", "PATHS": "", "VALIDATE_ONLY": "false"},
                              context=context, responses={"pulls.listFiles": [{"filename": "teams.yaml"}]})
        assert ["core.setOutput", ["validate-only", "true"]] in calls


def run_guard(tmp_path: Path, origin: Path, guard: dict, sha: str, branch: str = "main") -> subprocess.CompletedProcess:
    work = tmp_path / f"work-{sha[:7]}-{branch or 'none'}-{len(list(tmp_path.iterdir()))}"
    # what actions/checkout does: fetch one commit, depth 1, detached
    git(tmp_path, "init", "-q", str(work))
    git(work, "remote", "add", "origin", origin.as_uri())
    git(work, "fetch", "-q", "--depth=1", "origin", sha)
    git(work, "checkout", "-q", "--detach", sha)
    return bash(guard["run"], work, {"GITHUB_SHA": sha, "STATE_FILE": "teams.yaml", "DEFAULT_BRANCH": branch})


def test_apply_refuses_an_outdated_commit(tmp_path):
    """A re-run of an old run checks out an old state file; both jobs refuse before any credential."""
    if not shutil.which("git"):
        pytest.skip("git is not available")
    guard = step("teamform-apply.yml", "apply", "fresh")
    assert guard == step("teamform-apply.yml", "plan", "fresh")  # one guard, in both jobs
    assert guard["env"]["DEFAULT_BRANCH"] == "${{ github.event.repository.default_branch }}"
    for job in ("plan", "apply"):
        for later in [s.get("name") for s in steps("teamform-apply.yml", job) if "redentials" in str(s.get("name"))]:
            assert index("teamform-apply.yml", job, "fresh") < index("teamform-apply.yml", job, later)
        report = [s for s in steps("teamform-apply.yml", job) if s.get("uses", "").startswith("actions/github-script")
                  and "failure()" in str(s.get("if"))]
        assert report and all("steps.fresh.outcome != 'failure'" in s["if"] for s in report)

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

    ok = run_guard(tmp_path, origin, guard, head)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    refused = run_guard(tmp_path, origin, guard, old)
    assert refused.returncode != 0 and "::error" in refused.stdout and "roll live state back" in refused.stdout
    refused = run_guard(tmp_path, origin, guard, old, branch="")  # no event payload: the default branch from the remote
    assert refused.returncode != 0 and "::error" in refused.stdout
    # the head's state file is the same as two commits ago: applying that commit applies the current file
    git(origin, "reset", "-q", "--hard", same_file)
    assert run_guard(tmp_path, origin, guard, old).returncode == 0
