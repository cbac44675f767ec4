"""What `plan` and `apply` do, with the engine loaded: the commands in ``cli/__init__`` import this
module when they run, so that `teamform --help` and completion need none of it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from .. import config as cfg
from .. import journal as J
from ..apply import DONE, Report, Result, Stop
from ..apply.interrupt import Interrupts
from ..lock import ApplyLock, LockError, LockHeld, parse_duration
from ..plan import stale
from ..plan.ops import Plan
from ..render import plan_file, render, render_report
from ..render import progress as display
from ..session import Session
from . import EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, Failure, Interrupted, _load, _run
from .journaling import JournalTarget
from .options import color as _color


async def _plan(config: cfg.Config, services: tuple[str, ...], allow_mass_removal: bool) -> Plan:
    async with Session(config, services) as session:
        plan, _ = await session.make_plan(allow_mass_removal=allow_mass_removal)
        return plan


def plan_command(state_file: str, services: tuple[str, ...], out: str | None, fmt: str, detailed_exitcode: bool,
                 allow_mass_removal: bool) -> None:
    config = _load(state_file)
    result = _run(_plan(config, services, allow_mass_removal))
    shown = render(result, fmt, color=_color())
    click.echo(shown, nl=False)
    if out:
        Path(out).write_bytes(shown.encode() if fmt == "json" else plan_file(result))  # rendered once at 100,000
        hint = "it has errors, so apply will refuse it" if result.errors else f"apply it with: teamform apply {out}"
        click.echo(f"Saved the plan to {out}; {hint}", err=True)
    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def apply_command(plan_file: str | None, state_file: str, services: tuple[str, ...], auto_approve: bool,
                  allow_mass_removal: bool, allow_stale_unrelated: bool, lock_timeout: str, journal_path: str) -> None:
    journal = JournalTarget(journal_path, plan_file)
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


#: Terraform's convention: a stray "y" or Enter never starts an apply
PROMPT = """
Do you want to apply these changes?
  teamform will make the changes described above, in the order shown.
  Only 'yes' will be accepted to approve.
"""


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise Failure("refusing to apply without confirmation: not a terminal (use --auto-approve in CI)")
    click.echo(click.style(PROMPT, bold=True))
    try:
        answer = click.prompt("  Enter a value", default="", show_default=False)
    except click.Abort:  # Ctrl-C (or end of input) at the prompt
        raise Interrupted("apply cancelled at the prompt; nothing was changed") from None
    if answer.strip() != "yes":
        raise Failure("apply cancelled (only 'yes' approves); nothing was changed")


def _load_saved(path: str) -> Plan:
    from ..plan import planfile  # its pydantic models are built as it is imported: only apply PLAN reads one

    try:
        return planfile.load(path)
    except planfile.PlanFileError as exc:
        raise Failure(str(exc)) from None


async def _apply(config: cfg.Config, services: tuple[str, ...], saved: Plan | None, auto_approve: bool,
                 allow_mass_removal: bool, allow_stale_unrelated: bool, journal: JournalTarget,
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


async def _run_apply(session: Session, whole: Plan, plan: Plan, before: list[Result], journal: JournalTarget,
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
    totals: dict[str, int] = {}
    for item in (*plan.operations, *before):
        totals[item.service] = totals.get(item.service, 0) + 1
    progress = display.open_display(totals, color=color)

    def on_result(r: Result) -> None:
        progress.result(r)
        run.result(r)

    session.on_wait = progress.waiting  # the rate limits say when they hold a request back
    try:
        async with progress:
            for r in before:
                progress.result(r, known=True)
                run.result(r)
            report = await session.apply(plan, on_result=on_result, stop=stop)
    finally:
        session.on_wait = None
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
    display.echo(message, err=True)  # above the progress display, while there is one


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
