"""WorkDrive into resources and back: the live state (``fetch``), the state the file wants
(``desired``), and the file that describes a live state (``export``).

Reading: department and location membership come from the users list (each user names one
department and one location); heads from each department's ``admins``; security-group members
from one paged list per group (an endpoint the document does not have: a 404 leaves that
group's members alone, with a warning). The base's ``pages()`` follows each list as
``WorkDrivePages`` says: a page that fails, an answer without ``meta``, fewer items than
``meta.totalResults``, an item listed twice or a list that does not end raises
``IncompleteRead``, and the plan for the service is aborted. A field of the wrong shape (a list
where an email is expected) is an ``IncompleteRead`` naming the list and the field.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from teamform.provider import IncompleteRead, Page, Ref, Resource, State, norm_email

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
    return Resource(kind, f"{name}/{email}", attrs=attrs, refs=(Ref(MEMBERSHIP[kind], name), Ref(USER, email)),
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


@dataclass
class WorkDrivePages:
    """WorkDrive's paging (NOTES.md): ``?cur_page=N&per_page=S``, the items under ``items``, and
    ``meta.totalPages`` (when to stop) and ``meta.totalResults`` (how many to expect).

    Robust to a service that differs from the document: one that answers everything at once, or
    pages with its own size (smaller or larger) whatever ``per_page`` asks, reads the same (``totalPages`` says how
    many pages); one that ignores ``cur_page`` repeats what was read already, and an item listed
    twice (the same id on two pages: the list moved while it was read, or the paging is ignored)
    is an incomplete read, as is a list that goes on past the ``totalPages`` its first page gave."""

    items: str
    per_page: int
    #: what the base's ``pages()`` takes for the page size: 0, so that a service paging with a
    #: larger size than ``per_page`` asked is not taken for one that does not page (its
    #: ``totalPages`` says whether more follow, not the size of its pages)
    size: int = 0
    answers: int = 0  # pages parsed so far (the base's ``pages()`` parses them in order)
    first_pages: int | None = None
    ids: set = field(default_factory=set)

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {api.PAGE_PARAM: index + 1, api.SIZE_PARAM: self.per_page}

    def parse(self, body: Any) -> Page:
        if not isinstance(body, dict):
            raise TypeError(f"the answer is {type(body).__name__}, not an object with '{self.items}' and 'meta'")
        items = body.get(self.items)
        if not isinstance(items, list):
            raise TypeError(f"'{self.items}' is {type(items).__name__}, not a list")
        meta = body.get("meta")
        if not isinstance(meta, dict):
            raise TypeError(f"'meta' is {type(meta).__name__}, not an object with totalPages")
        pages, total = _count(meta, "totalPages"), _count(meta, "totalResults")
        if pages is None and total is None:
            raise ValueError("'meta' has neither totalPages nor totalResults")
        self.answers += 1
        if self.first_pages is None:
            self.first_pages = pages
        elif pages is not None and self.answers > max(self.first_pages, 1) + 1:
            raise ValueError(f"page {self.answers} still says more follow, past the {self.first_pages} "
                             "pages the first answer gave: the list does not end")
        for item in items:
            key = item.get("id") if isinstance(item, dict) else None
            if isinstance(key, str):
                if key in self.ids:
                    raise ValueError(f"'{self.items}' lists {key} twice (on page {self.answers} again): the "
                                     "list moved while it was read, or the service ignores cur_page")
                self.ids.add(key)
        return Page(items, total, more=self.answers < pages if pages is not None else None, pages=pages)


def _count(meta: dict[str, Any], name: str) -> int | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise ValueError(f"'meta.{name}' is {value!r}, not a count")
    return int(value)


def listing(key: str, size: int) -> WorkDrivePages:
    return WorkDrivePages(key, size)


class Shape(IncompleteRead):
    """An answer with a field of the wrong shape: the read cannot be trusted."""


def field_of(item: Any, name: str, types: tuple[type, ...], what: str, *, required: bool = False) -> Any:
    """``item[name]`` if it is one of ``types`` (or absent/null when not required), else ``Shape``
    naming the service, the list and the field."""
    if not isinstance(item, dict):
        raise Shape(f"WorkDrive: {what} holds {JSON_TYPES.get(type(item), type(item).__name__)}, not an object")
    value = item.get(name)
    if value is None and not required:
        return None
    if type(value) in types:  # the usual answer, decided at once (asked ~10 times a user at scale)
        return value
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        want = " or ".join(JSON_TYPES.get(t, t.__name__) for t in types)
        got = JSON_TYPES.get(type(value), type(value).__name__)
        raise Shape(f"WorkDrive: {what} has {name} = {str(value)[:60]!r} ({got}), not {want}")
    return value


JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "true/false", list: "a list",
              dict: "an object", type(None): "null"}


# ---- live ---------------------------------------------------------------------------------
#: the lists each kind is read from (a read-back reads only these)
ALL = ("users", "departments", "locations", "groups")
NEEDS = {USER: ("users",), DEPARTMENT: ("departments",), DEPT_MEMBER: ("users", "departments"),
         LOCATION: ("locations",), LOC_MEMBER: ("users", "locations"), GROUP: ("groups",),
         GROUP_MEMBER: ("groups",)}
PATHS = {"users": api.USERS, "departments": api.DEPARTMENTS, "locations": api.LOCATIONS,
         "groups": api.SECURITY_GROUPS}
UNLISTED = "unlisted_groups"  # State.facts: groups whose member list answered 404


async def fetch(p: "WorkDriveProvider", parts: Sequence[str] = ALL, group: str | None = None) -> State:
    """Every list, whole (``parts``: only these lists, and with ``group`` only that group's
    members, for a cheap read-back); the service ids go to ``p.ids`` for the writers."""
    size = p.settings.page_size
    read = await asyncio.gather(*(p.pages(PATHS[part], listing(part, size), what=f"the {part} list")
                                  for part in parts), return_exceptions=True)
    for failed in read:  # every list read to its end or failure; the first in order says why
        if isinstance(failed, BaseException):
            raise failed
    got = dict(zip(parts, read))
    if tuple(parts) == ALL:
        p.ids.clear()
    state = State()
    if "users" in got:
        _read_users(p, state, got["users"])
    for part, kind in (("departments", DEPARTMENT), ("locations", LOCATION)):
        if part in got:
            _read_named(p, state, got[part], kind)
    if "users" in got:
        _read_memberships(p, state, got["users"], got.get("departments"), got.get("locations"))
    if "groups" in got:
        await _read_groups(p, state, got["groups"], group)
    return state


async def _read_groups(p: "WorkDriveProvider", state: State, groups: list[Any], only: str | None) -> None:
    named = [g for g in groups if only is None or field_of(g, "name", (str,), "a security group") == only]
    for g in groups:
        gid = field_of(g, "id", (str, int), "a security group", required=True)
        name = field_of(g, "name", (str,), "a security group", required=True)
        state.add(Resource(GROUP, name, id=gid, display=name))
        p.ids[(GROUP, name)] = gid
    listed = await asyncio.gather(*(_group_members(p, g) for g in named))
    state.facts[UNLISTED] = sorted(g["name"] for g, members in zip(named, listed) if members is None)
    for g, members in zip(named, listed):
        for m in members or []:
            email = field_of(m, "email", (str,), f"the members of {g['name']}", required=True)
            state.add(member(GROUP_MEMBER, g["name"], email))


async def _group_members(p: "WorkDriveProvider", group: dict[str, Any]) -> list[Any] | None:
    """A group's members, or ``None`` when the service has no member list (404 on the first
    page: the document has no such endpoint)."""
    paging = listing("users", p.settings.page_size)
    try:
        return await p.pages(api.GROUP_MEMBERS.format(id=group["id"]), paging, what=f"the members of {group['name']}")
    except IncompleteRead as exc:
        if exc.status == 404 and paging.answers == 0:  # the first page: no member list at all
            return None
        raise


def _read_users(p: "WorkDriveProvider", state: State, users: list[Any]) -> None:
    by_id = {field_of(u, "id", (str, int), "the users list", required=True): u for u in users}
    ids, add, pending_statuses = p.ids, state.add, api.PENDING_STATUSES
    for u in users:
        email = field_of(u, "email", (str,), "the users list", required=True)
        key, what = norm_email(email), f"user {email}"
        boss = by_id.get(field_of(u, "reportsTo", (str, int), what))
        boss_email = norm_email(boss["email"]) if boss else None
        status = field_of(u, "status", (str,), what) or "ACTIVE"
        pending = status in pending_statuses
        attrs = {"first_name": field_of(u, "firstName", (str,), what) or "",
                 "last_name": field_of(u, "lastName", (str,), what) or "",
                 "designation": field_of(u, "designation", (str,), what),
                 "status": "ACTIVE" if pending else status, "reports_to": boss_email}
        add(Resource(USER, key, attrs=attrs, refs=(Ref(USER, boss_email),) if boss_email else (), person=email,
                     display=email, id=u["id"], pending=pending,
                     invited_at=u.get("createdAt") if pending else None,  # invited when created
                     meta={"updated_at": u.get("updatedAt"), "status": status}))
        ids[(USER, key)] = u["id"]


def _read_named(p: "WorkDriveProvider", state: State, table: list[Any], kind: str) -> None:
    for item in table:
        item_id = field_of(item, "id", (str, int), f"the {kind} list", required=True)
        name = field_of(item, "name", (str,), f"the {kind} list", required=True)
        state.add(Resource(kind, name, id=item_id, display=name))
        p.ids[(kind, name)] = item_id


def place_id(value: Any, place: str, email: str) -> Any:
    """A user's ``place`` (department or location): an id, or an object with one (the document
    shows ``department`` as a string and ``location`` as an object), or nothing."""
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value or None
    what = f"the {place} of {email}"  # (made only when needed: asked twice a user at scale)
    if isinstance(value, dict):
        return field_of(value, "id", (str, int), what) if value else None
    raise Shape(f"WorkDrive: {what} is {JSON_TYPES.get(type(value), type(value).__name__)}, not an id or an object "
                "with one")


def _heads(dept: dict[str, Any]) -> set[Any]:
    """The ids of a department's heads (its ``admins``)."""
    admins = field_of(dept, "admins", (list,), f"department {dept['name']}") or []
    return {field_of(a, "id", (str, int), f"the heads of {dept['name']}") for a in admins}


