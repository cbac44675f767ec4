"""Differential check of the YAML reader: this tree's ``config.loader`` against another copy of it
(e.g. main's), on hand-written scalars and on mutated state files; every value must come out the
same, with the same types, and every refusal with the same message.

    .venv/bin/python bench/loader_diff.py /work/main/src/teamform/config/loader.py [CASES]
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

from teamform.config import loader as ours
from teamform.testing.fuzz import mutate_text

ROOT = Path(__file__).resolve().parent.parent
SCALARS = ["yes", "No", "on", "OFF", "y", "n", "~", "null", "Null", "", "''", '""', "1_000", "0x1F", "0o17", "017",
           "0b101", "1:30", "-1:30:00", ".inf", "-.Inf", ".nan", "+12", "-0", "1e3", "1.5e3", "6.8523015e+5",
           "2025-06-30", "2025-6-3", "2025-06-30T12:00:00Z", "2001-12-14 21:59:43.10 -5", "'2025-06-30'",
           "=", "<<", "!!str 5", "!!int '5'", "! 5", "!!binary aGVsbG8=", "!!float 1", "!!bool yes", "!!null ''",
           "!!map x", "!!timestamp 2025-01-01", "!!int x", "!!python/name:os.system", "true", "True", "TRUE",
           "tRue", "o", "owner", "nobody", "t", "false", "12abc", "- a", "[1, yes]", "{a: 1, 2: b}", "!", "&", "*",
           "~x", ".5", "._", "+", "-", "1,000", "0.", "190:20:30", "p1@example.com", "group:x", "\"yes\"", "|\n  yes",
           ">-\n  12"]


def _load(module, text):
    try:
        return ("ok", _typed(module.load_text(text, "f.yaml").data))
    except module.ConfigError as exc:
        return ("refused", str(exc))


def _typed(value):
    """The value with every scalar's type spelt out (True == 1 and 1 == 1.0 in Python)."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


def main() -> None:
    spec = importlib.util.spec_from_file_location("other_loader", sys.argv[1])
    theirs = importlib.util.module_from_spec(spec)
    sys.modules["other_loader"] = theirs  # dataclasses look their module up
    spec.loader.exec_module(theirs)
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    texts = [f"k: {s}\n" for s in SCALARS] + [f"- {s}\n" for s in SCALARS] + [f"{s}: v\n" for s in SCALARS]
    texts += [s + "\n" for s in SCALARS]
    base = (ROOT / "teams.example.yaml").read_text()
    rng = random.Random(1)
    texts += [base] + [mutate_text(base, rng) for _ in range(cases)]
    differ = 0
    for text in texts:
        a, b = _load(ours, text), _load(theirs, text)
        if a != b:
            differ += 1
            if differ <= 5:
                print(f"DIFFERS on {text[:200]!r}:\n  ours   {str(a)[:300]}\n  theirs {str(b)[:300]}")
    print(f"{len(texts)} texts, {differ} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
