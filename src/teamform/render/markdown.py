"""Markdown for the sticky pull-request comment (and the drift issue).

Layout, most important first: a hidden marker (how the workflow finds the comment again, one per
state file), the headline, what was planned (state file, commit, run, the artifact with the full
plan), what merging will do, errors, destructive changes, warnings, a per-service table, then each
service's changes in a collapsible section. Past GitHub's 65,536-character limit it falls back to
a summary that keeps the headline, errors, destructive changes and warnings, and points at the
artifact.

Changes are ``diff`` code blocks, which GitHub colours: ``+`` added (green), ``-`` removed and
``-/+`` replaced (red), ``!`` changed in place (Terraform's ``~``; orange, as Atlantis does).

Every string that comes from the state file or a service is shown exactly, and is inert in
GitHub's renderer (cmark-gfm with its autolink extension, then GitHub's mention, reference and
emoji filters, which leave ``code`` and ``pre`` alone):

- names and values are code spans (``code``) or lines of a code block: copied, they give back
  exactly the original text;
- free text (warnings, errors, notes) is ``prose``: markdown syntax characters become character
  references, and a resource's label (``member[…]``) or a word that GitHub would turn into a
  mention, an issue or commit reference, an emoji or a link (``@``, ``#``, ``GH-1``, ``:x:``,
  ``www.``, ``://``, a hex run) becomes a code span;
- invisible characters in the data (control and format characters: zero-width spaces, bidi
  overrides) are shown as ``\\uXXXX`` escapes, and none are added.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from typing import Any, Iterable

from ..plan.ops import Operation, Plan, ServicePlan
from .words import COUNT, WILL, address_order, counts_line
from .context import Where, artifact_name, marker as marker_for, slug  # noqa: F401  (re-exported)

MARKER = "<!-- teamform-plan -->"  # every plan comment's first line starts so: see ``marker_for``
GITHUB_LIMIT = 65_536
#: room kept below the limit for what the workflow adds around the body
BUDGET = GITHUB_LIMIT - 1_536
ARTIFACT = "teamform-plan"  # the prefix of the artifact names: see ``artifact_name``
MAX_LISTED = 100  # destructive changes listed in the summary-only form

#: a diff block's first character per action: GitHub colours + green, - red, ! orange
DIFF = {"create": "+", "update": "!", "delete": "-", "replace": "-/+"}
VERB = COUNT
DONE = WILL


# ---- showing text exactly and inertly ----------------------------------------------------------
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: object, *, newlines: str | None = None) -> str:
    """``text`` with every control or format character (zero-width space, bidi override, …) written
    as an escape (``\\u200b``, ``\\n``), so nothing in it is invisible. ``newlines``: what line
    breaks and tabs become instead (a space, for free text)."""
    s = str(text)
    if newlines is not None:
        s = re.sub(r"\r\n|[\r\n\t\u2028\u2029]", newlines, s)
    return "".join(_NAMED.get(ch) or f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _INVISIBLE else ch
                   for ch in s)


def _fence(text: str, at_least: int = 1, char: str = "`") -> str:
    runs = [len(r) for r in re.findall(re.escape(char) + "+", text)]
    return char * max([at_least] + [r + 1 for r in runs])


def code(text: object, *, table: bool = False) -> str:
    """A code span that renders exactly ``text`` (made visible): a fence longer than any backtick
    run inside, a space on each side when it starts or ends with a backtick or a space (CommonMark
    strips exactly one), ``|`` escaped in a table cell (GFM splits cells before inline parsing)."""
    s = visible(text, newlines=None)
    if not s:
        return "*(empty)*"
    fence = _fence(s)
    pad = " " if (s[0] in "` " or s[-1] in "` ") and s.strip(" ") else ""
    if table:
        s = s.replace("|", "\\|")
    return f"{fence}{pad}{s}{pad}{fence}"


# a word GitHub would make into something: mention, team, email, issue/PR reference, GH-123,
# emoji shortcode, URL or www. autolink, commit SHA (7+ hex digits)
_HAZARD = re.compile(r"[@#]|://|(?i:www\.)|(?i:\bgh-\d)|:[^\s:]+:|\b[0-9A-Fa-f]{7,}\b")
_PLAIN = re.compile(r"[A-Za-z0-9 ,.;:/=?%+'-]")
#: a resource's label (``member[Engineering/#5 (Lee Gacy)]``): one name, one code span, spaces and all
_LABEL = re.compile(r"[A-Za-z_][\w-]*\[[^\[\]]*\]")
_WORDS = re.compile(r"(" + _LABEL.pattern + r"|\s+)")


def _chars(word: str) -> str:
    return "".join(ch if ord(ch) > 127 or _PLAIN.match(ch) else f"&#{ord(ch)};" for ch in word)


def prose(text: object, *, table: bool = False) -> str:
    """Free text from a service or the state file as inert markdown that reads (and copies) as the
    original: syntax characters become character references (never markup in CommonMark), line
    breaks become spaces, and each word GitHub would link, mention or turn into an emoji is a code
    span. Never at the start of a line (where ``1.`` or ``-`` would be syntax): callers prefix it."""
    out = []
    for part in _WORDS.split(visible(text, newlines=" ")):
        if not part:
            continue
        if part.isspace():
            out.append(part)
        elif _LABEL.fullmatch(part) or _HAZARD.search(part):
            out.append(code(part, table=table))
        else:
            out.append(_chars(part))
    return "".join(out)


def _html_code(text: object) -> str:
    """For raw HTML (``<summary>``): escaped, in ``<code>`` so that GitHub's filters leave it alone."""
    return f"<code>{html.escape(visible(text), quote=False)}</code>"


