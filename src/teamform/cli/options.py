"""What every command shares: the global options, accepted before or after the command's name
(`teamform -v plan` and `teamform plan -v`), the log they turn on, and completion of service
names. Nothing here imports the engine: `teamform --help` and a Tab press load only this."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

VERBOSE, COLOR = "teamform.verbose", "teamform.color"  # where the root context keeps them


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """``-v`` counts wherever it is given: ``teamform -v plan -v`` is ``-vv``."""
    if ctx.resilient_parsing:  # completing a word: nothing to set up
        return value
    root = ctx.find_root()
    root.meta[VERBOSE] = root.meta.get(VERBOSE, 0) + (value or 0)
    configure_logging(root.meta[VERBOSE])
    return value


def _color(ctx: click.Context, param: click.Parameter, value: bool | None) -> bool | None:
    """``ctx.color`` is what ``click.echo`` and the renderers read; the last choice given wins."""
    if ctx.resilient_parsing:
        return value
    from ..render.color import enabled

    root = ctx.find_root()
    if value is not None:
        root.meta[COLOR] = value
    ctx.color = root.color = enabled(root.meta.get(COLOR))
    return value


def global_params() -> list[click.Parameter]:
    return [
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_verbose,
                     help="more detail: each HTTP request (method, URL, status, time; secrets redacted); "
                          "-vv also headers, retries and rate-limit waits; `journal -v`: every operation"),
        click.Option(["--color/--no-color"], default=None, expose_value=False, callback=_color,
                     help="colour, or not  [default: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it]"),
    ]


def verbosity(ctx: click.Context | None = None) -> int:
    ctx = ctx or click.get_current_context()
    return ctx.find_root().meta.get(VERBOSE, 0)


def color(ctx: click.Context | None = None) -> bool:
    ctx = ctx or click.get_current_context(silent=True)
    return bool(ctx and ctx.color)


def with_global_options(command: click.Command) -> click.Command:
    if not any(p.name == "verbose" for p in command.params):
        command.params.extend(global_params())
    return command


class Group(click.Group):
    """A group whose commands and subgroups (wherever they are defined) take the global options."""

    group_class = type  # subgroups are of this class too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with_global_options(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(with_global_options(cmd), name)


# ---- the log --------------------------------------------------------------------------------
class _Echo(logging.Handler):
    """Log lines to standard error, through the apply's live display when one is up (a line
    written past it would be drawn over)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from ..render.progress import echo

            echo(self.format(record), err=True)
        except Exception:  # noqa: BLE001 - logging must never break the run
            self.handleError(record)


def configure_logging(verbosity: int) -> None:
    """0: warnings only; 1 (``-v``): one line per request; 2 (``-vv``): headers, retries, waits."""
    logger = logging.getLogger("teamform")
    if not any(isinstance(h, _Echo) for h in logger.handlers):
        handler = _Echo()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG)


# ---- completion -----------------------------------------------------------------------------
def service_names(state_file: str) -> list[str]:
    """The services a state file names, read as plain YAML: no schema, no provider loaded (this
    runs on every Tab press). A file that cannot be read completes nothing."""
    import yaml

    try:
        doc = yaml.load(Path(state_file).read_text(encoding="utf-8"),
                        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    services = doc.get("services") if isinstance(doc, dict) else None
    return [str(name) for name in services] if isinstance(services, dict) else []


def complete_services(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    state_file = ctx.params.get("state_file") or "teams.yaml"
    return [CompletionItem(name) for name in service_names(state_file) if name.startswith(incomplete)]
