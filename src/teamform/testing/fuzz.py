"""Fuzzers for what teamform reads from outside: state files and services' answers (plan files
are fuzzed in tests/test_planfile.py). Each returns a tally; a case that ends in anything but a
valid result or a clean, located refusal is a *crash* and keeps its input for the report.

The suite runs a quick version of each; ``bench/fuzz.py`` runs thousands on demand.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config as cfg
from ..errors import ProviderError
from ..model import State
from ..session import Session

#: tokens that break YAML, or make it mean something else
YAML_NOISE = ["&a ", "*a", "!!int x", "!!python/object:os.system ''", "{", "}", "[", "]", ": ", "- ", "\t",
              "\x00", "'", '"', "~", "<<: *a", "? ", "|", ">", "%YAML 1.1\n", "---\n", "1e-9", "-1", "null",
              "../../x", "/etc/passwd", "@everyone", "https://u:p@x.example", " ", "ü", "\u202e", "9" * 40]
JSON_NOISE: list[Any] = [None, True, 0, -1, 10**40, "", "x" * 300, [], {}, [None], {"a": []}, "Admin",
                         1.5, "@everyone", ["User", "Admin"], {"role": "Admin"}]


@dataclass
class Tally:
    cases: int = 0
    outcomes: Counter = field(default_factory=Counter)
    crashes: list[tuple[str, str]] = field(default_factory=list)
    slowest: float = 0.0

    def line(self, what: str) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (f"{what}: {self.cases} cases: {parts}; {len(self.crashes)} crashes; "
                f"slowest {self.slowest:.2f}s")


def mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        how = rng.randrange(5)
        if how == 0 and len(lines) > 1:
            del lines[i]
        elif how == 1:
            lines.insert(i, lines[i])
        elif how == 2:
            line = lines[i]
            at = rng.randrange(len(line) + 1)
            lines[i] = line[:at] + rng.choice(YAML_NOISE) + line[at:]
        elif how == 3:
            line = lines[i]
            if ":" in line:
                head, _, _ = line.partition(":")
                lines[i] = f"{head}: {rng.choice(YAML_NOISE)}\n"
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


async def _plan_in(config: cfg.Config, sandbox: Path) -> None:
    async with Session(config, sandbox_dir=sandbox, environ={}) as session:
        await session.make_plan()


def fuzz_state_files(base: str, cases: int, seed: int = 0, plan: bool = True) -> Tally:
    """Mutated state files: each must load into a valid config (and then plan without raising) or
    give a ConfigError whose every problem names the file."""
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(cases):
        text = mutate_text(base, rng)
        tally.cases += 1
        started = time.monotonic()
        try:
            config = cfg.load(text, "teams.yaml")
        except cfg.ConfigError as exc:
            located = all(p.file == "teams.yaml" for p in exc.problems) and exc.problems
            tally.outcomes["refused" if located else "unlocated"] += 1
            if not located:
                tally.crashes.append((text, f"an error without a location: {exc}"))
        except Exception as exc:  # noqa: BLE001 - the point is to find these
            tally.crashes.append((text, f"{type(exc).__name__}: {exc}"))
        else:
            tally.outcomes["valid"] += 1
            if plan:
                with tempfile.TemporaryDirectory() as tmp:
                    try:
                        asyncio.run(_plan_in(config, Path(tmp) / "sandbox"))
                    except cfg.ConfigError:
                        tally.outcomes["refused at plan"] += 1
                    except Exception as exc:  # noqa: BLE001
                        tally.crashes.append((text, f"plan: {type(exc).__name__}: {exc}"))
        tally.slowest = max(tally.slowest, time.monotonic() - started)
    return tally


def _corrupt(body: Any, rng: random.Random) -> Any:
    """One value somewhere in a JSON answer replaced by a value of another shape."""
    paths: list[tuple] = []

    def walk(node: Any, at: tuple) -> None:
        paths.append(at)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, at + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, at + (i,))
    walk(body, ())
    where = rng.choice(paths)
    if not where:
        return rng.choice(JSON_NOISE)
    parent = body
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = rng.choice(JSON_NOISE)
    return body


class Corrupting:
    """Wraps an emulator's ASGI app: GET answers come back with one value of the wrong shape."""

    def __init__(self, emulator: Any, rng: random.Random, rate: float = 0.5) -> None:
        self.emulator, self.rng, self.rate = emulator, rng, rate
        self.app = emulator.app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.rng.random() >= self.rate:
            await self.app(scope, receive, send)
            return
        held: list[dict] = []

        async def hold(message: dict) -> None:
            held.append(message)
        await self.app(scope, receive, hold)
        start = next(m for m in held if m["type"] == "http.response.start")
        raw = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        try:
            body = json.dumps(_corrupt(json.loads(raw), self.rng)).encode()
        except ValueError:
            body = raw
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def fuzz_answers(config: cfg.Config, cases: int, seed: int = 0) -> Tally:
    """Services' answers with values of the wrong shape: each service's read must give a live
    state or a ProviderError (an incomplete read: that service's plan is aborted), and planning
    must not raise."""
    rng = random.Random(seed)
    tally = Tally()
    for _ in range(cases):
        for svc in config.services.values():
            emulator = svc.provider_cls.emulator_class()
            emulator.app = Corrupting(emulator, rng)
            tally.cases += 1
            started = time.monotonic()
            try:
                outcome = asyncio.run(_read_and_plan(config, svc.name, emulator))
                tally.outcomes[outcome] += 1
            except Exception as exc:  # noqa: BLE001
                tally.crashes.append((svc.name, f"{type(exc).__name__}: {exc}"))
            tally.slowest = max(tally.slowest, time.monotonic() - started)
    return tally


async def _read_and_plan(config: cfg.Config, service: str, emulator: Any) -> str:
    async def no_sleep(_s: float) -> None:
        return None

    async with Session(config, [service], emulators={service: emulator}, sleep=no_sleep, environ={}) as session:
        live = await session.fetch()
        result = live[service]
        if not isinstance(result, (State, ProviderError)):
            raise result
        session.plan(live)
        return "read" if isinstance(result, State) else "incomplete read"
