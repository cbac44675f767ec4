"""The command line as a person at a terminal meets it, and as CI does: driven through a
pseudo-terminal (pexpect) where the terminal matters (the `yes` prompt, colour, the live progress
display), through pipes where it must not, and in process for the rest. Sandbox emulators only."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

from teamform.cli import cli

BIN = Path(sys.executable).with_name("teamform")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour or a style

FILE = """\
version: 1
people:
  alice@example.com: {name: Alice Doe}
  bob@example.com: {name: Bob Roe}
  carol@example.com: {name: Carol Poe}
  dave@example.com: {name: Dave Loe}
  erin@example.com: {name: Erin Moe}
services:
  krisp:
    provider: krisp
    sandbox: true
    credentials: {api_key: env:KRISP_API_KEY, secret: env:KRISP_SECRET}
    policy: {max_removals: 2}
    seats: {standard: 6}
    members:
      - {who: alice@example.com, role: Admin}
      - {who: bob@example.com}
      - {who: carol@example.com}
      - {who: dave@example.com, role: Admin}
      - {who: erin@example.com}
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A folder with the state file; the environment a user's shell would have, without colour
    settings of its own."""
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "FORCE_COLOR", "TEAMFORM_PROGRESS_INTERVAL", "TEAMFORM_SANDBOX_LATENCY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    (tmp_path / "teams.yaml").write_text(FILE)
    return tmp_path


def terminal(*args: str, **env: str) -> pexpect.spawn:
    """teamform in a pseudo-terminal: its stdin and stdout are a terminal, as in a shell."""
    return pexpect.spawn(str(BIN), list(args), env={**os.environ, **env}, timeout=60, encoding="utf-8",
                         dimensions=(40, 120))


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def piped(*args: str, **env: str) -> subprocess.CompletedProcess:
    """teamform with its output to a pipe, as in CI."""
    return subprocess.run([str(BIN), *args], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def pending() -> int:
    """How many changes a plan made now holds."""
    result = CliRunner().invoke(cli, ["plan", "--format", "json"])
    return sum(json.loads(result.stdout)["summary"].values())


# ---- the confirmation ----------------------------------------------------------------------------
@pytest.mark.parametrize("answer", ["y", "ye", ""])
def test_only_yes_approves_an_apply(here, answer):
    child = terminal("apply", "--journal", "-")
    child.expect("Only 'yes' will be accepted to approve.")
    child.expect("Enter a value: ")
    child.sendline(answer)
    out = finish(child)
    assert child.exitstatus == 1, out
    assert "apply cancelled (only 'yes' approves); nothing was changed" in out
    assert pending() == 4


def test_yes_applies_and_a_terminal_gets_the_live_display_not_the_ci_lines(here):
    child = terminal("apply", "--journal", "-")
    child.expect("Enter a value: ")
    child.sendline("yes")
    out = finish(child)
    assert child.exitstatus == 0, out
    assert "Apply complete: 4 done, 0 failed, 0 skipped" in out
    assert "\x1b[?25l" in out and "━" in out, "rich's display: the cursor hidden, bars drawn"
    assert re.search(r"total\s+\S*━", ANSI.sub("", out)), "a row for the whole apply"
    assert "/4" in ANSI.sub("", out), "done of the total"
    assert "Progress:" not in out and "Applying 4" not in out, "the lines for CI are not printed here"
    assert pending() == 0


def test_ctrl_c_during_the_live_display_is_said_above_it_and_the_summary_follows(here):
    child = terminal("apply", "--auto-approve", "--journal", "-", TEAMFORM_SANDBOX_LATENCY="0.5")
    child.expect("━")  # the display is up; no operation can have finished (each request takes 0.5 s)
    child.kill(signal.SIGINT)
    out = finish(child)
    assert child.exitstatus == 130, out
    shown = ANSI.sub("", out)
    assert "SIGINT: stopping. No new operation starts" in shown
    assert "Apply interrupted (SIGINT): " in shown and "not started" in shown
    assert "\x1b[?25h" in out, "the cursor is shown again"


def test_ctrl_d_at_the_prompt_changes_nothing(here):
    child = terminal("apply", "--journal", "-")
    child.expect("Enter a value: ")
    child.sendeof()
    out = finish(child)
    assert child.exitstatus == 130 and "nothing was changed" in out
    assert pending() == 4


# ---- progress off a terminal ------------------------------------------------------------------------
def test_off_a_terminal_each_result_is_a_plain_line_with_summaries_between(here):
    done = piped("apply", "--auto-approve", "--journal", "-",
                 TEAMFORM_PROGRESS_INTERVAL="0.05", TEAMFORM_SANDBOX_LATENCY="0.15")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert not ANSI.search(out), "no colour, no cursor movement in a log"
    assert "━" not in out
    assert re.search(r"^Applying 4 operation\(s\); progress every [\d.]+s\.$", out, re.M), out
    assert re.search(r"^Progress: [0-3] of 4 finished \(\d+ done, 0 failed, 0 skipped\) in [\d.]+s", out, re.M), out
    lines = out.splitlines()
    results = [line for line in lines if line.startswith("  ✓ krisp: ")]
    assert len(results) == 4 and lines[-1].startswith("Apply complete: 4 done")


# ---- colour --------------------------------------------------------------------------------------
def test_a_terminal_gets_colour(here):
    out = finish(terminal("plan"))
    assert SGR.search(out), out


@pytest.mark.parametrize("how", [{"NO_COLOR": "1"}, {"args": "--no-color"}, {"args": "--no-color", "before": True},
                                 {"args": "--no-color", "FORCE_COLOR": "1"}])
def test_no_color_and_no_color_win_on_a_terminal(here, how):
    how = dict(how)
    args = ["plan"]
    if "args" in how:
        flag = how.pop("args")
        args = [flag, "plan"] if how.pop("before", False) else ["plan", flag]
    out = finish(terminal(*args, **how))
    assert "Plan: 1 to add" in out
    assert not SGR.search(out), out


@pytest.mark.parametrize("how", [{"FORCE_COLOR": "1"}, {"args": "--color"}, {"args": "--color", "NO_COLOR": "1"}])
def test_colour_can_be_forced_where_output_is_not_a_terminal(here, how):
    how = dict(how)
    args = ["plan", how.pop("args")] if "args" in how else ["plan"]
    done = piped(*args, **how)
    assert done.returncode == 0, done.stderr
    assert "\x1b[1m" in done.stdout and "\x1b[32m" in done.stdout, "bold headings, green additions"


def test_a_pipe_gets_no_colour_and_force_color_0_forces_nothing(here):
    for env in ({}, {"FORCE_COLOR": "0"}, {"FORCE_COLOR": ""}):
        done = piped("plan", **env)
        assert done.returncode == 0 and "Plan: 1 to add" in done.stdout
        assert not ANSI.search(done.stdout), env


# ---- global options after the command; the request log ---------------------------------------------
def test_verbose_after_the_command_logs_each_request_with_status_and_time(here):
    result = CliRunner().invoke(cli, ["plan", "-v"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^teamform\.http: GET http://\S+/team → 200 \(\d+ ms\)$", result.output, re.M), result.output
    assert "sends" not in result.output, "headers only at -vv"


def test_double_verbose_adds_headers_with_the_secrets_masked(here):
    for args in (["plan", "-vv"], ["-v", "plan", "-v"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        sends = [line for line in result.output.splitlines() if " sends " in line]
        assert sends and all("authorization: ***" in line for line in sends), sends
        assert "Basic " not in result.output


def test_without_verbose_no_request_is_logged(here):
    result = CliRunner().invoke(cli, ["plan"])
    assert "teamform.http" not in result.output


def test_verbose_on_journal_shows_every_operation_wherever_it_is_given(here):
    runner = CliRunner()
    assert runner.invoke(cli, ["apply", "--auto-approve"]).exit_code == 0
    short = runner.invoke(cli, ["journal"]).output
    assert "member[bob@example.com]" not in short  # done: only failed and skipped are listed
    for args in (["journal", "-v"], ["-v", "journal"], ["journal", "--verbose"]):
        assert "member[erin@example.com]" in runner.invoke(cli, args).output, args


# ---- a host that cannot be reached --------------------------------------------------------------------
def test_a_service_that_cannot_be_reached_is_named_by_its_host(here, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (here / "teams.yaml").write_text(f"""\
version: 1
people: {{alice@example.com: {{}}}}
services:
  crankwheel:
    provider: crankwheel
    base_url: http://127.0.0.1:{port}/
    credentials: {{api_key: env:CW_KEY}}
    limits: {{retries: 0}}
    members: [{{who: alice@example.com, privilege: owner}}]
