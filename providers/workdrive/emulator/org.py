"""The WorkDrive emulator's departments, locations and security groups.

Each handler takes the emulator and the request; ``ROUTES`` lists them with their paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .. import api
from .records import ACTOR, OLD, ORG_ID, Refusal, Viewed, check_type, now

if TYPE_CHECKING:  # pragma: no cover
    from . import WorkDriveEmulator


# ---- helpers ----------------------------------------------------------------------------
def _found(emu: "WorkDriveEmulator", table: str, request: Request, code: str) -> dict[str, Any]:
    """The department, location or group whose id is in the path, or a 404 refusal."""
    found = emu.state[table].get(request.path_params["id"])
    if found is None:
        raise Refusal(code, ids=[request.path_params["id"]])
    return found


def _members_of(emu: "WorkDriveEmulator", field: str, ref_id: str) -> list[dict[str, Any]]:
    return list(emu.by_field(field).get(ref_id, []))


def _name(body: dict[str, Any], table: dict[str, dict[str, Any]], skip: str | None = None) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Refusal("VALIDATION_ERROR", "name is required")
    if any(t["name"].lower() == name.strip().lower() and t["id"] != skip for t in table.values()):
        raise Refusal("NAME_EXISTS", f"'{name}' is already taken")
    return name.strip()


# ---- departments ------------------------------------------------------------------------
def _dept(emu: "WorkDriveEmulator", request: Request) -> dict[str, Any]:
    return _found(emu, "departments", request, "DEPARTMENT_NOT_FOUND")


def _add_entries(emu: "WorkDriveEmulator", dept_id: str, entries: Any, field: str) -> set[str | None]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Refusal("VALIDATION_ERROR", f"{field} must be a list of {{id, isAdmin}}")
    if len(entries) > api.MAX_BATCH:
        raise Refusal("BATCH_TOO_LARGE")
    for entry in entries:  # {id uuid, isAdmin boolean, existingDept uuid, isDepartmentHead boolean}
        check_type(entry, "id", (str,), nullable=False)
        check_type(entry, "existingDept", (str,))
        check_type(entry, "isAdmin", (bool,))
        check_type(entry, "isDepartmentHead", (bool,))
    touched: set[str | None] = set()
    for user, entry in zip(emu.known_users([e.get("id") for e in entries]), entries):
        touched |= emu.place(user, dept_id, bool(entry.get("isAdmin")))
    return touched


def _stamps(record: dict[str, Any]) -> dict[str, Any]:
    """What every department and location answer carries (INVENTED: the values)."""
    return {"createdAt": record.get("createdAt", OLD), "updatedAt": record.get("updatedAt", OLD),
            "createdBy": ACTOR, "updatedBy": ACTOR}


def _dept_item(emu: "WorkDriveEmulator", dept: dict[str, Any]) -> dict[str, Any]:
    """A department in "Get All Departments"."""
    return {"id": dept["id"], "name": dept["name"], "memberCount": len(emu.by_field("department").get(dept["id"], ())),
            "admins": [emu.mini(emu.users[h]) for h in dept["heads"]]}


def _dept_record(dept: dict[str, Any]) -> dict[str, Any]:
    """A department as create, rename and the heads endpoint answer it."""
    return {"id": dept["id"], **_stamps(dept), "orgId": ORG_ID, "type": "DEPARTMENT", "name": dept["name"]}


def _dept_members(emu: "WorkDriveEmulator", dept: dict[str, Any]) -> dict[str, Any]:
    """A department with its heads' ids and its members, as the members endpoints answer it."""
    return {**_dept_record(dept), "departmentHeads": list(dept["heads"]),
            "members": [emu.mini(u) for u in _members_of(emu, "department", dept["id"])]}


async def list_departments(emu: "WorkDriveEmulator", request: Request) -> Any:
    return emu.page(request, Viewed(list(emu.departments.values()), lambda d: _dept_item(emu, d)), "departments")


