"""The project's bytecode, written once before a bench measures.

A real install has ``.pyc`` files beside teamform's and the providers' sources; an environment
with ``PYTHONDONTWRITEBYTECODE=1`` (this one, some CI runners) never writes them, so each child
the benches start would compile every source again (about 0.1 s) and count it as start-up.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

#: the folders of teamform and of every installed provider, as ``python`` imports them
_WHERE = """
import importlib.util, pathlib, teamform
from importlib.metadata import entry_points
found = {pathlib.Path(teamform.__file__).parent}
for ep in entry_points(group="teamform.providers"):
    spec = importlib.util.find_spec(ep.module.split(".")[0])
    if spec and spec.origin:
        found.add(pathlib.Path(spec.origin).parent)
print("\\n".join(sorted(map(str, found))))
"""


def write_bytecode(python: str) -> None:
    """``python -m compileall`` on the folders ``python`` imports teamform and the providers from,
    and on the benches' own (compileall writes whatever ``PYTHONDONTWRITEBYTECODE`` says; an
    up-to-date file is skipped)."""
    folders = subprocess.run([python, "-c", _WHERE], capture_output=True, text=True, check=True).stdout.split()
    folders.append(str(Path(__file__).resolve().parent))
    subprocess.run([python, "-m", "compileall", "-q", *folders], check=True, stdout=subprocess.DEVNULL)
