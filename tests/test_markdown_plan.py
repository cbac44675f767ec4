"""The pull-request comment, rendered by GitHub's own renderer (cmark-gfm).

GitHub renders markdown with cmark-gfm, then its filters make mentions, issue and commit
references and emoji in text, never inside ``code`` or ``pre``. So a name is inert when every
character GitHub would act on is in a code element or a code block, and the HTML has no tag or
link made from data; it is copyable when the rendered text is exactly the name."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from teamform.cli import cli
from teamform.findings import error, note, warning
from teamform.model import Ref, Resource
from teamform.plan.ops import Operation, Plan, ServicePlan
from teamform.render.context import Where, artifact_name, marker, slug
from teamform.render.markdown import GITHUB_LIMIT, MARKER, code, esc, prose, render_markdown, visible
from teamform.testing import load, make_plan
from teamform_krisp.emulator import KrispEmulator, seat

cmarkgfm = pytest.importorskip("cmarkgfm")
from cmarkgfm.cmark import Options  # noqa: E402

HOSTILE = "</details><img src=x onerror=alert(1)>"
MENTION = "@everyone"
NASTY = [HOSTILE, MENTION, "@org/admins", "#1", "[x](https://evil.example)", "**bold** `code` ~~s~~",
         "www.evil.example", "http://evil.example/a", "a|b|c", "line\nbreak <!-- x", "<script>x</script>",
         "&amp; &#60;", "\\*", "GH-12", ":rocket: :+1:", "mallory@example.com", "``x`` `", " padded ",
         "o/r#12", "deadbeef1234", "zero\u200bwidth", "bidi\u202eevil"]
SHA = "0123456789abcdef0123456789abcdef01234567"


def github_html(markdown: str) -> str:
    """cmark-gfm with GitHub's extensions; raw HTML let through, as GitHub does before sanitizing."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


