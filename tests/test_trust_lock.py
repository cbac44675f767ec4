"""The apply lock, in process: one per target account, who holds it, waiting, taking over from a
dead process, never a secret on disk, and `plan` takes none."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from teamform.cli import cli
from teamform.lock import Account, ApplyLock, Holder, LockHeld, parse_duration

SECRET = "sk_live_do-not-write-me-0123456789"


def account(service="crm", provider="krisp", where="https://api.krisp.ai/v2", **identity) -> Account:
    return Account(service, provider, where, where, identity or {"api_key": SECRET})


def test_a_second_run_on_the_same_account_fails_at_once_naming_the_holder(tmp_path):
    with ApplyLock([account()], directory=tmp_path, state_file="a.yaml", command="teamform apply -f a.yaml") as first:
        first.acquire(0)
        started = time.monotonic()
        with pytest.raises(LockHeld) as held:
            ApplyLock([account(service="other-name")], directory=tmp_path).acquire(0)
        assert time.monotonic() - started < 2
    message = str(held.value)
    me = Holder.me()
    for part in (f"{me.user}@{me.host}", f"pid {os.getpid()}", "`teamform apply -f a.yaml`", "since ",
                 "other-name (krisp at https://api.krisp.ai/v2)", "Nothing was applied", "--lock-timeout"):
        assert part in message
    # released: the next run takes it, and no holder record is left
    with ApplyLock([account()], directory=tmp_path) as again:
        again.acquire(0)
    assert not list(tmp_path.glob("*.holder.json"))


def test_different_accounts_do_not_wait_for_each_other(tmp_path):
    a = ApplyLock([account()], directory=tmp_path)
    others = [account(where="https://eu.krisp.ai/v2"), account(api_key="another-team-key-123"),
              account(provider="crankwheel", where="https://api.krisp.ai/v2")]
    a.acquire(0)
    try:
        for other in others:
            with ApplyLock([other], directory=tmp_path) as b:
                b.acquire(0)
    finally:
        a.release()


def test_the_identity_is_the_login_not_the_password_when_the_provider_says_so(tmp_path):
    """Debrief-like: the same username with another password is the same account."""
    one = Account("d", "debrief", "https://x", "https://x", {"username": "ops@example.com"})
    two = Account("d2", "debrief", "https://x", "https://x", {"username": "ops@example.com"})
    with ApplyLock([one], directory=tmp_path) as a:
        a.acquire(0)
        with pytest.raises(LockHeld):
            ApplyLock([two], directory=tmp_path).acquire(0)


def test_a_run_waits_up_to_its_timeout_and_then_takes_the_lock(tmp_path):
    holder = ApplyLock([account()], directory=tmp_path)
    holder.acquire(0)
    timer = threading.Timer(0.4, holder.release)
    timer.start()
    waits: list[str] = []
    try:
        with ApplyLock([account()], directory=tmp_path, on_wait=waits.append) as waiting:
            waiting.acquire(10)
    finally:
        timer.cancel()
    assert waits and waits[0].startswith("Waiting up to 10s for the lock on crm (krisp at https://api.krisp.ai/v2)")


def test_a_run_that_waits_too_little_fails_saying_how_long_it_waited(tmp_path):
    with ApplyLock([account()], directory=tmp_path) as holder:
        holder.acquire(0)
        with pytest.raises(LockHeld) as held:
            ApplyLock([account()], directory=tmp_path).acquire(0.3)
    assert "after waiting 0.3s" in str(held.value)


def test_two_accounts_are_taken_together_or_not_at_all(tmp_path):
    b = account(provider="crankwheel")
    with ApplyLock([b], directory=tmp_path) as holder:
        holder.acquire(0)
        with pytest.raises(LockHeld):
            ApplyLock([account(), b], directory=tmp_path).acquire(0)
        with ApplyLock([account()], directory=tmp_path) as alone:  # the first one was let go again
            alone.acquire(0)


HOLD = """
import sys, time
from pathlib import Path
from teamform.lock import Account, ApplyLock
lock = ApplyLock([Account("crm", "krisp", "https://api.krisp.ai/v2", "https://api.krisp.ai/v2",
                          {"api_key": sys.argv[2]})], directory=Path(sys.argv[1]), command="teamform apply (killed)")
lock.acquire(0)
print("held", flush=True)
time.sleep(60)
"""


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_warning(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), SECRET], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld) as held:  # alive: it holds the lock
            ApplyLock([account()], directory=tmp_path).acquire(0)
        assert f"pid {proc.pid}" in str(held.value) and "teamform apply (killed)" in str(held.value)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    warnings: list[str] = []
    with ApplyLock([account()], directory=tmp_path, on_takeover=warnings.append) as lock:
        lock.acquire(0)
    [warning] = warnings
    assert warning.startswith("warning: took over the lock on crm (krisp at https://api.krisp.ai/v2) left by")
    assert f"pid {proc.pid}" in warning and "ended without releasing it" in warning
    warnings.clear()
    with ApplyLock([account()], directory=tmp_path, on_takeover=warnings.append) as lock:  # released cleanly
        lock.acquire(0)
    assert warnings == []


def test_no_secret_nor_its_plain_digest_is_written(tmp_path):
    with ApplyLock([account()], directory=tmp_path) as lock:
        lock.acquire(0)
        written = "".join(p.name + (p.read_text() if p.is_file() else "") for p in tmp_path.iterdir())
    plain = hashlib.sha256(SECRET.encode()).hexdigest()
    assert SECRET not in written and plain[:12] not in written
    assert oct((tmp_path / "salt").stat().st_mode & 0o777) == "0o600"


def test_durations():
    assert [parse_duration(t) for t in ("0", "30", "30s", "5m", "1h", " 2.5s ")] == [0, 30, 30, 300, 3600, 2.5]
    for bad in ("-1", "soon", "5x", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)


# ---- through the CLI: apply takes the lock, plan does not ---------------------------------------
FILE = """\
version: 1
people:
  alice@example.com: {name: Alice}
  erin@example.com: {name: Erin}
