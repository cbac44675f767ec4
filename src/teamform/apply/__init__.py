"""Execute a plan's DAG: independent operations concurrently, per-service caps, batches where a
provider offers them, retries that read back before repeating a write, and a report.

An apply can be stopped (``Stop``, driven by Ctrl-C and SIGTERM in the CLI: see ``interrupt``):
``stop()`` starts no new operation and lets those in flight finish; ``abort()`` cancels those in
flight too, and records each as failed and possibly half-done. The report then says it was
interrupted and how many operations were not started."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Awaitable, Callable, Iterable, Mapping, Sequence

from ..plan.ops import Operation, Plan
from ..errors import Outcome
from ..provider.base import Provider
from ..retry import GaveUp, RetryPolicy
from .report import DONE, FAILED, IN_DOUBT, MARK, SKIPPED, Report, Result

__all__ = ["DONE", "FAILED", "IN_DOUBT", "MARK", "SKIPPED", "Applier", "Report", "Result", "Settings", "Stop",
           "apply_plan"]

#: how long ready operations that could share a bulk call wait for more to become ready, once
#: their service has a free slot (while it has none they wait anyway, for nothing)
GATHER_SECONDS = 0.005


@dataclass
class Settings:
    concurrency: Mapping[str, int] = field(default_factory=dict)  # per service
    retry: Mapping[str, RetryPolicy] = field(default_factory=dict)  # per service, from its limits
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def retry_for(self, service: str) -> RetryPolicy:
        return self.retry.get(service) or RetryPolicy(attempts=3, sleep=self.sleep)


class Stop:
    """Asks a running apply to stop: ``stop()`` lets what is in flight finish, ``abort()`` does not.
    The CLI's signal handling holds one; the applier attaches itself to it."""

    def __init__(self) -> None:
        self.stopping = False
        self.aborted = False
        self.reason: str | None = None
        self._applier: "Applier | None" = None

    def stop(self, reason: str | None = None) -> None:
        self.stopping = True
        self.reason = self.reason or reason

    def abort(self, reason: str | None = None) -> None:
        self.stop(reason)
        self.aborted = True
        if self._applier is not None:
            self._applier.cancel_in_flight()

    def in_flight(self) -> list[Operation]:
        """Operations started and not finished."""
        return self._applier.in_flight() if self._applier is not None else []


