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
    path: str
    plan_file: str | None = None

    def record(self, session: Any, plan: Plan, report: Report) -> None:
        if self.path == "-":
            return
        entry = J.entry(plan, report, saved_plan=self.plan_file, secrets=J.secret_values(session.providers.values()))
        self._append(entry)

    def refused(self, reason: str, *, plan: Plan | None = None, services: Iterable[str] = (),
                session: Any = None) -> None:
        """Journal an apply refused before anything ran. ``reason``: what the user is told (the
        Failure's message); ``plan``: the saved or fresh plan when there is one (its hash and
        services are recorded), else ``services``: the --service names; ``session``: the open
        Session when there is one, so the credential values it read are masked in ``reason``.
        Never raises: a journal that cannot be written is a warning."""
        if self.path == "-":
            return
        secrets = J.secret_values(session.providers.values()) if session is not None else ()
        self._append(J.refusal(reason, plan=plan, services=services, saved_plan=self.plan_file, secrets=secrets))

    def _append(self, entry: dict[str, Any]) -> None:
        if self.plan_file:
            try:
                entry["plan_file_sha256"] = hashlib.sha256(Path(self.plan_file).read_bytes()).hexdigest()
            except OSError:  # a refusal can be that the file is missing
                entry["plan_file_sha256"] = None
        try:
            J.append(self.path, entry)
        except OSError as exc:  # the apply happened: say so loudly, but do not hide its result
            click.echo(f"warning: could not write the journal {self.path}: {exc}", err=True)


# ---- teamform import ----------------------------------------------------------------------
@click.command("import")
@click.option("-f", "--file", "state_file", default="teams.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="the state file whose services say where and how to connect")
@click.option("--service", "services", multiple=True, metavar="NAME", help="only this service (repeatable)")
@click.option("--out", type=click.Path(dir_okay=False), help="write the state file here (default: stdout)")
def import_cmd(state_file: str, services: tuple[str, ...], out: str | None) -> None:
    """Write a state file that describes what the services hold now.

    Connection settings, credentials (as env:NAME references) and sandbox come from the services
    of FILE (a file with services but no members is enough); members and the people directory
    come from the live services. Planning the result gives no changes.
    """
    from .. import config as cfg
    from .. import importer
    from . import Failure, _load

    config = _load(state_file)
    try:
        text = asyncio.run(importer.import_text(config, services))
    except (cfg.ConfigError, importer.ImportFailed) as exc:
        raise Failure(str(exc)) from None
    if out:
        Path(out).write_text(text)
        click.echo(f"Wrote {out}; check it with: teamform plan -f {out}", err=True)
    else:
        click.echo(text, nl=False)


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
