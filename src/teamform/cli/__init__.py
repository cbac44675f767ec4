"""The command line. Commands only: everything they do lives in the engine."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from .. import config as cfg
from .. import journal as J
from ..apply import DONE, Report, Result, Stop
from ..apply.interrupt import Interrupts
from ..lock import ApplyLock, LockError, LockHeld, parse_duration
from ..plan import planfile, stale
from ..plan.ops import Plan
from ..provider.registry import installed
from ..sandbox import SANDBOX_DIR, sandbox_store
from ..session import Session
from ..render import render, render_report
from ..render.text import render_result_line
from . import gitops, show

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130

file_option = click.option("-f", "--file", "state_file", default="teams.yaml", show_default=True,
                           type=click.Path(dir_okay=False), help="the state file")
service_option = click.option("--service", "services", multiple=True, metavar="NAME",
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


def _color() -> bool:
    return sys.stdout.isatty()


def _load(state_file: str) -> cfg.Config:
    try:
        return cfg.load_path(state_file)
    except cfg.ConfigError as exc:
        raise Failure(str(exc)) from None


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except cfg.ConfigError as exc:
        raise Failure(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="teamform")
@click.option("-v", "--verbose", is_flag=True, help="log each HTTP request (method and URL, secrets redacted)")
def cli(verbose: bool) -> None:
    """teamform: plan and apply who belongs in which SaaS team, from a YAML file."""
    if verbose:
        import logging

        logging.basicConfig(format="%(name)s: %(message)s")
        logging.getLogger("teamform").setLevel(logging.DEBUG)


@cli.command()
@file_option
def validate(state_file: str) -> None:
    """Check the state file: schema, people, groups, providers' sections."""
    config = _load(state_file)
    click.echo(f"{state_file}: valid ({len(config.directory.people)} people, {len(config.directory.groups)} "
               f"groups, {len(config.services)} services)")


async def _plan(config: cfg.Config, services: tuple[str, ...], allow_mass_removal: bool) -> Plan:
    async with Session(config, services) as session:
        plan, _ = await session.make_plan(allow_mass_removal=allow_mass_removal)
        return plan


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
    config = _load(state_file)
    result = _run(_plan(config, services, allow_mass_removal))
    shown = render(result, fmt, color=_color())
    click.echo(shown, nl=False)
    if out:
        Path(out).write_text(shown if fmt == "json" else render(result, "json"))
        hint = "it has errors, so apply will refuse it" if result.errors else f"apply it with: teamform apply {out}"
        click.echo(f"Saved the plan to {out}; {hint}", err=True)
    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise Failure("refusing to apply without confirmation: not a terminal (use --auto-approve in CI)")
    try:
        answer = click.confirm("Apply these changes?", default=False)
    except click.Abort:  # Ctrl-C (or end of input) at the prompt
        raise Interrupted("apply cancelled at the prompt; nothing was changed") from None
    if not answer:
        raise Failure("apply cancelled; nothing was changed")


def _load_saved(path: str) -> Plan:
    try:
        return planfile.load(path)
    except planfile.PlanFileError as exc:
        raise Failure(str(exc)) from None


async def _apply(config: cfg.Config, services: tuple[str, ...], saved: Plan | None, auto_approve: bool,
                 allow_mass_removal: bool, allow_stale_unrelated: bool, journal: gitops.JournalTarget,
                 lock_timeout: float = 0.0) -> int:
    color = _color()
    async with Session(config, services or (tuple(s.name for s in saved.services) if saved else ())) as session:
        lock = ApplyLock(session.accounts(), state_file=config.file, on_wait=_say, on_takeover=_say)
        plan: Plan | None = None
        saved_hash = J.plan_hash(saved) if saved is not None else None  # before the checks take anything out
        with Interrupts(_say) as interrupts:
            try:
                try:
                    try:
                        with interrupts.blocking():
                            lock.acquire(lock_timeout)  # before reading: the plan is made from a state nobody else changes
                    except (LockHeld, LockError) as exc:
                        raise Failure(str(exc)) from None
                    plan, live = await session.make_plan(allow_mass_removal=allow_mass_removal)
                    before: list[Result] = []  # results known before anything runs: stale skips, verified outcomes
                    progress, done_before = J.Progress(), 0
                    if saved is not None:
                        progress = journal.progress()
                        plan, before, done_before = _check_stale(saved, plan, live, allow_stale_unrelated, progress)
                    click.echo(render(plan, "text", color=color), nl=False)
                    if plan.refusals:
                        raise Failure(f"the plan has {len(plan.refusals)} error(s); nothing was applied",
                                      detail="the plan has errors: " + "; ".join(plan.refusals))
                    _say_unreadable(plan)
                    resumes = progress.last["run"] if progress.last else None
                    if not plan.has_changes and not before:
                        # nothing to do is an outcome too
                        journal.record(session, saved or plan, Report(), plan_hash=saved_hash, resumes=resumes)
                        return EXIT_ERROR if plan.unreadable else EXIT_OK
                    if saved is None:
                        with interrupts.blocking():
                            _confirm(auto_approve)
                except (asyncio.CancelledError, KeyboardInterrupt):
                    raise Interrupted(f"interrupted ({interrupts.signal or 'cancelled'}) before anything was "
                                      "applied; nothing was changed") from None
                except Failure as exc:
                    journal.refused(exc.detail, plan=saved or plan, session=session, plan_hash=saved_hash)
                    exc.journaled = True
                    raise
                return await _run_apply(session, saved or plan, plan, before, journal, interrupts, color,
                                        plan_hash=saved_hash or J.plan_hash(plan), resumes=resumes,
                                        done_before=done_before)
            finally:
                lock.release()


