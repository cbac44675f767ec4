"""Plan-time WorkDrive rules: findings the generic planner cannot know (``check``), what a
deletion of an archived user means (``annotate``), and the ordering the service needs (``edges``)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Iterable, Sequence

from teamform.provider import Finding, Operation, Ref, State, error, norm_email, note, warning

from .read import DEPARTMENT, DEPT_MEMBER, GROUP, GROUP_MEMBER, LOC_MEMBER, UNLISTED, USER, target, when
from .settings import who_of

if TYPE_CHECKING:  # pragma: no cover
    from . import WorkDriveProvider


# ---- findings -----------------------------------------------------------------------------
def check(p: "WorkDriveProvider", desired: State, live: State) -> list[Finding]:
    issues = _unknown_groups(p, desired, live) + _unlisted_groups(p, live)
    members = {target(r, DEPARTMENT) for r in desired.of_kind(DEPT_MEMBER)}
    for dept in desired.of_kind(DEPARTMENT):
        if dept.key not in members and dept.ref not in live:
            issues.append(error(f"department '{dept.key}' has no head: WorkDrive creates a department only "
                                "with its head (list heads: under departments)", dept.label))
    for user in desired.of_kind(USER):
        boss = user.attrs.get("reports_to")
        if boss and Ref(USER, boss) not in desired:
            issues.append(error(f"{user.label} reports to {boss}, who is not a WorkDrive user in the file "
                                "(add them under users, or change reports_to)", user.label))
    archiving = [r.key for r in desired.of_kind(USER) if r.attrs["status"] == "ARCHIVE"
                 and (have := live.get(r.ref)) is not None and have.attrs["status"] != "ARCHIVE"]
    if archiving:
        issues.append(note(f"staged offboarding: {len(archiving)} user(s) archived, not deleted "
                           f"({', '.join(sorted(archiving))})"))
    return issues


def _unknown_groups(p: "WorkDriveProvider", desired: State, live: State) -> list[Finding]:
    known = sorted(r.key for r in live.of_kind(GROUP))
    issues = []
    named = {target(r, GROUP) for r in desired.of_kind(GROUP_MEMBER)} | set(p.settings.security_groups)
    for name in sorted(named):
        if Ref(GROUP, name) in live:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        issues.append(error(f"security group '{name}' does not exist in WorkDrive{hint}, and groups cannot be "
                            f"created through the API; existing groups: {', '.join(known) or 'none'}",
                            f"{GROUP}[{name}]"))
    return issues


def _unlisted_groups(p: "WorkDriveProvider", live: State) -> list[Finding]:
    """The file names a group whose member list answered 404 (the document has no such
    endpoint): its membership is neither read nor changed, and the plan says so."""
    issues = []
    for name in sorted(set(live.facts.get(UNLISTED, ())) & set(p.settings.security_groups)):
        count = len(who_of(p.ctx.directory, p.settings.security_groups[name]))
        issues.append(warning(
            f"WorkDrive answered 404 to the member list of security group '{name}' (GET "
            f"/security_groups/{{id}}/members, which the WorkDrive document does not have): its members "
            f"cannot be read, so the {count} people the file puts in it are neither added nor removed; "
            "check them in WorkDrive", f"{GROUP}[{name}]"))
    return issues


def annotate(p: "WorkDriveProvider", op: Operation) -> None:
    """Say what creating an archived or blocked user takes (two calls), and why an archived user
    is deleted now: listed under delete, or past the grace period."""
    if op.kind == USER and op.action == "create" and op.after.attrs.get("status") != "ACTIVE":
        op.summary = (f"created, then set to {op.after.attrs['status']} (WorkDrive creates every user invited, "
                      "with an onboarding email)")
        return
    if op.kind != USER or op.action != "delete" or op.before.attrs.get("status") != "ARCHIVE":
        return
    if op.key in {norm_email(e) for e in p.settings.delete}:
        op.summary = "deleted (listed under delete)"
        return
    policy = p.ctx.policy
    staged = policy.staged()
    grace = staged.remove_after_days
    since = when(op.before.meta.get("updated_at"))
    if p.ctx.directory.gone(op.before.person or op.key):  # offboarded: the engine counts from the file's date
        return
    if staged.suspend_first and grace is not None and since:
        spelled = "archive_grace_days" if isinstance(policy.offboarding, str) else "offboarding.remove_after_days"
        op.summary = f"deleted: archived since {since.date()}, past {spelled} ({grace})"


# ---- ordering -----------------------------------------------------------------------------
def edges(ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
    creates = {(o.kind, o.key): o for o in ops if o.action == "create"}
    leaving: dict[tuple[str, str], list[Operation]] = {}
    for o in ops:
        if o.kind in (DEPT_MEMBER, LOC_MEMBER) and o.action == "delete":
            leaving.setdefault((o.kind, target(o.before, USER)), []).append(o)
    for o in ops:
        if o.kind == DEPARTMENT and o.action == "create":
            for email in o.after.meta.get("heads", []):  # created with its heads: they exist first,
                if (USER, email) in creates:             # and have left their old department
                    yield creates[(USER, email)].id, o.id
                yield from ((old.id, o.id) for old in leaving.get((DEPT_MEMBER, email), []))
        if o.kind == DEPT_MEMBER and o.action == "create":
            # a head leaves their old department before joining the new one (its other heads or
            # their successor come first: the guard's edges); anyone else is moved by the join
            # itself (a user is in one department; ``existingDept`` says which), so their leave
            # needs no order and shares the old department's members call with its joins
            yield from ((old.id, o.id) for old in leaving.get((o.kind, target(o.after, USER)), [])
                        if old.before.attrs.get("head"))
    yield from _heads_last(ops)


def _heads_last(ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
    """A department being deleted: its other members leave first; its heads leave with it."""
    dying = {o.key for o in ops if o.kind == DEPARTMENT and o.action == "delete"}
    by_dept: dict[str, list[Operation]] = {}
    for o in ops:
        if o.kind == DEPT_MEMBER and o.action == "delete" and target(o.before, DEPARTMENT) in dying:
            by_dept.setdefault(target(o.before, DEPARTMENT), []).append(o)
    for members in by_dept.values():
        heads = [o for o in members if o.before.attrs.get("head")]
        for plain in (o for o in members if not o.before.attrs.get("head")):
            yield from ((plain.id, h.id) for h in heads)
