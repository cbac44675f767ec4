"""Operations and plans: the data a plan file holds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from ..findings import Finding
from ..model import Resource, State

Action = Literal["create", "update", "delete", "replace"]
PLAN_FORMAT_VERSION = 2
SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}


@dataclass
class Operation:
    service: str
    action: Action
    kind: str
    key: str
    before: Resource | None = None
    after: Resource | None = None
    changes: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    destructive: bool = False
    demotion: bool = False
    #: what happens, in the provider's words, where the action's own verb would mislead
    #: ("handed over to …" for a team teamform leaves rather than deletes); follows "will be"
    summary: str = ""
    #: fingerprint of the live resources this operation depends on when it was planned
    precondition: dict[str, str] = field(default_factory=dict)
    #: a rename: the live resource's name (a previous address) the service knows it by now
    renamed_from: str = ""
    #: an ``update`` that changes nothing but sends a pending invitation again (invitation upkeep)
    resend: bool = False

    @property
    def id(self) -> str:
        return f"{self.service}:{self.kind}[{self.key}]:{self.action}"

    @property
    def resource(self) -> Resource:
        return self.after or self.before  # type: ignore[return-value]

    @property
    def label(self) -> str:
        if self.renamed_from and self.after is not None:
            return f"{self.kind}[{self.renamed_from} → {self.after.display or self.after.key}]"
        return self.resource.label

    @property
    def person(self) -> str | None:
        return self.resource.person

    @property
    def pending(self) -> bool:
        return bool(self.before and self.before.pending)

    def holds_in(self, live: State) -> bool:
        """Does ``live`` already show this operation's outcome?"""
        current = live.get(self.resource.ref)
        if self.action == "delete":
            return current is None
        return current is not None and self.after is not None and current.attrs == self.after.attrs

    @classmethod
    def derive(cls, op: "Operation", action: Action) -> "Operation":
        """The create or delete half of a replace."""
        return dataclasses.replace(op, action=action,
                                   before=op.before if action == "delete" else None,
                                   after=op.after if action == "create" else None)

    def to_dict(self) -> dict[str, Any]:
        """As a plan file holds it, compactly (at 100,000 people a plan holds tens of thousands of
        operations): what is at its default is left out, and a resource names its kind and key
        only where they are not the operation's own (a rename's before)."""
        out: dict[str, Any] = {"id": self.id, "service": self.service, "action": self.action,
                               "kind": self.kind, "key": self.key}
        for side in ("before", "after"):
            res = getattr(self, side)
            if res is not None:
                out[side] = _nested(res.to_dict(), self.kind, self.key)
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Operation":
        kind, key = data["kind"], data["key"]
        before, after = (data.get(side) for side in ("before", "after"))
        return cls(
            service=data["service"], action=data["action"], kind=kind, key=key,
            before=Resource.from_dict({"kind": kind, "key": key, **before}) if before else None,
            after=Resource.from_dict({"kind": kind, "key": key, **after}) if after else None,
            changes=list(data.get("changes") or []), depends_on=list(data.get("depends_on") or []),
            warnings=list(data.get("warnings") or []), destructive=bool(data.get("destructive")),
            demotion=bool(data.get("demotion")), summary=str(data.get("summary") or ""),
            precondition=dict(data.get("precondition") or {}),
            renamed_from=str(data.get("renamed_from") or ""),
            resend=bool(data.get("resend")),
        )


#: written only when set (a plan file reads each absent one as its default)
_OPTIONAL = ("changes", "depends_on", "warnings", "destructive", "demotion", "summary", "precondition",
             "renamed_from", "resend")


