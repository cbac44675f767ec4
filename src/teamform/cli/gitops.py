"""GitOps commands and hooks: `import`, `journal`, and the apply's journal entry (or refusal's).

Only click is imported here at first: the commands are listed by `teamform --help` and on every
Tab press; the journal and the engine are imported when a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import verbosity

#: teamform.journal.DEFAULT_PATH (not imported here: that loads the engine)
DEFAULT_JOURNAL = ".teamform/journal.jsonl"

journal_option = click.option(
    "--journal", "journal_path", default=DEFAULT_JOURNAL, show_default=True, envvar="TEAMFORM_JOURNAL",
    type=click.Path(dir_okay=False), help="append an audit entry (JSON Lines) here; '-' for none")


def __getattr__(name: str) -> Any:  # the apply's journal, from where it lives (it loads the engine)
    if name in ("JournalTarget", "RunJournal"):
        from . import journaling

        return getattr(journaling, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    import asyncio

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
@click.option("--json", "as_json", is_flag=True, help="the raw JSON lines")
@click.option("--markdown", "as_markdown", is_flag=True, help="markdown, escaped, for a comment or an issue")
def journal_cmd(journal_path: str, last: int, as_json: bool, as_markdown: bool) -> None:
    """Show recent applies from the audit journal, newest last; with -v every operation, not only
    the failed and skipped (-v means more detail everywhere; this command makes no request)."""
    import json

    from .. import journal as J
    from ..render import journal as render_journal

    verbose = verbosity() >= 1
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
