"""What an apply reports: each operation's result, and the run's."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..plan.ops import Operation

DONE, FAILED, SKIPPED = "done", "failed", "skipped"
#: how each result status is shown, in the terminal, the journal and comments
MARK = {DONE: "✓", FAILED: "✗", SKIPPED: "·"}


@dataclass
class Result:
    op_id: str
    service: str
    action: str
    label: str
    status: str
    message: str = ""
    seconds: float = 0.0
    attempts: int = 0
    batched: int = 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def skipped(cls, op: Operation, reason: str) -> "Result":
        """An operation that was not attempted, and why."""
        return cls(op.id, op.service, op.action, op.label, SKIPPED, reason)


#: the message of an operation cancelled while in flight
IN_DOUBT = ("interrupted while in flight: it may have been applied, in part or whole; "
            "a plan made now shows what is left")


@dataclass(repr=False)
class Report:
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    #: stopped before the end (Ctrl-C, SIGTERM): ``not_started`` operations never ran
    interrupted: bool = False
    not_started: int = 0
    signal: str | None = None  # what stopped it ("SIGINT", "SIGTERM")
    #: ops cancelled in flight by an abort: they may be half-done
    in_doubt: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # short, as a plan's (asyncio formats the task that returned it)
        return f"Report({len(self.results)} results, {self.seconds}s, interrupted={self.interrupted})"

    def by_status(self, status: str) -> list[Result]:
        return [r for r in self.results if r.status == status]

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.status == DONE for r in self.results)

    def counts(self) -> dict[str, int]:
        return {s: len(self.by_status(s)) for s in (DONE, FAILED, SKIPPED)}