def _read_memberships(p: "WorkDriveProvider", state: State, users: list[dict[str, Any]],
                      depts: list[dict[str, Any]] | None, locs: list[dict[str, Any]] | None) -> None:
    dept_by_id = {d["id"]: d for d in depts or []}
    loc_by_id = {x["id"]: x for x in locs or []}
    heads: dict[Any, set[Any]] = {}  # by department id: read once per department, not once per member
    ids, add = p.ids, state.add
    for u in users:
        email = u["email"]
        key = norm_email(email)
        dept_id = place_id(u.get("department"), "department", email)
        loc_id = place_id(u.get("location"), "location", email)
        ids[("user_department", key)] = dept_id  # None: in no department (now)
        head = False
        if dept_id and depts is not None:
            dept = dept_by_id.get(dept_id)
            if dept is None:
                raise IncompleteRead(f"{email} is in department {dept_id}, missing from the department list")
            ids_of_heads = heads.get(dept_id)
            if ids_of_heads is None:
                ids_of_heads = heads[dept_id] = _heads(dept)
            head = u["id"] in ids_of_heads
            add(member(DEPT_MEMBER, dept["name"], key, head=head))
        if depts is not None:
            ids[("user_is_head", key)] = head
        if loc_id and locs is not None:
            if loc_id not in loc_by_id:
                raise IncompleteRead(f"{email} is in location {loc_id}, missing from the location list")
            add(member(LOC_MEMBER, loc_by_id[loc_id]["name"], key))


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
        have = live.get(Ref(USER, email))
        res = _user(p, email, attrs, have, keep)
        if have is None:  # a new user: the places they join that exist, for the create call
            res.meta = {**res.meta, "places": {
                "department": dept.get(email) if live.get(Ref(DEPARTMENT, dept.get(email, ""))) else None,
                "head": head.get(email, False),
                "location": loc.get(email) if live.get(Ref(LOCATION, loc.get(email, ""))) else None}}
        state.add(res)
    for res in archived:
        if res.attrs["reports_to"] not in keep:  # their supervisor is leaving as well
            res.attrs["reports_to"], res.refs = None, ()
        state.add(res)
    unlisted = set(live.facts.get(UNLISTED, ()))  # their members cannot be read: left alone (check warns)
    _places(p, state, dept, head, loc, {n: m for n, m in groups.items() if n not in unlisted})
    for res in live.of_kind(GROUP_MEMBER):  # groups the file does not name are left alone
        if target(res, GROUP) not in groups and target(res, USER) in keep:
            state.add(res)
    return state