services:
  krisp:
    provider: krisp
    sandbox: true
    policy: {max_removals: 100%}
    seats: {standard: 3}
    members:
      - {who: alice@example.com, role: Admin}
      - {who: erin@example.com}
"""


def _sandbox_account(tmp_path: Path) -> Account:
    from teamform.session import Session
    from teamform.testing import load

    session = Session(load(FILE), sandbox_dir=tmp_path / ".teamform" / "sandbox")
    session.providers = {s.name: session._open(s) for s in session.selected}
    [acct] = session.accounts()
    return acct


def test_apply_refuses_while_another_holds_the_account_and_plan_does_not_wait(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE)
    Path("other.yaml").write_text(FILE.replace("erin@example.com}", "erin@example.com, role: Admin}"))
    lock_dir = Path(os.environ["TEAMFORM_LOCK_DIR"])
    acct = _sandbox_account(tmp_path)
    assert acct.where == f"sandbox:{(tmp_path / '.teamform' / 'sandbox' / 'krisp.json').resolve()}"
    runner = CliRunner()
    with ApplyLock([acct], directory=lock_dir, command="teamform apply -f other.yaml") as held:
        held.acquire(0)
        assert runner.invoke(cli, ["plan"]).exit_code == 0
        result = runner.invoke(cli, ["apply", "--auto-approve", "--journal", "j.jsonl"])
        assert result.exit_code == 1
        assert "another apply is running against krisp" in result.output
        assert "`teamform apply -f other.yaml`" in result.output
        result = runner.invoke(cli, ["apply", "-f", "other.yaml", "--auto-approve", "--lock-timeout", "0.3s"])
        assert result.exit_code == 1 and "Waiting up to 0.3s" in result.output and "after waiting 0.3s" in result.output
    entry = json.loads(Path("j.jsonl").read_text().splitlines()[0])
    assert entry["outcome"] == "refused" and "another apply is running" in entry["reason"]
    assert runner.invoke(cli, ["apply", "--auto-approve", "--journal", "j.jsonl"]).exit_code == 0
    bad = runner.invoke(cli, ["apply", "--auto-approve", "--lock-timeout", "soon"])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_ctrl_c_while_waiting_for_the_lock_stops_at_once(tmp_path, monkeypatch):
    import teamform.cli.planapply as planapply

    monkeypatch.chdir(tmp_path)
    Path("teams.yaml").write_text(FILE)
    waiting = threading.Event()
    say = planapply._say
    monkeypatch.setattr(planapply, "_say", lambda m: (say(m), m.startswith("Waiting") and waiting.set()))

    def interrupt():
        if waiting.wait(30):
            os.kill(os.getpid(), signal.SIGINT)

    with ApplyLock([_sandbox_account(tmp_path)], directory=Path(os.environ["TEAMFORM_LOCK_DIR"])) as held:
        held.acquire(0)
        threading.Thread(target=interrupt, daemon=True).start()
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["apply", "--auto-approve", "--lock-timeout", "60s", "--journal", "j.jsonl"])
    assert result.exit_code == 130, result.output
    assert time.monotonic() - started < 30
    assert "interrupted (SIGINT) before anything was applied; nothing was changed" in result.output
    assert json.loads(Path("j.jsonl").read_text())["outcome"] == "refused"


def test_two_files_naming_one_served_account_share_its_lock():
    """The issue's case: two state files against one `teamform sandbox serve` CrankWheel."""
    from teamform.session import Session
    from teamform.testing import load

    def accounts(service: str, key: str, url: str = "http://127.0.0.1:8702/") -> list[Account]:
        text = f"""
version: 1
people: {{alice@example.com: {{}}}}
services:
  {service}:
    provider: crankwheel
    base_url: {url}
    credentials: {{api_key: env:CW_KEY}}
    members: [{{who: alice@example.com, privilege: owner}}]
"""
        session = Session(load(text), environ={"CW_KEY": key})
        session.providers = {s.name: session._open(s) for s in session.selected}
        return session.accounts()

    salt = "s"
    [a] = accounts("crankwheel", "key-123456")
    [b] = accounts("cw-prod", "key-123456", "http://127.0.0.1:8702")  # another name, the same account
    [c] = accounts("crankwheel", "key-other-99")  # another API key: another account
    [d] = accounts("crankwheel", "key-123456", "http://127.0.0.1:8703/")  # another server
    assert a.key(salt) == b.key(salt) and len({a.key(salt), c.key(salt), d.key(salt)}) == 3
    assert a.where == "http://127.0.0.1:8702" and "key-123456" not in repr(a)