# the journal's markdown (``teamform journal --markdown``, the apply's failure comment) writes a
# text that ``teamform journal`` clips by length first: ``esc`` never writes more than 13 characters
# for one, and keeps even the raw markdown free of ``@``, ``:`` and ``#`` runs
_SAFE = re.compile(r"[A-Za-z0-9 ,.;/=?%+'-]")
_ESC_HAZARD = re.compile(r"@[A-Za-z0-9]|#\d|(?i:\bgh-\d)|:[^\s:]+:|://|(?i:www\.)|\b[0-9A-Fa-f]{7,}\b")


def _esc_code(ch: str) -> str:
    if ch.isalnum() or ord(ch) > 127:
        return ch
    # an element, not a character: it splits the text cmark-gfm's autolinker reads (an email, a
    # URL, www.) and copies as nothing
    return f"<wbr>&#{ord(ch)};" if ch in "@:." else f"&#{ord(ch)};"


def esc(text: object) -> str:
    """Make any string inert in GitHub markdown, with no invisible character added: every ASCII
    character that could be syntax becomes a numeric character reference, line breaks become
    spaces, control characters are shown as escapes, and a word GitHub would turn into a mention,
    reference, emoji or link goes in ``<code>`` (which GitHub's filters leave alone) with every
    punctuation character a reference and a ``<wbr>`` before ``@ : .`` (so that cmark-gfm's
    autolinker sees no address either). Copied, the rendered text is the original."""
    out: list[str] = []
    for part in re.split(r"(\s+)", visible(text, newlines=" ")):
        if not part or part.isspace():
            out.append(part)
        elif _ESC_HAZARD.search(part):
            out.append("<code>" + "".join(_esc_code(ch) for ch in part) + "</code>")
        else:
            out.append("".join(ch if _SAFE.match(ch) or ord(ch) > 127 else f"&#{ord(ch)};" for ch in part))
    return "".join(out)


# ---- pieces ------------------------------------------------------------------------------------
def _is_destructive(op: Operation) -> bool:
    return op.action in ("delete", "replace") or op.demotion or op.destructive


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _head_line(op: Operation, *, service: bool = False) -> str:
    where = f"{op.service}: " if service else ""
    pending = " (pending invitation)" if op.pending else ""
    tags = "".join(f"  [{t}]" for t, on in (("destructive", op.destructive), ("demotion", op.demotion)) if on)
    verb = f"will be {op.summary}" if op.summary else DONE[op.action]
    return visible(f"{DIFF[op.action]} {where}{op.label}{pending} {verb}{tags}", newlines=" ")


