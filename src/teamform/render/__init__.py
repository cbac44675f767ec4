"""Renderers: text for the terminal, markdown for a pull-request comment, JSON (the plan file).

Imported lazily: ``teamform.render.color`` is read by every command as it starts, and must not load
the engine with it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..plan.ops import Plan


def render_json(plan: "Plan") -> str:
    """The plan file as text (``plan --format json``, ``show --json``)."""
    return plan_file(plan).decode()


def plan_file(plan: "Plan") -> bytes:
    """The plan file, compact: it is data for apply and tools (``jq .`` indents it), and indenting
    made it a third larger. Each service is turned into JSON on its own, so at 100,000 people the
    whole plan is never held twice over as dictionaries."""
    services = b",".join(_dumps(sp.to_dict()) for sp in plan.services)
    return _dumps(plan.header())[:-1] + b',"services":[' + services + b"]}\n"


def _dumps(body: Any) -> bytes:
    """orjson (at 100,000 people it is most of a plan's time otherwise); json past what orjson
    writes (integers past 64 bits and the like)."""
    import orjson

    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(body, ensure_ascii=False, default=str, separators=(",", ":")).encode()


def render(plan: "Plan", fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(plan)
    from .text import render_text

    return render_text(plan, color=color)


def __getattr__(name: str) -> Any:  # the text renderer, on first use
    if name in ("render_text", "render_report"):
        from . import text

        return getattr(text, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["render", "render_json", "plan_file", "render_text", "render_report"]
