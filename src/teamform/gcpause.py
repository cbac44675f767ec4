"""Python's cycle collector, paused while teamform builds large object graphs.

Loading a roster, reading live state and planning each make hundreds of thousands to millions of
objects and no reference cycles. While they pile up the collector walks all of them again and
again (at 10,000 people, two fifths of building the Config and a third of the plan). Reference
counting still frees what is dropped; anything cyclic is collected once the collector runs again.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block; left as the caller had it (off stays off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
