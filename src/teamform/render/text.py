"""Terraform-like terminal output. Colour is added by the caller only on a terminal."""

from __future__ import annotations

import json
from typing import Any

import click

from ..apply import MARK, Report
from ..plan.ops import SYMBOL, Operation, Plan
from .words import WILL, address_order, counts_line

COLOR = {"create": "green", "update": "yellow", "delete": "red", "replace": "magenta"}
VERB = WILL


def _style(text: str, color: bool, **kw: Any) -> str:
    return click.style(text, **kw) if color else text


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _op_lines(op: Operation, color: bool) -> list[str]:
    sym = _style(SYMBOL[op.action], color, fg=COLOR[op.action], bold=True)
    pending = " (pending invitation)" if op.pending else ""
    head = f"  {sym} {op.label}{pending} {'will be ' + op.summary if op.summary else VERB[op.action]}"
    if op.destructive:
        head += _style("  [destructive]", color, fg="red", bold=True)
    if op.demotion:
        head += _style("  [demotion]", color, fg="yellow")
    lines = [head]
    if op.action == "create" and op.after:
        lines += [f"      {k} = {_value(v)}" for k, v in op.after.attrs.items() if v is not None]
    elif op.action in ("update", "replace"):
        lines += [f"      {c}" for c in op.changes]
    for w in op.warnings:
        lines.append(_style(f"      ! {w}", color, fg="yellow"))
    return lines


def render_text(plan: Plan, *, color: bool = False) -> str:
    out: list[str] = []
    for sp in plan.services:
        out.append(_style(f"{sp.name} ({sp.provider})", color, bold=True))
        for err in sp.errors:
            out.append(_style(f"  Error: {err}", color, fg="red", bold=True))
        for op in sorted(sp.operations, key=address_order):  # listed by address; applied in dependency order
            out += _op_lines(op, color)
        if not sp.operations and not sp.errors:
            out.append("  no changes")
        for w in sp.warnings:
            out.append(_style(f"  Warning: {w}", color, fg="yellow"))
        for n in sp.notes:
            out.append(f"  Note: {n}")
        out.append("")
    counts = plan.counts()
    if plan.errors:
        out.append(_style(f"Plan failed: {len(plan.errors)} error(s); nothing will be changed.", color,
                          fg="red", bold=True))
    elif not plan.has_changes:
        out.append(_style(plan.no_changes_line(), color, fg="yellow" if plan.warnings else "green", bold=True))
    else:
        out.append(_style(
            f"Plan: {counts_line(counts)}.", color, bold=True))
    return "\n".join(out) + "\n"


def render_report(report: Report, *, color: bool = False, done_before: int = 0) -> str:
    """The summary after an apply: what failed and was skipped, then one line of counts
    (``done_before``: operations of a resumed plan that earlier runs did)."""
    out = []
    services = list(dict.fromkeys(r.service for r in report.results))  # in the order they first appear
    for status, fg in (("failed", "red"), ("skipped", "yellow")):
        for r in sorted(report.by_status(status), key=lambda r: (services.index(r.service), r.op_id.casefold())):
            out.append(_style(f"  {status:<7} {r.op_id}: {r.message}", color, fg=fg))
    c = report.counts()
    state = "complete" if report.ok else "incomplete"
    if report.interrupted:
        state = f"interrupted ({report.signal})" if report.signal else "interrupted"
    line = f"Apply {state}: {c['done']} done, {c['failed']} failed, {c['skipped']} skipped"
    if report.interrupted:
        line += f", {report.not_started} not started"
    line += f" in {report.seconds:.1f}s."
    if done_before:
        line += f" ({done_before} more were done by the earlier runs it resumes.)"
    out.append(_style(line, color, fg="green" if report.ok else "red", bold=True))
    if report.in_doubt:
        out.append(_style(f"  {len(report.in_doubt)} operation(s) were cut off in flight and may be half-done: "
                          "a plan made now shows what they left", color, fg="red"))
    return "\n".join(out) + "\n"


def render_result_line(r, *, color: bool = False) -> str:
    mark = MARK[r.status]
    fg = {"done": "green", "failed": "red", "skipped": "yellow"}[r.status]
    extra = f" ({r.message})" if r.message and r.status == "done" else ""
    batch = f" [batch of {r.batched}]" if r.batched > 1 else ""
    return _style(f"  {mark} {r.service}: {SYMBOL.get(r.action, '?')} {r.label}{batch}{extra}", color, fg=fg)
