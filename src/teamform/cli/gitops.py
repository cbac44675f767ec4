"""GitOps commands and hooks: `import`, `journal`, and the apply's journal entry (or refusal's)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import click

from .. import journal as J
from ..apply import DONE, FAILED, MARK, SKIPPED, Report, Result
from ..plan.ops import Operation, Plan

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


# ---- teamform journal ---------------------------------------------------------------------
#: what `journal --markdown` prints at most: a GitHub comment holds 65,536 characters, and the apply
#: workflow adds a heading and a link to the run
MARKDOWN_LIMIT = 60_000
MESSAGE_CHARS = 1_000  # of one operation's message, before escaping
REASON_CHARS = 4_000   # of a refusal's reason, before escaping
_ORDER = {FAILED: 0, SKIPPED: 1, DONE: 3}  # failed first, then skipped, anything else, done last


def _clip(text: Any, chars: int) -> str:
    text = str(text)
    return text if len(text) <= chars else text[:chars] + " …"


def _entry_lines(e: dict[str, Any]) -> list[str]:
    services = f"  ({', '.join(e.get('services') or [])})"
    if J.is_refusal(e):
        status = click.style("REFUSED", fg="red", bold=True)
        reason = str(e.get("reason") or "?").replace("\n", "\n      ")
        lines = [f"{e.get('time', '?')}  {status}  plan {e.get('plan_hash') or 'not made'}  nothing applied{services}",
                 f"    refused: {reason}"]
    else:
        counts = e.get("counts") or {}
        status = click.style("ok", fg="green") if e.get("ok") else click.style("FAILED", fg="red", bold=True)
        lines = [f"{e.get('time', '?')}  {status}  plan {e.get('plan_hash', '?')}  "
                 f"{counts.get('done', 0)} done, {counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped"
                 + services]
    ci = e.get("ci")
    if ci:
        pr = (ci.get("pull_request") or {}).get("number")
        approvers = ci.get("approvers")
        lines.append(f"    commit {str(ci.get('sha', '?'))[:12]} on {ci.get('ref', '?')}"
                     + (f", PR #{pr}" if pr else "")
                     + (f", approved by {', '.join(approvers)}" if approvers else
                        ", approvers: " + ("none" if approvers == [] else str(ci.get("approvers_source")))))
    if e.get("saved_plan"):
        lines.append(f"    saved plan {e['saved_plan']}")
    return lines


def _op_lines(e: dict[str, Any], verbose: bool) -> list[str]:
    out = []
    for op in e.get("operations") or []:
        if verbose or op.get("status") != "done":
            msg = f": {op['message']}" if op.get("message") else ""
            out.append(f"    {MARK.get(op.get('status'), '?')} {op.get('id')} {op.get('seconds', 0):.2f}s{msg}")
    return out


def _entry_markdown(e: dict[str, Any], limit: int = MARKDOWN_LIMIT) -> str:
    """One entry as markdown of at most ``limit`` characters: failed, then skipped, then done
    operations, as many as fit, then how many more there are. Every string from a service or the
    state file goes through ``esc``; long texts are cut before escaping, never inside an escape."""
    from ..render.markdown import esc

    if J.is_refusal(e):
        services = ", ".join(str(s) for s in e.get("services") or []) or "?"
        plan = f", plan {esc(e['plan_hash'])}" if e.get("plan_hash") else ""
        head = (f"**teamform apply refused** at {esc(e.get('time', '?'))} ({esc(services)}{plan}); "
                "nothing was applied.")
        budget = max(0, (limit - len(head) - 20) // 13)  # esc writes at most 13 characters for one
        return "\n".join([head, "", f"refused: {esc(_clip(e.get('reason') or '?', min(REASON_CHARS, budget)))}"])[:limit]
    counts = e.get("counts") or {}
    lines = [f"**teamform apply {'succeeded' if e.get('ok') else 'failed'}** at {esc(e.get('time', '?'))}: "
             f"{counts.get('done', 0)} done, {counts.get('failed', 0)} failed, {counts.get('skipped', 0)} skipped "
             f"(plan {esc(e.get('plan_hash', '?'))}).", ""]
    ops = sorted((op for op in e.get("operations") or [] if isinstance(op, dict)),
                 key=lambda op: _ORDER.get(op.get("status"), 2))
    size = sum(len(line) + 1 for line in lines)
    room = limit - 100  # for the last line, saying how many more
    for n, op in enumerate(ops):
        msg = f": {esc(_clip(op['message'], MESSAGE_CHARS))}" if op.get("message") else ""
        line = f"- {MARK.get(op.get('status'), '?')} {esc(op.get('status'))} {esc(op.get('id'))}{msg}"
        if size + len(line) + 1 > room:
            lines.append(f"… {len(ops) - n} more operations: see the run's journal artifact")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


MARKDOWN_ENTRIES = 20  # at most, the newest, so that each has room for its heading and more


def markdown(entries: list[dict[str, Any]], limit: int = MARKDOWN_LIMIT) -> str:
    """The entries (the newest ``MARKDOWN_ENTRIES``), each in an equal share of ``limit`` characters."""
    shown = entries[-MARKDOWN_ENTRIES:]
    parts = [f"… {len(entries) - len(shown)} earlier entries: see the journal"] if len(shown) < len(entries) else []
    share = (limit - 100 - 2 * len(shown)) // max(1, len(shown))
    return "\n\n".join(parts + [_entry_markdown(e, share) for e in shown])


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
        click.echo(markdown(entries))
        return
    for e in entries:
        if as_json:
            click.echo(json.dumps(e, ensure_ascii=False))
            continue
        click.echo("\n".join(_entry_lines(e) + _op_lines(e, verbose)))


def register(group: click.Group) -> None:
    group.add_command(import_cmd)
    group.add_command(journal_cmd)
