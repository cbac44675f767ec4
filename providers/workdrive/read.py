"""Reading WorkDrive into resources: every page of every list, checked against ``meta``.

Department and location membership come from the users list (each user names one department
and one location); heads from each department's ``admins``; security-group members from one
paged list per group. The base's ``pages()`` follows each list to ``meta.totalResults``: a page
that fails, an answer without ``meta``, or fewer items than it says raises ``IncompleteRead``,
and the plan for the service is aborted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from teamform.model import Ref, Resource, State, norm_email
from teamform.provider import IncompleteRead, NumberedPages

from . import api

USER, DEPARTMENT, DEPT_MEMBER = "user", "department", "department_member"
LOCATION, LOC_MEMBER, GROUP, GROUP_MEMBER = "location", "location_member", "security_group", "group_member"
#: membership kind -> the kind of what it is a membership of
MEMBERSHIP = {DEPT_MEMBER: DEPARTMENT, LOC_MEMBER: LOCATION, GROUP_MEMBER: GROUP}


def member(kind: str, name: str, email: str, **attrs: Any) -> Resource:
    email = norm_email(email)
    return Resource(kind, f"{name}/{email}", attrs=dict(attrs), refs=(Ref(MEMBERSHIP[kind], name), Ref(USER, email)),
                    person=email)


def target(res: Resource, kind: str) -> str:
    """The key of what ``res`` refers to of ``kind`` (a membership's department, its user)."""
    return next(r.key for r in res.refs if r.kind == kind)


def listing(key: str, size: int) -> NumberedPages:
    """WorkDrive's paging: ``?cur_page=N&per_page=S``, the items under ``key``, the count in
    ``meta.totalResults``."""
    return NumberedPages(key, total="meta.totalResults", size=size, page_param="cur_page", size_param="per_page")


class Reader:
    """Mixed into the provider: ``fetch`` and the id cache the writers use."""

    def _remember(self, kind: str, key: str, ident: Any) -> None:
        self.ids[(kind, key)] = ident

    async def fetch(self) -> State:
        size = self.settings.page_size
        users, depts, locs, groups = await asyncio.gather(
            *(self.pages(path, listing(key, size), what=key) for path, key in (
                (api.USERS, "users"), (api.DEPARTMENTS, "departments"), (api.LOCATIONS, "locations"),
                (api.SECURITY_GROUPS, "groups"))))
        grouped = await asyncio.gather(*(
            self.pages(api.GROUP_MEMBERS.format(id=g["id"]), listing("users", size), what=f"the members of {g['name']}")
            for g in groups))
        self.ids.clear()
        state = State()
        by_id = {u["id"]: u for u in users}
        self._read_users(state, users, by_id)
        self._read_places(state, users, depts, locs)
        for group, members in zip(groups, grouped):
            state.add(Resource(GROUP, group["name"], id=group["id"], display=group["name"]))
            self._remember(GROUP, group["name"], group["id"])
            for m in members:
                state.add(member(GROUP_MEMBER, group["name"], m["email"]))
        return state

    def _read_users(self, state: State, users: list[dict[str, Any]], by_id: dict[str, Any]) -> None:
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
            self._remember(USER, norm_email(u["email"]), u["id"])

    def _read_places(self, state: State, users: list[dict[str, Any]], depts: list[dict[str, Any]],
                     locs: list[dict[str, Any]]) -> None:
        dept_by_id = {d["id"]: d for d in depts}
        loc_by_id = {x["id"]: x for x in locs}
        for table, kind in ((depts, DEPARTMENT), (locs, LOCATION)):
            for item in table:
                state.add(Resource(kind, item["name"], id=item["id"], display=item["name"]))
                self._remember(kind, item["name"], item["id"])
        for u in users:
            dept_id = u.get("department")
            loc_id = (u.get("location") or {}).get("id")
            if dept_id:
                dept = dept_by_id.get(dept_id)
                if dept is None:
                    raise IncompleteRead(f"{u['email']} is in department {dept_id}, missing from the department list")
                head = any(a.get("id") == u["id"] for a in dept.get("admins") or [])
                self._remember("user_department", norm_email(u["email"]), dept_id)
                state.add(member(DEPT_MEMBER, dept["name"], u["email"], head=head))
            if loc_id:
                if loc_id not in loc_by_id:
                    raise IncompleteRead(f"{u['email']} is in location {loc_id}, missing from the location list")
                state.add(member(LOC_MEMBER, loc_by_id[loc_id]["name"], u["email"]))
