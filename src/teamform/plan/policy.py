"""Policies applied to the desired state before diffing: ignore, authoritative, protect and
the acting identity (lockout guard). The removal cap is a refusal: see ``safety``."""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import TYPE_CHECKING, Any

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


#: why the acting identity is protected (a finding about it has the code ``lockout``)
LOCKOUT = "teamform acts as this identity (lockout guard)"


def acting_identities(policy: Policy, live: State, acting: str | None = None) -> dict[str, str]:
    """Lower-cased email -> where teamform learned it acts as it: the service (``acting``, from
    the provider's ``acting_identity``; else the ``identity`` fact) and ``policy.identity``."""
    out: dict[str, str] = {}
    said = acting if acting is not None else live.facts.get("identity")
    if said:
        out[norm_email(said)] = "the service says so"
    if policy.identity:
        out.setdefault(norm_email(policy.identity), "policy.identity")
    return out


def protected_people(policy: Policy, directory: Directory, live: State,
                     acting: str | None = None) -> dict[str, str]:
    """Lower-cased email -> why that person is never removed, demoted or suspended."""
    protected: dict[str, str] = {}
    for who in policy.protect:
        for email in directory.expand(who):
            protected[email] = "protected by policy.protect"
    for email in acting_identities(policy, live, acting):
        protected[email] = LOCKOUT
    return protected


def _code(why: str) -> str:
    return "lockout" if why == LOCKOUT else "policy"


def _holds_anything(live: State, email: str) -> bool:
    return any(r.person and norm_email(r.person) == email for r in live)


def _with_attrs(resource: Resource, attrs: dict[str, Any]) -> Resource:
    """A copy of ``resource`` with these attributes changed (its other fields are shared: the
    planner changes none of them)."""
    return dataclasses.replace(resource, attrs={**resource.attrs, **attrs})


def adjust(provider: "Provider", desired: State, live: State, policy: Policy,
           directory: Directory) -> tuple[State, list[Finding]]:
    """The desired state that makes the plain diff respect the policy (a new one; ``desired``
    itself where the policy changes nothing: it is never changed), and the findings that say
    where the file was not followed."""
    findings: list[Finding] = []
    acting = provider.acting_identity(live)
    identities = acting_identities(policy, live, acting)
    if len(identities) > 1:
        said, given = list(identities)
        findings.append(warning(f"policy.identity is {given}, but the service says teamform acts as {said}: "
                                "both are kept from removal, demotion and suspension; fix policy.identity",
                                given, "lockout"))
    if policy.identity and not _holds_anything(live, norm_email(policy.identity)):
        findings.append(note(f"policy.identity {policy.identity} holds nothing in this service, so the lockout "
                             "guard has nothing to keep; check its spelling", policy.identity, "lockout"))
    protected = protected_people(policy, directory, live, acting)
    # a live resource the plan keeps as it is stands in the desired state itself (not a copy):
    # the diff finds it unchanged, so it never reaches an operation
    replaced: dict[Ref, Resource] = {}
    skip: set[Ref] = set()
    kept_unlisted = 0
    wanted_of = desired.by_ref.get  # (in C: once per live resource)
    for res in live:
        if is_ignored(res, policy):
            if res.ref in desired:
                skip.add(res.ref)
                findings.append(warning(f"{res.label} is listed but matches policy.ignore: left as it is",
                                        res.label, "policy"))
            replaced[res.ref] = res
            findings.append(note(f"{res.label} ignored by policy", res.label, "policy"))
            continue
        wanted = wanted_of(res.ref)
        person = norm_email(res.person) if res.person and protected else None
        if wanted is None:
            spec = provider.kind(res.kind)
            if not spec.removable or not policy.authoritative:
                replaced[res.ref] = res
                if spec.removable:
                    kept_unlisted += 1
            elif person in protected:
                replaced[res.ref] = res
                findings.append(warning(f"{res.label} is not in the file, but its removal is refused and it "
                                        f"is kept: {protected[person]}", res.label, _code(protected[person])))
            continue
        if person in protected:
            spec = provider.kind(res.kind)
            kept = _keep_rank(spec, res, wanted, protected[person], findings)
            if protected[person] == LOCKOUT:
                kept = _keep_in_place(spec, res, kept or wanted, findings) or kept
            if kept is not None:
                replaced[res.ref] = kept
    if kept_unlisted:
        findings.append(note(f"{kept_unlisted} live item(s) not in the file are left alone "
                             "(policy.authoritative is false)", None, "policy"))
    if not replaced and not skip:
        return desired, findings  # the file is followed as it is
    return desired.changed(replaced.values(), drop=skip), findings


def _keep_rank(spec, have: Resource, wanted: Resource, why: str, findings: list[Finding]) -> Resource | None:
    """``wanted`` with the live value of each ranked attribute (role, status) it would lower."""
    lowered = spec.lowered(have.attrs, wanted.attrs)
    if not lowered:
        return None
    kept = _with_attrs(wanted, {attr: have.attrs[attr] for attr in lowered})
    for attr in lowered:
        what = "lowering" if attr == spec.role_attr else "changing"
        findings.append(warning(f"{have.label} keeps {attr} {have.attrs[attr]!r} ({what} it to "
                                f"{wanted.attrs[attr]!r} is refused): {why}", have.label, _code(why)))
    return kept


def _keep_in_place(spec, have: Resource, wanted: Resource, findings: list[Finding]) -> Resource | None:
    """The acting identity is never replaced (removed, then added again): the live value of each
    attribute the service cannot change in place is kept."""
    changed = sorted(a for a in spec.replace_on if wanted.attrs.get(a) != have.attrs.get(a))
    if not changed:
        return None
    kept = _with_attrs(wanted, {attr: have.attrs.get(attr) for attr in changed})
    findings.append(warning(f"{have.label} keeps {', '.join(changed)} as it is (changing it would remove and "
                            f"add it again): {LOCKOUT}", have.label, "lockout"))
    return kept
