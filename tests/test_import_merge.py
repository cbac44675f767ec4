"""`teamform import` merges into the state file it reads: the author's comments, order, groups,
schema line and other services stay; a second import changes nothing; the input file is only
written over with --overwrite."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from cli_harness import invoke

from teamform.config.schema import Directory
from teamform.import_merge import guess_indent, merge_text

# The krisp sandbox is seeded with alice (Admin, nickname Alice), bob, carol, dave and mallory
# (User) on 5 standard seats: bob and carol are the support group, as written below.
FILE = """\
# yaml-language-server: $schema=./teamform.schema.json
# Who is on which tool. Ask #it before editing.
version: 1

people:
  alice@example.com: {name: Alice Doe}   # the admin
  bob@example.com: {name: Bob Roe}
  # Carol joined in May
  carol@example.com: {name: Carol Poe}

groups:
  support: [bob@example.com, carol@example.com]

services:
  krisp:
    provider: krisp
    sandbox: true
    credentials: {api_key: env:KRISP_API_KEY, secret: env:KRISP_SECRET}
    policy: {authoritative: true, protect: [alice@example.com]}
    seats: {standard: 5, device: 0}
    members:
      - {who: alice@example.com, role: Admin}   # keeps the lights on
      - {who: group:support, role: User}
  crankwheel:   # not imported here: left as it is
    provider: crankwheel
    sandbox: true
    credentials: {api_key: env:CRANKWHEEL_API_KEY}
    members:
      - {who: alice@example.com, privilege: owner}
"""

# Found live: alice's nickname, dave and mallory (added after those listed, sorted by email).
MERGED = (FILE
          .replace("  carol@example.com: {name: Carol Poe}\n",
                   "  carol@example.com: {name: Carol Poe}\n  dave@example.com: {}\n  mallory@example.com: {}\n")
          .replace("      - {who: alice@example.com, role: Admin}   # keeps the lights on\n"
                   "      - {who: group:support, role: User}\n",
                   "      - {who: alice@example.com, role: Admin, nickname: Alice} # keeps the lights on\n"
                   "      - {who: group:support, role: User}\n"
                   "      - {who: dave@example.com, role: User}\n"
                   "      - {who: mallory@example.com, role: User}\n"))


def test_writing_over_the_input_needs_overwrite_and_keeps_the_file(in_tmp):
    Path("teams.yaml").write_text(FILE)

    refused = invoke("import", "--service", "krisp", "--out", "teams.yaml")
    assert refused.exit_code == 1
    assert "--overwrite" in refused.output
    assert Path("teams.yaml").read_text() == FILE

    done = invoke("import", "--service", "krisp", "--out", "teams.yaml", "--overwrite")
    assert done.exit_code == 0, done.output
    assert Path("teams.yaml").read_text() == MERGED

    again = invoke("import", "--service", "krisp", "--out", "teams.yaml", "--overwrite")
    assert again.exit_code == 0, again.output
    assert Path("teams.yaml").read_text() == MERGED, "a second import changes nothing"
    plan = invoke("plan", "--service", "krisp", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_another_existing_file_is_not_replaced_without_overwrite(in_tmp):
    Path("teams.yaml").write_text(FILE)
    Path("out.yaml").write_text("# someone's notes\n")
    refused = invoke("import", "--service", "krisp", "--out", "out.yaml")
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert Path("out.yaml").read_text() == "# someone's notes\n"
    assert invoke("import", "--service", "krisp", "--out", "out.yaml", "--overwrite").exit_code == 0
    assert Path("out.yaml").read_text() == MERGED


def test_a_group_entry_that_no_longer_holds_is_replaced_by_its_people(in_tmp):
    # live, bob and carol are Users: a group entry giving them Admin says nothing live does
    Path("teams.yaml").write_text(FILE.replace("{who: group:support, role: User}", "{who: group:support, role: Admin}"))
    assert invoke("import", "--service", "krisp", "--out", "out.yaml").exit_code == 0
    members = yaml.safe_load(Path("out.yaml").read_text())["services"]["krisp"]["members"]
    assert [m["who"] for m in members] == ["alice@example.com", "bob@example.com", "carol@example.com",
                                           "dave@example.com", "mallory@example.com"]
    assert "support: [bob@example.com, carol@example.com]" in Path("out.yaml").read_text(), "groups: is kept"
    assert invoke("plan", "-f", "out.yaml", "--service", "krisp", "--detailed-exitcode").exit_code == 0


def _four_spaces(text: str) -> str:
    """FILE as someone who indents by four, with dashes flush under their key."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        depth = len(line) - len(stripped)
        if stripped.startswith("- "):
            depth -= 2
        out.append(" " * (depth * 2) + stripped)
    return "".join(out)


