"""`teamform show PLAN_FILE`: a saved plan as text, markdown or JSON, without reading any service.

The plan file may come from another machine or a pull request's job (the plan workflow's
artifact): it is only read and rendered here, never trusted to do anything.
"""

from __future__ import annotations

import hashlib
import json
import sys

import click


def _read(path: str) -> bytes:
    from . import Failure

    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise Failure(f"{path}: no such plan file") from None
    except OSError as exc:
        raise Failure(f"{path}: cannot read it: {exc.strerror or exc}") from None


@click.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--kind", type=click.Choice(["plan", "drift"]), default="plan", show_default=True,
              help="markdown: a pull request's plan comment or the drift issue (its title, marker and artifact)")
@click.option("--max-chars", type=click.IntRange(min=0), default=None,
              help="markdown: at most this many characters (default: what fits a GitHub comment; 0: no limit)")
def show_cmd(plan_file: str, fmt: str, kind: str, max_chars: int | None) -> None:
    """Show a saved plan (from `plan --out`) as text, markdown or JSON; '-' reads standard input.

    The markdown is the pull-request comment: in GitHub Actions it links the run, the commit and
    the plan artifact (TEAMFORM_ARTIFACT_URL), and says what merging will do (TEAMFORM_ON_MERGE)."""
    from ..plan.ops import Plan
    from ..render import render_json, render_text
    from ..render.markdown import BUDGET, render_markdown
    from . import Failure
    from .options import color

    data = _read(plan_file)
    try:
        plan = Plan.from_dict(json.loads(data.decode("utf-8")))
    except UnicodeDecodeError:
        raise Failure(f"{plan_file}: not a teamform plan: not UTF-8 text") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Failure(f"{plan_file}: not a teamform plan: {exc}") from None
    if fmt == "json":
        out = render_json(plan)
    elif fmt == "markdown":
        limit = BUDGET if max_chars is None else max_chars
        out = render_markdown(plan, kind=kind, limit=limit or None, plan_sha256=hashlib.sha256(data).hexdigest())
    else:
        out = render_text(plan, color=color())
    click.echo(out, nl=False)


def register(group: click.Group) -> None:
    group.add_command(show_cmd)
