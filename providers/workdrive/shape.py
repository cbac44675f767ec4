"""The desired state of a WorkDrive section, plan-time checks, and the ordering the service needs."""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
from typing import Any, Iterable, Sequence

from teamform.members import expand
from teamform.model import Ref, Resource, State, norm_email
from teamform.plan.ops import Operation
from teamform.provider import Finding

from .settings import placements, who_of
from .read import (DEPARTMENT, DEPT_MEMBER, GROUP, GROUP_MEMBER, LOC_MEMBER, LOCATION, USER,
                   member, target)


def _when(stamp: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


class Shaper:
    """Mixed into the provider: ``desired``, ``check``, ``edges``."""

    # ---- who is where -------------------------------------------------------------------
    def _who(self, names: Sequence[str]) -> list[str]:
        return who_of(self.ctx.directory, names)

    def _placements(self, users: dict[str, dict[str, Any]]) -> tuple[dict[str, str], dict[str, bool], dict[str, str]]:
        return placements(self.settings, self.ctx.directory, users, f"services.{self.ctx.instance}: ")

    # ---- desired ------------------------------------------------------------------------
    def desired(self, live: State) -> State:
        fields = ("designation", "reports_to", "status", "department", "location")
        users = expand(self.settings.users, self.ctx.directory, attrs=lambda m: {k: getattr(m, k) for k in fields},
                       where=f"services.{self.ctx.instance}.users")
        dept, head, loc = self._placements(users)
        groups = {name: self._who(members) for name, members in self.settings.security_groups.items()}
        named = set(users) | set(dept) | set(loc) | {e for g in groups.values() for e in g}
        for email in named:
            users.setdefault(email, {"designation": None, "reports_to": None, "status": "ACTIVE"})
        doomed = {norm_email(e) for e in self.settings.delete}
        clash = sorted(doomed & named)
        if clash:
            raise ValueError(f"services.{self.ctx.instance}.delete names {', '.join(clash)}, who the file also "
                             "keeps as users; remove them from one of the two")
        state = State()
        archived = self._archived(live, named | doomed)
        keep = set(users) | {r.key for r in archived}
        for email, attrs in users.items():
            state.add(self._user(email, attrs, live, keep))
        for res in archived:
            if res.attrs["reports_to"] not in keep:  # their supervisor is leaving as well
                res.attrs["reports_to"], res.refs = None, ()
            state.add(res)
        self._places(state, dept, head, loc, groups)
        for res in live.of_kind(GROUP_MEMBER):  # groups the file does not name are left alone
            if target(res, GROUP) not in groups and target(res, USER) in keep:
                state.add(res)
        return state

    def _user(self, email: str, attrs: dict[str, Any], live: State, keep: set[str]) -> Resource:
        have = live.get(Ref(USER, email))
        old = have.attrs if have else {}
        first, last = self.ctx.directory.person(email).names()
        if not first and not last:
            first, last = old.get("first_name", email.split("@")[0]), old.get("last_name", "")
        boss = norm_email(attrs["reports_to"]) if attrs["reports_to"] else old.get("reports_to")
        if boss and not attrs["reports_to"] and boss not in keep and self.ctx.policy.authoritative:
            boss = None  # their supervisor is leaving: the service would clear it; plan it
        designation = attrs["designation"] if attrs["designation"] is not None else old.get("designation")
        spelled = self.ctx.directory.spelling.get(email, email)
        return Resource(USER, email, attrs={"first_name": first, "last_name": last, "designation": designation,
                                            "status": attrs["status"], "reports_to": boss},
                        refs=(Ref(USER, boss),) if boss else (), person=spelled,
                        display=have.display if have else spelled)

    def _archived(self, live: State, named: set[str]) -> list[Resource]:
        """Staged offboarding: live users the file no longer has, kept with status ARCHIVE until
        the grace period is over (policy ``offboarding: archive``)."""
        policy = self.ctx.policy
        if getattr(policy, "offboarding", "delete") != "archive":
            return []
        protected = set(self._who(policy.protect))
        grace = getattr(policy, "archive_grace_days", None)
        now = dt.datetime.now(dt.timezone.utc)
        out = []
        for res in live.of_kind(USER):
            if res.key in named or res.key in protected or any(fnmatch.fnmatchcase(res.key, p.lower())
                                                               for p in policy.ignore):
                continue
            since = _when(res.meta.get("updated_at"))
            if res.attrs["status"] == "ARCHIVE" and grace is not None and since and \
                    now - since >= dt.timedelta(days=grace):
                continue  # archived long enough: deleted
            kept = Resource(USER, res.key, attrs={**res.attrs, "status": "ARCHIVE"}, refs=res.refs,
                            person=res.person, display=res.display)
            out.append(kept)
        return out

    def annotate(self, op: Operation) -> None:
        """Say why an archived user is deleted now: listed under delete, or past the grace period."""
        if op.kind != USER or op.action != "delete" or op.before.attrs.get("status") != "ARCHIVE":
            return
        if op.key in {norm_email(e) for e in self.settings.delete}:
            op.summary = "deleted (listed under delete)"
            return
        policy = self.ctx.policy
        grace = getattr(policy, "archive_grace_days", None)
        since = _when(op.before.meta.get("updated_at"))
        if getattr(policy, "offboarding", "delete") == "archive" and grace is not None and since:
            op.summary = f"deleted: archived since {since.date()}, past archive_grace_days ({grace})"

    def _places(self, state: State, dept: dict[str, str], head: dict[str, bool], loc: dict[str, str],
                groups: dict[str, list[str]]) -> None:
        for name in {*self.settings.departments, *dept.values()}:
            heads = sorted(e for e, d in dept.items() if d == name and head.get(e))
            state.add(Resource(DEPARTMENT, name, display=name, meta={"heads": heads}))
        for name in {*self.settings.locations, *loc.values()}:
            state.add(Resource(LOCATION, name, display=name))
        for email, name in dept.items():
            state.add(member(DEPT_MEMBER, name, email, head=head.get(email, False)))
        for email, name in loc.items():
            state.add(member(LOC_MEMBER, name, email))
        for name, emails in groups.items():
            for email in emails:
                state.add(member(GROUP_MEMBER, name, email))

    # ---- checks -------------------------------------------------------------------------
    def check(self, desired: State, live: State) -> list[Finding]:
        issues = self._unknown_groups(desired, live)
        members = {target(r, DEPARTMENT) for r in desired.of_kind(DEPT_MEMBER)}
        for dept in desired.of_kind(DEPARTMENT):
            if dept.key not in members and dept.ref not in live:
                issues.append(Finding("error", f"department '{dept.key}' has no head: WorkDrive creates a "
                                    "department only with its head (list heads: under departments)"))
        for user in desired.of_kind(USER):
            boss = user.attrs.get("reports_to")
            if boss and Ref(USER, boss) not in desired:
                issues.append(Finding("error", f"{user.label} reports to {boss}, who is not a WorkDrive user in "
                                    "the file (add them under users, or change reports_to)"))
        archiving = [r.key for r in desired.of_kind(USER) if r.attrs["status"] == "ARCHIVE"
                     and (have := live.get(r.ref)) is not None and have.attrs["status"] != "ARCHIVE"]
        if archiving:
            issues.append(Finding("note", f"staged offboarding: {len(archiving)} user(s) archived, not deleted "
                                f"({', '.join(sorted(archiving))})"))
        return issues

    def _unknown_groups(self, desired: State, live: State) -> list[Finding]:
        known = sorted(r.key for r in live.of_kind(GROUP))
        issues = []
        for name in sorted({target(r, GROUP) for r in desired.of_kind(GROUP_MEMBER)}):
            if Ref(GROUP, name) in live:
                continue
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            issues.append(Finding("error", f"security group '{name}' does not exist in WorkDrive{hint}, and "
                                "groups cannot be created through the API; existing groups: "
                                f"{', '.join(known) or 'none'}"))
        return issues

    # ---- ordering -----------------------------------------------------------------------
    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
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
            if o.kind in (DEPT_MEMBER, LOC_MEMBER) and o.action == "create":
                # leave the old department or location before joining the new one
                yield from ((old.id, o.id) for old in leaving.get((o.kind, target(o.after, USER)), []))
        yield from self._heads_last(ops)

    def _heads_last(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
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
