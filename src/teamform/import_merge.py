"""Write an import into the state file it was made from, keeping the file as its author wrote it.

The file is read and written with ruamel.yaml's round-trip mode, which keeps comments, key order,
flow or block style and quoting. Only what live state changed is touched:

- ``people``: a person found live and not listed is added after the people already there, the
  added ones sorted by lower-cased email; a listed person's name fields change only when live
  state gives another name (or the services disagree: then they get none, and a comment says
  why); nobody is removed (a person in no service is harmless, and import never offboards).
- each imported service: its provider's sections (members, seats, teams...) are merged: an entry
  matches by ``who`` (case-insensitive), ``name`` or its value, keeps its place, style and
  comment; what is no longer live goes; what is new is appended in the provider's export order.
  A ``group:NAME`` entry stays while every member of the group is live with the same settings.
  Connection settings, credentials and policy come from the file already: they are left alone
  (a missing credential reference is added).
- ``groups``, the other services and everything else are kept as they are.

Every person written has the same key order: name, first_name, last_name.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .config.schema import EMAIL_RE, Directory, Person
from .model import norm_email

NAME_FIELDS = ("name", "first_name", "last_name")
NOTE = "teamform import:"  # marks the comments import writes, so the next import replaces them


def merge_text(text: str, people: Mapping[str, Mapping[str, str]], sections: Mapping[str, Mapping[str, Any]],
               common: Mapping[str, Mapping[str, Any]], conflicts: Mapping[str, Mapping[str, str]],
               directory: Directory) -> str:
    """``text`` (the state file) with the import merged in. ``sections``: each imported service's
    exported sections; ``common``: what the engine writes for every service (provider,
    credentials...); ``conflicts``: lower-cased email -> service -> name, for people whose
    services disagree."""
    yaml = _yaml(text)
    doc = yaml.load(text)
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
    if "version" not in doc:
        doc.insert(0, "version", 1)
    _merge_people(_child(doc, "people"), people, conflicts)
    _keep_previous(_child(doc, "people"), directory)
    services = _child(doc, "services")
    for name, section in sections.items():
        entry = services.get(name)
        if not isinstance(entry, CommentedMap):
            services[name] = entry = CommentedMap()
        _merge_service(entry, section, common.get(name, {}), directory)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _yaml(text: str) -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a line (a wrapped flow mapping ends its line with a space)
    mapping, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


_KEY_LINE = re.compile(r"^(\s*)(- )?[^#\s][^#]*:\s*(#.*)?$")


def guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, offset of a block sequence's dash under its key) as the file uses them;
    ruamel applies one setting to the whole file, so the first of each decides (2 and 2, as the
    README writes it, when the file has none)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping = offset = None
    for prev, line in zip(lines, lines[1:]):
        m = _KEY_LINE.match(prev)
        if not m or m.group(2):
            continue
        step = len(line) - len(line.lstrip()) - len(m.group(1))
        if step < 0:
            continue
        if line.lstrip().startswith("- "):
            offset = step if offset is None else offset
        elif step > 0 and mapping is None:
            mapping = step
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def _child(parent: CommentedMap, key: str) -> CommentedMap:
    if not isinstance(parent.get(key), CommentedMap):
        parent[key] = CommentedMap()
    return parent[key]


# ---- people ---------------------------------------------------------------------------------
def _merge_people(listed: CommentedMap, found: Mapping[str, Mapping[str, str]],
                  conflicts: Mapping[str, Mapping[str, str]]) -> None:
    by_email = {norm_email(str(k)): k for k in listed}
    # block style only where the file writes people in blocks; an empty person ({}) is no sign
    flow = not any(isinstance(v, CommentedMap) and v and not v.fa.flow_style() for v in listed.values())
    added = []
    for email, fields in found.items():
        key = by_email.get(norm_email(email))
        if key is None:
            added.append((email, fields))
            continue
        person = listed[key]
        if _same_name(person if isinstance(person, Mapping) else {}, fields):
            continue  # `bob@example.com:` with no fields stays so, when live gives no name either
        if not isinstance(person, CommentedMap):
            listed[key] = person = _node({}, flow=flow)
        elif not person and flow:
            person.fa.set_flow_style()
        elif not person:
            person.fa.set_block_style()
        for f in NAME_FIELDS:
            person.pop(f, None)
        for f in NAME_FIELDS:
            if f in fields:
                person.insert(NAME_FIELDS.index(f), f, fields[f])
    for email, fields in sorted(added, key=lambda kv: norm_email(kv[0])):
        listed[email] = _node({f: fields[f] for f in NAME_FIELDS if f in fields}, flow=flow)
    for key in listed:
        names = conflicts.get(norm_email(str(key)))
        _note(listed, key, None if names is None else
              "no name, the services disagree (first / last): " + "; ".join(f"{s} says {n!r}" for s, n in sorted(names.items())))


def _keep_previous(listed: CommentedMap, directory: Directory) -> None:
    """An earlier address the services still hold is written as a person of its own, so the file
    describes them as they are (it plans no change); it is then no longer listed as the new
    address's previous one, and a note on its line says whose it was and how to rename."""
    by_email = {norm_email(str(k)): k for k in listed}
    for key in list(listed):
        now = directory.previous.get(norm_email(str(key)))
        owner = by_email.get(now) if now else None
        if owner is None:
            continue
        person = listed[owner]
        if isinstance(person, CommentedMap) and isinstance(person.get("previously"), list):
            person["previously"] = [e for e in person["previously"] if norm_email(str(e)) != norm_email(str(key))]
            if not person["previously"]:
                del person["previously"]
        _note(listed, key, f"a previous address of {owner}, which the services still hold; to change it "
                           f"there, name {owner} in services and drop this entry")


