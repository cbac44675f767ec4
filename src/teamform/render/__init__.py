"""Renderers: text for the terminal, markdown for a pull-request comment, JSON (the plan file)."""

from __future__ import annotations

import json

import orjson

from ..plan.ops import Plan
from .text import render_report, render_text


def render_json(plan: Plan) -> str:
    """The plan file (orjson: at 100,000 people it is most of a plan's time otherwise), compact:
    it is data for apply and tools (``jq .`` indents it), and indenting made it a third larger."""
    body = plan.to_dict()
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS).decode() + "\n"
    except (TypeError, orjson.JSONEncodeError):  # past 64-bit integers and the like
        return json.dumps(body, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(plan)
    return render_text(plan, color=color)


__all__ = ["render", "render_json", "render_text", "render_report"]
