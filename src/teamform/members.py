"""Helpers providers share to turn ``members:`` lists into one entry per person."""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

from .config.model import Directory

M = TypeVar("M")


class MemberConflict(ValueError):
    pass


def expand(members: Iterable[M], directory: Directory, *, who: Callable[[M], str] = lambda m: m.who,  # type: ignore[attr-defined]
           attrs: Callable[[M], dict[str, Any]], where: str = "members") -> dict[str, dict[str, Any]]:
    """One ``{attr: value}`` per lower-cased email.

    A person named directly wins over the same person reached through a group; two direct
    entries, or two groups that disagree, are an error naming both.
    """
    direct: dict[str, tuple[str, dict[str, Any]]] = {}
    via_group: dict[str, tuple[str, dict[str, Any]]] = {}
    for member in members:
        source = who(member)
        table = via_group if source.startswith("group:") else direct
        values = attrs(member)
        for email in directory.expand(source):
            if email in table and table[email][1] != values:
                raise MemberConflict(
                    f"{where}: {directory.spelling.get(email, email)} is listed by {table[email][0]} and by "
                    f"{source} with different settings ({table[email][1]} vs {values}); list them once")
            if email in table and not source.startswith("group:"):
                raise MemberConflict(f"{where}: {directory.spelling.get(email, email)} is listed twice")
            table.setdefault(email, (source, values))
    out = {email: values for email, (_, values) in via_group.items()}
    out.update({email: values for email, (_, values) in direct.items()})
    return out
