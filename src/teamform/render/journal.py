"""The audit journal as text (``teamform journal``) and as markdown (a comment on the merged pull
request, an issue): failures first, every string from a service or the file escaped, within
GitHub's comment size."""

from __future__ import annotations

from typing import Any

import click

from .. import journal as J
from ..apply import DONE, FAILED, MARK, SKIPPED
from .markdown import esc
from .words import DID, SYMBOL

#: what `journal --markdown` prints at most: a GitHub comment holds 65,536 characters, and the apply
#: workflow adds a heading and a link to the run
MARKDOWN_LIMIT = 60_000
MESSAGE_CHARS = 1_000  # of one operation's message, before escaping
REASON_CHARS = 4_000   # of a refusal's reason, before escaping
_ORDER = {FAILED: 0, SKIPPED: 1, DONE: 3}  # failed first, then skipped, anything else, done last


def _clip(text: Any, chars: int) -> str:
    text = str(text)
    return text if len(text) <= chars else text[:chars] + " …"


def _entry_lines(e: dict[str, Any]) -> list[str]:
    services = f"  ({', '.join(e.get('services') or [])})"
    if J.is_refusal(e):
        status = click.style("REFUSED", fg="red", bold=True)
        reason = str(e.get("reason") or "?").replace("\n", "\n      ")
        lines = [f"{e.get('time', '?')}  {status}  plan {e.get('plan_hash') or 'not made'}  nothing applied{services}",
                 f"    refused: {reason}"]
    else:
        counts = e.get("counts") or {}
        status = click.style("ok", fg="green") if e.get("ok") else click.style("FAILED", fg="red", bold=True)
        if e.get("outcome") == J.INTERRUPTED:
            status = click.style("RUNNING" if e.get("running") else "INTERRUPTED", fg="yellow", bold=True)
        not_started = f", {e['not_started']} not started" if e.get("outcome") == J.INTERRUPTED and e.get(
            "not_started") is not None else ""
        lines = [f"{e.get('time', '?')}  {status}  plan {e.get('plan_hash', '?')}  "
                 f"{counts.get('done', 0)} done, {counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped"
                 + not_started + services]
        lines += _run_lines(e)
    ci = e.get("ci")
    if ci:
        pr = (ci.get("pull_request") or {}).get("number")
        approvers = ci.get("approvers")
        lines.append(f"    commit {str(ci.get('sha', '?'))[:12]} on {ci.get('ref', '?')}"
                     + (f", PR #{pr}" if pr else "")
                     + (f", approved by {', '.join(approvers)}" if approvers else
                        ", approvers: " + ("none" if approvers == [] else str(ci.get("approvers_source")))))
    if e.get("saved_plan"):
        lines.append(f"    saved plan {e['saved_plan']}")
    return lines


def _run_lines(e: dict[str, Any]) -> list[str]:
    """Which run it was, who ran it, what it resumes, and how an interrupted one ended."""
    out = []
    who = e.get("who") or {}
    if e.get("run"):
        by = f"{who.get('user') or '?'}@{who.get('host') or '?'}" + (f", CI actor {who['actor']}" if who.get("actor") else "")
        out.append(f"    run {e['run']} by {by}" + (f", resumes run {e['resumes']}" if e.get("resumes") else "")
                   + (f" ({e['done_before']} operations done before)" if e.get("done_before") else ""))
    if e.get("outcome") == J.INTERRUPTED:
        if e.get("running"):
            out.append(f"    still running as pid {who.get('pid')} on this host (no closing entry yet)")
        elif e.get("closed"):
            out.append(f"    stopped by {e.get('signal') or 'an interrupt'}; a plan made now shows what is left")
        else:
            out.append("    no closing entry: the process was killed or crashed; a plan made now shows what is left")
    elif e.get("resumes") and not e.get("run"):
        out.append(f"    resumes run {e['resumes']}")
    return out


