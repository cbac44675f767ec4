"""Diff desired against live and produce a service plan with its dependency edges."""

from __future__ import annotations

import dataclasses
import json
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING, Any


from ..model import Resource, State, fingerprint_of
from . import edges as E
from . import lifecycle, safety
from .invitations import upkeep
from .ops import Operation, ServicePlan
from .policy import adjust, protected_people

if TYPE_CHECKING:  # pragma: no cover
    from ..config.schema import Directory, Policy
    from ..provider import Provider


def describe(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human-readable attribute changes, one line each. Plain values are compared directly;
    deepdiff describes what changed inside a list or a mapping."""
    lines = []
    for key in set(before) | set(after):
        if key not in after:
            lines.append(f"{key}: removed {_show(before[key])}")
        elif key not in before:
            lines.append(f"{key}: added {_show(after[key])}")
        elif isinstance(before[key], (dict, list)) or isinstance(after[key], (dict, list)):
            lines += _nested({key: before[key]}, {key: after[key]})
        elif before[key] != after[key] or type(before[key]) is not type(after[key]):
            lines.append(f"{key}: {_show(before[key])} → {_show(after[key])}")
    return sorted(lines)


def _nested(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    from deepdiff import DeepDiff  # on first use: most plans change no nested value, and it takes ~70 ms to import

    diff = DeepDiff(before, after, ignore_order=True, view="tree")
    lines = []
    for change, items in diff.items():
        for item in items:
            path = ".".join(str(p) for p in item.path(output_format="list"))
            if change in ("values_changed", "type_changes"):
                lines.append(f"{path}: {_show(item.t1)} → {_show(item.t2)}")
            elif "added" in change:
                lines.append(f"{path}: added {_show(item.t2)}")
            elif "removed" in change:
                lines.append(f"{path}: removed {_show(item.t1)}")
            else:  # pragma: no cover - other deepdiff categories
                lines.append(f"{path}: changed")
    return lines


def _show(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _with_live_identity(want: Resource, have: Resource) -> Resource:
    """The desired resource as the applier needs it: with the service's id, pending state and
    private data from live (a copy; the desired state is not changed)."""
    return dataclasses.replace(want, id=have.id if want.id is None else want.id, pending=have.pending,
                               meta={**have.meta, **want.meta})


def diff(service: str, provider: "Provider", desired: State, live: State) -> list[Operation]:
    ops = []
    live_of = live.by_ref.get  # (looked up in C: once per resource on both sides)
    for want in desired:
        have = live_of(want.ref)
        if have is None:
            ops.append(Operation(service, "create", want.kind, want.key, after=want))
            continue
        if want.attrs == have.attrs and (want.refs == have.refs or set(want.refs) == set(have.refs)):
            continue  # (compared first: most resources match, and need no copy)
        spec = provider.kind(want.kind)
        want = _with_live_identity(want, have)
        changed = {k for k in set(want.attrs) | set(have.attrs) if want.attrs.get(k) != have.attrs.get(k)}
        action = "replace" if changed & spec.replace_on else "update"
        op = Operation(service, action, want.kind, want.key, before=have, after=want,
                       changes=describe(have.attrs, want.attrs))
        if action == "replace":
            op.destructive = spec.destructive
            if spec.replace_warning:
                op.warnings.append(spec.replace_warning)
        live_rank, want_rank = spec.rank(have.attrs), spec.rank(want.attrs)
        op.demotion = live_rank is not None and want_rank is not None and want_rank < live_rank
        ops.append(op)
    wanted = desired.by_ref
    for have in live:
        if have.ref not in wanted:
            spec = provider.kind(have.kind)
            op = Operation(service, "delete", have.kind, have.key, before=have, destructive=spec.destructive)
            if have.pending:
                op.warnings.append("pending invitation: removing it cancels the invitation")
            ops.append(op)
    return ops


def _precondition(op: Operation, live: State, seen: dict[str, str]) -> dict[str, str]:
    """The live facts ``op`` relies on: its own resource exactly; what it refers to, exactly when
    it consumes from it (a create or replace takes capacity), else only that it exists ("present").
    ``seen``: the live resources' fingerprints (``State.fingerprints``), made once per plan."""
    own = {res.ref for res in (op.before, op.after) if res is not None}  # two refs for a rename
    refs = set(own)
    for res in (op.before, op.after):
        if res is not None:
            refs.update(res.refs)
    exact = op.action in ("create", "replace")
    out = {}
    for ref in sorted(refs):
        name = str(ref)
        if ref not in live:
            out[name] = "absent"
        else:
            out[name] = seen[name] if exact or ref in own else "present"
    return out


def plan_service(service: str, provider: "Provider", desired: State, live: State, policy: "Policy",
                 directory: "Directory", *, allow_mass_removal: bool = False) -> ServicePlan:
    """The plan for one service: pure, neither state is changed. Dates (offboarding, expiry,
    invitation upkeep) are read against ``directory.today`` (``Directory.as_of``), never the clock."""
    seen = live.fingerprints()
    sp = ServicePlan(service, provider.name, live_fingerprint=fingerprint_of(seen), live_count=len(live),
                     live_resources=seen)
    desired, found = adjust(provider, desired, live, policy, directory)
    sp.findings += found
    desired, found = lifecycle.offboard(provider, desired, live, policy, directory,
                                        protected_people(policy, directory, live,
                                                         provider.acting_identity(live)))
    sp.findings += found
    sp.findings += provider.check(desired, live)
    ops = lifecycle.renames(service, provider, diff(service, provider, desired, live), directory)
    ops = sorted(ops, key=lambda o: o.id)
    for op in ops:
        provider.annotate(op)
    sp.findings += lifecycle.expiry(provider, ops, desired, policy, directory)
    resends, found = upkeep(service, provider, desired, live, policy, ops, directory.today)
    if resends:  # ops are in id order already
        ops = sorted(ops + resends, key=lambda o: o.id)
    sp.findings += found
    sp.findings += safety.refusals(provider, desired, live, ops)
    order, cycle = _order(ops, E.all_edges(provider, ops, desired, live))
    if cycle is not None:
        sp.findings.append(safety.unorderable(cycle))
    for op in ops:
        op.precondition = _precondition(op, live, seen)
    sp.operations = order
    if not allow_mass_removal:
        sp.findings += safety.removal_cap(provider, ops, live, policy)
    return sp


def _order(ops: list[Operation], graph: set[tuple[str, str]]) -> tuple[list[Operation], list[str] | None]:
    """Set each operation's ``depends_on`` and sort them so that what one needs comes first; the
    cycle, if they cannot be ordered (they are then left in id order)."""
    deps: dict[str, set[str]] = {op.id: set() for op in ops}
    for first, then in graph:
        if first in deps and then in deps:
            deps[then].add(first)
    for op in ops:
        op.depends_on = sorted(deps[op.id])
    try:  # (from the sorted lists, not the sets: the order is the same on every run)
        order = list(TopologicalSorter({op.id: op.depends_on for op in ops}).static_order())
    except CycleError as exc:
        return ops, list(exc.args[1]) if len(exc.args) > 1 else []
    rank = {op_id: i for i, op_id in enumerate(order)}
    return sorted(ops, key=lambda o: rank[o.id]), None


def failed_read(service: str, provider_name: str, error: BaseException) -> ServicePlan:
    """A service whose live state could not be read fully: no operations at all."""
    return ServicePlan(service, provider_name, findings=[safety.failed_read(error)])