def _op_lines(op: Operation) -> list[str]:
    sym = DIFF[op.action][0]
    lines = [_head_line(op)]
    shown = op.after if op.action == "create" else op.before if op.action == "delete" else None
    if shown is not None:
        body = [f"{k} = {_value(v)}" for k, v in shown.attrs.items() if v is not None]
    else:
        body = list(op.changes)
    lines += [visible(f"{sym}     {b}", newlines=" ") for b in body]
    lines += [visible(f"!     warning: {w}", newlines=" ") for w in op.warnings]
    return lines


def _diff_block(lines: list[str]) -> list[str]:
    fence = _fence("\n".join(lines), 3)
    return [f"{fence}diff", *lines, fence]


def _headline(plan: Plan) -> str:
    c = plan.counts()
    if plan.errors:
        return f"❌ **Plan failed** ({len(plan.errors)} error{'s' if len(plan.errors) != 1 else ''}): " \
               "nothing will be changed."
    if not plan.has_changes:
        return f"{'⚠️' if plan.warnings else '✅'} **{prose(plan.no_changes_line())}**"
    return f"**Plan: {counts_line(c)}.**"


def _planned(plan: Plan, where: Where) -> list[str]:
    """What was planned, and where to find the full plan."""
    what = f"Planned {code(plan.state_file)}" if plan.state_file else "Planned"
    if plan.state_hash:
        what += f" (sha256 {code(plan.state_hash[:12])})"
    if where.commit:
        sha = code(where.commit[:12])
        what += f" at [{sha}]({where.commit_url})" if where.commit_url else f" at {sha}"
        if where.pull_request:
            what += ", this pull request's head"
            if where.base:
                what += f" merged into {code(where.base)}"
    if plan.created:
        what += f", on {code(plan.created)}"
    links = []
    if where.run_url:
        links.append(f"[workflow run]({where.run_url})")
    if where.artifact:
        name = code(where.artifact)
        links.append(f"full plan: [{name}]({where.artifact_url}) (`plan.txt`, `plan.json`)" if where.artifact_url
                     else f"full plan: the {name} artifact of the run (`plan.txt`, `plan.json`)")
    if where.plan_sha256:
        links.append(f"plan file sha256 {code(where.plan_sha256[:12])}")
    return [what + ".", ""] + ([" · ".join(links), ""] if links else [])


def _on_merge(plan: Plan, where: Where) -> list[str]:
    if where.on_merge is None:
        return []
    file = code(plan.state_file or "the state file")
    if plan.errors:
        text = "nothing can be applied from this plan: it has errors. Fix them and push again."
    elif where.on_merge == "replan":
        text = (f"the apply workflow plans again from the merged {file} and live state at that time, and "
                "applies that plan once the protected environment's reviewers approve it (they see it in "
                "the run's summary). It matches this plan unless the default branch or live state changes first.")
    elif not plan.has_changes:
        text = "this empty plan is applied: nothing in the services changes."
    else:
        n = len(plan.operations)
        text = (f"the apply workflow applies **exactly this plan** ({n} change{'s' if n != 1 else ''}) once the "
                f"protected environment's reviewers approve the run, and only if a plan made then from the "
                f"merged {file} and live state holds exactly these operations. If it does not (the file "
                "changed on the default branch, or live state moved), nothing is applied and this pull request "
                "gets a comment saying why and what to do.")
    return [f"**When this is merged**, {text}", ""]


def _errors(plan: Plan) -> list[str]:
    if not plan.errors:
        return []
    return ["### ❌ Errors", ""] + [f"- {code(sp.name)}: {prose(e)}" for sp in plan.services
                                   for e in sp.errors] + [""]


def _destructive(ops: list[Operation], limit: int | None = None) -> list[str]:
    if not ops:
        return []
    shown = ops if limit is None else ops[:limit]
    lines = [_head_line(op, service=True) for op in shown]
    if len(ops) > len(shown):
        lines.append(f"# … and {len(ops) - len(shown)} more: see the full plan")
    return [f"### ⚠️ Destructive changes ({len(ops)})", "",
            "Removals, demotions and replaces: check these first.", "", *_diff_block(lines), ""]


def _warning_items(plan: Plan) -> list[str]:
    items: list[str] = []
    for sp in plan.services:
        name = code(sp.name)
        items += [f"- {name}: {prose(w)}" for w in sp.warnings]
        for op in sp.operations:
            label = code(op.label)
            if op.pending and not op.resend:  # a resend is the invitation's upkeep, not a change to it
                items.append(f"- {name}: {label} has a pending invitation that this plan will {VERB[op.action]}")
            items += [f"- {name}: {label}: {prose(w)}" for w in op.warnings]
    return list(dict.fromkeys(items))


