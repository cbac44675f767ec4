"""Ctrl-C and SIGTERM during `teamform apply`.

- Before the apply begins (waiting for the lock, reading, planning, the confirmation prompt):
  nothing has been changed, so the run stops at once.
- While applying, the first signal stops new operations from starting and lets those in flight
  finish, for at most ``grace`` seconds; then the summary is printed and journaled as usual.
- A second signal, or the end of the grace period, cancels what is still in flight: each such
  operation is reported (and journaled) as failed and possibly half-done.
- Once the apply is over (the summary and journal are being written), signals are ignored: the
  run is about to end anyway, and its record should be complete.

GitHub Actions cancels a job with SIGINT, then SIGTERM 7.5 s later: the first stops new operations,
the second cancels what is in flight, and the journal says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from typing import Callable, Iterator

from . import Stop

GRACE_ENV = "TEAMFORM_STOP_GRACE"
DEFAULT_GRACE = 30.0
HANDLED = (signal.SIGINT, signal.SIGTERM)


def grace_from_env(default: float = DEFAULT_GRACE) -> float:
    try:
        return max(0.0, float(os.environ.get(GRACE_ENV, default)))
    except ValueError:
        return default


class Interrupts:
    """Handles SIGINT and SIGTERM for the duration of a ``with`` block inside the running loop."""

    def __init__(self, say: Callable[[str], None], grace: float | None = None) -> None:
        self.say = say
        self.grace = grace_from_env() if grace is None else grace
        self.received: list[str] = []
        self.stop: Stop | None = None
        self.finished = False
        self._blocking = False
        self._old: dict[int, object] = {}
        self._timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> "Interrupts":
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED:
                self._old[sig] = signal.getsignal(sig)
                signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        self._old.clear()
        if self._timer is not None:
            self._timer.cancel()

    # ---- phases -------------------------------------------------------------------------
    @contextlib.contextmanager
    def blocking(self) -> Iterator[None]:
        """A call that blocks the event loop (a prompt, waiting for the lock): a signal raises
        KeyboardInterrupt in it, as usual, instead of waiting for the loop."""
        self._blocking = True
        try:
            yield
        finally:
            self._blocking = False

    def applying(self, stop: Stop) -> None:
        self.stop = stop

    def done(self) -> None:
        self.finished = True
        if self._timer is not None:
            self._timer.cancel()

    @property
    def signal(self) -> str | None:
        return self.received[0] if self.received else None

    # ---- the handler --------------------------------------------------------------------
    def _handler(self, signum: int, frame: object) -> None:
        self.received.append(signal.Signals(signum).name)
        if self._blocking:
            raise KeyboardInterrupt
        self.loop.call_soon_threadsafe(self._react, signal.Signals(signum).name)

    def _react(self, name: str) -> None:
        if self.finished:
            return
        if self.stop is None:  # not applying yet: nothing was changed, stop now
            if self.task is not None and not self.task.done():
                self.task.cancel()
            return
        if not self.stop.stopping:
            flight = len(self.stop.in_flight())
            self.stop.stop(name)
            self.say(f"\n{name}: stopping. No new operation starts; waiting up to {self.grace:g}s for the "
                     f"{flight} in flight. Press Ctrl-C again to stop at once.")
            self._timer = self.loop.call_later(self.grace, self._abort, f"they did not finish within {self.grace:g}s")
        elif not self.stop.aborted:
            self._abort(f"{name} again")

    def _abort(self, why: str) -> None:
        if self.finished or self.stop is None or self.stop.aborted:
            return
        flight = self.stop.in_flight()
        lines = "".join(f"\n  ? {op.id}" for op in flight)
        self.say(f"Stopping at once ({why}). " + (
            f"{len(flight)} operation(s) in flight may be half-done:{lines}" if flight else "Nothing was in flight."))
        self.stop.abort()
