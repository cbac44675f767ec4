"""Time in a person's life, for one service's plan: renames, staged offboarding, expiring grants.

Pure like the rest of the planner: everything is decided from the file, live state and the day
the plan is made for (``directory.today``), never the clock, so the same file gives the same
plan on any machine on the same day and a reviewer sees in the pull request what a date does.

- **Offboarding** (``offboarded:``, or a person's ``expires:`` passed): the directory already
  expands them to nobody, so the provider's desired state leaves them out. Here, per
  ``policy.offboarding``: where a kind can be suspended (``KindSpec.suspend``) and the policy says
  ``suspend_first``, the live resource stays, suspended, until ``remove_after_days`` after the
  date; elsewhere they are removed at once, and the plan says so.
- **Renames** (``previously:``): a live resource keyed by a previous address and the desired one
  keyed by the new address are one change: an in-place update of the email where the kind
  ``renames_in_place``, else a replace warned with what the person loses. In a service that
  renames in place, the person's other resources (memberships) follow the account: no change.
- **Expiring grants** (``expires:`` on a person, a group member or a ``who:`` entry): past the
  date the grant is absent (the directory and ``members.scan`` drop it); within
  ``policy.expiry_warning_days`` before it, a warning.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Iterable

from ..config.schema import Directory, Policy, grant_expires, parse_date
from ..findings import Finding, note, warning
from ..members import _lists
from ..model import Resource, State, norm_email
from .ops import Operation

if TYPE_CHECKING:  # pragma: no cover
    from ..provider import Provider


def _email(res: Resource) -> str:
    return norm_email(res.person or res.key)


# ---- offboarding ----------------------------------------------------------------------------

def offboard(provider: "Provider", desired: State, live: State, policy: Policy, directory: Directory,
             protected: dict[str, str]) -> tuple[State, list[Finding]]:
    """``desired`` with each gone person's live resources at their stage: suspended (a copy of
    the live resource with the kind's suspend value) or absent; and one finding per person."""
    if directory.today is None:
        return desired, []
    today = directory.today
    leavers = gone_people(directory)
    if not leavers:
        return desired, []
    staged = policy.staged()
    keep: dict[Any, Resource] = {}
    drop: set[Any] = set()
    said: dict[str, list[str]] = {}
    suspendable = any(spec.suspend for spec in provider.kinds)
    for res in live:
        email = _email(res)
        gone = leavers.get(email)
        if gone is None or email in protected or provider.ignored(res):
            continue
        since, why = gone
        spec = provider.kind(res.kind)
        name = directory.spelling.get(email, res.person or email)
        if spec.suspend and staged.suspend_first:
            attr, value = spec.suspend
            until = since + dt.timedelta(days=staged.remove_after_days) \
                if staged.remove_after_days is not None else None
            if until is None or today < until:
                kept = copy.deepcopy(res)
                kept.attrs[attr] = value
                keep[res.ref] = kept
                later = f"removed on {until}" if until else "kept suspended (set remove_after_days to remove)"
                said.setdefault(name, []).append(f"{res.label} {'stays' if spec.suspended(res.attrs) else 'is'} "
                                                 f"suspended ({attr}: {json.dumps(value)}); {later}")
                continue
            drop.add(res.ref)
            said.setdefault(name, []).append(f"{res.label} removed: suspended since {since}, "
                                             f"remove_after_days ({staged.remove_after_days}) have passed")
            continue
        drop.add(res.ref)
        how = ("removed at once: this service cannot suspend" if staged.suspend_first and not suspendable
               else "removed at once")
        said.setdefault(name, []).append(f"{res.label} {how}")
    if not keep and not drop:
        return desired, []
    out = desired.changed(keep.values(), drop=drop)
    findings = []
    for name, lines in sorted(said.items()):
        person = directory.gone(name)
        why = person[1] if person else "offboarded"
        if len(lines) > 3:  # a person in many groups: the operations list them all
            lines = lines[:3] + [f"and {len(lines) - 3} more"]
        level = warning if any("cannot suspend" in line for line in lines) else note
        findings.append(level(f"{name} is {why}: " + "; ".join(lines), name, "lifecycle"))
    return out, findings


def gone_people(directory: Directory) -> dict[str, tuple[dt.date, str]]:
    """Lower-cased email -> ``(since, why)`` of each person gone on ``directory.today`` (looked up
    once per person, not per resource: nearly everyone is still here)."""
    today = directory.today
    if today is None:
        return {}
    return {email: gone for email, person in directory.people.items() if (gone := person.gone(today))}


# ---- renames --------------------------------------------------------------------------------

def renames(service: str, provider: "Provider", ops: list[Operation], directory: Directory) -> list[Operation]:
    """The operations with each (delete of a previous address, create of the new one) of the same
    kind made one rename (an update, or a replace with a warning where the service cannot)."""
    if not directory.previous:
        return ops
    deletes = {(op.kind, op.key): op for op in ops if op.action == "delete"}
    creates = [op for op in ops if op.action == "create"]
    # the kinds that are a person's account: declared (renames_in_place, rename_loss), else (a
    # provider that declares neither) the kinds that count as members
    accounts = {k.name for k in provider.kinds if k.renames_in_place or k.rename_loss} or \
        {k.name for k in provider.kinds if k.counts_as_member}
    earlier: dict[str, list[str]] = {}  # an address now -> the previous ones
    for old, now in directory.previous.items():
        earlier.setdefault(now, []).append(old)
    paired: dict[str, Operation] = {}  # the create's id -> the rename that stands for it
    gone: set[str] = set()
    renamed_people: set[str] = set()
    for op in creates:
        if op.kind not in accounts:
            continue
        new = _email(op.after)
        for old in earlier.get(new, ()):
            before = deletes.get((op.kind, op.key.replace(new, old)))
            if before is None or before.id in gone:
                continue
            spec = provider.kind(op.kind)
            if spec.renames_in_place:
                renamed_people.add(new)
            rename = _rename(service, provider, before.before, op.after, old, spec.renames_in_place)
            paired[op.id] = rename
            gone.add(before.id)
            break
    # in a service that renames in place, the person's other resources follow their account
    follow: set[str] = set()
    for op in creates:
        if op.id in paired:
            continue
        new = _email(op.after)
        if new not in renamed_people:
            continue
        for old in earlier.get(new, ()):
            before = deletes.get((op.kind, op.key.replace(new, old)))
            if before is not None and before.id not in gone and before.before.attrs == op.after.attrs:
                follow.add(op.id)
                gone.add(before.id)
                break
    out = []
    for op in ops:
        if op.id in gone or op.id in follow:
            continue
        out.append(paired.get(op.id, op))
    return out


