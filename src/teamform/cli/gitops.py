"""GitOps commands and hooks: `import`, `journal`, and the apply's journal entry (or refusal's)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import click

from .. import journal as J
from ..apply import Report
from ..plan.ops import Plan
from ..render import journal as render_journal

journal_option = click.option(
    "--journal", "journal_path", default=str(J.DEFAULT_PATH), show_default=True, envvar="TEAMFORM_JOURNAL",
    type=click.Path(dir_okay=False), help="append an audit entry (JSON Lines) here; '-' for none")


@dataclass
class JournalTarget:
    """Where an apply is journaled (``path``; ``-``: nowhere), and the saved plan file it applies."""

    path: str
    plan_file: str | None = None

    def __post_init__(self) -> None:
        self.plan_file_sha256: str | None = None
        if self.plan_file:
            try:
                self.plan_file_sha256 = hashlib.sha256(Path(self.plan_file).read_bytes()).hexdigest()
            except OSError:  # a refusal can be that the file is missing
                pass

    def record(self, session: Any, plan: Plan, report: Report, *, plan_hash: str | None = None,
               resumes: str | None = None) -> None:
        """One whole entry (an apply that had nothing to do)."""
        if self.path == "-":
            return
        entry = J.entry(plan, report, saved_plan=self.plan_file, secrets=J.secret_values(session.providers.values()))
        if plan_hash:
            entry["plan_hash"] = plan_hash
        if resumes:
            entry["resumes"] = resumes
        self._append(entry)

    def refused(self, reason: str, *, plan: Plan | None = None, services: Iterable[str] = (),
                session: Any = None, plan_hash: str | None = None) -> None:
        """Journal an apply refused before anything ran. ``reason``: what the user is told (the
        Failure's message); ``plan``: the saved or fresh plan when there is one (its hash and
        services are recorded), else ``services``: the --service names; ``session``: the open
        Session when there is one, so the credential values it read are masked in ``reason``.
        Never raises: a journal that cannot be written is a warning."""
        if self.path == "-":
            return
        secrets = J.secret_values(session.providers.values()) if session is not None else ()
        entry = J.refusal(reason, plan=plan, services=services, saved_plan=self.plan_file, secrets=secrets)
        if plan_hash and plan is not None:
            entry["plan_hash"] = plan_hash
        self._append(entry)

    def progress(self) -> J.Progress:
        """What earlier applies of this saved plan did, by the journal (nothing without one)."""
        if self.path == "-" or not self.plan_file_sha256:
            return J.Progress()
        try:
            return J.progress(J.read(self.path), self.plan_file_sha256)
        except OSError as exc:
            click.echo(f"warning: could not read the journal {self.path}: {exc}; nothing is taken as done", err=True)
            return J.Progress()

    def begin(self, session: Any, plan: Plan, *, plan_hash: str, planned: int, resumes: str | None = None,
              done_before: int = 0) -> "RunJournal":
        """Open the journal for one apply and write its start."""
        run = RunJournal(self, {op.id: op for op in plan.operations}, J.secret_values(session.providers.values()))
        if self.path == "-":
            run.off = True
            return run
        start = J.start(plan, run=run.id, plan_hash=plan_hash, saved_plan=self.plan_file, planned=planned,
                        resumes=resumes, done_before=done_before, secrets=run.secrets)
        if self.plan_file:
            start["plan_file_sha256"] = self.plan_file_sha256
        try:
            run.writer = J.RunWriter(self.path)
        except OSError as exc:
            run.failed(exc)
            return run
        run.write(start, sync=True)
        return run

    def _append(self, entry: dict[str, Any]) -> None:
        if self.plan_file:
            entry["plan_file_sha256"] = self.plan_file_sha256
        try:
            J.append(self.path, entry)
        except OSError as exc:  # the apply happened: say so loudly, but do not hide its result
            click.echo(f"warning: could not write the journal {self.path}: {exc}", err=True)


class RunJournal:
    """One apply's events, written as they happen. A journal that cannot be written is a warning
    (once), and the apply goes on: it has already changed things, and its output says what."""

    def __init__(self, target: JournalTarget, ops: dict[str, Any], secrets: list[str]) -> None:
        self.target, self.ops, self.secrets = target, ops, secrets
        self.id = J.new_run_id()
        self.writer: J.RunWriter | None = None
        self.off = False
        self.results = 0

    def failed(self, exc: OSError) -> None:
        click.echo(f"warning: could not write the journal {self.target.path}: {exc}; this apply goes on "
                   "without it", err=True)
        self.off = True
        if self.writer is not None:
            try:
                self.writer.close()
            except OSError:
                pass
            self.writer = None

    def write(self, record: dict[str, Any], *, sync: bool = False) -> None:
        if self.off or self.writer is None:
            return
        try:
            self.writer.write(record, sync=sync)
        except OSError as exc:
            self.failed(exc)

    def result(self, r: Any) -> None:
        self.results += 1
        self.write(J.result(self.id, r, self.ops.get(r.op_id), secrets=self.secrets))

    def end(self, report: Report, planned: int) -> None:
        self.write(J.end(self.id, report, not_started=max(0, planned - self.results)), sync=True)
        if self.writer is not None:
            try:
                self.writer.close()
            except OSError as exc:
                self.failed(exc)
            self.writer = None


# ---- teamform import ----------------------------------------------------------------------
@click.command("import")
@click.option("-f", "--file", "state_file", default="teams.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="the state file whose services say where and how to connect")
@click.option("--service", "services", multiple=True, metavar="NAME", help="only this service (repeatable)")
@click.option("--out", type=click.Path(dir_okay=False), help="write the state file here (default: stdout)")
@click.option("--overwrite", is_flag=True, help="let --out replace a file that exists (FILE itself included)")
def import_cmd(state_file: str, services: tuple[str, ...], out: str | None, overwrite: bool) -> None:
    """Write FILE merged with what the services hold now.

    Connection settings, credentials (as env:NAME references) and sandbox come from the services
    of FILE (a file with services but no members is enough); members and the people directory
    come from the live services. FILE's comments, order, groups and other services are kept.
    Planning the result gives no changes.
    """
    from .. import config as cfg
    from .. import importer
    from . import Failure, _load

    if out and not overwrite and _same_file(out, state_file):
        raise Failure(f"--out {out} is the file being imported from; add --overwrite to replace it with the "
                      "merged file (or write elsewhere and compare)")
    if out and not overwrite and Path(out).exists():
        raise Failure(f"--out {out} exists; add --overwrite to replace it with {state_file} merged with live state")
    config = _load(state_file)
    try:
        text = asyncio.run(importer.import_text(config, services))
    except (cfg.ConfigError, importer.ImportFailed) as exc:
        raise Failure(str(exc)) from None
    if out:
        importer.write_atomic(out, text)
        click.echo(f"Wrote {out}; check it with: teamform plan -f {out}", err=True)
    else:
        click.echo(text, nl=False)


def _same_file(a: str, b: str) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return Path(a).resolve() == Path(b).resolve()


@click.command("journal")
@journal_option
@click.option("-n", "--last", default=10, show_default=True, help="how many recent applies")
@click.option("-v", "--verbose", is_flag=True, help="every operation, not only the failed and skipped")
@click.option("--json", "as_json", is_flag=True, help="the raw JSON lines")
@click.option("--markdown", "as_markdown", is_flag=True, help="markdown, escaped, for a comment or an issue")
def journal_cmd(journal_path: str, last: int, verbose: bool, as_json: bool, as_markdown: bool) -> None:
    """Show recent applies from the audit journal, newest last."""
    import json

    entries = J.read(journal_path, last)
    if not entries:
        click.echo(f"No applies recorded in {journal_path}.")
        return
    if as_markdown:
        click.echo(render_journal.markdown(entries))
        return
    for e in entries:
        if as_json:
            click.echo(json.dumps(e, ensure_ascii=False))
            continue
        click.echo(render_journal.text(e, verbose))


def register(group: click.Group) -> None:
    group.add_command(import_cmd)
    group.add_command(journal_cmd)