def _nested(resource: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    """A resource inside its operation: kind and key only where they differ from the operation's."""
    if resource["kind"] == kind:
        del resource["kind"]
        if resource["key"] == key:
            del resource["key"]
    return resource


@dataclass(repr=False)
class ServicePlan:
    name: str
    provider: str
    operations: list[Operation] = field(default_factory=list)
    #: what the checks found, in the order they found it (``errors``/``warnings``/``notes`` read it)
    findings: list[Finding] = field(default_factory=list)
    live_fingerprint: str = ""
    live_count: int = 0
    #: fingerprint of every live resource when planned, to name what changed in a stale plan
    live_resources: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # short: a repr may be taken where nobody reads it (asyncio formats the task that returned
        # a plan when it restores the SIGINT handler), and the default one spells every operation
        return f"ServicePlan({self.name!r}, {len(self.operations)} operations)"

    def _messages(self, level: str) -> list[str]:
        return [f.message for f in self.findings if f.level == level]

    @property
    def errors(self) -> list[str]:
        return self._messages("error")

    @property
    def warnings(self) -> list[str]:
        return self._messages("warning")

    @property
    def notes(self) -> list[str]:
        return self._messages("note")

    @property
    def unreadable(self) -> bool:
        """Every error is a failed read: the service's own trouble, not the file's, so the other
        services may still be applied."""
        errors = [f for f in self.findings if f.level == "error"]
        return bool(errors) and all(f.code == "failed_read" for f in errors)

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "delete": 0, "replace": 0}
        for op in self.operations:
            out[op.action] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "provider": self.provider,
            "operations": [op.to_dict() for op in self.operations],
            "warnings": self.warnings, "notes": self.notes, "errors": self.errors,
            "findings": [f.to_dict() for f in self.findings],
            "live_fingerprint": self.live_fingerprint, "live_count": self.live_count,
            "live_resources": _by_kind(self.live_resources),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ServicePlan":
        return cls(name=data["name"], provider=data["provider"],
                   operations=[Operation.from_dict(o) for o in data.get("operations") or []],
                   findings=_findings(data), live_fingerprint=data.get("live_fingerprint", ""),
                   live_count=int(data.get("live_count") or 0),
                   live_resources=_flat(data.get("live_resources") or {}))


def _by_kind(fingerprints: dict[str, str]) -> dict[str, dict[str, str]]:
    """``{"member[a@x]": fp}`` as ``{"member": {"a@x": fp}}``: a plan file names every live
    resource, and naming the kind once instead of on each is a tenth of the file at scale."""
    out: dict[str, dict[str, str]] = {}
    for ref, fingerprint in fingerprints.items():
        kind, _, key = ref.partition("[")
        out.setdefault(kind, {})[key[:-1]] = fingerprint
    return out


def _flat(by_kind: dict[str, dict[str, str]]) -> dict[str, str]:
    return {f"{kind}[{key}]": fp for kind, keys in by_kind.items() for key, fp in keys.items()}


def _findings(data: dict[str, Any]) -> list[Finding]:
    if "findings" in data:
        return [Finding.from_dict(f) for f in data["findings"] or []]
    return [Finding(level, str(message)) for level, key in (("error", "errors"), ("warning", "warnings"),
                                                            ("note", "notes")) for message in data.get(key) or []]


@dataclass(repr=False)
class Plan:
    services: list[ServicePlan] = field(default_factory=list)
    state_file: str = ""
    state_hash: str = ""
    created: str = ""

    def __repr__(self) -> str:  # short, as ServicePlan's
        return f"Plan({len(self.services)} services, {sum(len(s.operations) for s in self.services)} operations)"

    @property
    def operations(self) -> list[Operation]:
        return [op for s in self.services for op in s.operations]

    @property
    def errors(self) -> list[str]:
        return [f"{s.name}: {e}" for s in self.services for e in s.errors]

    @property
    def refusals(self) -> list[str]:
        """The errors that refuse the whole apply: everything but a service's failed read."""
        return [f"{s.name}: {e}" for s in self.services if not s.unreadable for e in s.errors]

    @property
    def unreadable(self) -> list[str]:
        """Services skipped by apply because their live state could not be read."""
        return [s.name for s in self.services if s.unreadable]

    @property
    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def warnings(self) -> list[str]:
        return [f"{s.name}: {w}" for s in self.services for w in s.warnings]

    def no_changes_line(self) -> str:
        """Why there is nothing to do: live state matches, or it differs only where a warning says
        the file was not followed (a refused lockout, an ignored entry)."""
        if self.warnings:
            return (f"No changes to make, but see the {len(self.warnings)} warning(s): live state differs "
                    "from the file where they say.")
        return "No changes. Live state matches the file."

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "delete": 0, "replace": 0}
        for s in self.services:
            for k, v in s.counts().items():
                out[k] += v
        return out

    def header(self) -> dict[str, Any]:
        """What the plan file says before its services."""
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "created": self.created,
            "state_file": self.state_file,
            "state_hash": self.state_hash,
            "summary": self.counts(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.header(), "services": [s.to_dict() for s in self.services]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        if data.get("format_version") != PLAN_FORMAT_VERSION:
            raise ValueError(f"plan format {data.get('format_version')!r} is not supported "
                             f"(this teamform reads {PLAN_FORMAT_VERSION})")
        return cls(services=[ServicePlan.from_dict(s) for s in data.get("services") or []],
                   state_file=data.get("state_file", ""), state_hash=data.get("state_hash", ""),
                   created=data.get("created", ""))
