"""A throwaway repository that adopts teamform from docs/gitops.md alone: its caller files are the
docs' code blocks, its state file is in sandbox mode, and its workflows run as GitHub Actions would
run them (gitops_harness.Runner): a pull request is planned and commented on, the merge applies
exactly the reviewed plan, a stale plan is refused with a comment saying what to do, and running
the apply by hand plans afresh and applies."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gitops_harness import ROOT, Event, FakeGitHub, PullRequest, Runner, RunState, git
from teamform.render.context import marker

pytestmark = pytest.mark.skipif(not (shutil.which("git") and shutil.which("node")),
                                reason="needs git, and node for github-script")

STATE = """\
version: 1
people:
  alice@example.com: {name: Alice}
  bob@example.com: {name: Bob}
  carol@example.com: {name: Carol}
  dave@example.com: {name: Dave}
  erin@example.com: {name: Erin}
services:
  krisp:
    provider: krisp
    sandbox: true
    policy: {max_removals: 5}
    seats: {standard: 6}
    members:
      - {who: alice@example.com, role: Admin, nickname: Alice}
      - {who: bob@example.com}
      - {who: carol@example.com}
      - {who: dave@example.com, role: Admin}
"""
WITH_ERIN = STATE + "      - {who: erin@example.com}\n"
WRITE = "KRISP_API_KEY=write-key-123\n"   # the sandbox reads none: these only travel
READ = "KRISP_API_KEY=read-key-456\n"


def docs_callers(text: str | None = None) -> dict[str, str]:
    """The docs' complete caller files: yaml blocks whose first line names their path."""
    text = text or (ROOT / "docs" / "gitops.md").read_text()
    blocks = re.findall(r"```yaml\n(# (\.github/workflows/[\w.-]+\.yml)\n.*?)```", text, re.S)
    return {path: body for body, path in blocks}


class Repo:
    """An origin repository with main, pull requests as merge refs, and what GitHub knows of them."""

    def __init__(self, tmp: Path, files: dict[str, str]) -> None:
        self.tmp, self.origin = tmp, tmp / "origin"
        self.origin.mkdir()
        git(self.origin, "init", "-q", "-b", "main")
        git(self.origin, "config", "receive.denyCurrentBranch", "ignore")
        self.fake = FakeGitHub()
        self.commit(files, "adopt teamform from the docs", branch=None)
        self.numbers = iter(range(1, 100))

    def commit(self, files: dict[str, str], message: str, branch: str | None = "main") -> str:
        if branch:
            git(self.origin, "checkout", "-q", branch)
        for path, text in files.items():
            (self.origin / path).parent.mkdir(parents=True, exist_ok=True)
            (self.origin / path).write_text(text)
        git(self.origin, "add", "-A")
        git(self.origin, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.origin, "rev-parse", "HEAD")

    def open_pr(self, files: dict[str, str], *, fork: bool = False) -> PullRequest:
        number = next(self.numbers)
        branch = f"pr-{number}"
        git(self.origin, "checkout", "-q", "-b", branch, "main")
        head = self.commit(files, f"change #{number}", branch)
        pr = PullRequest(number, head, files=sorted(files), from_fork=fork)
        self.fake.pulls[number] = pr
        git(self.origin, "checkout", "-q", "main")
        return pr

    def push_to_pr(self, pr: PullRequest, files: dict[str, str]) -> None:
        pr.head_sha = self.commit(files, f"more for #{pr.number}", f"pr-{pr.number}")
        pr.files = sorted(set(pr.files) | set(files))
        git(self.origin, "checkout", "-q", "main")

    def pr_event(self, pr: PullRequest) -> Event:
        """The pull_request event: its sha is the pull request merged into main (refs/pull/N/merge)."""
        git(self.origin, "checkout", "-q", "--detach", "main")
        git(self.origin, "merge", "-q", "--no-ff", "-m", f"Merge {pr.head_sha} into main", pr.head_sha)
        merge = git(self.origin, "rev-parse", "HEAD")
        git(self.origin, "update-ref", f"refs/pull/{pr.number}/merge", merge)
        git(self.origin, "checkout", "-q", "main")
        head_repo = f"someone/{self.fake.repo}" if pr.from_fork else self.fake.full_name
        payload = {"pull_request": {"number": pr.number, "head": {"sha": pr.head_sha, "repo": {"full_name": head_repo}},
                                    "base": {"ref": "main"}},
                   "repository": {"default_branch": "main"}}
        return Event("pull_request", merge, f"refs/pull/{pr.number}/merge", payload, changed=pr.files,
                     head_sha=pr.head_sha, head_branch=f"pr-{pr.number}", from_fork=pr.from_fork)

    def merge(self, pr: PullRequest) -> Event:
        git(self.origin, "checkout", "-q", "main")
        git(self.origin, "merge", "-q", "--no-ff", "-m", f"Merge pull request #{pr.number}", pr.head_sha)
        sha = git(self.origin, "rev-parse", "HEAD")
        pr.merged_at, pr.merge_commit_sha = "2026-12-01T12:00:00Z", sha
        return self.push_event(sha, pr.files)

    def push_event(self, sha: str, changed: list[str]) -> Event:
        return Event("push", sha, "refs/heads/main", {"repository": {"default_branch": "main"}}, changed=changed,
                     head_sha=sha)

    def dispatch_event(self) -> Event:
        sha = git(self.origin, "rev-parse", "main")
        return Event("workflow_dispatch", sha, "refs/heads/main", {"repository": {"default_branch": "main"}},
                     head_sha=sha)

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments.get(number, [])]


