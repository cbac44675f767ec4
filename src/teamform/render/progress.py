"""How far an apply has got, as it goes.

- On a terminal: a live display (rich) under the result lines: done, failed and skipped of the
  total, a bar and the time left for the whole apply and for each service, and which service is
  waiting on a rate limit and for how long. It is drawn over as it changes and gone at the end,
  when the summary is printed.
- Elsewhere (CI logs, a pipe, a file): the result lines as they come, one line saying how much
  there is to do, and a summary line every ``TEAMFORM_PROGRESS_INTERVAL`` seconds (default 30):
  ``Progress: 140 of 2000 finished (138 done, 2 failed, 0 skipped) in 1m02s, about 14m left; …``.

While a display is up, anything else the run prints (a signal's notice, the ``-v`` log) goes
through ``echo`` so that it lands above the display instead of being drawn over.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import click

from .text import render_result_line

INTERVAL_ENV = "TEAMFORM_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 30.0

_live: "LiveProgress | None" = None  # the display on screen, if any


def echo(message: str, err: bool = False) -> None:
    """Print a line; above the live display when one is up and the line goes to the terminal."""
    live = _live
    if live is not None and (not err or _isatty(sys.stderr)):
        live.print(message)
    else:
        click.echo(message, err=err)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def interval_from_env(default: float = DEFAULT_INTERVAL) -> float:
    try:
        return max(0.01, float(os.environ.get(INTERVAL_ENV) or default))
    except ValueError:
        return default


def duration(seconds: float) -> str:
    """``0.5s``, ``42s``, ``3m05s``, ``1h02m``: short enough for a line that repeats."""
    if seconds < 1:
        return f"{seconds:.2g}s"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass
class Tally:
    """One service's operations: how many, how many finished and how, and the wait it is in."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    known: int = 0  # results known before this run began (a resumed plan's verified or stale ones)
    wait_until: float = 0.0
    wait_why: str = ""

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