""")
    monkeypatch.setenv("CW_KEY", "key-123456")
    result = CliRunner().invoke(cli, ["plan", "-v"])
    assert result.exit_code == 1
    assert f"could not reach 127.0.0.1:{port} (" in result.output, result.output
    assert "[Errno" not in result.output
    assert re.search(rf"GET http://127\.0\.0\.1:{port}/\S* → could not reach", result.output), "and -v logs it"


# ---- a fast start: nothing heavy before a command runs ------------------------------------------------
HEAVY = ("pydantic", "httpx", "rich", "asyncio", "yaml.constructor", "teamform.config", "teamform.session",
         "teamform_krisp")


def _modules_loaded(args: list[str], env: dict[str, str]) -> tuple[str, list[str]]:
    code = ("import sys\nfrom teamform.cli import main\nsys.argv = ['teamform', *sys.argv[1:]]\ntry:\n    main()\n"
            "except SystemExit:\n    pass\n"
            f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)
    out, _, loaded = done.stdout.rpartition("LOADED ")
    return out, eval(loaded)  # noqa: S307 - our own list literal


def test_help_and_completion_load_no_provider_and_no_heavy_library(here):
    out, loaded = _modules_loaded(["--help"], {})
    assert "Commands:" in out and loaded == []
    out, loaded = _modules_loaded([], {"_TEAMFORM_COMPLETE": "bash_complete", "COMP_WORDS": "teamform pl",
                                       "COMP_CWORD": "1"})
    assert "plain,plan" in out and loaded == []


def test_service_names_complete_from_the_state_file(here):
    (here / "other.yaml").write_text(FILE.replace("  krisp:\n", "  krisp-eu:\n") + """\
  crankwheel:
    provider: crankwheel
    sandbox: true
    members: []
""")
    env = {"_TEAMFORM_COMPLETE": "bash_complete"}
    out, loaded = _modules_loaded([], {**env, "COMP_WORDS": "teamform apply --service ", "COMP_CWORD": "3"})
    assert out.split() == ["plain,krisp"] and loaded == ["yaml.constructor"]
    out, _ = _modules_loaded([], {**env, "COMP_WORDS": "teamform plan -f other.yaml --service k", "COMP_CWORD": "5"})
    assert out.split() == ["plain,krisp-eu"]
    out, _ = _modules_loaded([], {**env, "COMP_WORDS": "teamform plan -f missing.yaml --service ", "COMP_CWORD": "5"})
    assert out.split() == []
