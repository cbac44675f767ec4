"""The audit journal: JSON lines, written as an apply goes.

An apply writes a ``start`` event when it begins (its run id, the plan's hash, who runs it: the
local user and host, and the CI actor in CI), a ``result`` event for each operation as it completes
(written at once, so it survives the process being killed, and synced to disk at least every
``SYNC_EVERY`` seconds), and an ``end`` event with the counts. ``read`` puts each run back together
as one entry; a run without its ``end`` (the process was killed, or is still running) reads as
``"outcome": "interrupted"``, with what it did. A run that resumes a saved plan names the run it
resumes (``resumes``). Lines without an ``event`` are whole entries: refusals, applies with
nothing to do, and entries written before events existed.

Each entry holds the plan's hash, every operation with its result and timing, and, in CI, what the
CI environment says about the change: the commit, the ref, the run, and the pull request and its
approvers where the event carries them. Nothing secret is written: only named, non-secret CI
variables are read, and every secret credential value the run used is masked in any text that came
back from a service. A provider's ``public_credentials`` (a login name, an OAuth client id) are
identifiers, not secrets: their values are left as they are, so the entry still says who was changed.

An apply that is refused before anything runs (a bad file, a missing credential, plan errors, a
mass removal, a stale saved plan) appends an entry too: ``"outcome": "refused"`` with the
``reason``, ``ok: false`` and no operations (see ``refusal``). Entries written before ``outcome``
existed are applies.

What GitHub Actions makes available, honestly:

- ``GITHUB_SHA``, ``GITHUB_REF``, ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``, ``GITHUB_ACTOR``: always.
- ``GITHUB_EVENT_PATH`` (the event payload): on ``pull_request`` events it has ``pull_request``
  (number, author, merged_by); it never lists reviews. On ``push`` it has no pull request at all.
- so the apply workflow looks the merged pull request and its approving reviews up through the
  API and passes them as ``TEAMFORM_PR_NUMBER`` and ``TEAMFORM_APPROVERS`` (comma-separated);
  the entry records which source each came from.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import secrets as _secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .apply import DONE, FAILED, SKIPPED, Report, Result
from .lock import pid_alive
from .model import digest
from .redact import Redactor
from .plan.ops import Plan

if TYPE_CHECKING:  # pragma: no cover
    from .provider import Provider

DEFAULT_PATH = Path(".teamform") / "journal.jsonl"
ENTRY_VERSION = 1  # fields are only ever added: readers treat a missing one as its old meaning
APPLIED, REFUSED, INTERRUPTED = "applied", "refused", "interrupted"  # "outcome"; none: an apply
START, RESULT, END = "start", "result", "end"  # "event" of the lines an apply writes as it goes
SYNC_EVERY = 0.5  # seconds: results are written at once, and fsync'd at least this often
_CI_VARS = ("GITHUB_SHA", "GITHUB_REF", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT",
            "GITHUB_ACTOR", "GITHUB_EVENT_NAME", "GITHUB_WORKFLOW", "GITHUB_SERVER_URL")
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")


def plan_hash(plan: Plan) -> str:
    """What was applied, independent of when it was planned."""
    body = plan.to_dict()
    body.pop("created", None)
    return digest(body)


# ---- the CI environment ---------------------------------------------------------------------
def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _login(user: Any) -> str | None:
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) and _LOGIN.match(login) else None


#: review states that change a reviewer's standing; COMMENTED (and PENDING) leave it as it was
_STANDING = {"APPROVED": True, "CHANGES_REQUESTED": False, "DISMISSED": False}


def _approvers_from_event(event: Mapping[str, Any]) -> list[str] | None:
    """Reviewers (sorted) whose latest approving or disapproving review is an approval.
    A comment after an approval keeps it; requested changes or a dismissal withdraw it."""
    reviews = event.get("reviews")
    if isinstance(event.get("review"), dict):
        reviews = [event["review"]]
    if not isinstance(reviews, list):
        return None
    approved: dict[str, bool] = {}
    for review in reviews:
        if isinstance(review, dict) and (login := _login(review.get("user"))):
            standing = _STANDING.get(str(review.get("state", "")).upper())
            if standing is not None:
                approved[login] = standing
    return sorted(login for login, ok in approved.items() if ok)


def ci_context(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """What the CI environment says about this run; ``None`` outside CI."""
    env = os.environ if environ is None else environ
    if not env.get("GITHUB_ACTIONS") and not env.get("CI"):
        return None
    ci: dict[str, Any] = {"provider": "github-actions" if env.get("GITHUB_ACTIONS") else "unknown"}
    for var in _CI_VARS:
        if env.get(var):
            ci[var.removeprefix("GITHUB_").lower()] = env[var]
    event = _event(env.get("GITHUB_EVENT_PATH"))
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    if pr is not None:
        ci["pull_request"] = {"number": pr.get("number"), "author": _login(pr.get("user")),
                              "merged_by": _login(pr.get("merged_by")), "source": "event"}
    elif env.get("TEAMFORM_PR_NUMBER", "").isdigit():
        ci["pull_request"] = {"number": int(env["TEAMFORM_PR_NUMBER"]), "source": "TEAMFORM_PR_NUMBER"}
    approvers = _approvers_from_event(event)
    if approvers is not None:
        ci["approvers"], ci["approvers_source"] = approvers, "event"
    elif "TEAMFORM_APPROVERS" in env:
        names = [n.strip() for n in env["TEAMFORM_APPROVERS"].split(",") if n.strip()]
        ci["approvers"] = sorted(n for n in names if _LOGIN.match(n))
        ci["approvers_source"] = "TEAMFORM_APPROVERS"
    else:
        ci["approvers"], ci["approvers_source"] = None, "not available in this CI event"
    return ci


# ---- entries --------------------------------------------------------------------------------
def secret_values(providers: Iterable["Provider"]) -> list[str]:
    """The credential values to mask: every one except those a provider declares public
    (``Provider.public_credentials``). A public value that is also some secret's value stays masked."""
    return [value for p in providers for name, value in p.ctx.credentials.items()
            if name not in getattr(type(p), "public_credentials", ())]