class Progress:
    """Counts results per service and knows the pace; the two displays below show it.

    ``totals``: the operations each service has in this apply (results known before it began
    included); ``waiting(service, wait)`` is the HTTP layer's report that a request of that
    service is held back (``wait.seconds``, ``wait.why``)."""

    def __init__(self, totals: Mapping[str, int], *, color: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.services = {name: Tally(n) for name, n in totals.items() if n}
        self.color = color
        self.clock = clock
        self.started = clock()
        self.all = Tally(sum(t.total for t in self.services.values()))

    # ---- events ---------------------------------------------------------------------------
    def result(self, r: Any, *, known: bool = False) -> None:
        """One operation finished (``known``: before this run began)."""
        for tally in (self.services.setdefault(r.service, Tally(1)), self.all):
            tally.add(r.status)
            tally.known += known
        if r.service in self.services:
            self.services[r.service].wait_until = 0.0  # it got an answer: not waiting now
        self.show_result(render_result_line(r, color=self.color))

    def waiting(self, service: str, wait: Any) -> None:
        tally = self.services.get(service)
        if tally is not None:
            tally.wait_until = max(tally.wait_until, self.clock() + wait.seconds)
            tally.wait_why = wait.why

    # ---- what both displays say -----------------------------------------------------------
    def left(self, tally: Tally) -> float | None:
        """Seconds left at this run's pace so far (results known before it do not count)."""
        ran = tally.finished - tally.known
        elapsed = self.clock() - self.started
        if ran <= 0 or elapsed <= 0:
            return None
        return elapsed / ran * (tally.total - tally.finished)

    def left_overall(self) -> float | None:
        """The services run side by side: the apply ends with the slowest, which the pace of all
        results together hides when one service is held back by its rate limit."""
        known = [x for x in (self.left(self.all), *map(self.left, self.services.values())) if x is not None]
        return max(known) if known else None

    def wait_text(self, tally: Tally) -> str:
        remaining = tally.wait_until - self.clock()
        if remaining <= 0 or tally.finished >= tally.total:
            return ""
        return f"waiting {max(1, round(remaining))} s on {tally.wait_why}"

    def summary(self) -> str:
        a = self.all
        line = (f"Progress: {a.finished} of {a.total} finished ({a.done} done, {a.failed} failed, "
                f"{a.skipped} skipped) in {duration(self.clock() - self.started)}")
        left = self.left_overall()
        if left is not None and a.finished < a.total:
            line += f", about {duration(max(1.0, left))} left"
        parts = []
        for name, t in self.services.items():
            part = f"{name} {t.finished} of {t.total}"
            if t.failed:
                part += f" ({t.failed} failed)"
            wait = self.wait_text(t)
            parts.append(part + (f", {wait}" if wait else ""))
        return line + ("; " + "; ".join(parts) if parts else "") + "."

    # ---- the display's own part -----------------------------------------------------------
    def show_result(self, line: str) -> None:
        click.echo(line)

    def print(self, message: str) -> None:
        click.echo(message)

    async def __aenter__(self) -> "Progress":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class PlainProgress(Progress):
    """For output that is not a terminal: lines only, never redrawn; a summary every ``interval``."""

    def __init__(self, totals: Mapping[str, int], *, color: bool = False, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(totals, color=color, clock=clock)
        self.interval = interval_from_env() if interval is None else interval
        self._ticker: asyncio.Task | None = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.all.finished < self.all.total:
                click.echo(self.summary())

    async def __aenter__(self) -> "PlainProgress":
        if len(self.services) > 1:
            each = ", ".join(f"{name} {t.total}" for name, t in self.services.items())
            click.echo(f"Applying {self.all.total} operations ({each}); progress every {duration(self.interval)}.")
        else:
            click.echo(f"Applying {self.all.total} operation(s); progress every {duration(self.interval)}.")
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None


class LiveProgress(Progress):
    """For a terminal: rich's progress display, redrawn a few times a second, gone at the end."""

    def __init__(self, totals: Mapping[str, int], *, color: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(totals, color=color, clock=clock)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

        self.console = Console(file=sys.stdout, no_color=not color, color_system="auto" if color else None,
                               highlight=False, soft_wrap=True)
        self.bars = _Bars(self, TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                          _Column(self._counts), _Column(self._left),
                          console=self.console, transient=True, refresh_per_second=4,
                          redirect_stdout=False, redirect_stderr=False)
        rows = [("total", self.all)] + (list(self.services.items()) if len(self.services) > 1 else [])
        width = max(len(name) for name, _ in rows)
        self.tasks = {name: self.bars.add_task(name.ljust(width), total=t.total, tally=t) for name, t in rows}

    def waits(self) -> list[str]:
        """A line for each service that is waiting on a rate limit now, under the bars (too long to
        be a column in 80 characters)."""
        return [f"  {name} is {text}" for name, t in self.services.items() if (text := self.wait_text(t))]

    def _counts(self, tally: Tally) -> Any:
        from rich.text import Text

        return Text.assemble((f"✓ {tally.done}", "green"), " ", (f"✗ {tally.failed}", "red"), " ",
                             (f"· {tally.skipped}", "yellow"))

    def _left(self, tally: Tally) -> str:
        if tally.finished >= tally.total:
            return "finished"
        left = self.left_overall() if tally is self.all else self.left(tally)
        return f"about {duration(max(1.0, left))} left" if left is not None else ""

    def result(self, r: Any, *, known: bool = False) -> None:
        super().result(r, known=known)
        for name in ("total", r.service):
            if name in self.tasks:
                self.bars.update(self.tasks[name], completed=self.bars.tasks[self.tasks[name]].fields["tally"].finished)

    def show_result(self, line: str) -> None:
        self.print(line)

    def print(self, message: str) -> None:
        from rich.text import Text

        self.console.print(Text.from_ansi(message), soft_wrap=True)

    async def __aenter__(self) -> "LiveProgress":
        global _live
        self.bars.start()
        _live = self
        return self

    async def __aexit__(self, *exc: object) -> None:
        global _live
        _live = None
        self.bars.stop()


def _Column(render: Callable[[Tally], Any]) -> Any:
    """A column of the display computed from a row's tally each time it is drawn."""
    from rich.progress import ProgressColumn

    class Column(ProgressColumn):
        def render(self, task: Any) -> Any:
            return render(task.fields["tally"])

    return Column()


def _Bars(owner: LiveProgress, *columns: Any, **kwargs: Any) -> Any:
    """rich's Progress, with the rate-limit waits drawn under its rows (rich's documented way to
    add to the display: override ``get_renderables``)."""
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class Bars(RichProgress):
        def get_renderables(self):  # type: ignore[no-untyped-def]
            yield self.make_tasks_table(self.tasks)
            for line in owner.waits():
                yield Text(line, style="yellow")

    return Bars(*columns, **kwargs)


def open_display(totals: Mapping[str, int], *, color: bool, live: bool | None = None) -> Progress:
    """The live display when standard output is a terminal that can redraw, plain lines otherwise."""
    if live is None:
        live = _isatty(sys.stdout) and os.environ.get("TERM") != "dumb"
    return LiveProgress(totals, color=color) if live else PlainProgress(totals, color=color)
