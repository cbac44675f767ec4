"""Policies applied to the desired state before diffing: ignore, authoritative, protect and
the acting identity (lockout guard). The removal cap is a refusal: see ``safety``."""

from __future__ import annotations

import copy
import fnmatch
from typing import TYPE_CHECKING

from ..config.schema import Directory, Policy
from ..findings import Finding, note, warning
from ..model import Ref, Resource, State, norm_email

if TYPE_CHECKING:  # pragma: no cover
    from ..provider import Provider


def is_ignored(resource: Resource, policy: Policy) -> bool:
    """Does ``policy.ignore`` match this resource's person or key?"""
    if not policy.ignore:
        return False
    names = {norm_email(resource.person)} if resource.person else set()
    names.add(resource.key.lower())
    return any(fnmatch.fnmatchcase(n, p.lower()) for n in names for p in policy.ignore)


def protected_people(policy: Policy, directory: Directory, live: State) -> dict[str, str]:
    """Lower-cased email -> why that person is never removed or demoted."""
    protected: dict[str, str] = {}
    for who in policy.protect:
        for email in directory.expand(who):
            protected[email] = "protected by policy.protect"
    identity = live.facts.get("identity")
    if identity:
        protected[norm_email(identity)] = "teamform signs in as this identity (lockout guard)"
    return protected


def _copy(resource: Resource) -> Resource:
    return copy.deepcopy(resource)


def adjust(provider: "Provider", desired: State, live: State, policy: Policy,
           directory: Directory) -> tuple[State, list[Finding]]:
    """A new desired state that makes the plain diff respect the policy (``desired`` is left as it
    is), and the findings that say where the file was not followed."""
    findings: list[Finding] = []
    protected = protected_people(policy, directory, live)
    out = State()
    out.facts.update(desired.facts)
    replaced: dict[Ref, Resource] = {}
    skip: set[Ref] = set()
    kept_unlisted = 0
    for res in live:
        spec = provider.kind(res.kind)
        if is_ignored(res, policy):
            if res.ref in desired:
                skip.add(res.ref)
                findings.append(warning(f"{res.label} is listed but matches policy.ignore: left as it is",
                                        res.label, "policy"))
            replaced[res.ref] = _copy(res)
            findings.append(note(f"{res.label} ignored by policy", res.label, "policy"))
            continue
        wanted = desired.get(res.ref)
        person = norm_email(res.person) if res.person else None
        if wanted is None:
            if not spec.removable or not policy.authoritative:
                replaced[res.ref] = _copy(res)
                if spec.removable:
                    kept_unlisted += 1
            elif person in protected:
                replaced[res.ref] = _copy(res)
                findings.append(warning(f"{res.label} is not in the file, but its removal is refused and it "
                                        f"is kept: {protected[person]}", res.label, "policy"))
            continue
        if person in protected and spec.role_attr:
            live_rank, wanted_rank = spec.rank(res.attrs), spec.rank(wanted.attrs)
            if live_rank is not None and wanted_rank is not None and wanted_rank < live_rank:
                asked = wanted.attrs[spec.role_attr]
                kept = _copy(wanted)
                kept.attrs[spec.role_attr] = res.attrs[spec.role_attr]
                replaced[res.ref] = kept
                findings.append(warning(f"{res.label} keeps {spec.role_attr} {res.attrs[spec.role_attr]!r} "
                                        f"(lowering it to {asked!r} is refused): {protected[person]}",
                                        res.label, "policy"))
    for res in desired:
        if res.ref not in skip:
            out.add(replaced.pop(res.ref, res))
    for res in replaced.values():
        out.add(res)
    if kept_unlisted:
        findings.append(note(f"{kept_unlisted} live item(s) not in the file are left alone "
                             "(policy.authoritative is false)", None, "policy"))
    return out, findings