async def create_department(emu: "WorkDriveEmulator", request: Request) -> Any:
    body = await emu.body(request)
    name = _name(body, emu.departments)
    members = body.get("members") or []
    if not any(isinstance(m, dict) and m.get("isAdmin") for m in members):
        raise Refusal("DEPARTMENT_HEAD_REQUIRED", "a department is created with at least one head "
                      "(a member with isAdmin: true)")
    dept = {"id": emu.new_id(), "name": name, "heads": [], "createdAt": now(), "updatedAt": now()}
    emu.departments[dept["id"]] = dept
    emu.heads_ok(_add_entries(emu, dept["id"], members, "members"))
    return _dept_record(dept)


async def rename_department(emu: "WorkDriveEmulator", request: Request) -> Any:
    dept = _dept(emu, request)
    name = _name(await emu.body(request), emu.departments, dept["id"])
    emu.keep(dept)
    dept["name"], dept["updatedAt"] = name, now()
    return _dept_record(dept)


async def delete_department(emu: "WorkDriveEmulator", request: Request) -> Any:
    dept = _dept(emu, request)
    others = [u["email"] for u in _members_of(emu, "department", dept["id"]) if u["id"] not in dept["heads"]]
    if others:
        raise Refusal("DEPARTMENT_NOT_EMPTY", emails=others)
    for head in dept["heads"]:
        emu.set_field(emu.users[head], "department", None)
    del emu.departments[dept["id"]]
    return {"id": dept["id"]}


async def department_heads(emu: "WorkDriveEmulator", request: Request) -> Any:
    dept = _dept(emu, request)
    body = await emu.body(request)
    add = body.get("add") or []
    if not isinstance(add, list) or not all(isinstance(e, dict) for e in add):
        raise Refusal("VALIDATION_ERROR", "add must be a list of {id, isAdmin, existingDept, isDepartmentHead}")
    check_type(body, "remove", (str,))  # one id, as documented
    touched = _add_entries(emu, dept["id"], [{**e, "isAdmin": True} for e in add], "add")
    if body.get("remove") is not None:
        gone = emu.user(body["remove"])["id"]
        emu.keep(dept)
        dept["heads"] = [h for h in dept["heads"] if h != gone]
    emu.heads_ok(touched | {dept["id"]})
    return _dept_record(dept)


async def department_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    return _dept_members(emu, _dept(emu, request))


async def change_department_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    dept = _dept(emu, request)
    body = await emu.body(request)
    touched = _add_entries(emu, dept["id"], body.get("addMembers") or [], "addMembers")
    for user in emu.known_users(emu.ids_list(body.get("removeMembers") or [], "removeMembers")):
        if user["department"] == dept["id"]:
            touched |= emu.place(user, None)
    emu.heads_ok(touched | {dept["id"]})
    return _dept_members(emu, dept)


# ---- locations --------------------------------------------------------------------------
def _loc(emu: "WorkDriveEmulator", request: Request) -> dict[str, Any]:
    return _found(emu, "locations", request, "LOCATION_NOT_FOUND")


def _loc_record(loc: dict[str, Any]) -> dict[str, Any]:
    return {"id": loc["id"], **_stamps(loc), "name": loc["name"], "orgId": ORG_ID}


def _loc_view(emu: "WorkDriveEmulator", loc: dict[str, Any], members: bool = False) -> dict[str, Any]:
    """A location in "Get All Locations" (with its memberCount), or with its members as the
    members endpoints answer it."""
    inside = emu.by_field("location").get(loc["id"], [])
    if members:
        return {**_loc_record(loc), "members": [emu.mini(u) for u in inside]}
    return {**_loc_record(loc), "memberCount": len(inside)}


async def list_locations(emu: "WorkDriveEmulator", request: Request) -> Any:
    return emu.page(request, Viewed(list(emu.state["locations"].values()), lambda x: _loc_view(emu, x)), "locations")


