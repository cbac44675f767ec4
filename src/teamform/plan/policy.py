"""Policies applied to the desired state before diffing: ignore, authoritative, protect,
the acting identity (lockout guard), and the removal cap applied to the resulting plan."""

from __future__ import annotations

import copy
import fnmatch
import math
from typing import TYPE_CHECKING

from ..config.model import Directory, Policy, parse_max_removals
from ..model import Resource, State, norm_email

if TYPE_CHECKING:  # pragma: no cover
    from ..provider import Provider
    from .ops import Operation

#: below this many live members a percentage cap does not apply (octoDNS does the same)
MIN_MEMBERS_FOR_SHARE = 10


def _matches(resource: Resource, patterns: list[str]) -> bool:
    names = {norm_email(resource.person)} if resource.person else set()
    names.add(resource.key.lower())
    return any(fnmatch.fnmatchcase(n, p.lower()) for n in names for p in patterns)


def _keep(desired: State, live: Resource) -> None:
    desired.add(copy.deepcopy(live))


def adjust(provider: "Provider", desired: State, live: State, policy: Policy,
           directory: Directory) -> tuple[list[str], list[str]]:
    """Mutate ``desired`` so that the plain diff respects the policy. Returns (warnings, notes)."""
    warnings: list[str] = []
    notes: list[str] = []
    protected: dict[str, str] = {}
    for who in policy.protect:
        for email in directory.expand(who):
            protected[email] = "protected by policy.protect"
    identity = live.facts.get("identity")
    if identity:
        protected[norm_email(identity)] = "teamform signs in as this identity (lockout guard)"

    kept_unlisted = 0
    for res in live:
        spec = provider.kind(res.kind)
        if policy.ignore and _matches(res, policy.ignore):
            if res.ref in desired:
                desired._by_ref.pop(res.ref)
                warnings.append(f"{res.label} is listed but matches policy.ignore: left as it is")
            _keep(desired, res)
            notes.append(f"{res.label} ignored by policy")
            continue
        wanted = desired.get(res.ref)
        person = norm_email(res.person) if res.person else None
        if wanted is None:
            if not spec.removable or not policy.authoritative:
                _keep(desired, res)
                if spec.removable:
                    kept_unlisted += 1
            elif person in protected:
                _keep(desired, res)
                warnings.append(f"{res.label} is not in the file, but its removal is refused and it is "
                                f"kept: {protected[person]}")
            continue
        if person in protected and spec.role_attr:
            live_rank, wanted_rank = spec.rank(res.attrs), spec.rank(wanted.attrs)
            if live_rank is not None and wanted_rank is not None and wanted_rank < live_rank:
                asked = wanted.attrs[spec.role_attr]
                wanted.attrs[spec.role_attr] = res.attrs[spec.role_attr]
                warnings.append(f"{res.label} keeps {spec.role_attr} {res.attrs[spec.role_attr]!r} "
                                f"(lowering it to {asked!r} is refused): "
                                f"{protected[person]}")
    if kept_unlisted:
        notes.append(f"{kept_unlisted} live item(s) not in the file are left alone (policy.authoritative is false)")
    return warnings, notes


def removal_cap(provider: "Provider", ops: list["Operation"], live: State, policy: Policy) -> str | None:
    """An error message if the plan removes more members than the policy allows."""
    member_kinds = {s.name for s in provider.kinds if s.counts_as_member} or {r.kind for r in live}
    base = sum(1 for r in live if r.kind in member_kinds)
    removals = [op for op in ops if op.action == "delete" and op.kind in member_kinds]
    if not removals:
        return None
    count, share = parse_max_removals(policy.max_removals)
    limit, said = None, ""
    if count is not None:
        limit, said = count, f"max_removals {count}"
    elif share is not None and base >= MIN_MEMBERS_FOR_SHARE:
        limit = math.floor(share * base)
        said = f"max_removals {policy.max_removals} of {base} = {limit}"
    if limit is not None and len(removals) > limit:
        return (f"the plan removes {len(removals)} of {base} live members, over {said}; check the state "
                f"file (an emptied or truncated file?) or pass --allow-mass-removal")
    if base >= 2 and len(removals) == base:
        return (f"the plan removes every one of the {base} live members; check the state file "
                f"or pass --allow-mass-removal")
    return None
