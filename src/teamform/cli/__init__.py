"""The command line. Commands only: everything they do lives in the engine.

It must answer at once (`teamform --help`, a Tab press): this module and the command modules
import click and little else; a command imports the engine, the providers and the HTTP client
when it runs (plan and apply from ``planapply``)."""

from __future__ import annotations

from typing import Any

import click

from . import gitops, show
from .options import Group, complete_services

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130

file_option = click.option("-f", "--file", "state_file", default="teams.yaml", show_default=True,
                           type=click.Path(dir_okay=False), help="the state file")
service_option = click.option("--service", "services", multiple=True, metavar="NAME", shell_complete=complete_services,
                              help="only this service (repeatable)")
mass_option = click.option("--allow-mass-removal", is_flag=True,
                           help="accept a plan that removes more than policy.max_removals")


class Failure(click.ClickException):
    exit_code = EXIT_ERROR
    journaled = False  # set once the refusal is in the apply journal

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message  # what the journal records (may say more than the message)

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


class Interrupted(Failure):
    """Ctrl-C or SIGTERM before anything was applied."""

    exit_code = EXIT_INTERRUPTED


def _load(state_file: str) -> Any:
    from .. import config as cfg

    try:
        return cfg.load_path(state_file)
    except cfg.ConfigError as exc:
        raise Failure(str(exc)) from None


def _planapply() -> Any:
    """``planapply``, and with it the engine, imported with the full collections paused, then set
    aside from the cycle collector as ``gcpause`` does with a roster: its ~100,000 objects (modules,
    classes, functions) live as long as the run, and the collections that walked them again and
    again as the run went on were wasted (about 0.1 s of a 1,000-person plan's CPU)."""
    import gc
    import sys

    from ..gcpause import collector_paused

    if f"{__name__}.planapply" in sys.modules:  # a later command in this process (tests run many): done once
        return sys.modules[f"{__name__}.planapply"]
    with collector_paused(young=True):
        from . import planapply
    if gc.isenabled():
        gc.collect(1)  # what the imports made and dropped, before the rest is frozen
        gc.freeze()
    return planapply


def _run(coro: Any) -> Any:
    import asyncio

    from .. import config as cfg

    try:
        return asyncio.run(coro)
    except cfg.ConfigError as exc:
        raise Failure(str(exc)) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="teamform")
def cli() -> None:
    """teamform: plan and apply who belongs in which SaaS team, from a YAML file."""


@cli.command()
@file_option
def validate(state_file: str) -> None:
    """Check the state file: schema, people, groups, providers' sections."""
    config = _load(state_file)
    for note in config.notes:
        click.echo(str(note))
    click.echo(f"{state_file}: valid ({len(config.directory.people)} people, {len(config.directory.groups)} "
               f"groups, {len(config.services)} services)")


@cli.command()
@file_option
@service_option
@click.option("--out", type=click.Path(dir_okay=False), help="save the plan (JSON) for `apply PLAN`")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="exit 0 no changes, 2 changes, 1 error")
@mass_option
def plan(state_file: str, services: tuple[str, ...], out: str | None, fmt: str, detailed_exitcode: bool,
         allow_mass_removal: bool) -> None:
    """Show what apply would change."""
    _planapply().plan_command(state_file, services, out, fmt, detailed_exitcode, allow_mass_removal)


@cli.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False))
@file_option
@service_option
@click.option("--auto-approve", is_flag=True, help="do not ask for confirmation (CI)")
@mass_option
@click.option("--allow-stale-unrelated", is_flag=True,
              help="with a stale saved plan, apply the operations whose own preconditions still hold")
@click.option("--lock-timeout", default="0", show_default=True, metavar="DURATION",
              help="wait this long (30s, 5m) for another apply to the same account to finish; 0: fail at once")
@gitops.journal_option
def apply(plan_file: str | None, state_file: str, services: tuple[str, ...], auto_approve: bool,
          allow_mass_removal: bool, allow_stale_unrelated: bool, lock_timeout: str, journal_path: str) -> None:
    """Plan and apply; or apply a saved PLAN_FILE exactly, if live state has not changed since.
    Every run is journaled, a refused one too (with the reason). On a terminal a live display
    shows the progress; elsewhere a summary line comes every TEAMFORM_PROGRESS_INTERVAL seconds (30)."""
    _planapply().apply_command(plan_file, state_file, services, auto_approve, allow_mass_removal,
                               allow_stale_unrelated, lock_timeout, journal_path)


@cli.command()
def schema() -> None:
    """Print the JSON Schema (draft 7) of the state file, providers' sections included."""
    import json

    from .. import config as cfg

    click.echo(json.dumps(cfg.json_schema(), indent=2))


@cli.command()
def providers() -> None:
    """List installed providers and what they manage."""
    from ..provider.registry import installed

    for name, cls in installed().items():
        click.echo(click.style(name, bold=True) + f"  {cls.summary}")
        for spec in cls.kinds:
            click.echo(f"    {spec.name}: {spec.description}")
    from ..provider.registry import BROKEN

    for name, reason in BROKEN.items():
        click.echo(click.style(name, bold=True, fg="red") + f"  failed to load: {reason}")


@cli.group()
def sandbox() -> None:
    """The built-in emulators that `sandbox: true` services talk to."""


@sandbox.command("reset")
@service_option
def sandbox_reset(services: tuple[str, ...]) -> None:
    """Forget the sandbox state: the next run starts from the seeded drift again."""
    import shutil

    from .. import config as cfg
    from ..provider.registry import installed
    from ..sandbox import SANDBOX_DIR, sandbox_store

    bad = [why for why in map(cfg.service_name_problem, services) if why]
    if bad:
        raise Failure("; ".join(bad))
    if not SANDBOX_DIR.exists():
        click.echo("The sandbox is already clean.")
        return
    if services:
        for name in services:
            for provider in {name, *installed()}:
                sandbox_store(SANDBOX_DIR, name, provider).unlink(missing_ok=True)
    else:
        shutil.rmtree(SANDBOX_DIR)
    click.echo(f"Reset {', '.join(services) if services else 'every service'} in {SANDBOX_DIR}.")


@sandbox.command("serve")
@file_option
@click.option("--port", default=8701, show_default=True, help="the first port; one port per service")
def sandbox_serve(state_file: str, port: int) -> None:
    """Serve every service's emulator on loopback ports over real HTTP."""
    import asyncio

    from ..sandbox import serve

    config = _load(state_file)
    try:
        asyncio.run(serve(config, port, lambda line: click.echo(line, err=False)))
    except KeyboardInterrupt:
        pass


gitops.register(cli)
show.register(cli)


def main() -> None:
    cli(prog_name="teamform")