def _warnings(items: list[str], *, counted: bool = False) -> list[str]:
    if not items:
        return []
    head = [f"### ⚠️ Warnings ({len(items)})", ""]
    if counted:
        return head + ["Too many to list here: see the full plan.", ""]
    return head + items + [""]


def _summary_table(plan: Plan) -> list[str]:
    lines = ["| service | provider | to add | to change | to remove | to replace | status |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for sp in plan.services:
        c = sp.counts()
        n = len(sp.operations)
        status = "❌ error" if sp.errors else ("✅ no changes" if not n else f"{n} change{'s' if n != 1 else ''}")
        lines.append(f"| {code(sp.name, table=True)} | {code(sp.provider, table=True)} | {c['create']} | "
                     f"{c['update']} | {c['delete']} | {c['replace']} | {status} |")
    return lines + [""]


def _service_details(sp: ServicePlan) -> list[str]:
    n = len(sp.operations)
    lines = [f"<details><summary>{_html_code(sp.name)} ({_html_code(sp.provider)}): "
             f"{n} change{'s' if n != 1 else ''}</summary>", ""]
    if sp.operations:
        lines += _diff_block([line for op in sorted(sp.operations, key=address_order) for line in _op_lines(op)])
    else:
        lines.append("No changes." if not sp.errors else "Not planned: see the errors above.")
    lines.append("")
    for note in sp.notes:
        lines += [f"> Note: {prose(note)}", ""]
    return lines + ["</details>", ""]


_LEGEND = "<sub>`+` add · `!` change in place (Terraform's `~`) · `-` remove · `-/+` replace</sub>"


def _footer(where: Where, summarised: bool) -> list[str]:
    if not summarised:
        return []
    if where.artifact and where.artifact_url:
        at = f"the [{code(where.artifact)}]({where.artifact_url}) artifact"
    elif where.artifact:
        at = f"the {code(where.artifact)} artifact" + (f" of [the workflow run]({where.run_url})" if where.run_url else "")
    else:
        at = "the plan file (`teamform show plan.json`)"
    return [f"> The full plan is too long for a comment: it is in {at}.", ""]


def _join(parts: Iterable[list[str]]) -> str:
    return "\n".join(line for part in parts for line in part).rstrip("\n") + "\n"


# ---- the comment -------------------------------------------------------------------------------
def render_markdown(plan: Plan, *, kind: str = "plan", title: str | None = None, limit: int | None = BUDGET,
                    where: Where | None = None, environ: Any = None, marker: str | None = None,
                    plan_sha256: str | None = None) -> str:
    """The comment body, never longer than ``limit`` characters (``None`` or 0: no limit).

    ``where`` says where the plan was made; by default it is read from ``environ`` (the process
    environment when ``None``): see ``teamform.render.context``."""
    if where is None:
        where = Where.from_environ(environ, state_file=plan.state_file, kind=kind, plan_sha256=plan_sha256)
    marker = marker or marker_for(plan.state_file or "teams.yaml", kind)
    title = title or f"teamform {kind}"
    heading = f"## {prose(title)}" + (f": {code(plan.state_file)}" if plan.state_file else "")
    head = [[marker, heading, "", _headline(plan), ""], _planned(plan, where), _on_merge(plan, where),
            _errors(plan)]
    destructive = [op for sp in plan.services for op in sorted(sp.operations, key=address_order) if _is_destructive(op)]
    warnings = _warning_items(plan)
    details = [_summary_table(plan)] + [_service_details(sp) for sp in plan.services] + \
        ([[_LEGEND, ""]] if plan.operations else [])
    full = _join([*head, _destructive(destructive), _warnings(warnings), *details])
    if not limit or len(full) <= limit:
        return full
    for listed in (MAX_LISTED, 20, 0):
        for counted in (False, True):
            short = _join([*head, _destructive(destructive, listed), _warnings(warnings, counted=counted),
                           _summary_table(plan), _footer(where, True)])
            if len(short) <= limit:
                return short
    return _join([[marker, heading, "", _headline(plan), ""], _footer(where, True)])[:limit]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