def entry(plan: Plan, report: Report, *, saved_plan: str | None = None, secrets: Iterable[str] = (),
          environ: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    from . import __version__

    ops = {op.id: op for op in plan.operations}
    operations = [operation(r, ops.get(r.op_id)) for r in report.results]
    body = {
        "version": ENTRY_VERSION,
        "time": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "teamform": __version__,
        "outcome": APPLIED,
        "state_file": plan.state_file, "state_hash": plan.state_hash,
        "plan_hash": plan_hash(plan), "saved_plan": saved_plan,
        "services": [s.name for s in plan.services],
        "ok": report.ok, "counts": report.counts(), "seconds": report.seconds,
        "operations": operations,
        "ci": ci_context(environ),
    }
    return Redactor(secrets)(body)


def operation(r: Result, op: Any = None) -> dict[str, Any]:
    """One operation's result as the journal records it (``op``: the planned operation, if known)."""
    return {"id": r.op_id, "service": r.service, "action": r.action,
            "kind": op.kind if op else None, "key": op.key if op else None, "label": r.label,
            "status": r.status, "message": r.message, "seconds": r.seconds,
            "attempts": r.attempts, "batched": r.batched,
            "destructive": bool(op and op.destructive), "demotion": bool(op and op.demotion)}


def who(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Who runs this apply: the local user and host, and in CI the actor that started the run."""
    env = os.environ if environ is None else environ
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        user = None
    out: dict[str, Any] = {"user": user, "host": socket.gethostname(), "pid": os.getpid()}
    if env.get("GITHUB_ACTOR") and (env.get("GITHUB_ACTIONS") or env.get("CI")):
        out["actor"] = env["GITHUB_ACTOR"]
    return out


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable, and unique enough for one journal: the time and random bits."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{_secrets.token_hex(4)}"


plan_hash_of = plan_hash  # for the functions whose parameter is called plan_hash


def start(plan: Plan, *, run: str, plan_hash: str | None = None, saved_plan: str | None = None,
          planned: int | None = None, resumes: str | None = None, done_before: int = 0, secrets: Iterable[str] = (),
          environ: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The event that opens an apply: what it applies (``planned`` operations; ``done_before`` of
    the saved plan were done by the runs it resumes), who runs it, and the CI context."""
    from . import __version__

    body = {
        "version": ENTRY_VERSION, "event": START, "run": run,
        "time": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "teamform": __version__,
        "state_file": plan.state_file, "state_hash": plan.state_hash,
        "plan_hash": plan_hash or plan_hash_of(plan), "saved_plan": saved_plan,
        "services": [s.name for s in plan.services],
        "planned": len(plan.operations) if planned is None else planned,
        "resumes": resumes, "done_before": done_before,
        "who": who(environ),
        "ci": ci_context(environ),
    }
    return Redactor(secrets)(body)


def result(run: str, r: Result, op: Any = None, *, secrets: Iterable[str] = ()) -> dict[str, Any]:
    return Redactor(secrets)({"event": RESULT, "run": run, **operation(r, op)})


def end(run: str, report: Report, *, not_started: int = 0, now: dt.datetime | None = None) -> dict[str, Any]:
    """The event that closes an apply: the counts, and whether it was interrupted (Ctrl-C or
    SIGTERM) with operations ``not_started``."""
    return {"event": END, "run": run,
            "finished": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
            "outcome": INTERRUPTED if report.interrupted else APPLIED,
            "ok": report.ok, "counts": report.counts(), "seconds": report.seconds,
            "not_started": not_started, "signal": report.signal}


def refusal(reason: str, *, plan: Plan | None = None, services: Iterable[str] = (),
            saved_plan: str | None = None, secrets: Iterable[str] = (),
            environ: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The entry of an apply refused before anything ran: why, what was to be applied when that
    is known (``plan``: its hash, state file and services; else ``services``), and the same CI
    context as an apply's entry. Nothing ran, so there are no operations and ``ok`` is false."""
    from . import __version__

    known = plan is not None
    body = {
        "version": ENTRY_VERSION,
        "time": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "teamform": __version__,
        "outcome": REFUSED, "reason": str(reason),
        "state_file": plan.state_file if known else None, "state_hash": plan.state_hash if known else None,
        "plan_hash": plan_hash(plan) if known else None, "saved_plan": saved_plan,
        "services": [s.name for s in plan.services] if known and plan.services else list(services),
        "ok": False, "counts": {"done": 0, "failed": 0, "skipped": 0}, "seconds": 0.0,
        "operations": [],
        "ci": ci_context(environ),
    }
    return Redactor(secrets)(body)


def is_refusal(record: Mapping[str, Any]) -> bool:
    return record.get("outcome") == REFUSED


def append(path: str | Path, record: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _write_line(fd, record)
    finally:
        os.close(fd)
    return path


def _write_line(fd: int, record: dict[str, Any]) -> None:
    """One line in one write: on a file opened for appending, two runs writing at once (different
    accounts, one journal) never interleave inside a line."""
    data = (json.dumps(record, ensure_ascii=False, sort_keys=False, default=str) + "\n").encode("utf-8")
    while data:
        written = os.write(fd, data)
        data = data[written:]


class RunWriter:
    """The journal file held open by one apply: each event is one write, at once; fsync at the
    start, at least every ``SYNC_EVERY`` seconds, and at the end."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._synced = 0.0

    def write(self, record: dict[str, Any], *, sync: bool = False) -> None:
        if self._fd is None:
            raise OSError(f"{self.path} is closed")
        _write_line(self._fd, record)
        now = time.monotonic()
        if sync or now - self._synced >= SYNC_EVERY:
            os.fsync(self._fd)
            self._synced = now

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def read(path: str | Path, last: int | None = None) -> list[dict[str, Any]]:
    """Entries, oldest first (by when they started): each apply's events put back together as one
    entry, and whole entries as they are. A line that is not JSON (a torn write) is skipped, not
    fatal; a result or end whose start is missing is left out."""
    path = Path(path)
    if not path.exists():
        return []
    return assemble(_lines(path))[-last:] if last else assemble(_lines(path))


def assemble(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    runs: dict[str, dict[str, Any]] = {}
    for record in records:
        event = record.get("event")
        if event is None:
            out.append(record)
            continue
        run = runs.get(str(record.get("run")))
        if event == START:
            entry = {k: v for k, v in record.items() if k != "event"}
            entry.update(outcome=None, ok=False, counts={DONE: 0, FAILED: 0, SKIPPED: 0}, seconds=0.0,
                         operations=[], closed=False)
            runs[str(record.get("run"))] = entry
            out.append(entry)
        elif event == RESULT and run is not None:
            run["operations"].append({k: v for k, v in record.items() if k not in ("event", "run")})
        elif event == END and run is not None:
            run.update({k: v for k, v in record.items() if k not in ("event", "run")}, closed=True)
    for entry in runs.values():
        if not entry["closed"]:
            _unclosed(entry)
    return out


def _unclosed(entry: dict[str, Any]) -> None:
    """A run with no closing event: killed (or, on this host with its process alive, still running)."""
    statuses = [op.get("status") for op in entry["operations"]]
    entry["counts"] = {s: statuses.count(s) for s in (DONE, FAILED, SKIPPED)}
    entry["outcome"], entry["ok"] = INTERRUPTED, False
    planned = entry.get("planned")
    entry["not_started"] = max(0, planned - len(statuses)) if isinstance(planned, int) else None
    runner = entry.get("who") or {}
    entry["running"] = bool(runner.get("host") == socket.gethostname() and isinstance(runner.get("pid"), int)
                            and pid_alive(runner["pid"]))


# ---- resume ---------------------------------------------------------------------------------
@dataclass
class Progress:
    """What the journal says earlier runs of one saved plan did: ``done`` maps each operation
    recorded as done to the run that did it; ``last`` is the latest of those runs."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    done: dict[str, str] = field(default_factory=dict)

    @property
    def last(self) -> dict[str, Any] | None:
        return self.runs[-1] if self.runs else None


def progress(entries: Iterable[dict[str, Any]], plan_file_sha256: str | None) -> Progress:
    """Earlier applies of the saved plan whose file has this sha256 (refusals did nothing)."""
    found = Progress()
    if not plan_file_sha256:
        return found
    for e in entries:
        if e.get("plan_file_sha256") != plan_file_sha256 or is_refusal(e) or not e.get("run"):
            continue
        found.runs.append(e)
        for op in e.get("operations") or []:
            if op.get("status") == DONE and op.get("id"):
                found.done.setdefault(str(op["id"]), str(e["run"]))
    return found
