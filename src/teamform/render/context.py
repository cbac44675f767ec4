"""Where a plan was made, for the header of the pull-request comment (and the drift issue).

Everything here is optional and checked: a value that does not look exactly like what GitHub
Actions sets is left out rather than printed or linked. It comes from the environment of the
workflow step that renders the comment:

- ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_RUN_ID``: the link to the run;
- ``GITHUB_EVENT_PATH``: on ``pull_request`` events, the pull request's number, head commit and
  base branch (what was planned: the head merged into the base); otherwise ``GITHUB_SHA``;
- ``TEAMFORM_PLANNED_COMMIT``: the commit planned, when it is not the event's (the apply workflow
  shows the plan of a pull request's head);
- ``TEAMFORM_ARTIFACT`` and ``TEAMFORM_ARTIFACT_URL``: the artifact that holds the full plan
  (the upload step's ``artifact-url`` output); ``TEAMFORM_ARTIFACT`` set but empty: none;
- ``TEAMFORM_ON_MERGE``: what the apply workflow does on merge (``apply``: the reviewed plan;
  ``replan``: a plan made at merge), for the sentence that says what merging will do.

The names of the comment's marker and of the artifacts derive from the state file's path
(``slug``), so that several state files in one repository never share a comment, an artifact or a
concurrency group. The workflows compute the same slug in bash (``tests`` check they agree).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

_SLUG_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}")
ON_MERGE = ("apply", "replan")


def slug(state_file: str) -> str:
    """The state file's path as one artifact-name-safe word: a leading ``./`` dropped, every other
    byte outside ``A-Za-z0-9._-`` made ``-`` (what ``tr -c 'A-Za-z0-9._-' '-'`` does in C locale)."""
    path = state_file[2:] if state_file.startswith("./") else state_file
    return "".join(chr(b) if b in _SLUG_SAFE else "-" for b in path.encode("utf-8"))


def marker(state_file: str, kind: str = "plan") -> str:
    """The first line of the comment (or issue) for this state file: how the workflow finds it again.
    It starts with the marker every teamform comment of that kind has (``<!-- teamform-plan -->``)."""
    return f"<!-- teamform-{kind} --><!-- file: {slug(state_file)} -->"


def artifact_name(state_file: str, kind: str = "plan") -> str:
    return f"teamform-{kind}-{slug(state_file)}"


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Where:
    """What the header says about where the plan was made; every field may be missing."""

    run_url: str | None = None
    commit: str | None = None         # the full SHA planned (a pull request's head)
    commit_url: str | None = None
    pull_request: int | None = None
    base: str | None = None           # the branch the head was merged into for the plan
    artifact: str | None = None
    artifact_url: str | None = None
    on_merge: str | None = None
    plan_sha256: str | None = None    # of the plan file, to match it with the apply's journal

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, state_file: str = "",
                     kind: str = "plan", plan_sha256: str | None = None) -> "Where":
        env = os.environ if environ is None else environ
        server = (env.get("GITHUB_SERVER_URL") or "").rstrip("/")
        repo = env.get("GITHUB_REPOSITORY") or ""
        run = env.get("GITHUB_RUN_ID") or ""
        base_url = f"{server}/{repo}" if server.startswith("https://") and " " not in server \
            and _REPO.fullmatch(repo) else None
        run_url = f"{base_url}/actions/runs/{run}" if base_url and run.isdigit() else None

        event = _event(env.get("GITHUB_EVENT_PATH"))
        pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else {}
        head = (pr.get("head") or {}).get("sha") if isinstance(pr.get("head"), dict) else None
        commit = env.get("TEAMFORM_PLANNED_COMMIT") or (head if isinstance(head, str) else env.get("GITHUB_SHA"))
        commit = commit if isinstance(commit, str) and _SHA.fullmatch(commit) else None
        number = pr.get("number")
        base = (pr.get("base") or {}).get("ref") if isinstance(pr.get("base"), dict) else None

        artifact = env["TEAMFORM_ARTIFACT"] if "TEAMFORM_ARTIFACT" in env else \
            artifact_name(state_file, kind) if state_file else None
        artifact_url = env.get("TEAMFORM_ARTIFACT_URL") or ""
        ok_url = run_url and re.fullmatch(re.escape(run_url) + r"/artifacts/\d+", artifact_url)
        on_merge = env.get("TEAMFORM_ON_MERGE") or None
        return cls(
            run_url=run_url,
            commit=commit,
            commit_url=f"{base_url}/commit/{commit}" if base_url and commit else None,
            pull_request=number if isinstance(number, int) and number > 0 else None,
            base=base if isinstance(base, str) and base else None,
            artifact=artifact if artifact and re.fullmatch(r"[A-Za-z0-9._-]+", artifact) else None,
            artifact_url=artifact_url if ok_url else None,
            on_merge=on_merge if on_merge in ON_MERGE else None,
            plan_sha256=plan_sha256 if plan_sha256 and re.fullmatch(r"[0-9a-f]{64}", plan_sha256) else None,
        )
