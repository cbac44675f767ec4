"""The audit journal: one JSON line per apply, with CI context, and never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from teamform import journal as J
from teamform.cli import cli
from teamform.session import Session
from teamform.render import render_json
from teamform.render.markdown import esc
from teamform.testing import load, no_sleep
from teamform_krisp.emulator import KrispEmulator

SECRET_KEY = "sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SECRET = "shh-Very-Secret-Value-0123456789"

FILE = """
version: 1
people:
  alice@example.com: {name: Alice}
  erin@example.com: {name: Erin}
services:
  krisp:
    provider: krisp
    base_url: http://127.0.0.1
    credentials: {api_key: env:KRISP_API_KEY, secret: env:KRISP_SECRET}
    policy: {max_removals: 100%}
    members:
      - {who: alice@example.com, role: Admin}
      - {who: erin@example.com}
"""


def github_env(tmp_path: Path, event: dict) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_REF": "refs/heads/main", "GITHUB_REPOSITORY": "acme/roster", "GITHUB_RUN_ID": "99",
            "GITHUB_EVENT_PATH": str(path), "GITHUB_TOKEN": "ghs_should_never_be_written"}


async def test_apply_with_real_credentials_writes_no_secret(tmp_path):
    """Not the sandbox: the credentials come from the environment, and the emulator demands them."""
    state = KrispEmulator().seed()
    state["credentials"] = {"api_key": SECRET_KEY, "secret": SECRET}
    emulator = KrispEmulator(state)
    environ = {"KRISP_API_KEY": SECRET_KEY, "KRISP_SECRET": SECRET}
    config = load(FILE)
    async with Session(config, emulators={"krisp": emulator}, environ=environ, sleep=no_sleep) as session:
        plan, _ = await session.make_plan()
        assert not plan.errors and plan.has_changes
        (tmp_path / "plan.json").write_text(render_json(plan))
        report = await session.apply(plan)
        secrets = [v for p in session.providers.values() for v in p.ctx.credentials.values()]
    assert SECRET in secrets and report.ok
    env = github_env(tmp_path, {"pull_request": {"number": 12, "user": {"login": "author"}}})
    entry = J.entry(plan, report, secrets=secrets, environ={**env, **environ})
    journal = J.append(tmp_path / "journal.jsonl", entry)
    for path in (journal, tmp_path / "plan.json"):
        text = path.read_text()
        for secret in (SECRET_KEY, SECRET, "ghs_should_never_be_written"):
            assert secret not in text, f"{secret} leaked into {path.name}"
    assert entry["ci"]["sha"].startswith("0123456789ab") and entry["ci"]["pull_request"]["number"] == 12


def test_an_error_message_carrying_a_credential_is_masked(tmp_path):
    from teamform.apply import Report, Result
    from teamform.plan.ops import Plan

    report = Report([Result("x", "krisp", "create", "member[x]", "failed", f"401 for key {SECRET_KEY}")])
    entry = J.entry(Plan(), report, secrets=[SECRET_KEY], environ={})
    assert SECRET_KEY not in json.dumps(entry) and "***" in entry["operations"][0]["message"]
    assert entry["ci"] is None


def test_cli_apply_appends_an_entry_naming_commit_pr_and_approvers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE.replace("base_url: http://127.0.0.1", "sandbox: true"))
    env = github_env(tmp_path, {"pull_request": {"number": 7, "user": {"login": "author"},
                                                 "merged_by": {"login": "lead"}},
                                "reviews": [{"user": {"login": "reviewer1"}, "state": "APPROVED"},
                                            {"user": {"login": "reviewer2"}, "state": "CHANGES_REQUESTED"}]})
    env.update(KRISP_API_KEY=SECRET_KEY, KRISP_SECRET=SECRET)
    runner = CliRunner()
    assert runner.invoke(cli, ["plan", "--out", "plan.json"], env=env).exit_code == 0
    result = runner.invoke(cli, ["apply", "plan.json"], env=env)
    assert result.exit_code == 0, result.output
    journal = Path(".teamform/journal.jsonl")
    lines = [json.loads(line) for line in journal.read_text().splitlines()]  # written as the apply went
    assert [line["event"] for line in lines] == ["start"] + ["result"] * (len(lines) - 2) + ["end"]
    entries = J.read(journal)  # put back together: one entry per apply
    assert len(entries) == 1
    e = entries[0]
    assert e["ok"] and e["plan_hash"] and e["saved_plan"] == "plan.json" and e["plan_file_sha256"]
    assert {op["status"] for op in e["operations"]} == {"done"}
    assert all(op["seconds"] >= 0 and op["attempts"] >= 1 for op in e["operations"])
    assert e["ci"]["sha"] == env["GITHUB_SHA"] and e["ci"]["ref"] == "refs/heads/main"
    assert e["ci"]["pull_request"] == {"number": 7, "author": "author", "merged_by": "lead", "source": "event"}
    assert e["ci"]["approvers"] == ["reviewer1"] and e["ci"]["approvers_source"] == "event"
    for path in (journal, Path("plan.json")):
        assert SECRET not in path.read_text() and SECRET_KEY not in path.read_text()
        assert "ghs_should_never_be_written" not in path.read_text()

    shown = runner.invoke(cli, ["journal", "-v"])
    assert "commit 0123456789ab on refs/heads/main, PR #7, approved by reviewer1" in shown.output
    assert "✓ krisp: + member[erin@example.com] created" in shown.output
    markdown = runner.invoke(cli, ["journal", "--markdown", "-n", "1"])
    assert "teamform apply succeeded" in markdown.output and "@example" not in markdown.output.replace("&#64;", "")


def test_push_event_without_pull_request_says_approvers_are_not_available(tmp_path):
    env = github_env(tmp_path, {"head_commit": {"id": "abc"}})
    ci = J.ci_context(env)
    assert "pull_request" not in ci and ci["approvers"] is None
    assert ci["approvers_source"] == "not available in this CI event"
    ci = J.ci_context({**env, "TEAMFORM_PR_NUMBER": "31", "TEAMFORM_APPROVERS": "ann, bo,bad name!"})
    assert ci["pull_request"]["number"] == 31 and ci["approvers"] == ["ann", "bo"]


def test_second_apply_appends_and_a_torn_line_is_skipped(tmp_path):
    path = tmp_path / "j.jsonl"
    J.append(path, {"ok": True, "n": 1})
    with path.open("a") as fh:
        fh.write('{"torn": \n')
    J.append(path, {"ok": False, "n": 2})
    assert [e["n"] for e in J.read(path)] == [1, 2]
    assert [e["n"] for e in J.read(path, last=1)] == [2]


@pytest.mark.parametrize("value", ["-"])
def test_journal_can_be_turned_off(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE.replace("base_url: http://127.0.0.1", "sandbox: true"))
    result = CliRunner().invoke(cli, ["apply", "--auto-approve", "--journal", value])
    assert result.exit_code == 0, result.output
    assert not Path(".teamform/journal.jsonl").exists()


# ---- approvers: only approving and disapproving reviews change a reviewer's standing -------------
def _review(login: str, state: str) -> dict:
    return {"user": {"login": login}, "state": state}


@pytest.mark.parametrize("reviews, approvers", [
    ([_review("rev1", "APPROVED"), _review("rev1", "COMMENTED")], ["rev1"]),
    ([_review("rev1", "COMMENTED"), _review("rev1", "APPROVED")], ["rev1"]),
    ([_review("rev1", "APPROVED"), _review("rev1", "DISMISSED")], []),
    ([_review("rev1", "APPROVED"), _review("rev1", "CHANGES_REQUESTED")], []),
    ([_review("rev1", "CHANGES_REQUESTED"), _review("rev1", "COMMENTED"), _review("rev1", "APPROVED"),
      _review("rev1", "commented")], ["rev1"]),
    ([_review("rev1", "APPROVED"), _review("rev1", "DISMISSED"), _review("rev1", "COMMENTED")], []),
    ([_review("rev2", "COMMENTED"), _review("rev1", "APPROVED"), _review("rev3", "PENDING")], ["rev1"]),
])
def test_a_comment_after_an_approval_keeps_it_and_a_dismissal_removes_it(reviews, approvers):
    assert J._approvers_from_event({"reviews": reviews}) == approvers


# ---- public credentials: identifiers stay readable, secrets never appear --------------------------
def _provider(cls, credentials: dict):
    from teamform.provider import Context

    return cls(Context("svc", None, credentials, None, None))


DEBRIEF_CREDENTIALS = {"username": "ops@example.com", "password": "pw-Debrief-0123456789",
                       "client_id": "debrief-client-42", "client_secret": "cs-Debrief-9876543210"}


def test_debrief_declares_its_login_name_and_client_id_public():
    from teamform.provider import Provider
    from teamform_debrief import DebriefProvider

    assert Provider.public_credentials == ()
    assert set(DebriefProvider.public_credentials) == {"username", "client_id"}
    assert set(DebriefProvider.public_credentials) <= set(DebriefProvider.credential_names)


def test_a_public_credential_value_is_kept_and_every_secret_is_masked():
    from teamform.apply import Report, Result
    from teamform.plan.ops import Plan
    from teamform_debrief import DebriefProvider
    from teamform_krisp import KrispProvider

    providers = [_provider(DebriefProvider, DEBRIEF_CREDENTIALS),
                 _provider(KrispProvider, {"api_key": SECRET_KEY, "secret": SECRET})]
    secrets = J.secret_values(providers)
    assert "ops@example.com" not in secrets and "debrief-client-42" not in secrets
    report = Report([
        Result("crankwheel:user[ops@example.com]:update", "crankwheel", "update", "user[ops@example.com]", "done"),
        Result("debrief:team_user[x]:create", "debrief", "create", "team_user[x]", "failed",
               f"login as ops@example.com with {DEBRIEF_CREDENTIALS['password']} and client debrief-client-42 / "
               f"{DEBRIEF_CREDENTIALS['client_secret']} refused; krisp {SECRET_KEY} {SECRET}"),
    ])
    entry = J.entry(Plan(), report, secrets=secrets, environ={})
    text = json.dumps(entry)
    assert entry["operations"][0]["id"] == "crankwheel:user[ops@example.com]:update"
    assert entry["operations"][0]["label"] == "user[ops@example.com]"
    assert "login as ops@example.com" in text and "client debrief-client-42" in text
    for secret in (DEBRIEF_CREDENTIALS["password"], DEBRIEF_CREDENTIALS["client_secret"], SECRET_KEY, SECRET):
        assert secret not in text
    assert entry["operations"][1]["message"].count("***") == 4


def test_a_public_value_that_is_also_a_secret_or_contains_one_stays_masked():
    from teamform.apply import Report, Result
    from teamform.plan.ops import Plan
    from teamform_debrief import DebriefProvider
    from teamform_krisp import KrispProvider

    # another service's secret that happens to equal the login name; a password inside another secret
    providers = [_provider(DebriefProvider, {**DEBRIEF_CREDENTIALS, "password": "pw-0123"}),
                 _provider(KrispProvider, {"api_key": "ops@example.com", "secret": "xx-pw-0123-yy"})]
    report = Report([Result("a", "krisp", "create", "member[ops@example.com]", "failed", "xx-pw-0123-yy pw-0123")])
    entry = J.entry(Plan(), report, secrets=J.secret_values(providers), environ={})
    text = json.dumps(entry)
    assert "ops@example.com" not in text and "pw-0123" not in text and "-yy" not in text
    assert entry["operations"][0]["message"] == "*** ***"


def test_cli_journal_names_the_debrief_login_user_where_another_service_changes_them(tmp_path, monkeypatch):
    """The brief's case: the Debrief username is ops@example.com, and crankwheel adds ops@example.com."""
    from teamform_debrief.emulator import DebriefEmulator

    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text("""
version: 1
people:
  ops@example.com: {name: Teamform Ops}
  alice@example.com: {name: Alice Doe}
services:
  crankwheel:
    provider: crankwheel
    sandbox: true
    credentials: {api_key: env:CRANKWHEEL_API_KEY}
    policy: {authoritative: false}
    members:
      - {who: alice@example.com, privilege: owner, in_demo_pool: true}
      - {who: ops@example.com, privilege: admin}
  debrief:
    provider: debrief
    sandbox: true
    credentials: {username: env:DEBRIEF_USERNAME, password: env:DEBRIEF_PASSWORD,
                  client_id: env:DEBRIEF_CLIENT_ID, client_secret: env:DEBRIEF_CLIENT_SECRET}
    policy: {authoritative: false}
    members:
      - {who: ops@example.com, role: owner}
""")
    result = CliRunner().invoke(cli, ["apply", "--auto-approve", "--journal", "j.jsonl"])
    assert result.exit_code == 0, result.output
    text = Path("j.jsonl").read_text()
    [entry] = J.read("j.jsonl")
    assert DebriefEmulator.sandbox_credentials["username"] == "ops@example.com"
    assert any(op["id"].startswith("crankwheel:") and "ops@example.com" in op["id"] for op in entry["operations"])
    assert "[***]" not in text
    for name in ("password", "client_secret"):
        assert DebriefEmulator.sandbox_credentials[name] not in text


