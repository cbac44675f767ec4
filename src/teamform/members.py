"""Helpers providers share to turn ``members:`` lists into one entry per person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:  # pragma: no cover - config imports this module
    from .config.schema import Directory

M = TypeVar("M")


class MemberConflict(ValueError):
    pass


def expand(members: Iterable[M], directory: Directory, *, who: Callable[[M], str] = lambda m: m.who,  # type: ignore[attr-defined]
           attrs: Callable[[M], dict[str, Any]], where: str = "members") -> dict[str, dict[str, Any]]:
    """One ``{attr: value}`` per lower-cased email.

    A person named directly wins over the same person reached through a group; two direct
    entries, or two groups that disagree, are an error naming both.
    """
    out, problems = scan(members, directory, who=who, attrs=attrs)
    if problems:
        raise MemberConflict(f"{where}: {problems[0][1]}")
    return out


def scan(members: Iterable[M], directory: Directory, *, who: Callable[[M], str] = lambda m: m.who,  # type: ignore[attr-defined]
         attrs: Callable[[M], dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[tuple[int, str]]]:
    """``expand`` without raising: the entries, and (index, message) for each entry in conflict."""
    direct: dict[str, tuple[str, dict[str, Any]]] = {}
    via_group: dict[str, tuple[str, dict[str, Any]]] = {}
    problems: list[tuple[int, str]] = []
    for index, member in enumerate(members):
        source = who(member)
        table = via_group if source.startswith("group:") else direct
        values = attrs(member)
        for email in directory.expand(source):
            name = directory.spelling.get(email, email)
            if email not in table:
                table[email] = (source, values)
            elif table is direct:
                differ = f" with different settings ({table[email][1]} vs {values})" if table[email][1] != values else ""
                problems.append((index, f"{name} is listed twice{differ}; list them once"))
            elif table[email][1] != values:
                problems.append((index, f"{name} is in {table[email][0]} and in {source} with different "
                                        f"settings ({table[email][1]} vs {values}); list them once"))
    out = {email: values for email, (_, values) in via_group.items()}
    out.update({email: values for email, (_, values) in direct.items()})
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
        for index, item in enumerate(value):
            if isinstance(item, BaseModel) and any(isinstance(getattr(item, name), _NESTED)
                                                   for name in type(item).model_fields):
                yield from _lists(item, path + (index,))


def listing_problems(section: BaseModel, directory: Directory, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, message) for each person a section lists twice, or twice with different settings;
    caught when the file is validated, before any service is read."""
    out = []
    for where, members in _lists(section, path):
        _, problems = scan(members, directory, attrs=lambda m: m.model_dump(exclude={"who"}))
        out += [(where + (index,), message) for index, message in problems]
    return out
