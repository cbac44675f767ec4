"""Lists an emulator keeps in the order records came in, with removal by rank."""

from __future__ import annotations

import bisect
from typing import Any, Iterable


class Ranked:
    """The order records came in, for the lists kept in that order (a list of the state, or one
    team's or department's part of it): a record is found in such a list by bisection on its rank,
    so taking it out or putting it in its place costs log n steps and a memmove, not a scan that
    compares it with every record before it (``list.remove``). Records rank in the order ``add``
    sees them, those it is built from first; a record is held while ranked, so its ``id`` is its own."""

    def __init__(self, records: Iterable[Any] = ()) -> None:
        self._ranks: dict[int, tuple[int, Any]] = {id(r): (i, r) for i, r in enumerate(records)}
        self._next = len(self._ranks)

    def add(self, record: Any) -> None:
        """Rank ``record`` after every record ranked so far."""
        self._ranks[id(record)] = (self._next, record)
        self._next += 1

    def discard(self, record: Any) -> None:
        """Forget ``record`` (it left the state)."""
        if self._ranks.get(id(record), (0, None))[1] is record:
            del self._ranks[id(record)]

    def rank(self, record: Any) -> int:
        found = self._ranks.get(id(record))
        if found is None or found[1] is not record:
            raise KeyError(f"not ranked: {record!r}")
        return found[0]

    def append(self, items: list[Any], record: Any) -> None:
        """Rank a new ``record`` and add it at the end of ``items``."""
        self.add(record)
        items.append(record)

    def insert(self, items: list[Any], record: Any) -> None:
        """Put ``record`` into ``items`` (in rank order) at its place."""
        bisect.insort(items, record, key=self.rank)

    def remove(self, items: list[Any], record: Any) -> None:
        """Take ``record`` (this very object) out of ``items`` (in rank order)."""
        i = bisect.bisect_left(items, self.rank(record), key=self.rank)
        if i == len(items) or items[i] is not record:
            raise ValueError(f"not in the list: {record!r}")
        del items[i]
