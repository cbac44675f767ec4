"""Renderers: text for the terminal, markdown for a pull-request comment, JSON (the plan file)."""

from __future__ import annotations

import json

from ..plan.ops import Plan
from .text import render_report, render_text


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(plan)
    return render_text(plan, color=color)


__all__ = ["render", "render_json", "render_text", "render_report"]