class Applier:
    def __init__(self, plan: Plan, providers: Mapping[str, Provider], settings: Settings | None = None,
                 on_result: Callable[[Result], None] | None = None, stop: Stop | None = None) -> None:
        self.ops = {op.id: op for op in plan.operations}
        self.providers = providers
        self.settings = settings or Settings()
        self.on_result = on_result or (lambda r: None)
        self.status: dict[str, str] = {}
        self.report = Report()
        self.sems = {name: asyncio.Semaphore(self.settings.concurrency.get(name, 4)) for name in providers}
        self.stop = stop or Stop()
        self.stop._applier = self
        self.started: set[str] = set()  # ids of operations that were sent (or are being sent)
        self._running: dict[asyncio.Task, list[str]] = {}
        self._finished: list[asyncio.Task] = []  # tasks done since the loop last looked
        self._wake = asyncio.Event()
        #: batchable operations that are ready, gathered by (service, batch key) until sent
        self._gathered: dict[tuple[str, str], list[Operation]] = {}
        self._since: dict[tuple[str, str], float] = {}
        #: per (service, batch key): operations not ready yet (what a gathering may still wait for)
        self._to_come: dict[tuple[str, str], int] = {}
        self._keys: dict[str, tuple[str, str] | None] = {}
        for op in self.ops.values():
            key = self.providers[op.service].batch_key(op)
            self._keys[op.id] = None if key is None else (op.service, key)
            if key is not None:
                self._to_come[(op.service, key)] = self._to_come.get((op.service, key), 0) + 1
        self._busy: dict[str, int] = {name: 0 for name in providers}  # groups in flight per service

    def in_flight(self) -> list[Operation]:
        return [self.ops[i] for i in self.started if i not in self.status]

    def cancel_in_flight(self) -> None:
        for task in self._running:
            task.cancel()

    # ---- bookkeeping --------------------------------------------------------------------
    def _record(self, op: Operation, status: str, message: str = "", seconds: float = 0.0,
                attempts: int = 0, batched: int = 1) -> None:
        self.status[op.id] = status
        result = Result(op.id, op.service, op.action, op.label, status, message, round(seconds, 3),
                        attempts, batched)
        self.report.results.append(result)
        self.on_result(result)

    def _blocked_by(self, op: Operation) -> str | None:
        for dep in op.depends_on:
            if self.status.get(dep) in (FAILED, SKIPPED):
                return dep
        return None

    # ---- the DAG loop -------------------------------------------------------------------
    async def run(self) -> Report:
        started = time.monotonic()
        sorter = TopologicalSorter({i: [d for d in op.depends_on if d in self.ops] for i, op in self.ops.items()})
        sorter.prepare()
        running = self._running
        while sorter.is_active():
            if self.stop.stopping:
                if not running:
                    break
            else:
                runnable = []
                for op_id in sorter.get_ready():
                    op = self.ops[op_id]
                    key = self._keys[op_id]
                    if key is not None:
                        self._to_come[key] -= 1
                    blocker = self._blocked_by(op)
                    if blocker:
                        self._record(op, SKIPPED, f"skipped: it needs {blocker}, which did not succeed")
                        sorter.done(op_id)
                    else:
                        runnable.append(op)
                for group in self._groups(runnable):
                    self._start(group)
                if not running and not self._gathered:
                    continue
            if self.stop.aborted:
                self.cancel_in_flight()
            if not running:  # nothing in flight can make more ready: gathering would only wait
                await asyncio.sleep(0)
                continue
            wait = None if self.stop.stopping else self._next_due()  # stopping: nothing gathered is sent
            for task in await self._next_finished(wait):
                ids = running.pop(task)
                self._busy[self.ops[ids[0]].service] -= 1
                if task.cancelled():
                    self._cancelled(ids)
                elif task.exception() is not None:  # a provider bug: the operations failed, the apply goes on
                    self._crashed(ids, task.exception())
                for op_id in ids:
                    sorter.done(op_id)
        self.report.seconds = round(time.monotonic() - started, 3)
        if self.stop.stopping and (len(self.status) < len(self.ops) or self.report.in_doubt):
            self.report.interrupted = True  # (a stop that came as the last operation finished changes nothing)
            self.report.signal = self.stop.reason
            self.report.not_started = len(self.ops) - len(self.status)
        return self.report

    def _cancelled(self, ids: list[str]) -> None:
        for op_id in ids:
            if op_id in self.started and op_id not in self.status:
                self.report.in_doubt.append(op_id)
                self._record(self.ops[op_id], FAILED, IN_DOUBT)

    def _crashed(self, ids: list[str], exc: BaseException) -> None:
        for op_id in ids:
            if op_id not in self.status:
                self._record(self.ops[op_id], FAILED, _describe(exc))

    def _start(self, group: list[Operation]) -> None:
        task = asyncio.create_task(self._run_group(group))
        task.add_done_callback(self._on_done)
        self._running[task] = [op.id for op in group]
        self._busy[group[0].service] += 1

    def _on_done(self, task: asyncio.Task) -> None:
        self._finished.append(task)
        self._wake.set()

    async def _next_finished(self, timeout: float | None) -> list[asyncio.Task]:
        """The tasks finished since the last call, waiting up to ``timeout`` seconds (``None``: until
        one is) if none has. Each task says so itself as it ends: ``asyncio.wait`` over all those
        running would hook into every one of them on every turn, thousands at scale."""
        if not self._finished:
            self._wake.clear()
            timer = None if timeout is None else asyncio.get_running_loop().call_later(timeout, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                if timer is not None:
                    timer.cancel()
        finished, self._finished = self._finished, []
        return finished

    def _groups(self, ops: Sequence[Operation]) -> Iterable[list[Operation]]:
        """What to send now: each operation that has no batch key, and the gatherings that are due.

        Batchable operations gather over a short window, not only those ready at the same instant:
        operations that each wait on a different earlier one (invitations each waiting for a seat
        to be freed) become ready one at a time, and would otherwise go out one call each. A
        gathering is sent when it fills a bulk call, when nothing more of its kind is to come, when
        nothing is in flight, or when its service has a free slot and it has waited the window."""
        now = time.monotonic()
        for op in ops:
            key = self._keys[op.id]
            if key is None:
                yield [op]
            else:
                self._gathered.setdefault(key, []).append(op)
                self._since.setdefault(key, now)
        for key in list(self._gathered):
            service, name = key
            members = self._gathered[key]
            size = max(1, self.providers[service].batch_size(name))
            while len(members) >= size:
                yield members[:size]
                members = members[size:]
            free = self._busy[service] < self.settings.concurrency.get(service, 4)
            if members and (self._to_come[key] == 0 or not self._running
                            or (free and now - self._since[key] >= GATHER_SECONDS)):
                yield members
                members = []
            if members:
                self._gathered[key] = members
            else:
                del self._gathered[key], self._since[key]

    def _next_due(self) -> float | None:
        """Seconds until the first gathering whose service has a free slot is due (``None``: none
        is; the others wait for something in flight to finish)."""
        ends = [self._since[key] + GATHER_SECONDS for key in self._gathered
                if self._busy[key[0]] < self.settings.concurrency.get(key[0], 4)]
        return max(0.0, min(ends) - time.monotonic()) if ends else None

    async def _run_group(self, group: list[Operation]) -> None:
        if len(group) == 1 and self.providers[group[0].service].batch_key(group[0]) is None:
            await self._run_one(group[0])
        else:
            await self._run_batch(group)

    # ---- one operation ------------------------------------------------------------------
    async def _run_one(self, op: Operation) -> None:
        provider = self.providers[op.service]
        policy = self.settings.retry_for(op.service)
        started = time.monotonic()
        attempts = 0
        async with self.sems[op.service]:
            if self.stop.stopping:
                return  # not started: it stays for the next run
            self.started.add(op.id)
            started = time.monotonic()
            while True:
                attempts += 1
                try:
                    await (provider.replace(op) if op.action == "replace" else provider.apply(op))
                    self._record(op, DONE, "", time.monotonic() - started, attempts)
                    return
                except Exception as exc:  # noqa: BLE001 - classified by the provider
                    outcome = _outcome(provider, op, exc)
                    if outcome is Outcome.DONE:
                        self._record(op, DONE, _done_message(provider, op, exc), time.monotonic() - started,
                                     attempts)
                        return
                    if outcome is Outcome.RETRY and attempts <= policy.attempts:
                        held = await self._verified(provider, op, policy)
                        if held:
                            self._record(op, DONE, READ_BACK_DONE, time.monotonic() - started, attempts)
                            return
                        if held is None:
                            self._record(op, FAILED, _unknown(exc), time.monotonic() - started, attempts)
                            return
                        if self.stop.stopping:
                            self._record(op, FAILED, f"not retried, the apply was interrupted: {_describe(exc)}",
                                         time.monotonic() - started, attempts)
                            return
                        try:
                            await policy.sleep(policy.wait(attempts, getattr(exc, "retry_after", None)))
                        except GaveUp as gave_up:
                            exc = gave_up
                        else:
                            continue
                    self._record(op, FAILED, _describe(exc), time.monotonic() - started, attempts)
                    return

    async def _verified(self, provider: Provider, op: Operation, policy: RetryPolicy) -> bool | None:
        """Does the service hold ``op``'s outcome, after a write whose answer did not come? The
        read-back is retried like any read; ``None`` when it still cannot tell (then the write is
        not repeated blind: a repeated create or seat change could overshoot)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await provider.verify(op)
            except Exception as exc:  # noqa: BLE001 - classified by the provider
                if not _transient(provider, exc) or attempt > policy.attempts:
                    return None
                try:
                    await policy.sleep(policy.wait(attempt, getattr(exc, "retry_after", None)))
                except GaveUp:
                    return None

    # ---- a batch ------------------------------------------------------------------------
    async def _run_batch(self, group: list[Operation]) -> None:
        provider = self.providers[group[0].service]
        started = time.monotonic()
        async with self.sems[group[0].service]:
            if self.stop.stopping:
                return
            self.started.update(op.id for op in group)
            started = time.monotonic()
            try:
                results: list[BaseException | None] = list(await provider.apply_batch(group))
            except Exception as exc:  # noqa: BLE001 - the whole call failed: each op decides below
                results = [exc] * len(group)
        elapsed = time.monotonic() - started
        retry = []
        for op, error in zip(group, results):
            if error is None:
                self._record(op, DONE, "", elapsed, 1, len(group))
                continue
            outcome = _outcome(provider, op, error)
            held = (await self._verified(provider, op, self.settings.retry_for(op.service))
                    if outcome is Outcome.RETRY else False)
            if outcome is Outcome.DONE:
                self._record(op, DONE, _done_message(provider, op, error), elapsed, 1, len(group))
            elif held:
                self._record(op, DONE, READ_BACK_DONE, elapsed, 1, len(group))
            elif outcome is Outcome.RETRY and held is None:
                self._record(op, FAILED, _unknown(error), elapsed, 1, len(group))
            elif outcome is Outcome.RETRY:
                retry.append((op, error))
            else:
                self._record(op, FAILED, _describe(error), elapsed, 1, len(group))
        for op, error in retry:  # one at a time, each with its own retries and read-back
            if self.stop.stopping:
                self._record(op, FAILED, f"not retried, the apply was interrupted: {_describe(error)}",
                             elapsed, 1, len(group))
            else:
                await self._run_one(op)


def _outcome(provider: Provider, op: Operation, exc: BaseException) -> Outcome:
    return Outcome.DONE if provider.is_gone(op, exc) else provider.classify(exc)


def _done_message(provider: Provider, op: Operation, exc: BaseException) -> str:
    return f"already gone ({exc})" if provider.is_gone(op, exc) else f"already as desired ({exc})"


#: the message of a write whose answer was lost and whose outcome a read-back found
READ_BACK_DONE = "the answer was lost; read back: already applied"


def _unknown(exc: BaseException) -> str:
    return (f"{_describe(exc)}; its outcome could not be read back, so it was not sent again: "
            "a plan made now shows whether it is left")


def _transient(provider: Provider, exc: BaseException | None) -> bool:
    """Is this failed read worth trying again? A read that stopped (``IncompleteRead``) is, when
    what stopped it was (a 5xx, a timeout, a reset); an answer of the wrong shape is not."""
    for _ in range(8):  # a cause chain is short; bounded all the same
        if exc is None:
            return False
        if provider.classify(exc) is Outcome.RETRY:
            return True
        exc = exc.__cause__
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text


async def apply_plan(plan: Plan, providers: Mapping[str, Provider], settings: Settings | None = None,
                     on_result: Callable[[Result], None] | None = None, stop: Stop | None = None) -> Report:
    return await Applier(plan, providers, settings, on_result, stop).run()
