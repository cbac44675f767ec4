"""Markdown for a pull-request comment (extended by the GitOps work)."""

from __future__ import annotations

import html

from ..plan.ops import SYMBOL, Plan

MARKER = "<!-- teamform-plan -->"


def esc(text: object) -> str:
    """Make any string from the file or a service inert in GitHub markdown."""
    s = html.escape(str(text), quote=True)
    for ch in "\\`*_{}[]()#+-.!|~<>@":
        s = s.replace(ch, "&#%d;" % ord(ch)) if ch in "@|`*_[]~#" else s
    return s


def render_markdown(plan: Plan) -> str:
    c = plan.counts()
    lines = [MARKER, "## teamform plan", ""]
    if plan.errors:
        lines += ["**Plan failed**: nothing will be changed.", ""] + [f"- {esc(e)}" for e in plan.errors] + [""]
    lines.append(f"**{c['create']}** to add, **{c['update']}** to change, **{c['delete']}** to remove, "
                 f"**{c['replace']}** to replace.")
    for sp in plan.services:
        lines += ["", f"<details><summary>{esc(sp.name)} ({esc(sp.provider)}): {len(sp.operations)} change(s)"
                      "</summary>", "", "<pre>"]
        for op in sp.operations:
            lines.append(esc(f"{SYMBOL[op.action]} {op.label}"))
            lines += [esc(f"    {ch}") for ch in op.changes]
        lines += ["</pre>", "", "</details>"]
    return "\n".join(lines) + "\n"
