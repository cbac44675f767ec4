"""Helpers providers share to turn ``members:`` lists into one entry per person."""

from __future__ import annotations

from operator import attrgetter  # (in C: asked once per entry of every list)
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:  # pragma: no cover - config imports this module
    from .config.schema import Directory


def grant_expires(entry: Any) -> Any:
    """The ``expires:`` the schema keeps beside a ``who:`` entry (``config.schema.grant_expires``)."""
    return getattr(entry, "__dict__", {}).get("_grant_expires")

M = TypeVar("M")


class MemberConflict(ValueError):
    pass


def expand(members: Iterable[M], directory: Directory, *, who: Callable[[M], str] = attrgetter("who"),
           attrs: Callable[[M], dict[str, Any]], where: str = "members") -> dict[str, dict[str, Any]]:
    """One ``{attr: value}`` per lower-cased email.

    A person named directly wins over the same person reached through a group; two direct
    entries, or two groups that disagree, are an error naming both.
    """
    out, problems = scan(members, directory, who=who, attrs=attrs)
    if problems:
        raise MemberConflict(f"{where}: {problems[0][1]}")
    return out


def scan(members: Iterable[M], directory: Directory, *, who: Callable[[M], str] = attrgetter("who"),
         attrs: Callable[[M], dict[str, Any]], entries: bool = True) -> tuple[dict[str, dict[str, Any]], list[tuple[int, str]]]:
    """``expand`` without raising: the entries, and (index, message) for each entry in conflict.
    ``entries=False``: only the conflicts (each entry's settings are then read only for those)."""
    members = list(members)
    settings: dict[int, dict[str, Any]] = {}

    def of(index: int) -> dict[str, Any]:
        if index not in settings:
            settings[index] = attrs(members[index])
        return settings[index]

    direct: dict[str, int] = {}  # email -> the entry that lists it first
    via_group: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    today = directory.today if directory.grants_expire else None  # (no expires: in the file: none to read)
    expand_who = directory.expand
    for index, member in enumerate(members):
        if today is not None:
            ends = grant_expires(member)
            if ends is not None and ends < today:  # an expired grant is absent (plan/lifecycle says so)
                continue
        source = who(member)
        table = via_group if source.startswith("group:") else direct
        for email in expand_who(source):
            first = table.get(email)
            if first is None:
                table[email] = index
                continue
            name = directory.spelling.get(email, email)
            if table is direct:
                differ = f" with different settings ({of(first)} vs {of(index)})" if of(first) != of(index) else ""
                problems.append((index, f"{name} is listed twice{differ}; list them once"))
            elif of(first) != of(index):
                problems.append((index, f"{name} is in {who(members[first])} and in {source} with different "
                                        f"settings ({of(first)} vs {of(index)}); list them once"))
    if not entries:
        return {}, problems
    # a person named directly wins over a group (in the group's place); a group entry's settings
    # are read once for all its people, a direct entry's once (not kept: it lists one person)
    out = {email: of(index) for email, index in via_group.items()}
    for email, index in direct.items():
        value = settings.get(index)
        out[email] = attrs(members[index]) if value is None else value
    return out, problems


_NESTED = (BaseModel, dict, list)


def _lists(value: Any, path: tuple) -> Iterator[tuple[tuple, list[BaseModel]]]:
    """Every list of ``who:`` entries inside a validated section, with its path in the file
    (plain values are not descended into: a roster has hundreds of thousands)."""
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            item = getattr(value, name)
            if isinstance(item, _NESTED):
                yield from _lists(item, path + (field.alias or name,))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, _NESTED):
                yield from _lists(item, path + (key,))
    elif isinstance(value, list):
        if value and all(isinstance(m, BaseModel) and isinstance(getattr(m, "who", None), str) for m in value):
            yield path, value
            return  # a list of people: its entries hold settings, not more lists of people
        for index, item in enumerate(value):
            if isinstance(item, BaseModel):
                yield from _lists(item, path + (index,))


def listing_problems(section: BaseModel, directory: Directory, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, message) for each person a section lists twice, or twice with different settings;
    caught when the file is validated, before any service is read."""
    out = []
    for where, members in _lists(section, path):
        _, problems = scan(members, directory, attrs=lambda m: m.model_dump(exclude={"who"}), entries=False)
        out += [(where + (index,), message) for index, message in problems]
    return out
