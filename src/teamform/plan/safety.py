"""Every refusal in one place, as typed findings that keep their subject.

A plan is refused for a service when its live state could not be read whole, when it removes
more than ``max_removals`` allows, when the file places more on a pool than it holds, when a
guarded role (the last Admin, a company's owner, a department's head) would be left empty, or
when its changes cannot be ordered at all. Each check returns ``Finding``s with ``level="error"``;
the planner adds them to the service's plan and apply refuses a plan with any (as octoDNS's
``raise_if_unsafe`` refuses an unsafe plan).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Sequence

from ..config.schema import Policy, parse_max_removals
from ..findings import Finding, error
from ..model import Guard, KindSpec, Ref, State
from .edges import capacity, guard_roles, holds, holds_value, scope_of
from .ops import Operation

if TYPE_CHECKING:  # pragma: no cover
    from ..provider import Provider

#: below this many live members a percentage cap does not apply (octoDNS does the same)
MIN_MEMBERS_FOR_SHARE = 10


def failed_read(exc: BaseException) -> Finding:
    return error(f"could not read live state ({exc}); the plan for this service is aborted and nothing "
                 f"will be changed or removed", code="failed_read")


def removal_cap(provider: "Provider", ops: Sequence[Operation], live: State, policy: Policy) -> list[Finding]:
    """Refuse a plan that removes more members than the policy allows, or every one of them."""
    member_kinds = {s.name for s in provider.kinds if s.counts_as_member} or {r.kind for r in live}
    base = sum(1 for r in live if r.kind in member_kinds)
    removals = [op for op in ops if op.action == "delete" and op.kind in member_kinds]
    if not removals:
        return []
    count, share = parse_max_removals(policy.max_removals)
    limit, said = None, ""
    if count is not None:
        limit, said = count, f"max_removals {count}"
    elif share is not None and base >= MIN_MEMBERS_FOR_SHARE:
        limit = math.floor(share * base)
        said = f"max_removals {policy.max_removals} of {base} = {limit}"
    if limit is not None and len(removals) > limit:
        return [error(f"the plan removes {len(removals)} of {base} live members, over {said}; check the state "
                      f"file (an emptied or truncated file?) or pass --allow-mass-removal", code="removal_cap")]
    if base >= 2 and len(removals) == base:
        return [error(f"the plan removes every one of the {base} live members; check the state file "
                      f"or pass --allow-mass-removal", code="removal_cap")]
    return []


def capacity_shortfalls(spec: KindSpec, desired: State) -> list[Finding]:
    """Refuse a file that places more on a pool (a seat type) than its capacity."""
    placed = Counter(ref for r in desired for ref in set(r.refs) if ref.kind == spec.name)
    out = []
    for pool in desired.of_kind(spec.name):
        need, have = placed[pool.ref], capacity(pool, spec)
        if need > have:
            out.append(error(f"{pool.label} has {have} but the file places {need} on it: "
                             f"{need - have} more needed; raise its {spec.capacity_attr} in the file, or place "
                             "fewer people on it", pool.label, "capacity"))
    return out


def _where(guard: Guard, scope: str | None) -> str:
    return f" in {guard.scope_kind} '{scope}'" if guard.scope_kind else ""


def guard_violations(spec: KindSpec, guard: Guard, desired: State, live: State,
                     ops: Sequence[Operation]) -> list[Finding]:
    """Refuse a plan that ends with no holder of a guarded role, or passes through none."""
    holders: dict[str | None, int] = defaultdict(int)
    scopes: set[str | None] = set()
    for res in desired.of_kind(spec.name):
        scope = scope_of(res, guard)
        if guard.scopes is None or scope in guard.scopes:
            scopes.add(scope)
            if holds_value(res, guard):  # (holds, with the scope found once)
                holders[scope] += 1
    for res in live.of_kind(spec.name):
        if holds(res, spec.name, guard):
            scopes.add(scope_of(res, guard))
    out = []
    for scope in sorted(scopes, key=str):
        if guard.scope_kind is not None and Ref(guard.scope_kind, scope or "") not in desired:
            continue  # the scope itself goes away
        if holders[scope] == 0:
            out.append(error(f"{guard.description}{_where(guard, scope)}: the plan would leave none, so it is "
                             "refused", scope, "guard"))
    _, _, transient = guard_roles(spec, guard, list(ops))
    for scope, replaced in transient.items():
        if holders[scope] <= len(replaced):
            names = ", ".join(op.label for op in replaced)
            out.append(error(f"{guard.description}{_where(guard, scope)}: replacing {names} removes it first and "
                             "no other holder would remain meanwhile; give someone else the role in an earlier "
                             "apply", names, "guard"))
    return out


def unorderable(cycle: Sequence[str]) -> Finding:
    """Refuse changes that each wait for another."""
    return error(f"these changes cannot be ordered safely (each waits for another): {' → '.join(cycle) or '?'}; "
                 "make room first in a separate apply (add a seat, or give the role to someone else)",
                 cycle[0] if cycle else None, "cycle")


def refusals(provider: "Provider", desired: State, live: State, ops: Sequence[Operation]) -> list[Finding]:
    """What the file and live state make impossible, whatever the order: capacity and guards."""
    out: list[Finding] = []
    for spec in provider.kinds:
        if spec.capacity_attr:
            out += capacity_shortfalls(spec, desired)
        for guard in spec.guards:
            out += guard_violations(spec, guard, desired, live, ops)
    return out