# ---- journal --markdown stays under GitHub's comment limit ----------------------------------------
def _big_entry(done: int = 1450, failed: int = 30, skipped: int = 20) -> dict:
    from teamform.apply import Report, Result
    from teamform.plan.ops import Plan

    results = []
    for i in range(max(done, failed, skipped)):  # interleaved, as an apply finishes them
        if i < done:
            results.append(Result(f"crankwheel:user[user{i:04d}@example.com]:create", "crankwheel", "create",
                                  f"user[user{i:04d}@example.com]", "done", seconds=0.1, attempts=1))
        if i < failed:
            results.append(Result(f"krisp:member[f{i}@example.com]:delete", "krisp", "delete", "member", "failed",
                                  f"403 <b>no</b> for @mallory in #12 | see https://evil.example/{i} `x` " * 3))
        if i < skipped:
            results.append(Result(f"krisp:member[s{i}@example.com]:update", "krisp", "update", "member", "skipped",
                                  "stale: what it depends on changed since the plan was made; run plan again"))
    return J.entry(Plan(), Report(results), environ={})


def test_journal_markdown_of_a_huge_apply_fits_a_comment_failed_and_skipped_first(tmp_path):
    from teamform.render.journal import MARKDOWN_LIMIT

    e = _big_entry()
    assert len(e["operations"]) == 1500
    J.append(tmp_path / "j.jsonl", e)
    result = CliRunner().invoke(cli, ["journal", "--journal", str(tmp_path / "j.jsonl"), "--markdown", "-n", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert len(out) <= MARKDOWN_LIMIT + 1 < 65_536
    assert out.startswith("**teamform apply failed**") and "1450 done, 30 failed, 20 skipped" in out
    items = [line for line in out.splitlines() if line.startswith("- ")]
    statuses = [line.split()[2] for line in items]
    assert statuses[:50] == ["failed"] * 30 + ["skipped"] * 20 and set(statuses[50:]) == {"done"}
    last = out.rstrip("\n").splitlines()[-1]
    assert last == f"… {1500 - len(items)} more operations: see the run's journal artifact"
    assert len(items) < 1500
    # everything from the services is escaped: no markup, mention, reference or link survives
    for raw in ("<b>", "@mallory", "in #12", "https://", " | ", "`x`", "@example.com"):
        assert raw not in out


def test_journal_markdown_cuts_one_enormous_message_and_lists_everything_when_it_fits(tmp_path):
    from teamform.apply import Report, Result
    from teamform.render.journal import MARKDOWN_LIMIT, entry_markdown, markdown
    from teamform.plan.ops import Plan

    huge = J.entry(Plan(), Report([Result("a", "krisp", "create", "m", "failed", "@<" * 100_000),
                                   Result("b", "krisp", "create", "m", "done")]), environ={})
    text = entry_markdown(huge)
    shown = esc("krisp: + m")  # the operation as the plan showed it (the label, its case kept)
    assert len(text) <= MARKDOWN_LIMIT and f"- ✗ failed {shown}: " in text and f"- ✓ done {shown}" in text
    assert "more operations" not in text
    small = entry_markdown(_big_entry(done=3, failed=1, skipped=1))
    assert len([line for line in small.splitlines() if line.startswith("- ")]) == 5 and "more operations" not in small
    many = markdown([_big_entry(done=200, failed=5, skipped=0) for _ in range(40)])
    assert len(many) <= MARKDOWN_LIMIT and many.startswith("… 20 earlier entries: see the journal")


def test_old_entries_without_an_outcome_still_display(tmp_path):
    old = {"version": 1, "time": "2024-05-01T10:00:00+00:00", "teamform": "0.1.0", "state_file": "teams.yaml",
           "state_hash": "s", "plan_hash": "abc123", "saved_plan": None, "services": ["krisp"], "ok": False,
           "counts": {"done": 1, "failed": 1, "skipped": 0}, "seconds": 1.0,
           "operations": [{"id": "krisp:member[a@example.com]:create", "status": "done", "message": "", "seconds": 0.5},
                          {"id": "krisp:member[b@example.com]:create", "status": "failed", "message": "402 no seat",
                           "seconds": 0.5}],
           "ci": None}
    J.append(tmp_path / "j.jsonl", old)
    runner = CliRunner()
    shown = runner.invoke(cli, ["journal", "--journal", str(tmp_path / "j.jsonl")]).output
    assert "FAILED  plan abc123  1 done, 1 failed, 0 skipped  (krisp)" in shown and "402 no seat" in shown
    md = runner.invoke(cli, ["journal", "--journal", str(tmp_path / "j.jsonl"), "--markdown"]).output
    assert md.startswith("**teamform apply failed**") and md.index("✗ failed") < md.index("✓ done")
    assert "refused" not in shown + md


# ---- refused applies are journalled too ----------------------------------------------------------
def test_a_refusal_is_journalled_with_the_same_ci_context_and_shown_as_refused(tmp_path, monkeypatch):
    from teamform.apply import Report
    from teamform.cli.gitops import JournalTarget
    from teamform.plan.ops import Plan
    from teamform.render.markdown import esc

    env = github_env(tmp_path, {"pull_request": {"number": 7, "user": {"login": "author"}},
                                "reviews": [_review("rev1", "APPROVED")]})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "j.jsonl"
    JournalTarget(str(path)).refused("environment variable KRISP_API_KEY is not set (it holds the api_key for "
                                     "krisp)", services=("krisp",))
    plan = Plan()
    JournalTarget(str(path), str(tmp_path / "plan.json")).refused(
        "the plan is stale: krisp: member[dave@example.com] changed. Run plan again", plan=plan, services=("x",))
    first, second = J.read(path)
    assert first["outcome"] == "refused" and first["ok"] is False and first["operations"] == []
    assert first["reason"].startswith("environment variable KRISP_API_KEY is not set")
    assert first["plan_hash"] is None and first["services"] == ["krisp"] and first["time"]
    assert first["ci"] == J.ci_context(env) and first["ci"]["approvers"] == ["rev1"]
    assert first["ci"]["pull_request"]["number"] == 7
    normal = J.entry(plan, Report(), environ=env)
    assert set(normal) - {"plan_file_sha256"} <= set(first) | {"outcome"}  # the same shape, and a reason
    assert normal["outcome"] == "applied" and normal["ci"] == first["ci"]
    assert second["plan_hash"] == J.plan_hash(plan) and second["saved_plan"] == str(tmp_path / "plan.json")
    assert second["plan_file_sha256"] is None  # the plan file is missing: still journalled
    assert "ghs_should_never_be_written" not in path.read_text()

    runner = CliRunner()
    shown = runner.invoke(cli, ["journal", "--journal", str(path), "-v"]).output
    assert "REFUSED  plan not made  nothing applied  (krisp)" in shown
    assert "    refused: environment variable KRISP_API_KEY is not set" in shown
    assert f"REFUSED  plan {J.plan_hash(plan)}" in shown and "refused: the plan is stale: krisp" in shown
    assert "commit 0123456789ab on refs/heads/main, PR #7, approved by rev1" in shown
    md = runner.invoke(cli, ["journal", "--journal", str(path), "--markdown", "-n", "1"]).output
    assert md.startswith("**teamform apply refused**") and "nothing was applied" in md
    assert "\nrefused: " + esc("the plan is stale: krisp: member[dave@example.com] changed.") in md
    assert "dave@example" not in md
    assert J.plan_hash(plan) in md


def test_a_refusal_masks_the_session_secrets_and_can_be_turned_off(tmp_path):
    from types import SimpleNamespace

    from teamform.cli.gitops import JournalTarget
    from teamform_debrief import DebriefProvider

    session = SimpleNamespace(providers={"debrief": _provider(DebriefProvider, DEBRIEF_CREDENTIALS)})
    path = tmp_path / "j.jsonl"
    reason = (f"debrief: reading /user failed: login ops@example.com/{DEBRIEF_CREDENTIALS['password']} "
              f"client {DEBRIEF_CREDENTIALS['client_secret']}")
    JournalTarget(str(path)).refused(reason, session=session)
    entry = J.read(path)[0]
    assert entry["reason"] == "debrief: reading /user failed: login ops@example.com/*** client ***"
    JournalTarget("-").refused(reason, session=session)
    assert not Path("-").exists() and len(J.read(path)) == 1


def test_a_refusal_whose_journal_cannot_be_written_warns(tmp_path, capsys):
    from teamform.cli.gitops import JournalTarget

    (tmp_path / "dir").mkdir()
    JournalTarget(str(tmp_path / "dir")).refused("bad file")
    assert "could not write the journal" in capsys.readouterr().err