def _same_name(person: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
    """The listed person already gives the name live state gives (however it is split into fields)."""
    mine = {f: person[f] for f in NAME_FIELDS if person.get(f) is not None}
    theirs = {f: fields[f] for f in NAME_FIELDS if fields.get(f) is not None}
    if not mine or not theirs:
        return not mine and not theirs
    a, b = Person(**mine), Person(**theirs)
    full = lambda p: p.name or " ".join(p.names()).strip()  # noqa: E731
    return a.names() == b.names() and full(a) == full(b)


def _note(parent: CommentedMap, key: Any, text: str | None) -> None:
    """Set (or clear, with None) the comment import keeps at the end of ``key``'s line; a comment
    the author wrote there stays, and so do the comment lines that follow it."""
    entry = parent.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    first, _, rest = (token.value.partition("\n") if token is not None else ("", "", ""))
    own = first.split(NOTE)[0].rstrip().rstrip("#").rstrip() if NOTE in first else first.rstrip()
    line = own + ("  # " if own else "# ") + f"{NOTE} {text}" if text else own
    if token is None:
        if line:
            parent.yaml_add_eol_comment(line, key)
        return
    if line:
        token.value = line + "\n" + rest
    elif rest.strip():
        token.value = "\n" + rest  # only the lines below remain
    else:
        parent.ca.items.pop(key, None)


# ---- services -------------------------------------------------------------------------------
def _merge_service(entry: CommentedMap, section: Mapping[str, Any], common: Mapping[str, Any],
                   directory: Directory) -> None:
    for key, value in common.items():
        if key not in entry:
            entry[key] = _node(value)
        elif key == "credentials" and isinstance(entry[key], CommentedMap):
            for name, ref in value.items():
                entry[key].setdefault(name, ref)
    for key in list(entry):
        # a provider section that is no longer live goes; a scalar is a setting the file chose
        if key not in section and key not in common and isinstance(entry[key], (dict, list)):
            _drop(entry, key)
    for key, value in section.items():
        entry[key] = _merge(entry[key], value, directory) if key in entry else _node(value)


def _merge(old: Any, new: Any, directory: Directory) -> Any:
    """``new`` written over ``old``, keeping ``old``'s nodes (style, comments) wherever they hold."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        for key in [k for k in old if _find(new, k) is None]:
            _drop(old, key)
        for key, value in new.items():
            mine = _find(old, key)
            if mine is None:
                old[key] = _node(value, like=_sibling(old.values()))
            else:
                old[mine] = _merge(old[mine], value, directory)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        _merge_list(old, new, directory)
        return old
    if not isinstance(old, (dict, list)) and not isinstance(new, (Mapping, list)) and _same(old, new):
        return old
    return _node(new, like=old)


def _merge_list(old: CommentedSeq, new: list, directory: Directory) -> None:
    by_id: dict[tuple[str, Any], list[int]] = {}  # identity -> indexes in new: matching is a lookup
    for j, item in enumerate(new):
        by_id.setdefault(_identity(item), []).append(j)
    taken: set[int] = set()
    keep: dict[int, int | None] = {}  # old index -> matching new index (None: a group still live as written)
    for i, item in enumerate(old):
        group = _group(item)
        if group is not None:
            found = _group_matches(item, group, new, by_id, taken, directory)
            if found is not None:
                keep[i] = None
                taken |= found
    for i, item in enumerate(old):
        if i in keep or _group(item) is not None:
            continue
        j = next((j for j in by_id.get(_identity(item), ()) if j not in taken), None)
        if j is not None:
            keep[i] = j
            taken.add(j)
    for i in reversed(range(len(old))):
        if i not in keep:
            _drop(old, i)
    for pos, j in enumerate(keep[i] for i in sorted(keep)):
        if j is not None:
            old[pos] = _merge(old[pos], new[j], directory)
    like = _sibling(old)
    for j, item in enumerate(new):
        if j not in taken:
            old.append(_node(item, like=like))


def _group(item: Any) -> str | None:
    who = item.get("who") if isinstance(item, Mapping) else item
    return who if isinstance(who, str) and who.startswith("group:") else None


def _group_matches(item: Any, group: str, new: list, by_id: Mapping[tuple[str, Any], list[int]],
                   taken: set[int], directory: Directory) -> set[int] | None:
    """The new entries a ``group:`` entry stands for, when every member of the group has one with
    the same settings; else None (the entry no longer says what is live)."""
    try:
        members = directory.expand(group)
    except (ValueError, KeyError):
        return None
    rest = {k: v for k, v in item.items() if k != "who"} if isinstance(item, Mapping) else None
    found: set[int] = set()
    for email in members:
        for j in by_id.get(("who", email), ()):
            if j in taken or j in found:
                continue
            entry = new[j]
            if rest is None or (isinstance(entry, Mapping) and
                                _equal(rest, {k: v for k, v in entry.items() if k != "who"})):
                found.add(j)
                break
        else:
            return None
    return found or None


def _identity(item: Any) -> tuple[str, Any]:
    if isinstance(item, Mapping):
        if isinstance(item.get("who"), str):
            return "who", norm_email(item["who"])
        if "name" in item:
            return "name", item["name"]
        return "value", json.dumps(_plain(item), sort_keys=True, default=str)
    if isinstance(item, str) and EMAIL_RE.match(item):
        return "who", norm_email(item)
    return "value", json.dumps(_plain(item), sort_keys=True, default=str)


def _find(mapping: Mapping[str, Any], key: Any) -> Any:
    """``key`` as ``mapping`` spells it (emails compare case-insensitively)."""
    if key in mapping:
        return key
    if isinstance(key, str) and EMAIL_RE.match(key):
        return next((k for k in mapping if isinstance(k, str) and norm_email(k) == norm_email(key)), None)
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str) and EMAIL_RE.match(a) and EMAIL_RE.match(b):
        return norm_email(a) == norm_email(b)
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return _same(a, b)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _drop(container: CommentedMap | CommentedSeq, key: Any) -> None:
    """Remove ``key`` (or an index); comment lines below its line stay, on the entry before it."""
    entry = container.ca.items.get(key)
    token = entry[0 if isinstance(container, CommentedSeq) else 2] if entry else None
    rest = token.value.partition("\n")[2] if token is not None else ""
    previous = None
    if rest.strip():
        keys = list(container) if isinstance(container, CommentedMap) else None
        pos = keys.index(key) if keys is not None else key
        previous = (keys[pos - 1] if keys is not None else pos - 1) if pos > 0 else None
    del container[key]
    if previous is not None:
        before = container.ca.items.get(previous)
        slot = 0 if isinstance(container, CommentedSeq) else 2
        if before and before[slot] is not None:
            before[slot].value += rest


def _sibling(values: Iterable[Any]) -> Any:
    return next((v for v in values if isinstance(v, (CommentedMap, CommentedSeq))), None)


def _node(value: Any, like: Any = None, flow: bool | None = None) -> Any:
    """A plain value as a ruamel node: flow style like its siblings, else flow for a collection of
    scalars (and lists of scalars), block for anything deeper (as PyYAML writes by default)."""
    if not isinstance(value, (Mapping, list)):
        return value
    if flow is None:
        flow = (like.fa.flow_style() if isinstance(like, (CommentedMap, CommentedSeq)) and
                isinstance(like, CommentedMap) == isinstance(value, Mapping) else None)
    if flow is None:
        children = value.values() if isinstance(value, Mapping) else value
        flow = all(not isinstance(c, (Mapping, list)) or
                   (isinstance(c, list) and not any(isinstance(x, (Mapping, list)) for x in c)) for c in children)
    if isinstance(value, Mapping):
        node: Any = CommentedMap()
        for k, v in value.items():
            node[k] = _node(v)
    else:
        node = CommentedSeq(_node(v) for v in value)
    if flow:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()
    return node
