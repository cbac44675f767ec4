"""The WorkDrive emulator's departments, locations and security groups."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from . import api
from .emu_common import Refusal


class OrgHandlers:
    """Mixed into ``WorkDriveEmulator``; uses its shared helpers."""

    def org_routes(self) -> list[tuple[str, str, Any, int]]:
        p = "/api"
        return [
            ("GET", p + api.DEPARTMENTS, self.list_departments, 200),
            ("POST", p + api.DEPARTMENTS, self.create_department, 201),
            ("PATCH", p + api.DEPARTMENT, self.rename_department, 200),
            ("DELETE", p + api.DEPARTMENT, self.delete_department, 200),
            ("PATCH", p + api.DEPARTMENT_HEADS, self.department_heads, 200),
            ("GET", p + api.DEPARTMENT_MEMBERS, self.department_members, 200),
            ("POST", p + api.DEPARTMENT_MEMBERS, self.change_department_members, 200),
            ("GET", p + api.LOCATIONS, self.list_locations, 200),
            ("POST", p + api.LOCATIONS, self.create_location, 201),
            ("PATCH", p + api.LOCATION, self.rename_location, 200),
            ("DELETE", p + api.LOCATION, self.delete_location, 200),
            ("GET", p + api.LOCATION_MEMBERS, self.location_members, 200),
            ("POST", p + api.LOCATION_MEMBERS, self.change_location_members, 200),
            ("GET", p + api.SECURITY_GROUPS, self.list_groups, 200),
            ("POST", p + api.SECURITY_GROUPS, self.create_group, 201),
            ("GET", p + api.GROUP_MEMBERS, self.group_members, 200),
            ("POST", p + api.GROUP_MEMBERS, self.add_group_members, 200),
            ("DELETE", p + api.GROUP_MEMBERS, self.remove_group_members, 200),
        ]

    # ---- helpers ------------------------------------------------------------------------
    def _found(self, table: str, request: Request, code: str) -> dict[str, Any]:
        """The department, location or group whose id is in the path, or a 404 refusal."""
        found = self.state[table].get(request.path_params["id"])
        if found is None:
            raise Refusal(code, ids=[request.path_params["id"]])
        return found

    def _dept(self, request: Request) -> dict[str, Any]:
        return self._found("departments", request, "DEPARTMENT_NOT_FOUND")

    def _members_of(self, field: str, ref_id: str) -> list[dict[str, Any]]:
        return [u for u in self.users.values() if u[field] == ref_id]

    def _name(self, body: dict[str, Any], table: dict[str, dict[str, Any]], skip: str | None = None) -> str:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise Refusal("VALIDATION_ERROR", "name is required")
        if any(t["name"].lower() == name.strip().lower() and t["id"] != skip for t in table.values()):
            raise Refusal("NAME_EXISTS", f"'{name}' is already taken")
        return name.strip()

    def _add_entries(self, dept_id: str, entries: Any, field: str) -> set[str | None]:
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise Refusal("VALIDATION_ERROR", f"{field} must be a list of {{id, isAdmin}}")
        if len(entries) > api.MAX_BATCH:
            raise Refusal("BATCH_TOO_LARGE")
        touched: set[str | None] = set()
        for user, entry in zip(self.known_users([e.get("id") for e in entries]), entries):
            touched |= self.place(user, dept_id, bool(entry.get("isAdmin")))
        return touched

    def _dept_view(self, dept: dict[str, Any], members: bool = False) -> dict[str, Any]:
        inside = self._members_of("department", dept["id"])
        out = {"id": dept["id"], "name": dept["name"], "memberCount": len(inside),
               "admins": [self.mini(self.users[h]) for h in dept["heads"]]}
        if members:
            out.update(departmentHeads=list(dept["heads"]), members=[self.mini(u) for u in inside])
        return out

    # ---- departments --------------------------------------------------------------------
    async def list_departments(self, request: Request) -> Any:
        return self.page(request, [self._dept_view(d) for d in self.departments.values()], "departments")

    async def create_department(self, request: Request) -> Any:
        body = await self.body(request)
        name = self._name(body, self.departments)
        members = body.get("members") or []
        if not any(isinstance(m, dict) and m.get("isAdmin") for m in members):
            raise Refusal("DEPARTMENT_HEAD_REQUIRED", "a department is created with at least one head "
                          "(a member with isAdmin: true)")
        dept = {"id": self.new_id(), "name": name, "heads": []}
        self.departments[dept["id"]] = dept
        self.heads_ok(self._add_entries(dept["id"], members, "members"))
        return self._dept_view(dept)

    async def rename_department(self, request: Request) -> Any:
        dept = self._dept(request)
        dept["name"] = self._name(await self.body(request), self.departments, dept["id"])
        return self._dept_view(dept)

    async def delete_department(self, request: Request) -> Any:
        dept = self._dept(request)
        others = [u["email"] for u in self._members_of("department", dept["id"]) if u["id"] not in dept["heads"]]
        if others:
            raise Refusal("DEPARTMENT_NOT_EMPTY", emails=others)
        for head in dept["heads"]:
            self.users[head]["department"] = None
        del self.departments[dept["id"]]
        return {"id": dept["id"]}

    async def department_heads(self, request: Request) -> Any:
        dept = self._dept(request)
        body = await self.body(request)
        touched = self._add_entries(dept["id"], [{**e, "isAdmin": True} for e in body.get("add") or []], "add")
        if body.get("remove") is not None:
            dept["heads"] = [h for h in dept["heads"] if h != self.user(body["remove"])["id"]]
        self.heads_ok(touched | {dept["id"]})
        return self._dept_view(dept)

    async def department_members(self, request: Request) -> Any:
        return self._dept_view(self._dept(request), members=True)

    async def change_department_members(self, request: Request) -> Any:
        dept = self._dept(request)
        body = await self.body(request)
        touched = self._add_entries(dept["id"], body.get("addMembers") or [], "addMembers")
        for user in self.known_users(self.ids_list(body.get("removeMembers") or [], "removeMembers")):
            if user["department"] == dept["id"]:
                touched |= self.place(user, None)
        self.heads_ok(touched | {dept["id"]})
        return self._dept_view(dept, members=True)

    # ---- locations ----------------------------------------------------------------------
    def _loc(self, request: Request) -> dict[str, Any]:
        return self._found("locations", request, "LOCATION_NOT_FOUND")

    def _loc_view(self, loc: dict[str, Any], members: bool = False) -> dict[str, Any]:
        inside = self._members_of("location", loc["id"])
        out = {"id": loc["id"], "name": loc["name"], "memberCount": len(inside)}
        return {**out, "members": [self.mini(u) for u in inside]} if members else out

    async def list_locations(self, request: Request) -> Any:
        return self.page(request, [self._loc_view(x) for x in self.state["locations"].values()], "locations")

    async def create_location(self, request: Request) -> Any:
        loc = {"id": self.new_id(), "name": self._name(await self.body(request), self.state["locations"])}
        self.state["locations"][loc["id"]] = loc
        return self._loc_view(loc)

    async def rename_location(self, request: Request) -> Any:
        loc = self._loc(request)
        loc["name"] = self._name(await self.body(request), self.state["locations"], loc["id"])
        return self._loc_view(loc)

    async def delete_location(self, request: Request) -> Any:
        loc = self._loc(request)
        inside = [u["email"] for u in self._members_of("location", loc["id"])]
        if inside:
            raise Refusal("LOCATION_NOT_EMPTY", emails=inside)
        del self.state["locations"][loc["id"]]
        return {"id": loc["id"]}

    async def location_members(self, request: Request) -> Any:
        return self._loc_view(self._loc(request), members=True)

    async def change_location_members(self, request: Request) -> Any:
        loc = self._loc(request)
        body = await self.body(request)
        for user in self.known_users(self.ids_list(body.get("addMembers") or [], "addMembers")):
            user["location"] = loc["id"]
        for user in self.known_users(self.ids_list(body.get("removeMembers") or [], "removeMembers")):
            if user["location"] == loc["id"]:
                user["location"] = None
        return self._loc_view(loc, members=True)

    # ---- security groups ----------------------------------------------------------------
    def _group(self, request: Request) -> dict[str, Any]:
        return self._found("groups", request, "GROUP_NOT_FOUND")

    async def list_groups(self, request: Request) -> Any:
        groups = [{"id": g["id"], "name": g["name"], "memberCount": len(g["members"])}
                  for g in self.state["groups"].values()]
        return self.page(request, groups, "groups")

    async def create_group(self, request: Request) -> Any:
        raise Refusal("VALIDATION_ERROR", "security groups cannot be created through the API")

    async def group_members(self, request: Request) -> Any:
        group = self._group(request)
        return self.page(request, [self.mini(self.users[m]) for m in group["members"]], "users")

    async def add_group_members(self, request: Request) -> Any:
        group = self._group(request)
        for user in self.known_users(self.ids_list((await self.body(request)).get("ids"), "ids")):
            if user["id"] not in group["members"]:
                group["members"].append(user["id"])
        return {"id": group["id"], "name": group["name"], "memberCount": len(group["members"])}

    async def remove_group_members(self, request: Request) -> Any:
        group = self._group(request)
        ids = set(self.ids_list((await self.body(request)).get("ids"), "ids"))
        group["members"] = [m for m in group["members"] if m not in ids]
        return {"id": group["id"], "name": group["name"], "memberCount": len(group["members"])}