def _user(p: "WorkDriveProvider", email: str, attrs: dict[str, Any], have: Resource | None,
          keep: set[str]) -> Resource:
    """The desired user ``email`` (``have``: the live one, if any)."""
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
    grace = p.ctx.policy.staged().remove_after_days
    since = when(res.meta.get("updated_at"))
    return res.attrs["status"] == "ARCHIVE" and grace is not None and since is not None and \
        now - since >= dt.timedelta(days=grace)


def _archived(p: "WorkDriveProvider", live: State, named: set[str]) -> list[Resource]:
    """Staged offboarding: live users the file no longer has, kept with status ARCHIVE until
    the grace period is over (policy ``offboarding: archive``). The engine's policy decides who
    is left alone: ``protect`` (and the identity teamform acts as), and ``ignore`` globs matched
    on the key and the person, as the planner matches them."""
    if not p.ctx.policy.staged().suspend_first:
        return []
    protected = p.protected(live)
    today = p.ctx.directory.today  # the plan's day (injected), so the plan is the same all day
    now = dt.datetime.combine(today, dt.time(), dt.timezone.utc) if today else dt.datetime.now(dt.timezone.utc)
    out = []
    for res in live.of_kind(USER):
        if res.key in named or res.key in protected or p.ignored(res) or past_grace(p, res, now):
            continue
        out.append(Resource(USER, res.key, attrs={**res.attrs, "status": "ARCHIVE"}, refs=res.refs,
                            person=res.person, display=res.display))
    return out


def _places(p: "WorkDriveProvider", state: State, dept: dict[str, str], head: dict[str, bool],
            loc: dict[str, str], groups: dict[str, list[str]]) -> None:
    heads: dict[str, list[str]] = {}  # by department, in one pass (per department it was quadratic)
    for email, name in dept.items():
        if head.get(email):
            heads.setdefault(name, []).append(email)
    for name in {*p.settings.departments, *dept.values()}:
        state.add(Resource(DEPARTMENT, name, display=name, meta={"heads": sorted(heads.get(name, ()))}))
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