@pytest.fixture
def adopter(tmp_path):
    callers = docs_callers()
    assert set(callers) == {".github/workflows/plan.yml", ".github/workflows/apply.yml",
                            ".github/workflows/drift.yml"}
    repo = Repo(tmp_path, {"teams.yaml": STATE, "README.md": "our roster\n", **callers})
    runner = Runner(repo.origin, repo.fake, tmp_path, secrets={"TEAMFORM_PLAN_ENV": READ},
                    environments={"teamform": {"TEAMFORM_ENV": WRITE}}, live=tmp_path / "live")
    yield repo, runner
    runner.close()


def planned(repo: Repo, runner: Runner, pr: PullRequest) -> dict:
    """What the plan workflow leaves for a pull request, made directly (the apply side is the point):
    its merge ref planned against live state, uploaded as the artifact of a run of its head."""
    event = repo.pr_event(pr)
    work = runner.checkout(event.sha)
    if runner.live.exists():
        shutil.copytree(runner.live, work / ".teamform" / "sandbox", dirs_exist_ok=True)
    done = subprocess.run([str(runner.bin / "teamform"), "plan", "-f", "teams.yaml", "--out", "plan.json"], cwd=work,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shutil.copytree(work / ".teamform" / "sandbox", runner.live, dirs_exist_ok=True)  # the services, seeded
    state = RunState(repo.fake.next_run_id(), pr.head_sha, f"pr-{pr.number}")
    return repo.fake.upload(state, "teamform-plan-teams.yaml", {"plan.json": (work / "plan.json").read_bytes(),
                                                               "plan.txt": done.stdout.encode()}, overwrite=False)


def krisp_live(runner: Runner) -> dict:
    return json.loads((runner.live / "krisp.json").read_text())


def emails(state: dict) -> set[str]:
    return {s["user"]["email"].lower() for s in state["seats"] if s["user"]}


def test_a_pull_request_is_planned_and_its_plan_applied_at_merge(adopter):
    repo, runner = adopter
    pr = repo.open_pr({"teams.yaml": WITH_ERIN})
    plan = runner.run(".github/workflows/plan.yml", repo.pr_event(pr))
    assert plan.conclusion == "success", plan.log
    assert plan.job("teamform plan status").result == "success"
    job = plan.job("plan")
    assert job.concurrency == {"group": "teamform-plan-acme/roster-teams.yaml-1", "cancel-in-progress": True}
    assert job.timeout == 15 and job.secrets == {"TEAMFORM_PLAN_ENV": READ}
    installed = [p.read_text().split() for p in runner.installs_dir.iterdir()]
    assert ["-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "git+https://github.com/OWNER/teamform@" + "c0ffee" * 6 + "c0ff"] in installed

    [comment] = repo.comments(pr.number)
    assert comment.startswith(marker("teams.yaml") + "\n## teamform plan: `teams.yaml`")
    assert f"[`{pr.head_sha[:12]}`](https://github.com/acme/roster/commit/{pr.head_sha})" in comment
    [artifact] = [a for a in repo.fake.artifacts if a["name"] == "teamform-plan-teams.yaml"]
    assert sorted(artifact["files"]) == ["plan.json", "plan.txt"]
    assert f"(https://github.com/acme/roster/actions/runs/{plan.run_id}/artifacts/{artifact['id']})" in comment
    assert "+ member[erin@example.com] will be created" in comment and "applies **exactly this plan**" in comment
    assert "+ member[erin@example.com] will be created" in artifact["files"]["plan.txt"].decode()
    assert "mallory@example.com" in emails(krisp_live(runner)), "a plan changes nothing"

    apply = runner.run(".github/workflows/apply.yml", repo.merge(pr))
    assert apply.conclusion == "success", apply.log
    chosen, applied = apply.job("the plan to apply"), apply.job("apply")
    assert chosen.outputs["source"] == "reviewed" and chosen.outputs["pr-number"] == "1"
    assert "To apply: the plan reviewed on pull request #1" in chosen.summary
    assert f"at [`{pr.head_sha[:12]}`]" in chosen.summary
    assert chosen.secrets == {"TEAMFORM_ENV": "", "TEAMFORM_PLAN_ENV": READ}, "write credentials stay in the environment"
    assert applied.environment == "teamform" and applied.secrets["TEAMFORM_ENV"] == WRITE
    assert applied.concurrency == {"group": "teamform-apply-acme/roster-teams.yaml", "cancel-in-progress": False}
    from teamform import journal as J

    journal = J.read(applied.workspace / ".teamform" / "journal.jsonl")[-1]
    assert journal["outcome"] == "applied" and journal["ok"] and journal["saved_plan"] == "planned/plan.json"
    assert journal["plan_file_sha256"] in comment.replace("`", "") or \
        journal["plan_file_sha256"][:12] in comment, "the comment names the plan file that was applied"
    assert journal["ci"]["pull_request"]["number"] == 1
    live = emails(krisp_live(runner))
    assert "erin@example.com" in live and "mallory@example.com" not in live
    assert repo.comments(pr.number) == [comment], "nothing to say when it went as reviewed"

    drift = runner.run(".github/workflows/drift.yml", Event("schedule", repo.push_event(
        git(repo.origin, "rev-parse", "main"), []).sha, "refs/heads/main", {}))
    assert drift.conclusion == "success", drift.log
    assert not repo.fake.issues, "live state matches the file: no drift issue"


def test_a_stale_plan_is_refused_at_merge_and_the_pull_request_says_what_to_do(adopter):
    repo, runner = adopter
    pr = repo.open_pr({"teams.yaml": WITH_ERIN})
    assert runner.run(".github/workflows/plan.yml", repo.pr_event(pr)).conclusion == "success"
    live = krisp_live(runner)
    next(s for s in live["seats"] if s["user"] and s["user"]["email"] == "dave@example.com")["nickname"] = "Davey"
    (runner.live / "krisp.json").write_text(json.dumps(live))  # someone used Krisp's own UI

    apply = runner.run(".github/workflows/apply.yml", repo.merge(pr))
    assert apply.conclusion == "failure"
    assert apply.job("apply").step("Apply").outcome == "failure"
    assert apply.job("apply").step("Check that nothing is left").outcome == "skipped"
    [_, said] = repo.comments(pr.number)
    assert said.startswith("<!-- teamform-apply-failure --><!-- file: teams.yaml -->\n"
                           "### ⛔ teamform applied nothing after merge: `teams.yaml`")
    assert "nothing was changed" in said and "the plan is stale" in said
    assert "member&#91;dave" in said or "member[dave" in said
    assert "Run [apply.yml](https://github.com/acme/roster/actions/workflows/apply.yml) by hand" in said
    assert "open a new pull request" in said
    assert "write-key-123" not in said
    assert "erin@example.com" not in emails(krisp_live(runner)), "nothing was applied"

    # the way forward: run the apply by hand; it plans afresh, shows it, and applies once approved
    again = runner.run(".github/workflows/apply.yml", repo.dispatch_event())
    assert again.conclusion == "success", again.log
    assert again.job("the plan to apply").outputs["source"] == "planned"
    assert "To apply: a plan made now from the default branch" in again.job("the plan to apply").summary
    assert "erin@example.com" in emails(krisp_live(runner))


def test_the_file_changed_on_main_since_the_plan_is_refused(adopter):
    repo, runner = adopter
    pr = repo.open_pr({"teams.yaml": WITH_ERIN})
    planned(repo, runner, pr)
    # another pull request changed the file and was merged first (its own apply is not the point here)
    repo.commit({"teams.yaml": STATE.replace("nickname: Alice", "nickname: Al")}, "Merge pull request #99")
    apply = runner.run(".github/workflows/apply.yml", repo.merge(pr))  # git merges both changes
    assert apply.conclusion == "failure"
    said = repo.comments(pr.number)[-1]
    assert "⛔ teamform applied nothing after merge" in said
    assert "different version of teams.yaml" in said, said
    assert "erin@example.com" not in emails(krisp_live(runner))


def test_an_unrelated_pull_request_passes_the_required_check_without_a_plan(adopter):
    repo, runner = adopter
    pr = repo.open_pr({"README.md": "more words\n"})
    run = runner.run(".github/workflows/plan.yml", repo.pr_event(pr))
    assert run.triggered and run.conclusion == "success"
    assert run.job("plan").result == "skipped" and run.job("teamform plan status").result == "success"
    assert not repo.comments(pr.number) and not repo.fake.artifacts
    assert not runner.run(".github/workflows/apply.yml", repo.merge(pr)).triggered


def test_a_fork_is_only_validated_and_its_artifacts_are_never_applied(adopter):
    repo, runner = adopter
    pr = repo.open_pr({"teams.yaml": WITH_ERIN}, fork=True)
    runner.secrets = {}  # GitHub gives a fork's pull request no secrets
    run = runner.run(".github/workflows/plan.yml", repo.pr_event(pr))
    assert run.conclusion == "success", run.log
    assert run.job("teamform plan status").result == "success"
    job = run.job("plan")
    assert job.step("Validate").outcome == "success"
    assert all(job.step(s).outcome == "skipped" for s in ("Load credentials", "Plan", "Sticky comment"))
    assert not repo.comments(pr.number) and not repo.fake.artifacts
    # a fork's pull request runs its own version of the workflows: say it uploaded a plan anyway
    repo.fake.upload(RunState(1, pr.head_sha, "pr", from_fork=True),
                     "teamform-plan-teams.yaml", {"plan.json": b"{}"}, overwrite=False)
    runner.secrets = {"TEAMFORM_PLAN_ENV": READ}
    apply = runner.run(".github/workflows/apply.yml", repo.merge(pr))
    assert apply.conclusion == "failure" and apply.job("apply").result == "skipped"
    said = repo.comments(pr.number)[-1]
    assert "No `teamform-plan-teams.yaml` artifact" in said and "(only from a fork)" in said


def test_a_push_without_a_pull_request_applies_nothing_and_opens_an_issue(adopter):
    repo, runner = adopter
    sha = repo.commit({"teams.yaml": WITH_ERIN}, "pushed straight to main")
    apply = runner.run(".github/workflows/apply.yml", repo.push_event(sha, ["teams.yaml"]))
    assert apply.conclusion == "failure" and apply.job("apply").result == "skipped"
    [issue] = repo.fake.issues.values()
    assert issue["title"] == "teamform applied nothing: teams.yaml"
    assert "without a merged pull request" in issue["body"] and "by hand" in issue["body"]


def test_a_plan_file_that_leaves_changes_out_is_caught_after_the_apply(adopter):
    """The artifact comes from the pull request's job: one that drops an operation applies the rest,
    and the check after the apply fails and says so on the pull request."""
    repo, runner = adopter
    pr = repo.open_pr({"teams.yaml": WITH_ERIN})
    artifact = planned(repo, runner, pr)
    plan = json.loads(artifact["files"]["plan.json"])
    ops = plan["services"][0]["operations"]
    plan["services"][0]["operations"] = [op for op in ops if op["key"] != "erin@example.com"]
    artifact["files"]["plan.json"] = json.dumps(plan).encode()
    apply = runner.run(".github/workflows/apply.yml", repo.merge(pr))
    assert apply.conclusion == "failure"
    assert apply.job("apply").step("Apply").outcome == "success"
    assert apply.job("apply").step("Check that nothing is left").outcome == "failure"
    said = repo.comments(pr.number)[-1]
    assert "⚠️ teamform applied the plan, but live state still differs from `teams.yaml`" in said
    assert "+ member[erin@example.com] will be created" in said


def test_re_planning_at_merge_is_an_opt_in(adopter):
    repo, runner = adopter
    callers = docs_callers()
    apply = callers[".github/workflows/apply.yml"].replace(
        "      environment: teamform\n", "      environment: teamform\n      replan-on-merge: true\n")
    assert "replan-on-merge: true" in (ROOT / "docs" / "gitops.md").read_text()
    repo.commit({".github/workflows/apply.yml": apply}, "re-plan at merge")
    pr = repo.open_pr({"teams.yaml": WITH_ERIN})  # no plan run at all: the merge plans
    run = runner.run(".github/workflows/apply.yml", repo.merge(pr))
    assert run.conclusion == "success", run.log
    assert run.job("the plan to apply").outputs["source"] == "planned"
    assert "erin@example.com" in emails(krisp_live(runner))


def test_two_state_files_side_by_side_never_share_a_comment_an_artifact_or_a_lock(tmp_path):
    """The docs' two-file callers: each state file gets its own comment, plan artifact, concurrency
    groups, secrets and environment."""
    docs = (ROOT / "docs" / "gitops.md").read_text()
    callers = {path: body for body, path in re.findall(
        r"```yaml\n(# (\.github/workflows/[\w.-]+\.yml), for two state files\n.*?)```", docs, re.S)}
    assert set(callers) == {".github/workflows/plan.yml", ".github/workflows/apply.yml"}
    prod, staging = STATE, STATE.replace("  krisp:\n", "  krisp-staging:\n")
    repo = Repo(tmp_path, {"teams/prod.yaml": prod, "teams/staging.yaml": staging, **callers})
    runner = Runner(repo.origin, repo.fake, tmp_path, live=tmp_path / "live",
                    secrets={"PROD_PLAN_ENV": "KRISP_API_KEY=prod-read", "STAGING_PLAN_ENV": "KRISP_API_KEY=stg-read"},
                    environments={"teamform-prod": {"TEAMFORM_ENV": "KRISP_API_KEY=prod-write"},
                                  "teamform-staging": {"TEAMFORM_ENV": "KRISP_API_KEY=stg-write"}})
    try:
        erin = "      - {who: erin@example.com}\n"
        pr = repo.open_pr({"teams/prod.yaml": prod + erin, "teams/staging.yaml": staging + erin})
        second = runner.run(".github/workflows/plan.yml", repo.pr_event(pr))
        assert second.conclusion == "success", second.log

        comments = repo.comments(pr.number)  # (each is updated in place: test_gitops_workflow_steps)
        assert [c.split("\n", 1)[0] for c in comments] == [marker("teams/prod.yaml"), marker("teams/staging.yaml")]
        assert "## teamform plan: `teams/prod.yaml`" in comments[0] and "`teams/staging.yaml`" in comments[1]
        groups = {second.job(f"{who} / plan").concurrency["group"] for who in ("prod", "staging")}
        assert groups == {"teamform-plan-acme/roster-teams/prod.yaml-1", "teamform-plan-acme/roster-teams/staging.yaml-1"}
        assert second.job("prod / plan").secrets == {"TEAMFORM_PLAN_ENV": "KRISP_API_KEY=prod-read"}
        names = sorted(a["name"] for a in repo.fake.artifacts if a["workflow_run"]["id"] == second.run_id)
        assert names == ["teamform-plan-teams-prod.yaml", "teamform-plan-teams-staging.yaml"]

        apply = runner.run(".github/workflows/apply.yml", repo.merge(pr))
        assert apply.conclusion == "success", apply.log
        prod_job, staging_job = apply.job("prod / apply"), apply.job("staging / apply")
        assert (prod_job.environment, prod_job.secrets["TEAMFORM_ENV"]) == ("teamform-prod", "KRISP_API_KEY=prod-write")
        assert staging_job.secrets["TEAMFORM_ENV"] == "KRISP_API_KEY=stg-write"
        assert prod_job.concurrency["group"] != staging_job.concurrency["group"]
        for store in ("krisp.json", "krisp-staging.krisp.json"):
            assert "erin@example.com" in emails(json.loads((runner.live / store).read_text())), store

        # (a merge that changes one file: the other's apply has nothing to do: test_gitops_workflow_steps)
    finally:
        runner.close()


def test_docs_and_release_agree():
    """The docs' callers pin the release that pyproject.toml names; third-party actions in them are
    none (the reusable workflows pin theirs by commit SHA)."""
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    docs = (ROOT / "docs" / "gitops.md").read_text()
    refs = set(re.findall(r"OWNER/teamform/\.github/workflows/[\w-]+\.yml@(\S+)", docs))
    assert refs == {f"v{version}"}
    assert f"install: git+https://github.com/OWNER/teamform@v{version}" in docs
    for body in docs_callers().values():
        assert "secrets: inherit" not in body and "uses: actions/" not in body
        assert "permissions: {}" in body
