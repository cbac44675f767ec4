"""Whether output is coloured: the command line's choice, else the conventions every terminal
program shares, else whether standard output is a terminal.

- ``--color`` / ``--no-color`` win over everything (the last one given counts);
- ``NO_COLOR`` set to anything but the empty string turns colour off (https://no-color.org);
- ``FORCE_COLOR`` set to anything but the empty string or ``0`` turns it on where output is not
  a terminal, as in CI logs that render ANSI colours (GitHub Actions' do);
- otherwise colour is on for a terminal, unless it says it cannot show it (``TERM=dumb``).
"""

from __future__ import annotations

import os
import sys
from typing import IO, Mapping


def enabled(choice: bool | None = None, stream: IO[str] | None = None,
            environ: Mapping[str, str] | None = None) -> bool:
    if choice is not None:
        return choice
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if env.get("TERM") == "dumb":
        return False
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False
