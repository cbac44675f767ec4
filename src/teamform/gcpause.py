"""Python's cycle collector, kept off the large data teamform builds.

Loading a roster, reading live state and planning each make hundreds of thousands to millions of
objects that live until the run ends and form no reference cycles. Left alone, the collector walks
all of them again and again as they pile up: each full collection walks everything made so far (at
30,000 people, reading live state spent 2 of its 3.4 CPU seconds in the collector). So while such
data is built the full collections wait, and reference counting frees what is dropped.
"""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager
from typing import Iterator

#: memory blocks (about one per small object) a block must have added for ``set_aside``
LARGE = 200_000


@contextmanager
def collector_paused(*, young: bool = False, set_aside: bool = False) -> Iterator[None]:
    """Build large data in the block with the collector paused; a collector that is off stays
    off and is not touched.

    ``young``: the young generations are still collected, only the full collections wait (for a
    block that also makes short-lived cycles, as HTTP exchanges do). ``set_aside``: for data that
    lives until the process ends (the loaded roster): if the block made much, its garbage is
    collected once and everything alive is frozen (``gc.freeze``), never walked again. Only do so
    where nothing alive then will become a cycle of garbage (a session's providers and clients
    would): a frozen cycle is kept until ``gc.unfreeze()``."""
    if not gc.isenabled():
        yield
        return
    thresholds = gc.get_threshold()
    before = sys.getallocatedblocks()
    if young:
        gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    else:
        gc.disable()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.enable()
        if set_aside and sys.getallocatedblocks() - before >= LARGE:
            gc.collect()
            gc.freeze()