def test_the_files_own_indentation_is_kept(in_tmp):
    text = _four_spaces(FILE)
    assert guess_indent(text) == (4, 0) and guess_indent(FILE) == (2, 2)
    Path("teams.yaml").write_text(text)
    assert invoke("import", "--service", "krisp", "--out", "teams.yaml", "--overwrite").exit_code == 0
    assert Path("teams.yaml").read_text() == _four_spaces(MERGED)


def test_every_person_has_the_same_key_order(in_tmp):
    """Names found live are written name, first_name, last_name for everyone (they came out in
    whatever order each service gave them)."""
    Path("teams.yaml").write_text((Path(__file__).resolve().parent.parent / "teams.example.yaml").read_text())
    assert invoke("import", "--out", "imported.yaml").exit_code == 0
    people = yaml.safe_load(Path("imported.yaml").read_text())["people"]
    names = ("name", "first_name", "last_name")
    orders = {tuple(k for k in fields if k in names) for fields in people.values() if fields}  # lifecycle keys aside
    assert ("first_name", "last_name", "name") not in orders
    assert all(list(order) == [k for k in ("name", "first_name", "last_name") if k in order] for order in orders), orders


def test_a_person_without_fields_stays_as_written(in_tmp):
    """`bob@example.com:` (no name) is left so when the service gives him no name either."""
    Path("teams.yaml").write_text(FILE.replace("  bob@example.com: {name: Bob Roe}\n", "  bob@example.com:\n"))
    assert invoke("import", "--service", "krisp", "--out", "out.yaml").exit_code == 0
    assert "\n  bob@example.com:\n" in Path("out.yaml").read_text()


def _squeezed(text: str) -> list[str]:
    """Lines with the spaces before a comment (its column) squeezed to one."""
    return [re.sub(r" +#", " #", line) for line in text.splitlines()]


def test_the_name_note_comes_and_goes_and_the_authors_comments_stay():
    """Services disagreeing on a name: the person gets none and a note on their line (after the
    author's comment there); once they agree, the note goes and the name is back, in flow style."""
    text = ("version: 1\npeople:\n  alice@example.com: {name: Alice Doe}   # the admin\n"
            "  mallory@example.com: {}\n  # next one\n  zed@example.com: {name: Zed Roe}\nservices: {}\n")
    disagree = {"alice@example.com": {"debrief": "Alice / Doe", "workdrive": "Alice / Mae"}}
    noted = merge_text(text, {"alice@example.com": {}}, {}, {}, disagree, Directory())
    assert _squeezed(noted)[2] == ("  alice@example.com: {} # the admin # teamform import: no name, the services "
                                   "disagree (first / last): debrief says 'Alice / Doe'; workdrive says 'Alice / Mae'")
    assert merge_text(noted, {"alice@example.com": {}}, {}, {}, disagree, Directory()) == noted
    agreed = merge_text(noted, {"alice@example.com": {"name": "Alice Doe"}, "mallory@example.com": {"name": "Mal Oy"}},
                        {}, {}, {}, Directory())
    assert _squeezed(agreed) == _squeezed(text.replace("mallory@example.com: {}", "mallory@example.com: {name: Mal Oy}"))