class Texts(HTMLParser):
    """Text nodes outside code and pre: what GitHub's mention, reference and emoji filters act on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.outside, self.tags = 0, [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("code", "pre"):
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in ("code", "pre"):
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.outside.append(data)


ACTIONABLE = re.compile(r"@\w|#\d|(?i:gh-\d)|:[a-z0-9_+-]+:|www\.|://|\b[0-9a-f]{7,40}\b")
ALLOWED_TAGS = {"h2", "h3", "p", "strong", "em", "code", "pre", "ul", "li", "table", "thead", "tbody", "tr", "th",
                "td", "details", "summary", "blockquote", "sub", "a"}


def assert_inert(rendered: str, services: int, links: tuple[str, ...] = (), also: set[str] = frozenset()) -> None:
    parser = Texts()
    parser.feed(rendered)
    outside = "".join(parser.outside)
    assert not ACTIONABLE.search(outside), ACTIONABLE.search(outside)
    tags = {tag for tag, _ in parser.tags}
    assert tags <= ALLOWED_TAGS | also, tags - ALLOWED_TAGS - also
    assert [a["href"] for tag, a in parser.tags if tag == "a"] == list(links), "no link is made from data"
    assert rendered.count("<details>") == rendered.count("</details>") == services
    assert "\u200b" not in rendered and "&#8203;" not in rendered, "no invisible characters are added"
    assert "\u202e" not in rendered, "no invisible character from the data is passed on"


def hostile_plan() -> Plan:
    def member(name: str, role: str = "User", pending: bool = False) -> Resource:
        return Resource("member", name.lower(), {"role": role, "nickname": name}, (Ref("seats", "standard"),),
                        person=name, display=name, pending=pending)

    ops = [Operation(HOSTILE, "delete", "member", n.lower(), before=member(n), warnings=[f"warn {n}"])
           for n in NASTY]
    ops.append(Operation(HOSTILE, "update", "member", "x", before=member("x", "Admin"), after=member("x"),
                         changes=[f"role: {HOSTILE} → {MENTION}"], demotion=True))
    ops.append(Operation(HOSTILE, "create", "member", "y", after=member(MENTION)))
    ops.append(Operation(HOSTILE, "delete", "member", "z", before=member("z" + MENTION, pending=True)))
    sp = ServicePlan(HOSTILE, MENTION, operations=ops, findings=[warning(HOSTILE), note(MENTION)])
    bad = ServicePlan("broken " + MENTION, "krisp", findings=[error(HOSTILE + " " + MENTION)])
    return Plan([sp, bad], state_file=HOSTILE + ".yaml", state_hash="abc", created="now")


def test_hostile_names_render_as_text_never_markup_links_or_mentions():
    markdown = render_markdown(hostile_plan(), environ={})
    rendered = github_html(markdown)
    assert_inert(rendered, services=2)
    text = text_of(rendered)
    for name in NASTY:
        assert f"member[{visible(name)}]" in text, f"{name!r} should be shown exactly"
        assert f"warn {visible(name, newlines=' ')}" in text
    assert markdown.startswith(marker(HOSTILE + ".yaml") + "\n")


def test_names_copy_exactly_from_code_spans():
    """What one selects in a code element is the name itself: no zero-width space, no escape."""
    for name in ["mallory@example.com", "@everyone", "``x`` `", " padded ", "a|b", "`", "x`y", "<b>&amp;</b>"]:
        for table in (False, True):
            row = f"| {code(name, table=True)} | x |\n| --- | --- |\n" if table else f"- {code(name)}\n"
            rendered = github_html(row if not table else "| n | m |\n| --- | --- |\n" + row.split("\n", 2)[0])
            codes = re.findall(r"<code>(.*?)</code>", rendered, re.S)
            assert [html.unescape(c) for c in codes] == [name], (name, table, rendered)


def test_prose_reads_as_the_original_and_links_nothing():
    for text in NASTY + ["alice@example.com is protected: not removed", "see https://x.example and #3"]:
        rendered = github_html(f"- {prose(text)}\n")
        assert text_of(rendered).strip() == visible(text, newlines=" ").strip(), rendered
        assert_inert(rendered, services=0)
    assert prose("Alice Doe, admin") == "Alice Doe, admin"


def test_invisible_characters_in_data_are_shown_not_passed_on():
    assert visible("a\u200bb\u202ec\nd") == "a\\u200bb\\u202ec\\nd"
    assert visible("a\nb\tc", newlines=" ") == "a b c"
    assert visible("naïve ✓ 名前") == "naïve ✓ 名前"


def test_the_journals_escape_is_inert_copyable_and_adds_no_invisible_character():
    """esc is what `teamform journal --markdown` (the apply's failure comment) writes: it must also keep
    the raw markdown free of the address (its callers clip before escaping, at most 13 characters each)."""
    for text in NASTY + ["the plan is stale: krisp: member[dave@example.com] changed.", "@", "#", ":"]:
        escaped = esc(text)
        rendered = github_html(f"- x {escaped}\n")
        assert_inert(rendered, services=0, also={"wbr"})  # <wbr>: an element, copied as nothing
        assert text_of(rendered).strip() == f"x {visible(text, newlines=' ')}".strip()
        assert len(escaped) <= 13 * len(visible(text, newlines=" "))
    assert "dave@example" not in esc("member[dave@example.com]")
    assert esc("Alice Doe, admin") == "Alice Doe, admin"


async def test_a_real_krisp_plan_with_hostile_live_data_renders_inert():
    state = KrispEmulator().seed()
    state["seats"].append(seat(9, email="x+@example.com", nickname=HOSTILE + MENTION))
    state["seats"].append(seat(10, email="admins@example.com", role="Admin", nickname=MENTION))
    config = load(f"""
        version: 1
        people:
          alice@example.com: {{name: "{MENTION}"}}
          admins@example.com: {{}}
        services:
          krisp:
            provider: krisp
            sandbox: true
            policy: {{max_removals: 100%}}
            members:
              - {{who: alice@example.com, role: Admin, nickname: "{HOSTILE}"}}
              - {{who: admins@example.com, role: User}}
    """)
    plan = await make_plan(config, {"krisp": KrispEmulator(state)})
    markdown = render_markdown(plan, environ={})
    rendered = github_html(markdown)
    assert_inert(rendered, services=1)
    assert "Destructive changes" in rendered and "demotion" in rendered
    assert rendered.index("Destructive changes") < rendered.index("<details>")
    assert HOSTILE + MENTION in text_of(rendered)


def test_changes_are_diff_blocks_github_colours():
    rendered = github_html(render_markdown(hostile_plan(), environ={}))
    blocks = re.findall(r'<pre lang="diff"><code>(.*?)</code></pre>', rendered, re.S)
    assert len(blocks) == 2  # the destructive changes, then the one service with changes
    for block in blocks:
        for line in html.unescape(block).splitlines():
            assert line[:1] in "+-!#", line  # + green, - red, ! orange (a change), # a comment
    details = html.unescape(blocks[1])
    assert "\n! member[x] will be updated in place  [demotion]\n!     role: " in details
    assert f"\n+ member[{MENTION}] will be created\n+     role = \"User\"" in details
    assert "- member[z@everyone] (pending invitation) will be removed" in details


def test_destructive_changes_and_warnings_come_first():
    rendered = github_html(render_markdown(hostile_plan(), environ={}))
    order = [rendered.index(s) for s in ("Plan failed", "Errors", "Destructive changes", "Warnings", "<table>",
                                         "<details>")]
    assert order == sorted(order)
    assert "has a pending invitation that this plan will remove" in rendered


PR_EVENT = {"pull_request": {"number": 12, "head": {"sha": SHA}, "base": {"ref": "main"}}}


def github_env(tmp_path, event=None, **extra) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event if event is not None else PR_EVENT))
    return {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42",
            "GITHUB_SHA": "f" * 40, "GITHUB_EVENT_PATH": str(path), **extra}


def small_plan(**kw) -> Plan:
    ops = [Operation("krisp", "create", "member", "erin@example.com",
                     after=Resource("member", "erin@example.com", {"role": "User"})),
           Operation("krisp", "delete", "member", "mallory@example.com",
                     before=Resource("member", "mallory@example.com", {"role": "User"}))]
    return Plan([ServicePlan("krisp", "krisp", operations=ops, **kw)], state_file="teams/prod.yaml",
                state_hash="9" * 64, created="2026-12-01T10:00:00+00:00")


def test_the_header_says_what_was_planned_where_and_what_merging_does(tmp_path):
    env = github_env(tmp_path, TEAMFORM_ON_MERGE="apply",
                     TEAMFORM_ARTIFACT_URL="https://github.com/o/r/actions/runs/42/artifacts/7")
    markdown = render_markdown(small_plan(), environ=env, plan_sha256="e" * 64)
    assert markdown.startswith("<!-- teamform-plan --><!-- file: teams-prod.yaml -->\n## teamform plan: `teams/prod.yaml`\n")
    rendered = github_html(markdown)
    assert_inert(rendered, services=1, links=(f"https://github.com/o/r/commit/{SHA}",
                                              "https://github.com/o/r/actions/runs/42",
                                              "https://github.com/o/r/actions/runs/42/artifacts/7"))
    text = text_of(rendered)
    assert "Plan: 1 to add, 0 to change, 1 to remove, 0 to replace." in text
    assert f"Planned teams/prod.yaml (sha256 999999999999) at {SHA[:12]}, this pull request's head merged " \
           "into main, on 2026-12-01T10:00:00+00:00." in text
    assert "full plan: teamform-plan-teams-prod.yaml (plan.txt, plan.json)" in text
    assert "plan file sha256 eeeeeeeeeeee" in text
    assert "When this is merged, the apply workflow applies exactly this plan (2 changes)" in text
    assert "nothing is applied and this pull request gets a comment saying why" in text
    assert text.index("When this is merged") < text.index("Destructive changes")


def test_what_merging_does_follows_the_apply_mode_and_the_plan(tmp_path):
    replan = text_of(github_html(render_markdown(small_plan(), environ=github_env(tmp_path, TEAMFORM_ON_MERGE="replan"))))
    assert "plans again from the merged teams/prod.yaml" in replan and "exactly this plan" not in replan
    failed = small_plan(findings=[error("krisp: KRISP_API_KEY is not set")])
    text = text_of(github_html(render_markdown(failed, environ=github_env(tmp_path, TEAMFORM_ON_MERGE="apply"))))
    assert "Plan failed (1 error)" in text and "nothing can be applied from this plan" in text
    empty = Plan([ServicePlan("krisp", "krisp")], state_file="teams.yaml")
    text = text_of(github_html(render_markdown(empty, environ=github_env(tmp_path, TEAMFORM_ON_MERGE="apply"))))
    assert "No changes. Live state matches the file." in text and "nothing in the services changes" in text
    outside_ci = render_markdown(small_plan(), environ={})
    assert "When this is merged" not in outside_ci and "workflow run" not in outside_ci


def test_values_that_do_not_look_like_githubs_are_left_out(tmp_path):
    event = {"pull_request": {"number": "12", "head": {"sha": "not-a-sha"}, "base": {"ref": "main"}}}
    env = github_env(tmp_path, event, GITHUB_SERVER_URL="javascript:alert(1)//", TEAMFORM_ON_MERGE="rm -rf",
                     TEAMFORM_ARTIFACT_URL="https://evil.example/x", TEAMFORM_ARTIFACT="a b")
    where = Where.from_environ(env, state_file="teams.yaml")
    assert where == Where(base="main")
    env = github_env(tmp_path, TEAMFORM_ARTIFACT_URL="https://github.com/o/r/actions/runs/41/artifacts/7")
    where = Where.from_environ(env, state_file="teams.yaml")
    assert where.artifact_url is None and where.run_url == "https://github.com/o/r/actions/runs/42"
    assert where.commit == SHA and where.pull_request == 12 and where.artifact == "teamform-plan-teams.yaml"


def test_names_derive_from_the_state_files_path():
    assert slug("teams.yaml") == slug("./teams.yaml") == "teams.yaml"
    assert slug("envs/prod team.yaml") == "envs-prod-team.yaml"
    assert slug("é.yaml") == "--.yaml"  # per byte, as `tr` does in the C locale
    assert marker("envs/prod.yaml") == "<!-- teamform-plan --><!-- file: envs-prod.yaml -->"
    assert marker("teams.yaml", "drift") == "<!-- teamform-drift --><!-- file: teams.yaml -->"
    assert artifact_name("envs/prod.yaml") == "teamform-plan-envs-prod.yaml"
    assert marker("a.yaml").startswith(MARKER) and marker("a.yaml") != marker("b.yaml")
    assert "-->" not in slug("x-->y")


def test_huge_plan_stays_under_githubs_limit_and_points_at_the_artifact(tmp_path):
    ops = [Operation("big", "delete", "member", f"user{i}@example.com",
                     before=Resource("member", f"user{i}@example.com", {"role": "User"},
                                     display=f"user{i}@example.com " + "x" * 80)) for i in range(3000)]
    plan = Plan([ServicePlan("big", "krisp", operations=ops)], state_file="teams.yaml")
    env = github_env(tmp_path, TEAMFORM_ARTIFACT_URL="https://github.com/o/r/actions/runs/42/artifacts/7")
    markdown = render_markdown(plan, environ=env)
    assert len(markdown) < GITHUB_LIMIT
    rendered = github_html(markdown)
    assert "The full plan is too long for a comment" in rendered and "teamform-plan-teams.yaml" in rendered
    assert 'href="https://github.com/o/r/actions/runs/42/artifacts/7"' in rendered
    assert "3000 to remove" in rendered and "and 2900 more" in rendered
    assert len(render_markdown(plan, environ=env, limit=None)) > GITHUB_LIMIT  # `show --max-chars 0`


def test_a_summarised_plan_still_says_it_has_warnings():
    ops = [Operation("big", "delete", "member", f"user{i}@example.com", warnings=[f"pending invitation {i}"],
                     before=Resource("member", f"user{i}@example.com", {"role": "User"}, pending=True,
                                     display=f"user{i}@example.com " + "x" * 80)) for i in range(3000)]
    markdown = render_markdown(Plan([ServicePlan("big", "krisp", operations=ops)], state_file="t.yaml"), environ={})
    assert len(markdown) < GITHUB_LIMIT and "The full plan is too long" in markdown
    assert "### ⚠️ Warnings (6000)" in markdown and "see the full plan" in markdown


def test_cli_markdown_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(
        "version: 1\npeople: {alice@example.com: {}}\nservices:\n  krisp:\n    provider: krisp\n"
        "    sandbox: true\n    policy: {max_removals: 100%}\n"
        "    members: [{who: alice@example.com, role: Admin}]\n")
    result = CliRunner().invoke(cli, ["plan", "--format", "markdown"], env={"GITHUB_RUN_ID": ""})
    assert result.exit_code == 0, result.output
    assert result.output.startswith(marker("teams.yaml"))
    rendered = github_html(result.output)
    assert "will be removed" in rendered and "<details>" in rendered
    hostile = github_html(render_markdown(hostile_plan(), environ={}))
    assert "will be created" in hostile and "will be updated in place" in hostile


def test_the_preview_tool_colours_diff_lines_as_github_does():
    """tools/comment-preview.py (for looking at the comment in a browser) colours what GitHub does."""
    import importlib.util

    from gitops_harness import ROOT

    spec = importlib.util.spec_from_file_location("comment_preview", ROOT / "tools" / "comment-preview.py")
    preview = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(preview)
    page = preview.page(render_markdown(small_plan(), environ={}))
    assert '<span class="pl-mi1">+ member[erin@example.com] will be created</span>' in page
    assert '<span class="pl-md">- member[mallory@example.com] will be removed</span>' in page
    assert "<details open>" in page and page.startswith("<!doctype html>")