async def create_location(emu: "WorkDriveEmulator", request: Request) -> Any:
    loc = {"id": emu.new_id(), "name": _name(await emu.body(request), emu.state["locations"]),
           "createdAt": now(), "updatedAt": now()}
    emu.state["locations"][loc["id"]] = loc
    return _loc_record(loc)  # INVENTED: the document shows no answer


async def rename_location(emu: "WorkDriveEmulator", request: Request) -> Any:
    loc = _loc(emu, request)
    name = _name(await emu.body(request), emu.state["locations"], loc["id"])
    emu.keep(loc)
    loc["name"], loc["updatedAt"] = name, now()
    return _loc_record(loc)


async def delete_location(emu: "WorkDriveEmulator", request: Request) -> Any:
    loc = _loc(emu, request)
    inside = [u["email"] for u in _members_of(emu, "location", loc["id"])]
    if inside:
        raise Refusal("LOCATION_NOT_EMPTY", emails=inside)
    del emu.state["locations"][loc["id"]]
    return {"id": loc["id"]}


async def location_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    return _loc_view(emu, _loc(emu, request), members=True)


async def change_location_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    loc = _loc(emu, request)
    body = await emu.body(request)
    for user in emu.known_users(emu.ids_list(body.get("addMembers") or [], "addMembers")):
        emu.set_field(user, "location", loc["id"])
    for user in emu.known_users(emu.ids_list(body.get("removeMembers") or [], "removeMembers")):
        if user["location"] == loc["id"]:
            emu.set_field(user, "location", None)
    return _loc_view(emu, loc, members=True)


# ---- security groups --------------------------------------------------------------------
def _group(emu: "WorkDriveEmulator", request: Request) -> dict[str, Any]:
    return _found(emu, "groups", request, "GROUP_NOT_FOUND")


def _group_view(group: dict[str, Any]) -> dict[str, Any]:
    return {"id": group["id"], "name": group["name"], "memberCount": len(group["members"])}


async def list_groups(emu: "WorkDriveEmulator", request: Request) -> Any:
    return emu.page(request, [_group_view(g) for g in emu.state["groups"].values()], "groups")


async def group_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    group = _group(emu, request)
    return emu.page(request, Viewed(group["members"], lambda m: emu.mini(emu.users[m])), "users")


async def add_group_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    group = _group(emu, request)
    emu.keep(group)
    have = set(group["members"])
    for user in emu.known_users(emu.ids_list((await emu.body(request)).get("ids"), "ids")):
        if user["id"] not in have:
            group["members"].append(user["id"])
            have.add(user["id"])
    return _group_view(group)


async def remove_group_members(emu: "WorkDriveEmulator", request: Request) -> Any:
    group = _group(emu, request)
    ids = set(emu.ids_list((await emu.body(request)).get("ids"), "ids"))
    emu.keep(group)
    group["members"] = [m for m in group["members"] if m not in ids]
    return _group_view(group)


ROUTES = [
    ("GET", api.DEPARTMENTS, list_departments, 200),
    ("POST", api.DEPARTMENTS, create_department, 201),
    ("PATCH", api.DEPARTMENT, rename_department, 200),
    ("DELETE", api.DEPARTMENT, delete_department, 200),
    ("PATCH", api.DEPARTMENT_HEADS, department_heads, 200),
    ("GET", api.DEPARTMENT_MEMBERS, department_members, 200),
    ("POST", api.DEPARTMENT_MEMBERS, change_department_members, 200),
    ("GET", api.LOCATIONS, list_locations, 200),
    ("POST", api.LOCATIONS, create_location, 201),
    ("PATCH", api.LOCATION, rename_location, 200),
    ("DELETE", api.LOCATION, delete_location, 200),
    ("GET", api.LOCATION_MEMBERS, location_members, 200),
    ("POST", api.LOCATION_MEMBERS, change_location_members, 200),
    ("GET", api.SECURITY_GROUPS, list_groups, 200),
    ("GET", api.GROUP_MEMBERS, group_members, 200),
    ("POST", api.GROUP_MEMBERS, add_group_members, 200),
    ("DELETE", api.GROUP_MEMBERS, remove_group_members, 200),
]
