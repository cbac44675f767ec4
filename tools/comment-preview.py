#!/usr/bin/env python3
"""Render a plan comment (markdown) as GitHub would show it, into one HTML page, to look at.

    teamform show plan.json --format markdown | python tools/comment-preview.py > preview.html
    chromium --headless --no-sandbox --disable-gpu --window-size=1000,2400 \
        --screenshot=preview.png preview.html

The markdown goes through cmark-gfm (`cmarkgfm`, in the dev extras: GitHub's own renderer), then
gets what GitHub adds after it: a stylesheet close to github-markdown-css, and the colours GitHub
gives the lines of a ``diff`` code block (+ green, - red, ! orange). Emoji shortcodes are left as
they are (the comment uses Unicode emoji). Not used by the tests: a tool for looking.
"""

from __future__ import annotations

import html
import re
import sys

import cmarkgfm
from cmarkgfm.cmark import Options

CSS = """
body { background: #fff; margin: 0; padding: 24px; }
.comment { max-width: 880px; margin: 0 auto; border: 1px solid #d0d7de; border-radius: 6px; }
.comment-header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px;
  font: 14px -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  color: #59636e; border-radius: 6px 6px 0 0; }
.comment-header b { color: #1f2328; }
.markdown-body { padding: 16px; color: #1f2328; font-size: 14px; line-height: 1.5; word-wrap: break-word;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.markdown-body > *:first-child { margin-top: 0 !important; }
.markdown-body h2 { font-size: 1.5em; font-weight: 600; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3;
  margin: 24px 0 16px; line-height: 1.25; }
.markdown-body h3 { font-size: 1.25em; font-weight: 600; margin: 24px 0 16px; line-height: 1.25; }
.markdown-body p, .markdown-body ul, .markdown-body table, .markdown-body pre, .markdown-body details,
.markdown-body blockquote { margin: 0 0 16px; }
.markdown-body ul { padding-left: 2em; }
.markdown-body a { color: #0969da; text-decoration: none; }
.markdown-body code { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 85%; padding: .2em .4em; background: #818b981f; border-radius: 6px; white-space: break-spaces; }
.markdown-body pre { padding: 16px; overflow: auto; font-size: 85%; line-height: 1.45; background: #f6f8fa;
  border-radius: 6px; }
.markdown-body pre code { padding: 0; background: transparent; font-size: 100%; white-space: pre; }
.markdown-body table { border-spacing: 0; border-collapse: collapse; display: block; width: max-content; max-width: 100%; }
.markdown-body th, .markdown-body td { padding: 6px 13px; border: 1px solid #d1d9e0; }
.markdown-body th { font-weight: 600; }
.markdown-body tr:nth-child(2n) { background: #f6f8fa; }
.markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
.markdown-body summary { cursor: pointer; }
.markdown-body sub { font-size: 75%; color: #59636e; }
.pl-mi1 { color: #116329; background: #dafbe1; }
.pl-md { color: #82071e; background: #ffebe9; }
.pl-mc { color: #953800; background: #ffd8b5; }
.pl-c { color: #59636e; }
"""

LINE_CLASS = {"+": "pl-mi1", "-": "pl-md", "!": "pl-mc", "#": "pl-c"}


def colour_diffs(rendered: str) -> str:
    """GitHub colours each line of a diff block by its first character."""
    def block(m: re.Match) -> str:
        lines = m.group(1).split("\n")
        out = []
        for line in lines:
            first = html.unescape(line)[:1]
            cls = LINE_CLASS.get(first)
            out.append(f'<span class="{cls}">{line}</span>' if cls and line else line)
        return '<pre lang="diff"><code>' + "\n".join(out) + "</code></pre>"
    return re.sub(r'<pre lang="diff"><code>(.*?)</code></pre>', block, rendered, flags=re.S)


def page(markdown: str, *, open_details: bool = True) -> str:
    body = colour_diffs(cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE))
    if open_details:
        body = body.replace("<details>", "<details open>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style></head><body>"
            f"<div class='comment'><div class='comment-header'><b>github-actions</b> bot commented</div>"
            f"<div class='markdown-body'>{body}</div></div></body></html>")


if __name__ == "__main__":
    source = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
    sys.stdout.write(page(source, open_details="--closed" not in sys.argv))
