"""Ordering: what a change needs comes first, what refers to a thing leaves before the thing,
capacity is freed before it is used, and a guarded role is gained before it is lost."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Iterable

from ..model import Guard, KindSpec, Ref, Resource, State
from .ops import Operation

if TYPE_CHECKING:  # pragma: no cover
    from ..provider import Provider

Edge = tuple[str, str]  # (first, then)


def reference_edges(ops: list[Operation]) -> Iterable[Edge]:
    created = {op.after.ref: op for op in ops if op.after is not None and op.action in ("create", "replace")}
    deleted = {op.before.ref: op for op in ops if op.before is not None and op.action in ("delete", "replace")}
    for op in ops:
        if op.after is not None:
            for ref in op.after.refs:
                if ref in created and created[ref] is not op:
                    yield created[ref].id, op.id
        if op.before is not None:
            for ref in op.before.refs:
                target = deleted.get(ref)
                if target is None or target is op or target.action != "delete":
                    continue
                yield op.id, target.id


def refers(res: Resource | None, pool: Ref) -> bool:
    return res is not None and pool in res.refs


class Graph:
    """The ordering edges found so far, to pair capacity without closing a cycle."""

    def __init__(self, edges: Iterable[Edge] = ()) -> None:
        self.succ: dict[str, set[str]] = defaultdict(set)
        self.preds: dict[str, int] = defaultdict(int)
        self.extend(edges)

    def extend(self, edges: Iterable[Edge]) -> None:
        for first, then in edges:
            self.add(first, then)

    def add(self, first: str, then: str) -> None:
        if first != then and then not in self.succ[first]:
            self.succ[first].add(then)
            self.preds[then] += 1

    def reaches(self, start: str, goal: str) -> bool:
        if not self.preds.get(goal):
            return False  # nothing leads to goal at all
        seen, todo = {start}, [start]
        while todo:
            for nxt in self.succ.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def edges(self) -> set[Edge]:
        return {(a, b) for a, thens in self.succ.items() for b in thens}


def capacity_edges(spec: KindSpec, ops: list[Operation], desired: State, live: State, graph: Graph) -> None:
    """Seats are added before they are used and emptied before they are deleted. Past the free
    capacity, each consumer waits for one releaser that does not (even through other pools) wait
    for it: a last Admin's removal, which waits for the new Admin, never frees the new Admin's
    seat. Consumers that something waits for are served first."""
    by_ref = {op.resource.ref: op for op in ops}
    pools = {r.ref for r in desired.of_kind(spec.name)} | {r.ref for r in live.of_kind(spec.name)}
    # one pass over live and the operations, indexed by pool (not pools x everything)
    used_by: dict[Ref, int] = defaultdict(int)
    for r in live:
        for ref in set(r.refs):
            if ref in pools:
                used_by[ref] += 1
    consumers_of: dict[Ref, list[Operation]] = defaultdict(list)
    releasers_of: dict[Ref, list[Operation]] = defaultdict(list)
    for op in ops:
        after = set(op.after.refs) if op.after is not None else set()
        before = set(op.before.refs) if op.before is not None else set()
        for ref in sorted(after - before):  # the order of the operations is kept per pool
            if ref in pools:
                consumers_of[ref].append(op)
        for ref in sorted(before - after):
            if ref in pools:
                releasers_of[ref].append(op)
    for pool in sorted(pools):
        cap_before = capacity(live.get(pool), spec)
        cap_after = capacity(desired.get(pool), spec)
        used = used_by.get(pool, 0)
        consumers = list(consumers_of.get(pool, ()))
        releasers = list(releasers_of.get(pool, ()))
        pool_op = by_ref.get(pool)
        if pool_op is not None and cap_after > cap_before:
            for c in consumers:
                graph.add(pool_op.id, c.id)
        if pool_op is not None and cap_after < cap_before:
            for op in releasers + consumers:
                graph.add(op.id, pool_op.id)
        consumers.sort(key=lambda op: not graph.succ.get(op.id))
        free = max(0, max(cap_before, cap_after) - used)
        available = sorted(releasers, key=lambda op: graph.preds.get(op.id, 0) > 0)
        for consumer in consumers[free:]:
            if not available:
                break
            releaser = next((r for r in available if not graph.reaches(consumer.id, r.id)), available[0])
            available.remove(releaser)
            graph.add(releaser.id, consumer.id)


def capacity(res: Resource | None, spec: KindSpec) -> int:
    return int(res.attrs.get(spec.capacity_attr, 0)) if res is not None and spec.capacity_attr else 0


def holds(res: Resource | None, kind: str, guard: Guard) -> bool:
    if res is None or res.kind != kind:
        return False
    if guard.scopes is not None and scope_of(res, guard) not in guard.scopes:
        return False
    return holds_value(res, guard)


def holds_value(res: Resource, guard: Guard) -> bool:
    """Is ``res``'s guarded attribute one of the guarded values (always, for a guard on no attribute)?"""
    return guard.attr is None or res.attrs.get(guard.attr) in guard.values


def scope_of(res: Resource, guard: Guard) -> str | None:
    if guard.scope_kind is None:
        return None
    for ref in res.refs:  # (a loop, not next() over a generator: asked for every guarded resource)
        if ref.kind == guard.scope_kind:
            return ref.key
    return ""


def guard_roles(spec: KindSpec, guard: Guard, ops: list[Operation]):
    """Per scope: ops that gain a holder, lose one, or hold it on both sides of a replace (the
    holder is gone while it is deleted and created again)."""
    gains: dict[str | None, list[Operation]] = defaultdict(list)
    losses: dict[str | None, list[Operation]] = defaultdict(list)
    transient: dict[str | None, list[Operation]] = defaultdict(list)
    for op in ops:
        had, has = holds(op.before, spec.name, guard), holds(op.after, spec.name, guard)
        if has and not had:
            gains[scope_of(op.after, guard)].append(op)  # type: ignore[arg-type]
        elif had and not has:
            losses[scope_of(op.before, guard)].append(op)  # type: ignore[arg-type]
        elif had and has and op.action == "replace":
            transient[scope_of(op.before, guard)].append(op)  # type: ignore[arg-type]
    return gains, losses, transient


def guard_edges(spec: KindSpec, guard: Guard, ops: list[Operation]) -> Iterable[Edge]:
    """Gains first; a holder being replaced waits for the gains and goes before the losses."""
    gains, losses, transient = guard_roles(spec, guard, ops)
    for scope in set(gains) | set(losses) | set(transient):
        for gain in gains.get(scope, []):
            yield from ((gain.id, op.id) for op in losses.get(scope, []) + transient.get(scope, []))
        for op in transient.get(scope, []):
            yield from ((op.id, loss.id) for loss in losses.get(scope, []))


def all_edges(provider: "Provider", ops: list[Operation], desired: State, live: State) -> set[Edge]:
    graph = Graph(reference_edges(ops))
    for spec in provider.kinds:
        for guard in spec.guards:
            graph.extend(guard_edges(spec, guard, ops))
    graph.extend(provider.edges(ops))
    for spec in provider.kinds:
        if spec.capacity_attr:
            capacity_edges(spec, ops, desired, live, graph)
    return graph.edges()