def address(op: dict[str, Any], *, outcome: bool = True) -> str:
    """An operation as the plan showed it, its name's case kept (``krisp: + member[Erin@Example.com]
    created``); the id (``krisp:member[erin@example.com]:create``, keys lower-cased) is what
    resuming matches on, and is in the JSON."""
    action, label, service = op.get("action"), op.get("label"), op.get("service")
    if not (label and service and action in SYMBOL):
        return str(op.get("id"))  # an entry from before labels were recorded
    shown = f"{service}: {SYMBOL[action]} {label}"
    if not outcome:
        return shown
    if op.get("status") == DONE:
        return f"{shown} {DID[action]}"
    return f"{shown} not {DID[action]} ({op.get('status')})"


def _op_lines(e: dict[str, Any], verbose: bool) -> list[str]:
    out = []
    for op in e.get("operations") or []:
        if verbose or op.get("status") != "done":
            msg = f": {op['message']}" if op.get("message") else ""
            out.append(f"    {MARK.get(op.get('status'), '?')} {address(op)} {op.get('seconds', 0):.2f}s{msg}")
    return out


def entry_markdown(e: dict[str, Any], limit: int = MARKDOWN_LIMIT) -> str:
    """One entry as markdown of at most ``limit`` characters: failed, then skipped, then done
    operations, as many as fit, then how many more there are. Every string from a service or the
    state file goes through ``esc``; long texts are cut before escaping, never inside an escape."""
    if J.is_refusal(e):
        services = ", ".join(str(s) for s in e.get("services") or []) or "?"
        plan = f", plan {esc(e['plan_hash'])}" if e.get("plan_hash") else ""
        head = (f"**teamform apply refused** at {esc(e.get('time', '?'))} ({esc(services)}{plan}); "
                "nothing was applied.")
        budget = max(0, (limit - len(head) - 20) // 13)  # esc writes at most 13 characters for one
        return "\n".join([head, "", f"refused: {esc(_clip(e.get('reason') or '?', min(REASON_CHARS, budget)))}"])[:limit]
    counts = e.get("counts") or {}
    outcome = "succeeded" if e.get("ok") else "failed"
    extra = ""
    if e.get("outcome") == J.INTERRUPTED:
        outcome = "is still running" if e.get("running") else "was interrupted"
        if e.get("not_started") is not None:
            extra = f", {e['not_started']} not started"
    lines = [f"**teamform apply {outcome}** at {esc(e.get('time', '?'))}: "
             f"{counts.get('done', 0)} done, {counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped"
             f"{extra} (plan {esc(e.get('plan_hash', '?'))}).", ""]
    ops = sorted((op for op in e.get("operations") or [] if isinstance(op, dict)),
                 key=lambda op: _ORDER.get(op.get("status"), 2))
    size = sum(len(line) + 1 for line in lines)
    room = limit - 100  # for the last line, saying how many more
    for n, op in enumerate(ops):
        msg = f": {esc(_clip(op['message'], MESSAGE_CHARS))}" if op.get("message") else ""
        line = f"- {MARK.get(op.get('status'), '?')} {esc(op.get('status'))} {esc(address(op, outcome=False))}{msg}"
        if size + len(line) + 1 > room:
            lines.append(f"… {len(ops) - n} more operations: see the run's journal artifact")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


MARKDOWN_ENTRIES = 20  # at most, the newest, so that each has room for its heading and more


def markdown(entries: list[dict[str, Any]], limit: int = MARKDOWN_LIMIT) -> str:
    """The entries (the newest ``MARKDOWN_ENTRIES``), each in an equal share of ``limit`` characters."""
    shown = entries[-MARKDOWN_ENTRIES:]
    parts = [f"… {len(entries) - len(shown)} earlier entries: see the journal"] if len(shown) < len(entries) else []
    share = (limit - 100 - 2 * len(shown)) // max(1, len(shown))
    return "\n\n".join(parts + [entry_markdown(e, share) for e in shown])




def text(e: dict[str, Any], verbose: bool = False) -> str:
    """One entry for the terminal: its heading lines, then the operations (all with ``verbose``,
    else those that did not succeed)."""
    return "\n".join(_entry_lines(e) + _op_lines(e, verbose))