async def _run_apply(session: Session, whole: Plan, plan: Plan, before: list[Result], journal: gitops.JournalTarget,
                     interrupts: Interrupts, color: bool, *, plan_hash: str, resumes: str | None,
                     done_before: int) -> int:
    """Apply ``plan`` (of ``whole``, the plan as shown or saved), journaling as it goes. ``before``:
    results known already; ``resumes``: the run this one resumes, in which ``done_before``
    operations of the plan were done."""
    stop = Stop()
    interrupts.applying(stop)  # from here a signal stops the apply (it may not have begun: then nothing runs)
    planned = len(plan.operations) + len(before)
    run = journal.begin(session, whole, plan_hash=plan_hash, planned=planned, resumes=resumes,
                        done_before=done_before)
    for r in before:
        click.echo(render_result_line(r, color=color))
        run.result(r)

    def on_result(r: Result) -> None:
        click.echo(render_result_line(r, color=color))
        run.result(r)

    report = await session.apply(plan, on_result=on_result, stop=stop)
    interrupts.done()
    report.results = [r for r in before if r.status == DONE] + report.results + [
        r for r in before if r.status != DONE]
    click.echo(render_report(report, color=color, done_before=done_before), nl=False)
    run.end(report, planned)
    if report.interrupted:
        again = f"teamform apply {journal.plan_file}" if journal.plan_file else "teamform apply"
        tail = ("the operations done are not applied again" if journal.plan_file
                else "a plan made now holds only what is left")
        click.echo(f"To finish, run {again} ({tail}).", err=True)
        return EXIT_INTERRUPTED
    if plan.unreadable:
        _say_unreadable(plan)
    return EXIT_OK if report.ok and not plan.unreadable else EXIT_ERROR


def _say(message: str) -> None:
    click.echo(message, err=True)


def _say_unreadable(plan: Plan) -> None:
    if plan.unreadable:
        _say(f"Not applied, because their live state could not be read: {', '.join(plan.unreadable)}. "
             "The other services are applied; run apply again once the service answers.")


def _check_stale(saved: Plan, fresh: Plan, live: dict, allow_unrelated: bool,
                 progress: J.Progress | None = None) -> tuple[Plan, list[Result], int]:
    """The saved plan, minus what earlier runs did (resuming) and what is stale (as skipped
    results, when that is allowed); the results known already (skipped, verified as done); and
    how many of its operations earlier runs did."""
    progress = progress or J.Progress()
    total = len(saved.operations)
    try:
        found = stale.check(saved, fresh, live, allow_unrelated=allow_unrelated,
                            done=progress.done if progress.runs else None)
    except stale.StalePlan as exc:
        raise Failure(str(exc)) from None
    if progress.runs:
        last = progress.last or {}
        by = (f"run {last.get('run')}" if len(progress.runs) == 1
              else f"{len(progress.runs)} earlier runs (the last: {last.get('run')})")
        click.echo(f"Resuming this plan: {len(found.done)} of its {total} operations were done by {by}, "
                   f"{last.get('outcome') or 'interrupted'} at {last.get('time', '?')}; they are not applied again.",
                   err=True)
    for op in found.verified:
        click.echo(f"  already applied (live state shows it; its result was not recorded): {op.id}", err=True)
    for op in found.halves:
        click.echo(f"  half done: {op.resource.ref} was removed and not yet added again; it is added now ({op.id})",
                   err=True)
    for ref in found.left_behind:
        click.echo(f"  gone with what was done: {ref}", err=True)
    if found.stale:
        click.echo("The plan is stale; applying only the operations whose preconditions still hold.", err=True)
    for name, why in found.broken.items():
        click.echo(f"  {name} cannot be planned now, so none of its operations run: {why}", err=True)
    for op, _ in found.skipped:
        click.echo(f"  skipped (stale): {op.id}", err=True)
    verified = [Result(op.id, op.service, op.action, op.label, DONE,
                       "already applied: live state shows it, though no run recorded its result") for op in found.verified]
    return found.plan, verified + [Result.skipped(op, reason) for op, reason in found.skipped], len(found.done)


def _only(saved: Plan, services: tuple[str, ...]) -> Plan:
    """The part of a saved plan for the services named with --service (all when none are)."""
    if not services:
        return saved
    missing = sorted(set(services) - {s.name for s in saved.services})
    if missing:
        raise Failure(f"the saved plan has no service {', '.join(missing)}; it covers "
                      f"{', '.join(s.name for s in saved.services) or 'nothing'}")
    saved.services = [s for s in saved.services if s.name in services]
    return saved


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
    Every run is journaled, a refused one too (with the reason)."""
    journal = gitops.JournalTarget(journal_path, plan_file)
    saved = None
    try:
        try:
            wait = parse_duration(lock_timeout)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--lock-timeout") from None
        saved = _only(_load_saved(plan_file), services) if plan_file else None
        if saved is not None and saved.state_file and state_file == "teams.yaml":
            state_file = saved.state_file
        config = _load(state_file)
        if saved is not None and saved.state_hash != config.hash:
            raise Failure(f"the plan was made from a different version of {state_file}; run plan again")
        code = _run(_apply(config, services, saved, auto_approve, allow_mass_removal, allow_stale_unrelated, journal,
                           wait))
    except Failure as exc:
        if not exc.journaled:
            journal.refused(exc.detail, plan=saved, services=services)
        raise
    sys.exit(code)


@cli.command()
def schema() -> None:
    """Print the JSON Schema (draft 7) of the state file, providers' sections included."""
    click.echo(json.dumps(cfg.json_schema(), indent=2))


@cli.command()
def providers() -> None:
    """List installed providers and what they manage."""
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
