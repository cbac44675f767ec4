"""Reading a saved plan file, which is untrusted input: on merge it comes from a pull request's
job. Every field is checked against the plan file's schema, every problem is reported with its
place in the file (``services[0].operations[3].action``), and a file that could make apply do
something odd (an operation id that does not match what it does, a dependency on nothing, a
cycle) is refused before anything reads live state."""

from __future__ import annotations

import json
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config.loader import format_path
from .ops import PLAN_FORMAT_VERSION, Plan

#: a plan file is data teamform wrote; anything larger is not one (and is not read into memory)
MAX_BYTES = 1 << 30


class PlanFileError(Exception):
    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems[:20])
                         + (f"\n{path}: … and {len(problems) - 20} more" if len(problems) > 20 else ""))


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class _Resource(_Model):
    kind: str
    key: str
    attrs: dict[str, Any] = Field(default_factory=dict)
    refs: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(default_factory=list)
    person: str | None = None
    display: str | None = None
    id: Any = None
    pending: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)


class _Operation(_Model):
    id: str
    service: str
    action: Literal["create", "update", "delete", "replace"]
    kind: str
    key: str
    before: _Resource | None = None
    after: _Resource | None = None
    changes: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    destructive: bool = False
    demotion: bool = False
    summary: str = ""
    precondition: dict[str, str] = Field(default_factory=dict)
    #: a rename: ``before`` is the live resource under a previous address (another key)
    renamed_from: str = ""

    @model_validator(mode="before")
    @classmethod
    def _own_address(cls, data: Any) -> Any:
        """A resource names its kind and key only where they are not the operation's (``ops._nested``)."""
        if isinstance(data, dict):
            for side in ("before", "after"):
                res = data.get(side)
                if isinstance(res, dict):
                    data = {**data, side: {"kind": data.get("kind"), "key": data.get("key"), **res}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "_Operation":
        if self.id != f"{self.service}:{self.kind}[{self.key}]:{self.action}":
            raise ValueError(f"id {self.id!r} does not match the operation's service, kind, key and action")
        needs_before = self.action in ("update", "delete", "replace")
        needs_after = self.action in ("create", "update", "replace")
        if needs_before != (self.before is not None) or needs_after != (self.after is not None):
            raise ValueError(f"a {self.action} needs {'a before' if needs_before else 'no before'} and "
                             f"{'an after' if needs_after else 'no after'}")
        for side in (self.before, self.after) if not self.renamed_from else (self.after,):
            if side is not None and (side.kind, side.key) != (self.kind, self.key):
                raise ValueError("before/after describe another resource than the operation")
        if self.renamed_from and (self.before is None or self.before.kind != self.kind):
            raise ValueError("a rename needs a before of the same kind")
        return self


class _Finding(_Model):
    level: Literal["error", "warning", "note"]
    message: str
    subject: str | None = None
    code: str = "check"


class _ServicePlan(_Model):
    name: str
    provider: str
    operations: list[_Operation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    findings: list[_Finding] | None = None
    live_fingerprint: str = ""
    live_count: int = 0
    #: per kind, each live resource's fingerprint by its key
    live_resources: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _own_operations(self) -> "_ServicePlan":
        for op in self.operations:
            if op.service != self.name:
                raise ValueError(f"operation {op.id!r} belongs to service {op.service!r}, not {self.name!r}")
        return self


class _PlanFile(_Model):
    format_version: Literal[PLAN_FORMAT_VERSION]  # type: ignore[valid-type]
    created: str = ""
    state_file: str = ""
    state_hash: str = ""
    services: list[_ServicePlan] = Field(default_factory=list)


def _graph_problems(model: _PlanFile) -> list[str]:
    ops = [op for sp in model.services for op in sp.operations]
    ids = [op.id for op in ops]
    problems = [f"operation {i!r} appears more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    known = set(ids)
    for s, sp in enumerate(model.services):
        for o, op in enumerate(sp.operations):
            for dep in op.depends_on:
                if dep not in known:
                    problems.append(f"services[{s}].operations[{o}].depends_on: {dep!r} is not an operation "
                                    "of this plan")
    if not problems:
        try:
            TopologicalSorter({op.id: op.depends_on for op in ops}).prepare()
        except CycleError as exc:
            problems.append("the operations' dependencies form a cycle: " + " → ".join(exc.args[1]))
    return problems


def parse(data: Any, path: str = "plan.json") -> Plan:
    """A validated plan from a plan file's parsed JSON, or ``PlanFileError``."""
    try:
        model = _PlanFile.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(path, [f"{format_path(tuple(e['loc'])) or 'the file'}: {e['msg']}"
                                   for e in exc.errors()]) from None
    problems = _graph_problems(model)
    if problems:
        raise PlanFileError(path, problems)
    return Plan.from_dict(model.model_dump())


def load(path: str | Path) -> Plan:
    """Read and validate a saved plan file."""
    p = Path(path)
    try:
        if not p.is_file():
            raise PlanFileError(str(path), ["no such plan file" if not p.exists() else "not a regular file"])
        if p.stat().st_size > MAX_BYTES:
            raise PlanFileError(str(path), [f"larger than {MAX_BYTES >> 20} MiB: not a teamform plan"])
        raw = p.read_bytes()
        try:
            data = orjson.loads(raw)  # a plan at 100,000 people is tens of megabytes
        except orjson.JSONDecodeError:  # what orjson does not read (integers past 64 bits); json's errors are the ones shown
            data = json.loads(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(str(path), [f"cannot read: {exc}"]) from None
    except ValueError as exc:
        raise PlanFileError(str(path), [f"not JSON: {exc}"]) from None
    except RecursionError:
        raise PlanFileError(str(path), ["nested too deeply to be a teamform plan"]) from None
    return parse(data, str(path))
