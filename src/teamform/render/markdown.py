"""Markdown for a sticky pull-request comment (and the drift issue).

Layout: a hidden marker (how the workflow finds the comment again), a header, a per-service
summary table, destructive changes first, warnings, then the details of each service in a
collapsible section. Past GitHub's 65,536-character limit it falls back to a summary that points
at the uploaded plan artifact.

Every string that comes from the state file or a service goes through ``esc``: it renders as
text in GitHub's renderer (cmark-gfm with its autolink extension and GitHub's mention filter),
never as markup, a link or a mention.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterable

from ..plan.ops import SYMBOL, Operation, Plan, ServicePlan

MARKER = "<!-- teamform-plan -->"
GITHUB_LIMIT = 65_536
#: room kept below the limit for what the workflow adds around the body
BUDGET = GITHUB_LIMIT - 1_536
ARTIFACT = "teamform-plan"
MAX_LISTED = 100  # destructive changes listed in the summary-only form

ZWSP = "&#8203;"  # breaks @mentions, #references and autolinks without changing what one reads
# safe mid-line (esc never puts text at the start of a line, where "1." or "-" would be syntax)
_SAFE = re.compile(r"[A-Za-z0-9 ,.;/=?%+'-]")
_AUTOLINK = re.compile(r"(?i)(://|www\.|gh-)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
VERB = {"create": "add", "update": "change", "delete": "remove", "replace": "replace"}
DONE = {"create": "added", "update": "changed", "delete": "removed", "replace": "replaced"}


def esc(text: object) -> str:
    """Make any string inert in GitHub markdown: every ASCII character that could be syntax
    becomes a numeric character reference (never markup in CommonMark), newlines become spaces,
    and a zero-width space follows ``@``, ``#`` and ``:`` and splits ``://``, ``www.`` and ``GH-``
    so that no mention, issue reference, emoji or autolink is made from the decoded text."""
    s = _CONTROL.sub(" ", str(text)).replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    s = _AUTOLINK.sub(lambda m: m.group(1)[:-1] + "\u200b" + m.group(1)[-1], s)
    out: list[str] = []
    for ch in s:
        out.append(ch if _SAFE.match(ch) or ord(ch) > 127 else f"&#{ord(ch)};")
        if ch in "@#:":  # mentions, references, :emoji: shortcodes
            out.append(ZWSP)
    return "".join(out)


def _value(value: Any) -> str:
    return esc(json.dumps(value, ensure_ascii=False, default=str))


# ---- pieces -------------------------------------------------------------------------------
def _is_destructive(op: Operation) -> bool:
    return op.action in ("delete", "replace") or op.demotion or op.destructive


def _tags(op: Operation) -> str:
    tags = []
    if op.destructive:
        tags.append("**destructive**")
    if op.demotion:
        tags.append("**demotion**")
    if op.pending:
        tags.append("pending invitation")
    return f" ({', '.join(tags)})" if tags else ""


def _op_line(op: Operation, *, service: bool = False) -> str:
    where = f"{esc(op.service)}: " if service else ""
    return f"- `{SYMBOL[op.action]}` {where}{esc(op.kind)} **{esc(op.resource.display or op.key)}** " \
           f"will be {esc(op.summary) if op.summary else DONE[op.action]}{_tags(op)}"


def _op_details(op: Operation) -> list[str]:
    lines = [_op_line(op)]
    shown = op.after if op.action == "create" else op.before if op.action == "delete" else None
    if shown is not None:
        lines += [f"  - {esc(k)} = {_value(v)}" for k, v in shown.attrs.items() if v is not None]
    else:
        lines += [f"  - {esc(c)}" for c in op.changes]
    lines += [f"  - :warning: {esc(w)}" for w in op.warnings]
    return lines


def _summary_table(plan: Plan) -> list[str]:
    lines = ["| service | provider | to add | to change | to remove | to replace | status |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for sp in plan.services:
        c = sp.counts()
        status = ":x: error" if sp.errors else (":white_check_mark: no changes" if not sp.operations else "changes")
        lines.append(f"| {esc(sp.name)} | {esc(sp.provider)} | {c['create']} | {c['update']} | {c['delete']} | "
                     f"{c['replace']} | {status} |")
    return lines


def _headline(plan: Plan) -> str:
    c = plan.counts()
    if plan.errors:
        return f":x: **Plan failed** ({len(plan.errors)} error(s)): nothing will be changed."
    if not plan.has_changes:
        return f":{'warning' if plan.warnings else 'white_check_mark'}: **{plan.no_changes_line()}**"
    return (f"**Plan:** {c['create']} to add, {c['update']} to change, {c['delete']} to remove, "
            f"{c['replace']} to replace.")


def _header(plan: Plan, marker: str, title: str) -> list[str]:
    lines = [marker, f"## {esc(title)}", ""]
    meta = []
    if plan.state_file:
        meta.append(f"state file {esc(plan.state_file)}")
    if plan.state_hash:
        meta.append(f"hash {esc(plan.state_hash[:12])}")
    if plan.created:
        meta.append(f"planned {esc(plan.created)}")
    if meta:
        lines += [" · ".join(meta), ""]
    return lines + [_headline(plan), ""]


def _errors(plan: Plan) -> list[str]:
    if not plan.errors:
        return []
    return ["### :x: Errors", ""] + [f"- **{esc(sp.name)}**: {esc(e)}" for sp in plan.services
                                     for e in sp.errors] + [""]


def _destructive(ops: list[Operation], limit: int | None = None) -> list[str]:
    if not ops:
        return []
    shown = ops if limit is None else ops[:limit]
    lines = [f"### :warning: Destructive changes ({len(ops)})", "",
             "Removals, demotions and replaces: check these first.", ""]
    lines += [_op_line(op, service=True) for op in shown]
    if len(ops) > len(shown):
        lines.append(f"- … and {len(ops) - len(shown)} more")
    return lines + [""]


def _warnings(plan: Plan) -> list[str]:
    items: list[str] = []
    for sp in plan.services:
        items += [f"- **{esc(sp.name)}**: {esc(w)}" for w in sp.warnings]
        for op in sp.operations:
            if op.pending:
                items.append(f"- **{esc(sp.name)}**: {esc(op.resource.display or op.key)} has a pending "
                             f"invitation that this plan will {VERB[op.action]}")
            items += [f"- **{esc(sp.name)}**: {esc(op.resource.display or op.key)}: {esc(w)}" for w in op.warnings]
    return (["### Warnings", ""] + list(dict.fromkeys(items)) + [""]) if items else []


def _service_details(sp: ServicePlan) -> list[str]:
    n = len(sp.operations)
    lines = [f"<details><summary><b>{esc(sp.name)}</b> ({esc(sp.provider)}): "
             f"{n} change{'s' if n != 1 else ''}</summary>", ""]
    for op in sp.operations:
        lines += _op_details(op)
    if not sp.operations:
        lines.append("No changes." if not sp.errors else "Not planned: see the errors above.")
    lines += [""] + [f"> Note: {esc(note)}" for note in sp.notes]
    return lines + ([""] if sp.notes else []) + ["</details>", ""]


def _footer(summarised: bool, run_url: str | None) -> list[str]:
    where = f"the `{ARTIFACT}` artifact of [this workflow run]({run_url})" if run_url else \
        f"the `{ARTIFACT}` artifact of this workflow run"
    if summarised:
        return [f"> The full plan is too long for a comment; it is in {where}.", ""]
    return [f"<sub>Plan file: {where}.</sub>", ""] if run_url else []


def _run_url(environ: Any) -> str | None:
    server, repo, run = (environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if not (server and repo and run) or not re.fullmatch(r"[\w.-]+/[\w.-]+", repo) or not run.isdigit():
        return None
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}" if server.startswith("https://") else None


def _join(parts: Iterable[list[str]]) -> str:
    return "\n".join(line for part in parts for line in part).rstrip("\n") + "\n"


# ---- the comment --------------------------------------------------------------------------
def render_markdown(plan: Plan, *, marker: str = MARKER, title: str = "teamform plan",
                    limit: int = BUDGET, run_url: str | None = None, environ: Any = None) -> str:
    """The comment body; never longer than ``limit`` characters."""
    run_url = run_url or _run_url(os.environ if environ is None else environ)
    destructive = [op for op in plan.operations if _is_destructive(op)]
    head = [_header(plan, marker, title), _summary_table(plan) + [""], _errors(plan)]
    full = _join([*head, _destructive(destructive), _warnings(plan),
                  *[_service_details(sp) for sp in plan.services], _footer(False, run_url)])
    if len(full) <= limit:
        return full
    warnings = _warnings(plan)
    counted = ["### Warnings", "", f"{len(warnings) - 3} warning(s): see the full plan.", ""] if warnings else []
    for listed in (MAX_LISTED, 20, 0):
        for warned in (warnings, counted):
            short = _join([*head, _destructive(destructive, listed), warned, _footer(True, run_url)])
            if len(short) <= limit:
                return short
    return _join([_header(plan, marker, title), _footer(True, run_url)])[:limit]
