"""The audit journal: one JSON line per apply.

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
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .apply import Report
from .model import digest
from .redact import Redactor
from .plan.ops import Plan

if TYPE_CHECKING:  # pragma: no cover
    from .provider import Provider

DEFAULT_PATH = Path(".teamform") / "journal.jsonl"
ENTRY_VERSION = 1  # fields are only ever added: readers treat a missing one as its old meaning
APPLIED, REFUSED = "applied", "refused"  # "outcome"; entries without one are applies
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
    operations = []
    for r in report.results:
        op = ops.get(r.op_id)
        operations.append({"id": r.op_id, "service": r.service, "action": r.action,
                           "kind": op.kind if op else None, "key": op.key if op else None, "label": r.label,
                           "status": r.status, "message": r.message, "seconds": r.seconds,
                           "attempts": r.attempts, "batched": r.batched,
                           "destructive": bool(op and op.destructive), "demotion": bool(op and op.demotion)})
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
    line = json.dumps(record, ensure_ascii=False, sort_keys=False, default=str)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return path


def read(path: str | Path, last: int | None = None) -> list[dict[str, Any]]:
    """Entries, oldest first; a line that is not JSON (a torn write) is skipped, not fatal."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out[-last:] if last else out
