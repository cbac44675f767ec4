"""WorkDrive into resources and back: the live state (``fetch``), the state the file wants
(``desired``), and the file that describes a live state (``export``).

Reading: department and location membership come from the users list (each user names one
department and one location); heads from each department's ``admins``; security-group members
from one paged list per group. The base's ``pages()`` follows each list to
``meta.totalResults``: a page that fails, an answer without ``meta``, or fewer items than it says
raises ``IncompleteRead``, and the plan for the service is aborted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from teamform.provider import IncompleteRead, NumberedPages, Ref, Resource, State, norm_email

from . import api
from .settings import placements, who_of

if TYPE_CHECKING:  # pragma: no cover
    from . import WorkDriveProvider

USER, DEPARTMENT, DEPT_MEMBER = "user", "department", "department_member"
LOCATION, LOC_MEMBER, GROUP, GROUP_MEMBER = "location", "location_member", "security_group", "group_member"
#: membership kind -> the kind of what it is a membership of
MEMBERSHIP = {DEPT_MEMBER: DEPARTMENT, LOC_MEMBER: LOCATION, GROUP_MEMBER: GROUP}
USER_FIELDS = ("designation", "reports_to", "status", "department", "location")


def member(kind: str, name: str, email: str, **attrs: Any) -> Resource:
    email = norm_email(email)
    return Resource(kind, f"{name}/{email}", attrs=dict(attrs), refs=(Ref(MEMBERSHIP[kind], name), Ref(USER, email)),
                    person=email)


def target(res: Resource, kind: str) -> str:
    """The key of what ``res`` refers to of ``kind`` (a membership's department, its user)."""
    return next(r.key for r in res.refs if r.kind == kind)


def when(stamp: str | None) -> dt.datetime | None:
    """A WorkDrive timestamp (``updatedAt``), or ``None`` when there is none."""
    try:
        return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def listing(key: str, size: int) -> NumberedPages:
    """WorkDrive's paging: ``?cur_page=N&per_page=S``, the items under ``key``, the count in
    ``meta.totalResults``."""
    return NumberedPages(key, total="meta.totalResults", size=size, page_param="cur_page", size_param="per_page")


# ---- live ---------------------------------------------------------------------------------
async def fetch(p: "WorkDriveProvider") -> State:
    """Every list, whole; the service ids go to ``p.ids`` for the writers."""
    size = p.settings.page_size
    users, depts, locs, groups = await asyncio.gather(
        *(p.pages(path, listing(key, size), what=key) for path, key in (
            (api.USERS, "users"), (api.DEPARTMENTS, "departments"), (api.LOCATIONS, "locations"),
            (api.SECURITY_GROUPS, "groups"))))
    grouped = await asyncio.gather(*(
        p.pages(api.GROUP_MEMBERS.format(id=g["id"]), listing("users", size), what=f"the members of {g['name']}")
        for g in groups))
    p.ids.clear()
    state = State()
    _read_users(p, state, users)
    _read_places(p, state, users, depts, locs)
    for group, members in zip(groups, grouped):
        state.add(Resource(GROUP, group["name"], id=group["id"], display=group["name"]))
        p.ids[(GROUP, group["name"])] = group["id"]
        for m in members:
            state.add(member(GROUP_MEMBER, group["name"], m["email"]))
    return state


def _read_users(p: "WorkDriveProvider", state: State, users: list[dict[str, Any]]) -> None:
    by_id = {u["id"]: u for u in users}
    for u in users:
        boss = by_id.get(u.get("reportsTo") or "")
        boss_email = norm_email(boss["email"]) if boss else None
        status = u.get("status") or "ACTIVE"
        pending = status in api.PENDING_STATUSES
        attrs = {"first_name": u.get("firstName") or "", "last_name": u.get("lastName") or "",
                 "designation": u.get("designation"), "status": "ACTIVE" if pending else status,
                 "reports_to": boss_email}
        state.add(Resource(USER, norm_email(u["email"]), attrs=attrs,
                           refs=(Ref(USER, boss_email),) if boss_email else (), person=u["email"],
                           display=u["email"], id=u["id"], pending=pending,
                           meta={"updated_at": u.get("updatedAt"), "status": status}))
        p.ids[(USER, norm_email(u["email"]))] = u["id"]


def _read_places(p: "WorkDriveProvider", state: State, users: list[dict[str, Any]], depts: list[dict[str, Any]],
                 locs: list[dict[str, Any]]) -> None:
    dept_by_id = {d["id"]: d for d in depts}
    loc_by_id = {x["id"]: x for x in locs}
    for table, kind in ((depts, DEPARTMENT), (locs, LOCATION)):
        for item in table:
            state.add(Resource(kind, item["name"], id=item["id"], display=item["name"]))
            p.ids[(kind, item["name"])] = item["id"]
    for u in users:
        dept_id = u.get("department")
        loc_id = (u.get("location") or {}).get("id")
        if dept_id:
            dept = dept_by_id.get(dept_id)
            if dept is None:
                raise IncompleteRead(f"{u['email']} is in department {dept_id}, missing from the department list")
            head = any(a.get("id") == u["id"] for a in dept.get("admins") or [])
            p.ids[("user_department", norm_email(u["email"]))] = dept_id
            state.add(member(DEPT_MEMBER, dept["name"], u["email"], head=head))
        if loc_id:
            if loc_id not in loc_by_id:
                raise IncompleteRead(f"{u['email']} is in location {loc_id}, missing from the location list")
            state.add(member(LOC_MEMBER, loc_by_id[loc_id]["name"], u["email"]))


# ---- desired ------------------------------------------------------------------------------
def desired(p: "WorkDriveProvider", live: State) -> State:
    users = p.wanted(p.settings.users, attrs=lambda m: {k: getattr(m, k) for k in USER_FIELDS}, field="users")
    dept, head, loc = placements(p.settings, p.ctx.directory, users, f"services.{p.ctx.instance}: ")
    groups = {name: who_of(p.ctx.directory, members) for name, members in p.settings.security_groups.items()}
    named = set(users) | set(dept) | set(loc) | {e for g in groups.values() for e in g}
    for email in named:
        users.setdefault(email, {"designation": None, "reports_to": None, "status": "ACTIVE"})
    doomed = {norm_email(e) for e in p.settings.delete}
    clash = sorted(doomed & named)
    if clash:
        raise ValueError(f"services.{p.ctx.instance}.delete names {', '.join(clash)}, who the file also "
                         "keeps as users; remove them from one of the two")
    state = State()
    archived = _archived(p, live, named | doomed)
    keep = set(users) | {r.key for r in archived}
    for email, attrs in users.items():
        state.add(_user(p, email, attrs, live, keep))
    for res in archived:
        if res.attrs["reports_to"] not in keep:  # their supervisor is leaving as well
            res.attrs["reports_to"], res.refs = None, ()
        state.add(res)
    _places(p, state, dept, head, loc, groups)
    for res in live.of_kind(GROUP_MEMBER):  # groups the file does not name are left alone
        if target(res, GROUP) not in groups and target(res, USER) in keep:
            state.add(res)
    return state


def _user(p: "WorkDriveProvider", email: str, attrs: dict[str, Any], live: State, keep: set[str]) -> Resource:
    have = live.get(Ref(USER, email))
    old = have.attrs if have else {}
    first, last = p.ctx.directory.person(email).names()
    if not first and not last:
        first, last = old.get("first_name", email.split("@")[0]), old.get("last_name", "")
    boss = norm_email(attrs["reports_to"]) if attrs["reports_to"] else old.get("reports_to")
    if boss and not attrs["reports_to"] and boss not in keep and p.ctx.policy.authoritative:
        boss = None  # their supervisor is leaving: the service would clear it; plan it
    designation = attrs["designation"] if attrs["designation"] is not None else old.get("designation")
    spelled = p.spelling(email)
    return Resource(USER, email, attrs={"first_name": first, "last_name": last, "designation": designation,
                                        "status": attrs["status"], "reports_to": boss},
                    refs=(Ref(USER, boss),) if boss else (), person=spelled,
                    display=have.display if have else spelled)


def past_grace(p: "WorkDriveProvider", res: Resource, now: dt.datetime) -> bool:
    """Has this archived user been archived (unchanged) for ``archive_grace_days``?"""
    grace = getattr(p.ctx.policy, "archive_grace_days", None)
    since = when(res.meta.get("updated_at"))
    return res.attrs["status"] == "ARCHIVE" and grace is not None and since is not None and \
        now - since >= dt.timedelta(days=grace)


def _archived(p: "WorkDriveProvider", live: State, named: set[str]) -> list[Resource]:
    """Staged offboarding: live users the file no longer has, kept with status ARCHIVE until
    the grace period is over (policy ``offboarding: archive``). The engine's policy decides who
    is left alone: ``protect`` (and the identity teamform acts as), and ``ignore`` globs matched
    on the key and the person, as the planner matches them."""
    if getattr(p.ctx.policy, "offboarding", "delete") != "archive":
        return []
    protected = p.protected(live)
    now = dt.datetime.now(dt.timezone.utc)
    out = []
    for res in live.of_kind(USER):
        if res.key in named or res.key in protected or p.ignored(res) or past_grace(p, res, now):
            continue
        out.append(Resource(USER, res.key, attrs={**res.attrs, "status": "ARCHIVE"}, refs=res.refs,
                            person=res.person, display=res.display))
    return out


def _places(p: "WorkDriveProvider", state: State, dept: dict[str, str], head: dict[str, bool],
            loc: dict[str, str], groups: dict[str, list[str]]) -> None:
    for name in {*p.settings.departments, *dept.values()}:
        heads = sorted(e for e, d in dept.items() if d == name and head.get(e))
        state.add(Resource(DEPARTMENT, name, display=name, meta={"heads": heads}))
    for name in {*p.settings.locations, *loc.values()}:
        state.add(Resource(LOCATION, name, display=name))
    for email, name in dept.items():
        state.add(member(DEPT_MEMBER, name, email, head=head.get(email, False)))
    for email, name in loc.items():
        state.add(member(LOC_MEMBER, name, email))
    for name, emails in groups.items():
        for email in emails:
            state.add(member(GROUP_MEMBER, name, email))


# ---- import -------------------------------------------------------------------------------
def export(live: State) -> dict[str, Any]:
    users = []
    for r in sorted(live.of_kind(USER), key=lambda r: r.key):
        entry: dict[str, Any] = {"who": r.key}
        entry.update({k: r.attrs[k] for k in ("designation", "reports_to") if r.attrs.get(k)})
        if r.attrs["status"] != "ACTIVE":
            entry["status"] = r.attrs["status"]
        users.append(entry)
    departments: dict[str, Any] = {d.key: {"heads": [], "members": []} for d in live.of_kind(DEPARTMENT)}
    for m in live.of_kind(DEPT_MEMBER):
        departments[target(m, DEPARTMENT)]["heads" if m.attrs["head"] else "members"].append(target(m, USER))
    return {"users": users, "departments": departments,
            "locations": _grouped(live, LOCATION, LOC_MEMBER), "security_groups": _grouped(live, GROUP, GROUP_MEMBER)}


def _grouped(live: State, kind: str, member_kind: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r.key: [] for r in live.of_kind(kind)}
    for m in live.of_kind(member_kind):
        out[target(m, kind)].append(target(m, USER))
    return {k: sorted(v) for k, v in out.items() if v or kind != GROUP}
