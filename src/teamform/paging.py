"""Following a list's pages until it is whole, or saying it is not.

A provider describes its API's paging (``Paging``: the query for the n-th page, and how to find
the items, the total and "more" in an answer); the provider base's ``pages()`` runs the loop.
The loop never takes a partial list for a whole one: it stops at the count, at the service's
"no more", on a page that repeats the last one or adds nothing, or at ``MAX_PAGES``, and anything
short of the count is an ``IncompleteRead``.

When the first answer gives the count, the pages after it are asked for at once (``page_count``)
and still taken one by one, in order, through the same checks: a page is used only if it was
asked for with the very query the loop would have sent after the pages before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

#: more pages than this is a service that never says "last page": an incomplete read, not a hang
MAX_PAGES = 10_000


@dataclass
class Page:
    items: list[Any]
    total: int | None = None   # how many the service says the whole list holds, if it says
    more: bool | None = None   # whether the service says another page follows, if it says
    pages: int | None = None   # how many pages the service says the whole list takes, if it says


class Paging(Protocol):
    #: items asked for per page; a service that returns more than this is not paging at all
    size: int

    def params(self, index: int, seen: int) -> dict[str, Any]:
        """The query for page ``index`` (0 for the first), after ``seen`` items."""

    def parse(self, body: Any) -> Page:
        """The items, total and "more" of one answer; raise KeyError/TypeError/ValueError when the
        answer is not of the documented shape."""


def dig(body: Any, path: str) -> Any:
    """``body["a"]["b"]`` for ``"a.b"``; ``""`` is the body itself."""
    for part in filter(None, path.split(".")):
        if not isinstance(body, dict):
            raise TypeError(f"expected an object around '{part}', got {type(body).__name__}")
        body = body[part]
    return body


def _items(body: Any, path: str) -> list[Any]:
    items = dig(body, path)
    if not isinstance(items, list):
        raise TypeError(f"'{path or 'the answer'}' is {type(items).__name__}, not a list")
    return items


def _total(body: Any, path: str | None) -> int | None:
    if not path:
        return None
    value = dig(body, path)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise ValueError(f"'{path}' is {value!r}, not a count")
    return int(value)


@dataclass
class NumberedPages:
    """``?page=N&limit=S`` paging (``first`` is the number of the first page)."""

    items: str                     # where the list is in an answer ("seats", "data.seats")
    total: str | None = None       # where the count is, if the service gives one
    size: int = 100
    page_param: str = "page"
    size_param: str = "limit"
    first: int = 1

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {self.page_param: self.first + index, self.size_param: self.size}

    def parse(self, body: Any) -> Page:
        return Page(_items(body, self.items), _total(body, self.total))


@dataclass
class OffsetPages:
    """``?offset=N&limit=S`` paging, or SCIM's 1-based ``startIndex``/``count`` (``first=1``)."""

    items: str
    total: str | None = None
    size: int = 100
    offset_param: str = "offset"
    size_param: str = "limit"
    first: int = 0

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {self.offset_param: self.first + seen, self.size_param: self.size}

    def parse(self, body: Any) -> Page:
        return Page(_items(body, self.items), _total(body, self.total))


@dataclass
class Unpaged:
    """A list the document shows whole, in one answer."""

    items: str = ""
    size: int = 0

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {}

    def parse(self, body: Any) -> Page:
        return Page(_items(body, self.items), more=False)


def page_count(first: Page) -> int | None:
    """How many pages the whole list takes, as its first page tells: the number of pages the
    service gives, else its count over that page's length (the service's page size, whatever was
    asked). ``None`` when it says neither, or the first page is the whole list."""
    if not first.items or first.more is False:
        return None
    if first.pages is not None:
        return min(MAX_PAGES, first.pages)
    if first.total is None or len(first.items) >= first.total:
        return None
    return min(MAX_PAGES, -(-first.total // len(first.items)))


class Shortfall(Exception):
    """Why a list cannot be taken as whole (the caller turns it into an ``IncompleteRead``)."""


def next_step(paging: Paging, page: Page, pages: list[list[Any]], seen: int) -> bool:
    """After a page: True to ask for the next one, False when the list is whole; raises
    ``Shortfall`` when it stopped short. ``pages`` holds every page so far, this one last."""
    total = page.total
    if total is not None and seen >= total:
        return False
    short = f"the list ended after {seen} of {total} items" if total is not None else None
    if not page.items or page.more is False:
        if short:
            raise Shortfall(short)
        return False
    if len(pages) > 1 and page.items == pages[-2]:
        raise Shortfall("the service answered the same page twice: it ignores the paging parameters "
                        "and the list cannot be known to be whole")
    if paging.size and len(page.items) > paging.size and len(pages) == 1:
        if short:  # more than a page, yet fewer than the count: neither paged nor whole
            raise Shortfall(short)
        return False  # the service ignored the page size and answered everything at once
    if page.more is None and total is None and paging.size and len(page.items) < paging.size:
        return False
    if len(pages) >= MAX_PAGES:
        raise Shortfall(f"the list did not end after {MAX_PAGES} pages")
    return True
