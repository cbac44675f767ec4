"""Saved plans end to end against the Krisp emulator (the sandbox): a stale plan is refused and
says what changed; --allow-stale-unrelated applies the rest and names what it skipped."""

from __future__ import annotations

import json

import pytest
from cli_harness import invoke
from teamform_krisp.emulator import KrispEmulator, seat

from teamform import journal as J

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
      - {who: erin@example.com}
"""


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(STATE)
    return tmp_path


def change_live(sandbox, edit) -> None:
    """Change the service behind teamform's back (someone used Krisp's own UI)."""
    emulator = KrispEmulator(store=sandbox / ".teamform" / "sandbox" / "krisp.json")
    edit(emulator.state)
    emulator.save()


def nickname(email: str, value: str):
    def edit(state):
        for s in state["seats"]:
            if s["user"] and s["user"]["email"].lower() == email:
                s["nickname"] = value
    return edit


def test_fresh_saved_plan_applies_exactly(sandbox):
    assert invoke("plan", "--out", "plan.json").exit_code == 0
    result = invoke("apply", "plan.json")
    assert result.exit_code == 0, result.output
    assert "Apply complete" in result.output
    assert "No changes" in invoke("plan").output


def test_stale_plan_is_refused_naming_what_changed(sandbox):
    assert invoke("plan", "--out", "plan.json").exit_code == 0
    change_live(sandbox, nickname("dave@example.com", "Davey"))
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1
    assert "the plan is stale" in result.output
    assert result.output.count("member[dave@example.com] changed") == 1
    assert "Run plan again" in result.output
    assert "Apply" not in result.output.replace("apply only", "")  # nothing was applied
    assert "mallory@example.com" in json.dumps(KrispEmulator(store=".teamform/sandbox/krisp.json").state)


def test_unrelated_change_is_named_even_when_no_operation_depends_on_it(sandbox):
    assert invoke("plan", "--out", "plan.json").exit_code == 0
    change_live(sandbox, nickname("alice@example.com", "Al"))  # Alice has no operation in the plan
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1
    assert "krisp: member[alice@example.com] changed" in result.output


def test_allow_stale_unrelated_applies_the_rest_and_names_the_skipped(sandbox):
    assert invoke("plan", "--out", "plan.json").exit_code == 0
    change_live(sandbox, nickname("dave@example.com", "Davey"))
    result = invoke("apply", "plan.json", "--allow-stale-unrelated")
    assert result.exit_code == 1, "a partly applied plan is not a success"
    assert "skipped (stale): krisp:member[dave@example.com]:update" in result.output
    assert "✓ krisp: - member[mallory@example.com]" in result.output
    assert "✓ krisp: + member[erin@example.com]" in result.output
    assert "1 skipped" in result.output
    after = invoke("plan")
    assert "member[dave@example.com]" in after.output and "mallory" not in after.output
    entry = J.read(sandbox / "journal.jsonl")[-1]
    skipped = [op for op in entry["operations"] if op["status"] == "skipped"]
    assert [op["id"] for op in skipped] == ["krisp:member[dave@example.com]:update"]
    assert skipped[0]["message"].startswith("stale")


def test_a_plan_from_another_version_of_the_file_is_refused(sandbox):
    assert invoke("plan", "--out", "plan.json").exit_code == 0
    (sandbox / "teams.yaml").write_text(STATE.replace("standard: 6", "standard: 7"))
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1 and "different version" in result.output


def test_dependent_operation_of_a_stale_one_is_skipped_too(sandbox):
    """Erin needs the sixth seat; when the seat pool changed, her invitation is skipped with it."""
    assert invoke("plan", "--out", "plan.json").exit_code == 0
    change_live(sandbox, lambda state: state["seats"].append(seat(99)))
    result = invoke("apply", "plan.json", "--allow-stale-unrelated")
    assert "skipped (stale): krisp:seats[standard]:update" in result.output
    plan = json.loads((sandbox / "plan.json").read_text())
    erin = next(op for s in plan["services"] for op in s["operations"] if op["key"] == "erin@example.com")
    assert "krisp:seats[standard]:update" in erin["depends_on"]
    assert "skipped (stale): krisp:member[erin@example.com]:create" in result.output
    assert "✓ krisp: - member[mallory@example.com]" in result.output


def test_allow_stale_unrelated_keeps_the_last_admin_guard_against_live_state_now(sandbox):
    """Saved when Dave was the other Admin, the plan only demotes Alice. Dave was demoted since:
    running that demotion now would leave no Admin, so it is skipped although its own resource
    did not change."""
    assert invoke("apply", "--auto-approve").exit_code == 0  # Alice and Dave are both Admins
    (sandbox / "teams.yaml").write_text(STATE.replace("{who: alice@example.com, role: Admin, nickname: Alice}",
                                                      "{who: alice@example.com, role: User, nickname: Alice}"))
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def demote_dave(state):
        next(s for s in state["seats"] if s["user"] and s["user"]["email"] == "dave@example.com")["role"] = "User"
    change_live(sandbox, demote_dave)
    result = invoke("apply", "plan.json", "--allow-stale-unrelated")
    assert "skipped (stale): krisp:member[alice@example.com]:update" in result.output
    admins = [s["user"]["email"] for s in KrispEmulator(store=".teamform/sandbox/krisp.json").state["seats"]
              if s["user"] and s["role"] == "Admin"]
    assert admins == ["alice@example.com"]


def test_a_resource_gone_since_the_plan_is_named_once(sandbox):
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def mallory_left(state):
        for s in state["seats"]:
            if s["user"] and s["user"]["email"] == "mallory@example.com":
                s.update(seat(s["id"]))
    change_live(sandbox, mallory_left)
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1 and "member[mallory@example.com] is gone" in result.output
    assert result.output.count("member[mallory@example.com]") == 1


def tamper(sandbox, edit) -> None:
    path = sandbox / "plan.json"
    plan = json.loads(path.read_text())
    edit(plan)
    path.write_text(json.dumps(plan))


def test_a_tampered_saved_plan_does_nothing_a_plan_made_now_would_not(sandbox):
    """The plan file is untrusted input (a pull request's job made it): an operation changed in it,
    here Erin's invitation turned into an Admin's, is refused, and nothing else runs either."""
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def erin_admin(plan):
        op = next(op for s in plan["services"] for op in s["operations"] if op["key"] == "erin@example.com")
        op["after"]["attrs"]["role"] = "Admin"
    tamper(sandbox, erin_admin)
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1
    assert "krisp:member[erin@example.com]:create: a plan made now would not do this" in result.output
    roles = {s["user"]["email"]: s["role"] for s in KrispEmulator(store=".teamform/sandbox/krisp.json").state["seats"]
             if s["user"]}
    assert "erin@example.com" not in roles and "mallory@example.com" in roles  # nothing was applied


def test_an_operation_added_to_a_saved_plan_is_skipped_even_when_stale_ones_are_allowed(sandbox):
    """A removal smuggled into the plan file (Alice, whom the file keeps) never runs."""
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def remove_alice(plan):
        ops = plan["services"][0]["operations"]
        mallory = next(op for op in ops if op["key"] == "mallory@example.com")
        alice = json.loads(json.dumps(mallory).replace("mallory@example.com", "alice@example.com"))
        alice["id"] = "krisp:member[alice@example.com]:delete"
        ops.append(alice)
    tamper(sandbox, remove_alice)
    result = invoke("apply", "plan.json", "--allow-stale-unrelated")
    assert "skipped (stale): krisp:member[alice@example.com]:delete" in result.output
    emails = {s["user"]["email"] for s in KrispEmulator(store=".teamform/sandbox/krisp.json").state["seats"]
              if s["user"]}
    assert "alice@example.com" in emails and "mallory@example.com" not in emails


def test_an_operation_a_plan_made_now_runs_after_something_left_out_of_the_saved_plan_is_refused(sandbox):
    """Erin's invitation needs the sixth seat. A plan file without the seat change (and without
    Erin's dependency on it) asks for her invitation exactly as a plan made now would, but not
    after the seat that plan adds first: refused, and nothing runs."""
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def drop_the_seats(plan):
        for s in plan["services"]:
            s["operations"] = [op for op in s["operations"] if op["id"] != "krisp:seats[standard]:update"]
            for op in s["operations"]:
                op["depends_on"] = [d for d in op.get("depends_on", []) if d != "krisp:seats[standard]:update"]
    tamper(sandbox, drop_the_seats)
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1
    assert ("krisp:member[erin@example.com]:create: a plan made now would do this only after "
            "krisp:seats[standard]:update, which this plan does not do first") in result.output
    emulator = KrispEmulator(store=".teamform/sandbox/krisp.json")
    assert "erin@example.com" not in {s["user"]["email"] for s in emulator.state["seats"] if s["user"]}
    assert "mallory@example.com" in {s["user"]["email"] for s in emulator.state["seats"] if s["user"]}

    result = invoke("apply", "plan.json", "--allow-stale-unrelated")
    assert "skipped (stale): krisp:member[erin@example.com]:create" in result.output
    emails = {s["user"]["email"] for s in KrispEmulator(store=".teamform/sandbox/krisp.json").state["seats"]
              if s["user"]}
    assert "erin@example.com" not in emails and "mallory@example.com" not in emails  # the rest ran


def test_a_dependency_taken_out_of_a_saved_operation_is_refused(sandbox):
    """Both operations are in the plan file, but Erin's no longer waits for the seat change: run
    side by side, her invitation could go first. A plan made now orders them: refused."""
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def unorder(plan):
        for s in plan["services"]:
            for op in s["operations"]:
                op["depends_on"] = [d for d in op.get("depends_on", []) if d != "krisp:seats[standard]:update"]
    tamper(sandbox, unorder)
    result = invoke("apply", "plan.json")
    assert result.exit_code == 1
    assert "krisp:member[erin@example.com]:create: a plan made now would do this only after" in result.output


def test_whom_a_saved_operation_names_comes_from_a_plan_made_now_not_from_the_file(sandbox):
    """Erin's invitation with another address in the file's ``person`` (what the invitation is
    sent to) is the same operation in what it does: it runs, and invites Erin, not the address."""
    assert invoke("plan", "--out", "plan.json").exit_code == 0

    def redirect(plan):
        op = next(op for s in plan["services"] for op in s["operations"] if op["key"] == "erin@example.com")
        op["after"]["person"] = "mallory@evil.example"
    tamper(sandbox, redirect)
    result = invoke("apply", "plan.json")
    assert result.exit_code == 0, result.output
    emails = {s["user"]["email"] for s in KrispEmulator(store=".teamform/sandbox/krisp.json").state["seats"]
              if s["user"]}
    assert "erin@example.com" in emails and "mallory@evil.example" not in emails