def _rename(service: str, provider: "Provider", have: Resource, want: Resource, old: str,
            in_place: bool) -> Operation:
    from .planner import _with_live_identity, describe

    spec = provider.kind(want.kind)
    after = _with_live_identity(want, have)
    old_name = have.display or old
    new_name = want.display or want.person or want.key
    changes = [f"renamed: {old_name} → {new_name} (people.{want.person or new_name}.previously)"]
    changes += [line for line in describe(have.attrs, want.attrs)]
    op = Operation(service, "update" if in_place else "replace", want.kind, want.key, before=have, after=after,
                   changes=changes, renamed_from=old_name)
    if in_place:
        op.summary = f"renamed in place from {old_name} (same account, history kept)"
    else:
        loses = spec.rename_loss or "whatever the service keeps for that account"
        op.destructive = True
        op.warnings.append(f"{provider.name} cannot change an email in place: the account {old_name} is removed "
                           f"and {new_name} is added as a new one; they lose {loses}")
    live_rank, want_rank = spec.rank(have.attrs), spec.rank(want.attrs)
    op.demotion = live_rank is not None and want_rank is not None and want_rank < live_rank
    return op


# ---- expiring grants ------------------------------------------------------------------------

def expiry(provider: "Provider", ops: Iterable[Operation], desired: State, policy: Policy,
           directory: Directory) -> list[Finding]:
    """Say why a removal happens ("expired on …", "offboarded on …") on the operation itself, and
    warn of grants that end within ``policy.expiry_warning_days``."""
    today = directory.today
    if today is None:
        return []
    ops = list(ops)
    window = dt.timedelta(days=policy.expiry_warning_days)
    findings: list[Finding] = []
    expired: dict[str, str] = {}
    section = provider.settings
    for where, members in (_lists(section, ()) if directory.grants_expire else ()):
        for index, member in enumerate(members):
            ends = grant_expires(member)
            if ends is None:
                continue
            path = ".".join(str(p) for p in ("services", provider.ctx.instance, *where)) + f"[{index}]"
            who = member.who
            if ends < today:
                for email in directory.expand(who):
                    expired[email] = f"expired on {ends} ({path})"
            elif ends - today <= window:
                findings.append(warning(f"{who}'s grant at {path} expires on {ends} (in {(ends - today).days} "
                                        "day(s)): extend expires: or let it lapse", who, "lifecycle"))
    ending = _ending_soon(directory, window)  # few people: looked up before the resources are
    held = {norm_email(r.person) for r in desired if r.person} if ending or directory.group_expires else set()
    for low in sorted(ending.keys() & held):
        ends, name = ending[low], directory.spelling.get(low, low)
        findings.append(warning(f"{name}'s access (people.{name}.expires) ends on {ends} (in "
                                f"{(ends - today).days} day(s))", name, "lifecycle"))
    for (group, who), ends in sorted(directory.group_expires.items()):
        if today <= ends and ends - today <= window and any(e in held for e in directory.expand(who)):
            findings.append(warning(f"{who}'s membership of group {group} ends on {ends} (in "
                                    f"{(ends - today).days} day(s))", who, "lifecycle"))
        elif ends < today:
            for email in directory.expand(who):
                expired.setdefault(email, f"membership of group {group} expired on {ends}")
    for op in ops:
        _explain(provider, op, directory, expired)
    return findings


def _ending_soon(directory: Directory, window: dt.timedelta) -> dict[str, dt.date]:
    """Lower-cased email -> the day their access ends (``people.*.expires``), for the people whose
    access ends within ``window`` of ``directory.today``."""
    today = directory.today
    out = {}
    for low, person in directory.people.items():
        ends = parse_date(person.expires) if person.expires is not None else None
        if ends is not None and today <= ends and ends - today <= window:  # type: ignore[operator]
            out[low] = ends
    return out


def _explain(provider: "Provider", op: Operation, directory: Directory, expired: dict[str, str]) -> None:
    """A removal or a suspension says which date made it: "removed: offboarded on …"."""
    if op.action not in ("delete", "update") or op.before is None:
        return
    email = _email(op.before)
    gone = directory.gone(email)
    why = gone[1] if gone else expired.get(email)
    if why is None:
        return
    if op.action == "update":
        spec = provider.kind(op.kind)
        if op.after is None or not spec.suspended(op.after.attrs) or spec.suspended(op.before.attrs):
            return
        attr, value = spec.suspend  # type: ignore[misc]
        verb = f"suspended ({attr}: {json.dumps(value)}): {why}"
    else:
        verb = f"removed: {why}"
    op.summary = f"{op.summary} ({why})" if op.summary else verb
