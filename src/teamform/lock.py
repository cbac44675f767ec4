"""The apply lock: one apply at a time per target account, on this machine.

An account is what a run writes to: the provider, the base URL (for a sandbox service, its
emulator's state file) and the credential identity. Two state files that name the same account
take the same lock; two services of one file that name different accounts take two. The identity
is the provider's ``public_credentials`` when it declares some (a login name identifies the
account whatever its password), else every credential value; it is only ever written as a
digest salted with a random value kept in the lock folder, so neither a lock file's name nor its
holder record can be used to guess a secret.

The lock is ``filelock``'s ``FileLock`` (``flock`` on Unix): the kernel releases it when its
process ends, however it ends, so a killed run never blocks the next one. Beside each lock file
a holder record says who holds it (user, host, pid, command, since when); the holder removes it
on release. A run that takes a lock and finds a record left behind took over from a process that
died holding it, and says so.

What it covers: the runs on one machine that share a lock folder (``TEAMFORM_LOCK_DIR``, else
``$XDG_STATE_HOME/teamform/locks``, else ``~/.local/state/teamform/locks``). Runs on different
machines (a laptop and CI) are not serialized by it: CI serializes its own runs with the apply
workflow's concurrency group.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import secrets
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from filelock import FileLock

LOCK_DIR_ENV = "TEAMFORM_LOCK_DIR"


def lock_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(LOCK_DIR_ENV):
        return Path(env[LOCK_DIR_ENV])
    state = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return state / "teamform" / "locks"


def parse_duration(text: str) -> float:
    """Seconds from ``0``, ``30``, ``30s``, ``5m``, ``1h`` (as Terraform's -lock-timeout)."""
    value = str(text).strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(value[-1:], None)
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (examples: 0, 30s, 5m, 1h)") from None
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{text!r}: a lock timeout cannot be negative")
    return seconds


@dataclass(frozen=True)
class Account:
    """One target account, as the lock knows it. ``where`` is shown; ``secret_part`` never is."""

    service: str  # the instance name in the state file, for messages
    provider: str
    where: str  # the base URL without credentials or query, or ``sandbox:<state file>``
    locator: str = field(repr=False, default="")  # the full base URL (may carry a token): hashed only
    identity: Mapping[str, str] = field(repr=False, default_factory=dict)  # credential values: hashed only

    def key(self, salt: str) -> str:
        material = json.dumps([self.provider, self.locator or self.where, sorted(self.identity.items())])
        digest = hashlib.sha256((salt + "\0" + material).encode()).hexdigest()[:24]
        return f"{_safe(self.provider)}-{digest}"

    @property
    def label(self) -> str:
        return f"{self.service} ({self.provider} at {self.where})"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "provider"


@dataclass
class Holder:
    """Who holds (or held) a lock. Nothing secret: the command line of teamform has no secrets."""

    user: str
    host: str
    pid: int
    command: str
    since: str
    account: str = ""
    state_file: str = ""

    @classmethod
    def me(cls, account: str = "", state_file: str = "", command: str | None = None) -> "Holder":
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no user name in this environment
            user = str(os.getuid()) if hasattr(os, "getuid") else "?"
        return cls(user=user, host=socket.gethostname(), pid=os.getpid(),
                   command=command if command is not None else _command(),
                   since=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                   account=account, state_file=state_file)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Holder":
        return cls(user=str(data.get("user", "?")), host=str(data.get("host", "?")), pid=int(data.get("pid", 0)),
                   command=str(data.get("command", "?")), since=str(data.get("since", "?")),
                   account=str(data.get("account", "")), state_file=str(data.get("state_file", "")))

    @property
    def alive(self) -> bool | None:
        """Is the process still running? ``None`` when it ran on another host."""
        if self.host != socket.gethostname():
            return None
        return pid_alive(self.pid)

    def describe(self, now: dt.datetime | None = None) -> str:
        age = ""
        try:
            since = dt.datetime.fromisoformat(self.since)
            seconds = int(((now or dt.datetime.now(dt.timezone.utc)) - since).total_seconds())
            age = f" ({_ago(seconds)})"
        except ValueError:
            pass
        return f"{self.user}@{self.host}, pid {self.pid}, `{self.command}`, since {self.since}{age}"


def _ago(seconds: int) -> str:
    if seconds < 90:
        return f"{max(0, seconds)}s ago"
    if seconds < 5400:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m ago"


def _command() -> str:
    args = [os.path.basename(sys.argv[0]) if sys.argv else "teamform", *sys.argv[1:]]
    text = " ".join(args)
    return text if len(text) <= 200 else text[:200] + "…"


def pid_alive(pid: int) -> bool:
    """Is this process (on this host) running? (On Windows, where os.kill(pid, 0) would signal the
    process, it cannot be told cheaply: taken as running.)"""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return False
    return True


class LockError(Exception):
    """The lock folder cannot be used."""


class LockHeld(Exception):
    """Another run holds the lock of an account this run would write to."""

    def __init__(self, account: Account, holder: Holder | None, waited: float) -> None:
        self.account, self.holder, self.waited = account, holder, waited
        who = (f"by {holder.describe()}" if holder is not None
               else "by a process that has not recorded who it is yet")
        waited_text = f" after waiting {waited:.1f}s" if waited > 0 else ""
        super().__init__(f"another apply is running against {account.label}: the lock is held {who}"
                         f"{waited_text}. Nothing was applied. Wait for it to finish, or retry with "
                         "--lock-timeout 5m to wait for it.")


class ApplyLock:
    """The locks of a run's accounts, taken together (in one order, so two runs never deadlock)
    and released together. ``on_wait(message)`` is told when a lock is busy and this run waits;
    ``on_takeover(message)`` when a lock left by a dead process is taken over."""

    def __init__(self, accounts: Iterable[Account], *, directory: Path | None = None, state_file: str = "",
                 command: str | None = None, on_wait: Callable[[str], None] | None = None,
                 on_takeover: Callable[[str], None] | None = None, poll_interval: float = 0.05) -> None:
        self.directory = Path(directory) if directory is not None else lock_dir()
        self.accounts = list(accounts)
        self.state_file, self.command = state_file, command
        self.on_wait = on_wait or (lambda m: None)
        self.on_takeover = on_takeover or (lambda m: None)
        self.poll_interval = poll_interval
        self._held: list[tuple[FileLock, Path]] = []

    # ---- files --------------------------------------------------------------------------
    def _prepare(self) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LockError(f"cannot create the lock folder {self.directory}: {exc}; set {LOCK_DIR_ENV} "
                            "to a folder this user can write") from None
        return _salt(self.directory)

    def _paths(self, salt: str) -> list[tuple[Account, Path]]:
        keyed: dict[str, Account] = {}
        for account in self.accounts:
            keyed.setdefault(account.key(salt), account)  # two services of one account: one lock
        return [(keyed[k], self.directory / f"{k}.lock") for k in sorted(keyed)]

    # ---- acquire/release ----------------------------------------------------------------
    def acquire(self, timeout: float = 0.0) -> None:
        salt = self._prepare()
        started = time.monotonic()
        try:
            for account, path in self._paths(salt):
                self._take(account, path, timeout, started)
        except BaseException:
            self.release()
            raise

    def _take(self, account: Account, path: Path, timeout: float, started: float) -> None:
        from filelock import FileLock, Timeout  # only an apply takes a lock; a plan, which reads, loads none of it

        lock = FileLock(str(path), timeout=0, poll_interval=self.poll_interval)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if timeout <= 0:
                raise LockHeld(account, _holder_of(path), 0.0) from None
            holder = _holder_of(path)
            self.on_wait(f"Waiting up to {timeout:g}s for the lock on {account.label}, held by "
                         + (holder.describe() if holder else "another process") + " ...")
            remaining = max(0.0, timeout - (time.monotonic() - started))
            try:
                lock.acquire(timeout=remaining, poll_interval=self.poll_interval)
            except Timeout:
                raise LockHeld(account, _holder_of(path), time.monotonic() - started) from None
        record = _holder_path(path)
        left = _read_holder(record)
        me = Holder.me(account.label, self.state_file, self.command)
        self._held.append((lock, path))
        if left is not None:
            self.on_takeover(f"warning: took over the lock on {account.label} left by {left.describe()}: that "
                             "process ended without releasing it (it was killed or crashed). What it applied "
                             "is in the journal; a plan made now shows what is left.")
        _write_json(record, asdict(me))

    def release(self) -> None:
        while self._held:
            lock, path = self._held.pop()
            try:
                _holder_path(path).unlink(missing_ok=True)
            finally:
                lock.release(force=True)

    def __enter__(self) -> "ApplyLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name.removesuffix(".lock") + ".holder.json")


def _read_holder(path: Path) -> Holder | None:
    try:
        return Holder.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _holder_of(lock_path: Path) -> Holder | None:
    """Who holds a busy lock. The record can lag behind the lock by a moment (a new holder that has
    not written it yet, after a dead one's): a record of a process gone from this host is read
    again briefly, and not shown as the holder if it stays so."""
    record = _holder_path(lock_path)
    for _ in range(5):
        holder = _read_holder(record)
        if holder is not None and holder.alive is not False:
            return holder
        time.sleep(0.05)
    return None


def _write_json(path: Path, data: Mapping) -> None:
    """Atomically: a temporary file of our own, renamed over the old one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _salt(directory: Path) -> str:
    """This lock folder's random salt, made once (by whichever run gets there first)."""
    path = directory / "salt"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    tmp = directory / f".salt.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)  # fails if another run made it first: then theirs is the salt
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()
