"""Python's cycle collector, kept off the large data teamform builds.

Loading a roster, reading live state and planning each make hundreds of thousands to millions of
objects that live until the run ends and form no reference cycles. Left alone, the collector walks
all of them again and again as they pile up: each full collection walks everything made so far (at
30,000 people, reading live state spent 2 of its 3.4 CPU seconds in the collector). So while such
data is built the full collections wait, and what is built is then set aside from the collector;
reference counting still frees it when it is dropped.
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
    block that also makes short-lived cycles). ``set_aside``: for data that lives as long as the
    run (the roster, the live state, the plan): if the block made much, the young generations are
    collected and everything alive is frozen (``gc.freeze``), never walked again. No full
    collection first: at 30,000 people one found 611 objects after reading live state and none
    after planning, for 0.2 s each. The price: a cycle alive then and dropped later is kept until
    ``gc.unfreeze()``, so large data must not hang off one (for that, the session's clients call
    back weakly and a read response lets go of httpx's stream)."""
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
            gc.collect(1)
            gc.freeze()
