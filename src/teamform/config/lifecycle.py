"""The people's lifecycle in the file: previous addresses, offboarding, expiring grants.

Kept apart from the loader's main pass: these checks read the parts of the file that say when
something ends (``previously``, ``offboarded``, ``expires``), and say where a date is wrong. The
planner decides what the dates mean on the day it plans (``plan/lifecycle.py``).
"""

from __future__ import annotations

from typing import Any, Iterator

from ..model import norm_email
from .loader import Document, Problem
from .schema import Directory, GroupMember, Head, Person, parse_date

DATE_HINT = "a date written YYYY-MM-DD"


def directory_lifecycle(doc: Document, head: Head, directory: Directory) -> list[Problem]:
    """Fill ``directory.previous`` and ``directory.group_expires`` (and turn ``{who:, expires:}``
    group entries into plain members); the problems with people's and groups' dates."""
    problems: list[Problem] = []
    directory.grants_expire = not doc.text or "expires" in doc.text
    for email, person in head.people.items():
        if person is None:
            continue
        low = norm_email(email)
        for key in ("offboarded", "expires"):
            value = getattr(person, key)
            if value is not None and parse_date(value) is None:
                problems.append(doc.problem(("people", email, key), f"{value!r} is not {DATE_HINT}"))
        for index, old in enumerate(person.previously):
            old_low = norm_email(old)
            where = ("people", email, "previously", index)
            if old_low == low:
                problems.append(doc.problem(where, f"'{old}' is this person's address now, not a previous one"))
            elif old_low in directory.people and old_low != low:
                problems.append(doc.problem(where, f"'{old}' is also in people as a person of its own: a previous "
                                                   "address belongs to one person only; remove one of them"))
            elif old_low in directory.previous and directory.previous[old_low] != low:
                other = directory.spelling.get(directory.previous[old_low], directory.previous[old_low])
                problems.append(doc.problem(where, f"'{old}' is already a previous address of {other}"))
            else:
                directory.previous[old_low] = low
    for name, members in head.groups.items():
        plain: list[str] = []
        for index, member in enumerate(members):
            if isinstance(member, GroupMember):
                plain.append(member.who)
                raw = _raw(doc.data, ("groups", name, index, "expires"))
                ends = parse_date(raw)
                if raw is not None and ends is None:
                    problems.append(doc.problem(("groups", name, index, "expires"), f"{raw!r} is not {DATE_HINT}"))
                elif ends is not None:
                    directory.group_expires[(name, member.who)] = ends
            else:
                plain.append(member)
        directory.groups[name] = plain
    return problems


def grant_date_problems(doc: Document, name: str, directory: Directory) -> list[Problem]:
    """A bad ``expires:`` on any ``who:`` entry of service ``name``, located."""
    if not directory.grants_expire:  # a roster without dates: no walk (nor a search of the text each time)
        return []
    out = []
    for path, raw in _expiring(_raw(doc.data, ("services", name)), ("services", name)):
        if parse_date(raw) is None:
            out.append(doc.problem(path, f"{raw!r} is not {DATE_HINT}"))
    return out


def offboarded(directory: Directory) -> dict[str, Person]:
    """The people marked offboarded, by lower-cased email."""
    return {low: person for low, person in directory.people.items() if parse_date(person.offboarded) is not None}


def reference_notes(doc: Document, marked: dict[str, Person], part: tuple) -> list[Problem]:
    """Where ``part`` of the file (``("groups",)`` or ``("services", NAME)``) still names someone
    ``marked`` offboarded: a note (nothing to fix: their entry's ``offboarded:`` already removes
    them from there), so the line can be tidied up later."""
    if not marked:
        return []
    whos = _group_whos(doc.data) if part == ("groups",) else _service_whos(_raw(doc.data, part), part)
    out = []
    for path, who in whos:
        low = norm_email(who)
        if low in marked:
            when = parse_date(marked[low].offboarded)
            out.append(doc.problem(path, f"note: {who} is offboarded ({when}): this entry grants nothing from "
                                         "that date and can be deleted"))
    return out


def _raw(data: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _expiring(data: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    """(path of ``expires``, its value) for every entry with ``who`` and ``expires``."""
    if isinstance(data, dict):
        if "who" in data and "expires" in data:
            yield path + ("expires",), data["expires"]
        for key, value in data.items():
            yield from _expiring(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _expiring(value, path + (index,))


def _group_whos(data: Any) -> Iterator[tuple[tuple, str]]:
    """(path, email) of every person named in groups."""
    if not isinstance(data, dict):
        return
    for name, members in (data.get("groups") or {}).items() if isinstance(data.get("groups"), dict) else ():
        for index, member in enumerate(members if isinstance(members, list) else []):
            who = member.get("who") if isinstance(member, dict) else member
            if isinstance(who, str) and not who.startswith("group:"):
                yield ("groups", name, index), who


def _service_whos(data: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    """(path, email) of every person named in a service (``who:``, a plain list of people)."""
    if isinstance(data, dict):
        who = data.get("who")
        if isinstance(who, str) and not who.startswith("group:"):
            yield path + ("who",), who
        for key, value in data.items():
            if key != "who":
                yield from _service_whos(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, str) and "@" in value and not value.startswith("group:"):
                yield path + (index,), value  # a plain list of people (a department's members)
            else:
                yield from _service_whos(value, path + (index,))
