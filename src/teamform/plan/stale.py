"""Saved plans against live state now: what changed since the plan was made, which saved
operations no longer hold, and what ``--allow-stale-unrelated`` may still apply.

The CLI only prints what ``check`` returns; the refusal itself is decided here.

Resuming (``check(..., done=...)``): after an interrupted or failed apply of a saved plan, the
journal says which of its operations were done. Those are not run again, and the changes they
made do not make the plan stale, as long as live state still shows each of them. An operation
whose result was lost (in flight when the run was killed) and whose outcome live state already
shows, where a plan made now would not do it, counts as done too; a replace cut in half (the old
one removed, the new one not added) continues with its create half, where a plan made now would
do exactly that; and live resources that the done operations took with them (a deleted team's
memberships), which no operation touches, are not drift. Everything else is checked as for any
saved plan: each remaining operation against its own preconditions, every other live
change is named, and what remains must be what a plan made now would do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import AbstractSet as Set, Iterable, Mapping

from ..model import Ref, State, fingerprint_of
from .ops import Operation, Plan

STALE_REASON = "stale: what it depends on changed since the plan was made; run plan again"


class StalePlan(Exception):
    """The saved plan no longer matches live state, and applying only what holds was not asked for."""

    def __init__(self, changes: list[str]) -> None:
        super().__init__("the plan is stale: " + "; ".join(changes) +
                         ". Run plan again (or --allow-stale-unrelated to apply only what still holds).")
        self.changes = changes


@dataclass
class StaleCheck:
    """What a stale saved plan still applies: ``plan`` minus ``skipped`` (each with its reason);
    ``broken``: services that cannot be planned now, with why. When resuming, ``done`` are the
    operations earlier runs did (taken out) and ``verified`` those whose outcome live state shows
    although no run recorded it (taken out, to be recorded as done)."""

    plan: Plan
    changes: list[str] = field(default_factory=list)
    skipped: list[tuple[Operation, str]] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    done: list[Operation] = field(default_factory=list)
    verified: list[Operation] = field(default_factory=list)
    #: replaces an interruption cut in half: what is left of each is its create half
    halves: list[Operation] = field(default_factory=list)
    #: "service: ref" of live resources the done operations took with them (not drift)
    left_behind: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return bool(self.changes)


def check(saved: Plan, fresh: Plan, live: Mapping[str, State | BaseException], *,
          allow_unrelated: bool, done: Iterable[str] | None = None) -> StaleCheck:
    """The saved plan, checked against live state and the plan made now. Unchanged: applied as it
    is. Changed: ``StalePlan``, unless ``allow_unrelated``, when the stale operations (and what
    depends on them) are taken out; what is kept must also be what a plan made now would do, in
    the same order, so the guards (last owner, last admin) hold against today's live state.
    ``done``: resuming after earlier runs of this plan, the ids of the operations they did (see
    the module); ``None`` when no run of it is known."""
    if done is not None:
        return _resume(saved, fresh, live, allow_unrelated, set(done) & {op.id for op in saved.operations})
    changes, stale = stale_operations(saved, live)
    unsafe = unsafe_now(saved, fresh)
    changes += not_planned_now_reasons(saved, fresh, stale)
    if not changes:
        as_planned_now(saved, fresh)
        return StaleCheck(saved)
    if not allow_unrelated:
        raise StalePlan(changes)
    dropped = drop_stale(saved, stale + unsafe, fresh)
    as_planned_now(saved, fresh)
    broken = {sp.name: sp.errors[0] for sp in fresh.services if sp.errors}
    skipped = [(op, f"skipped: {op.service} cannot be planned now ({broken[op.service]})"
                if op.service in broken else STALE_REASON) for op in dropped]
    return StaleCheck(saved, changes, skipped, broken)


def as_planned_now(saved: Plan, fresh: Plan) -> None:
    """Each operation left in the saved plan runs as the plan made now holds it. The two agree on
    what it does (``not_planned_now`` took out the rest), but a provider also writes from what
    the file says besides: whom it names (``person``), a group's ``display`` name, the ids and
    versions in ``meta``. Those come from the plan made now, never from the file (a tampered
    ``person`` invited someone else). The saved order is kept: it runs nothing earlier than the
    plan made now would (``out_of_order``)."""
    now = {op.id: op for op in fresh.operations}
    for sp in saved.services:
        sp.operations = [dataclasses.replace(now[op.id], depends_on=list(op.depends_on)) if op.id in now else op
                         for op in sp.operations]


def _resume(saved: Plan, fresh: Plan, live: Mapping[str, State | BaseException], allow_unrelated: bool,
            done_ids: set[str]) -> StaleCheck:
    done = [op for op in saved.operations if op.id in done_ids]
    fresh_by_id = {op.id: op for op in fresh.operations}
    states = {name: state for name, state in live.items() if isinstance(state, State)}
    changes: list[str] = []
    for op in done:
        if op.service in states and not op.holds_in(states[op.service]):
            changes.append(f"{op.service}: {op.resource.ref} was done by an earlier run of this plan "
                           "(the journal says), but live state no longer shows it")
    verified = [op for op in saved.operations if op.id not in done_ids and op.id not in fresh_by_id
                and op.service in states and op.holds_in(states[op.service])]
    taken = done_ids | {op.id for op in verified}
    explained = {(op.service, str(op.resource.ref)) for op in saved.operations if op.id in taken}
    halves = _second_halves(saved, fresh_by_id, states, taken)
    explained |= {(op.service, str(op.resource.ref)) for op in halves.values()}
    tolerated = _left_behind(saved, fresh, states, taken)
    for sp in saved.services:
        sp.operations = [halves.get(op.id, op) for op in sp.operations if op.id not in taken]
    more, stale = stale_operations(saved, live, explained, tolerated)
    changes += more
    unsafe = unsafe_now(saved, fresh)
    changes += not_planned_now_reasons(saved, fresh, stale)
    found = StaleCheck(saved, list(dict.fromkeys(changes)), done=done, verified=verified,
                       halves=list(halves.values()), left_behind=sorted(f"{s}: {r}" for s, r in tolerated))
    if not found.changes:
        as_planned_now(saved, fresh)
        return found
    if not allow_unrelated:
        raise StalePlan(found.changes)
    dropped = drop_stale(saved, stale + unsafe, fresh)
    as_planned_now(saved, fresh)
    found.broken = {sp.name: sp.errors[0] for sp in fresh.services if sp.errors}
    found.skipped = [(op, f"skipped: {op.service} cannot be planned now ({found.broken[op.service]})"
                      if op.service in found.broken else STALE_REASON) for op in dropped]
    return found


def _second_halves(saved: Plan, fresh_by_id: Mapping[str, Operation], states: Mapping[str, State],
                   taken: set[str]) -> dict[str, Operation]:
    """Replaces cut in half by the interruption (the old one removed, the new one not yet added),
    by saved id: their create half, where a plan made now would do exactly that."""
    out = {}
    for op in saved.operations:
        if op.action != "replace" or op.id in taken or op.service not in states:
            continue
        if states[op.service].get(op.resource.ref) is not None:
            continue
        now = fresh_by_id.get(Operation.derive(op, "create").id)
        if now is not None and now.after is not None and op.after is not None and _what(now.after) == _what(op.after):
            out[op.id] = now  # as planned now: the old one's id and provider data are gone with it
    return out


def _what(resource) -> tuple:
    """A resource as the file wants it, whatever the service calls it."""
    return (resource.kind, resource.key, sorted(resource.attrs.items(), key=repr), sorted(resource.refs))


def _left_behind(saved: Plan, fresh: Plan, states: Mapping[str, State], taken: set[str]) -> set[tuple[str, str]]:
    """Live resources gone since the plan in a service where operations were done, that no saved
    operation and no plan made now touches: what those operations took with them (a team's
    memberships go with the team). Their going is not drift; an operation that needs one of them
    still finds its precondition broken."""
    services = {op.service for op in saved.operations if op.id in taken}
    touched = {(op.service, str(op.resource.ref)) for op in [*saved.operations, *fresh.operations]}
    out = set()
    for sp in saved.services:
        if sp.name not in services or sp.name not in states:
            continue
        now = states[sp.name].fingerprints()
        out |= {(sp.name, ref) for ref, how in _changed_resources(sp.live_resources, now)
                if how == "is gone" and (sp.name, ref) not in touched}
    return out


def stale_operations(plan: Plan, live: Mapping[str, State | BaseException],
                     explained: Set[tuple[str, str]] = frozenset(),
                     tolerated: Set[tuple[str, str]] = frozenset()) -> tuple[list[str], list[str]]:
    """Compare a saved plan with the live state now: (changes seen, ids of operations whose
    own preconditions no longer hold). ``explained``: (service, ref) of the resources that
    operations already done changed, as expected: not a change, and not a broken precondition.
    ``tolerated``: not a change, but still a broken precondition."""
    changes: list[str] = []
    stale: list[str] = []
    for sp in plan.services:
        state = live.get(sp.name)
        if isinstance(state, BaseException) or state is None:
            changes.append(f"{sp.name}: live state could not be read ({state})")
            stale += [op.id for op in sp.operations]
            continue
        now = state.fingerprints()
        named: set[str] = set()
        if fingerprint_of(now) != sp.live_fingerprint:
            seen = [(ref, how) for ref, how in _changed_resources(sp.live_resources, now)
                    if (sp.name, ref) not in explained and (sp.name, ref) not in tolerated]
            named = {ref for ref, _ in seen}
            if seen or not (explained or tolerated) or not sp.live_resources:  # resuming: expected changes
                changes += [f"{sp.name}: {ref} {how}" for ref, how in seen] or [
                    f"{sp.name}: live state changed since the plan was made"]
        for op in sp.operations:
            for ref, fingerprint in op.precondition.items():
                if (sp.name, ref) in explained:
                    continue  # changed by an operation already done, which still holds (checked)
                kind, _, key = ref.partition("[")
                current = state.get(Ref(kind, key[:-1]))
                now = "absent" if current is None else "present" if fingerprint == "present" else current.fingerprint()
                if now != fingerprint:
                    if ref not in named:
                        changes.append(f"{sp.name}: {ref} changed")
                    stale.append(op.id)
                    break
    return list(dict.fromkeys(changes)), stale


def _essence(op: Operation) -> tuple:
    """What an operation does, as a plan made now must agree on it (not when or how it reads)."""
    def side(res):
        return None if res is None else (res.kind, res.key, sorted(res.attrs.items(), key=repr),
                                         sorted(res.refs), res.id)
    return (op.service, op.action, op.kind, op.key, side(op.before), side(op.after))


def not_planned_now(saved: Plan, fresh: Plan) -> list[str]:
    """Ids of saved operations of services that can be planned now which that plan does not hold
    exactly, or holds ordered after something the saved plan does not run first (see
    ``out_of_order``): a saved plan never does more than the file and live state ask for now,
    whatever its file says (a plan file is untrusted input: it may come from a pull request's job)."""
    now = {op.id: op for op in fresh.operations}
    broken = {sp.name for sp in fresh.services if sp.errors}
    late = out_of_order(saved, fresh)
    return [op.id for op in saved.operations if op.service not in broken
            and (op.id not in now or _essence(op) != _essence(now[op.id]) or op.id in late)]


def out_of_order(saved: Plan, fresh: Plan) -> dict[str, str]:
    """Saved operations that the plan made now runs only after another one which the saved plan
    does not run before them (it leaves it out, or its ``depends_on`` does not lead to it): by
    id, the first such operation. Equal in what they do, they are not equal in what they may
    assume: an invitation planned after the seat it needs, a demotion after a promotion."""
    now = {op.id: op for op in fresh.operations}
    needs = {op.id: set(op.depends_on) for op in saved.operations}
    before: dict[str, set[str]] = {}

    def ancestors(op_id: str) -> set[str]:  # everything the saved plan runs before op_id
        if op_id not in before:
            before[op_id] = set()  # a cycle (refused on load) cannot recurse forever
            found: set[str] = set()
            for dep in needs.get(op_id, ()):
                found |= {dep} | ancestors(dep)
            before[op_id] = found
        return before[op_id]

    out = {}
    for op in saved.operations:
        if op.id in now:
            first = next((d for d in now[op.id].depends_on if d not in ancestors(op.id)), None)
            if first is not None:
                out[op.id] = first
    return out


def not_planned_now_reasons(saved: Plan, fresh: Plan, stale: Iterable[str] = ()) -> list[str]:
    """``not_planned_now`` in words, for the saved operations not already named as stale."""
    late, skip = out_of_order(saved, fresh), set(stale)
    return [f"{op_id}: a plan made now would do this only after {late[op_id]}, which this plan does not do first"
            if op_id in late else f"{op_id}: a plan made now would not do this"
            for op_id in not_planned_now(saved, fresh) if op_id not in skip]


def unsafe_now(saved: Plan, fresh: Plan) -> list[str]:
    """Ids of saved operations that the plan made now would not run as saved: their service cannot
    be planned now, that plan leaves them out or does them differently, or it orders them after
    something the saved plan does not do (live state moved a guard: the other owner a saved
    demotion relied on is gone)."""
    now = {op.id: op for op in fresh.operations}
    saved_ids = {op.id for op in saved.operations}
    broken = {sp.name for sp in fresh.services if sp.errors}  # unread, or refused now: none of it runs
    differ = set(not_planned_now(saved, fresh))
    return [op.id for op in saved.operations if op.service in broken or op.id in differ
            or any(d not in saved_ids for d in now[op.id].depends_on)]


def drop_stale(plan: Plan, stale: list[str], fresh: Plan | None = None) -> list[Operation]:
    """Take the stale operations, and everything that depends on one (in the saved plan, or in
    ``fresh``, the plan made now), out of ``plan``; return what was taken out, in plan order."""
    gone = set(stale)
    needs = {op.id: set(op.depends_on) for op in plan.operations}
    for op in fresh.operations if fresh is not None else ():
        needs.setdefault(op.id, set()).update(op.depends_on)
    changed = True
    while changed:  # dependencies may point forward across services' lists: repeat to a fixed point
        changed = False
        for op_id, deps in needs.items():
            if op_id not in gone and deps & gone:
                gone.add(op_id)
                changed = True
    dropped: list[Operation] = []
    for sp in plan.services:
        dropped += [op for op in sp.operations if op.id in gone]
        sp.operations = [op for op in sp.operations if op.id not in gone]
    return dropped


def _changed_resources(then: Mapping[str, str], now: Mapping[str, str]) -> list[tuple[str, str]]:
    """(ref, how) for the live resources added, removed or changed since a plan recorded ``then``."""
    if not then:
        return []
    out = [(ref, "appeared") for ref in sorted(set(now) - set(then))]
    out += [(ref, "is gone") for ref in sorted(set(then) - set(now))]
    out += [(ref, "changed") for ref in sorted(set(now) & set(then)) if now[ref] != then[ref]]
    return out
