"""The pull-request comment, rendered by GitHub's own renderer (cmark-gfm)."""

from __future__ import annotations

import html
import re

import pytest
from click.testing import CliRunner

from teamform.cli import cli
from teamform.model import Ref, Resource
from teamform.findings import error, note, warning
from teamform.plan.ops import Operation, Plan, ServicePlan
from teamform.render.markdown import GITHUB_LIMIT, MARKER, esc, render_markdown
from teamform.testing import load, make_plan
from teamform_krisp.emulator import KrispEmulator, seat

cmarkgfm = pytest.importorskip("cmarkgfm")
from cmarkgfm.cmark import Options  # noqa: E402

HOSTILE = "</details><img src=x onerror=alert(1)>"
MENTION = "@everyone"
NASTY = [HOSTILE, MENTION, "@org/admins", "#1", "[x](https://evil.example)", "**bold** `code` ~~s~~",
         "www.evil.example", "http://evil.example/a", "a|b|c", "line\nbreak <!-- x", "<script>x</script>",
         "&amp; &#60;", "\\*", "GH-12", ":rocket: :+1:"]


def github_html(markdown: str) -> str:
    """cmark-gfm with GitHub's extensions; raw HTML let through, as GitHub does before sanitizing."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def text_of(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\u200b", "")


def assert_inert(rendered: str, services: int) -> None:
    assert "<img" not in rendered and "<script" not in rendered
    assert rendered.count("<details>") == rendered.count("</details>") == services
    assert "<a " not in rendered, "no link or mention is made from a name"
    assert "<del>" not in rendered and "<strong>bold" not in rendered and "<code>code" not in rendered
    decoded = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert MENTION not in decoded and "@org/admins" not in decoded and "#1" not in decoded
    assert "GH-12" not in decoded, "GitHub would link GH-12 to issue 12"
    assert ":rocket:" not in decoded and ":+1:" not in decoded, "GitHub would render emoji shortcodes"


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


def test_hostile_names_render_as_text_never_markup_or_mentions():
    markdown = render_markdown(hostile_plan(), environ={})
    rendered = github_html(markdown)
    assert_inert(rendered, services=2)
    text = text_of(rendered)
    for name in NASTY:
        assert name.replace("\n", " ") in text, f"{name!r} should be shown as text"
    assert markdown.startswith(MARKER + "\n")


def test_escape_keeps_text_readable():
    assert esc("Alice Doe, admin") == "Alice Doe, admin"
    assert html.unescape(esc(HOSTILE)) == HOSTILE
    assert "\n" not in esc("a\nb") and "<" not in esc(HOSTILE)


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


def hostile_html() -> str:
    return github_html(render_markdown(hostile_plan(), environ={}))


def test_summary_counts_and_destructive_first():
    rendered = github_html(render_markdown(hostile_plan(), environ={}))
    assert "<table>" in rendered
    assert rendered.index("Destructive changes") < rendered.index("Warnings") < rendered.index("<details>")
    assert "pending invitation" in rendered


def test_huge_plan_stays_under_githubs_limit_and_points_at_the_artifact():
    ops = [Operation("big", "delete", "member", f"user{i}@example.com",
                     before=Resource("member", f"user{i}@example.com", {"role": "User"},
                                     display=f"user{i}@example.com " + "x" * 80)) for i in range(3000)]
    plan = Plan([ServicePlan("big", "krisp", operations=ops)], state_file="teams.yaml")
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42"}
    markdown = render_markdown(plan, environ=env)
    assert len(markdown) < GITHUB_LIMIT
    rendered = github_html(markdown)
    assert "The full plan is too long" in rendered and "teamform-plan" in rendered
    assert 'href="https://github.com/o/r/actions/runs/42"' in rendered
    assert "3000 to remove" in rendered and "and 2900 more" in rendered


def test_a_summarised_plan_still_says_it_has_warnings():
    ops = [Operation("big", "delete", "member", f"user{i}@example.com", warnings=[f"pending invitation {i}"],
                     before=Resource("member", f"user{i}@example.com", {"role": "User"}, pending=True,
                                     display=f"user{i}@example.com " + "x" * 80)) for i in range(3000)]
    markdown = render_markdown(Plan([ServicePlan("big", "krisp", operations=ops)], state_file="t.yaml"), environ={})
    assert len(markdown) < GITHUB_LIMIT and "The full plan is too long" in markdown
    assert "### Warnings" in markdown and "6000 warning(s): see the full plan." in markdown


def test_cli_markdown_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "teams.yaml").write_text(
        "version: 1\npeople: {alice@example.com: {}}\nservices:\n  krisp:\n    provider: krisp\n"
        "    sandbox: true\n    policy: {max_removals: 100%}\n"
        "    members: [{who: alice@example.com, role: Admin}]\n")
    result = CliRunner().invoke(cli, ["plan", "--format", "markdown"], env={"GITHUB_RUN_ID": ""})
    assert result.exit_code == 0, result.output
    assert result.output.startswith(MARKER)
    rendered = github_html(result.output)
    assert "will be removed" in rendered and "<details>" in rendered
    assert "will be added" in hostile_html() and "will be changed" in hostile_html()
