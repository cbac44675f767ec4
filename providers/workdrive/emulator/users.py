"""The WorkDrive emulator's user endpoints (list, add, bulk create, update, delete, bulk delete).

Each handler takes the emulator and the request; ``ROUTES`` lists them with their paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .. import api
from .records import ACTOR, ORG_ID, Refusal, Viewed, check_list, check_type, new_user, now

if TYPE_CHECKING:  # pragma: no cover
    from . import WorkDriveEmulator

USER_FIELDS = ("firstName", "lastName", "designation", "phone", "bio")
#: PATCH's availability is a word; the user record answers a number (both as documented)
AVAILABILITY = {"ACTIVE": 1, "AWAY": 0}  # INVENTED: which number each word is


def view(emu: "WorkDriveEmulator", user: dict[str, Any]) -> dict[str, Any]:
    """A user as the document's "Get All Users" example shows one."""
    dept = emu.departments.get(user["department"] or "")
    loc = emu.state["locations"].get(user["location"] or "")
    boss = emu.users.get(user["reportsTo"] or "")
    return {"id": user["id"], "createdAt": user["createdAt"], "updatedAt": user["updatedAt"],
            "createdBy": ACTOR, "updatedBy": ACTOR, "orgId": ORG_ID, "userName": user["email"].split("@")[0],
            "email": user["email"], "status": user["status"], "firstName": user["firstName"],
            "lastName": user["lastName"], "picture": {}, "cover": {}, "bio": user.get("bio"),
            "phone": user.get("phone"), "reportsTo": user["reportsTo"], "designation": user["designation"],
            "department": user["department"], "isDepartmentHead": bool(dept and user["id"] in dept["heads"]),
            "color": "#4a90d9", "isExpert": bool(user.get("isExpert")), "availability": user.get("availability", 1),
            # INVENTED: what is inside location (the document shows {}), and null for no supervisor
            "location": {"id": loc["id"], "name": loc["name"]} if loc else {},
            "reportsToObj": {**emu.mini(boss), "departmentData": {}} if boss else None}


def written(emu: "WorkDriveEmulator", user: dict[str, Any]) -> dict[str, Any]:
    """A user as the create and update answers show one (no reportsToObj; the team lists)."""
    out = {k: v for k, v in view(emu, user).items() if k != "reportsToObj"}
    return {**out, "teamMembers": [u["id"] for u in emu.by_field("reportsTo").get(user["id"], [])],
            "userAdditionalTeams": list(user.get("additionalTeams", [])), "addAdditionalLocations": []}


# ---- reading ----------------------------------------------------------------------------
async def list_users(emu: "WorkDriveEmulator", request: Request) -> Any:
    q = request.query_params
    if "department" in q:
        users = emu.by_field("department").get(q["department"], [])
        if "location" in q:
            users = [u for u in users if u["location"] == q["location"]]
    elif "location" in q:
        users = emu.by_field("location").get(q["location"], [])
    else:
        users = emu.user_list()
    return emu.page(request, Viewed(users, lambda u: view(emu, u)), "users")


async def list_supervisors(emu: "WorkDriveEmulator", request: Request) -> Any:
    """Users with reportees (INVENTED: with ``userId``, that user's own supervisor)."""
    wanted = request.query_params.get("userId")
    if wanted is None:
        bosses = emu.lookup("supervisors", lambda state: _supervisors(emu))
    else:
        boss = emu.users[wanted]["reportsTo"] if wanted in emu.users else None
        bosses = [emu.users[boss]] if boss in emu.users else []
    return emu.page(request, Viewed(bosses, lambda u: {k: u[k] for k in ("id", "email", "firstName", "lastName")}),
                    "users")


def _supervisors(emu: "WorkDriveEmulator") -> list[dict[str, Any]]:
    """Users someone reports to, in the users' order (kept until a reportsTo changes)."""
    bosses = [emu.users[b] for b, reports in emu.by_field("reportsTo").items() if b in emu.users and reports]
    return sorted(bosses, key=emu.ranks().rank)


# ---- creating ---------------------------------------------------------------------------
async def add_user(emu: "WorkDriveEmulator", request: Request) -> Any:
    return written(emu, _create(emu, [await emu.body(request)])[0])


async def bulk_create(emu: "WorkDriveEmulator", request: Request) -> Any:
    data = (await emu.body(request)).get("data")
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
        raise Refusal("VALIDATION_ERROR", "data must be a non-empty list of users")
    if len(data) > api.MAX_BATCH:
        raise Refusal("BATCH_TOO_LARGE")
    return [written(emu, u) for u in _create(emu, data)]


def _validate_new(entry: dict[str, Any]) -> None:
    """The create body's documented types and values."""
    for name in ("phone", "firstName", "lastName", "designation", "department", "location", "securityGroup",
                 "reportsTo", "externalUserId"):
        check_type(entry, name, (str,))
    check_type(entry, "isDepartmentHead", (bool,))
    check_type(entry, "defaultVisibility", (str,), values=("public", "restricted"))
    for name in ("skill", "addAdditionalTeams", "addAdditionalLocations"):
        check_list(entry, name)


def _create(emu: "WorkDriveEmulator", entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for entry in entries:
        _validate_new(entry)
    _no_duplicates(emu, entries)
    created = []
    for entry in entries:
        user = new_user(emu.new_id(), entry["email"].strip(), str(entry.get("firstName") or ""),
                        str(entry.get("lastName") or ""), designation=entry.get("designation"),
                        status=api.NEW_USER_STATUS, at=now())
        user.update(phone=entry.get("phone"), additionalTeams=list(entry.get("addAdditionalTeams") or []))
        if entry.get("reportsTo") is not None:
            user["reportsTo"] = emu.user(entry["reportsTo"], "REPORTS_TO_NOT_FOUND")["id"]
        emu.add_user(user)
        _placements(emu, user, entry)
        if entry.get("reportsTo") is None and user["department"]:
            # the document: without reportsTo, the admins of the given department become the boss
            heads = [h for h in emu.departments[user["department"]]["heads"] if h != user["id"]]
            emu.set_field(user, "reportsTo", heads[0] if heads else None)
        created.append(user)
    return created


def _no_duplicates(emu: "WorkDriveEmulator", entries: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    taken = []
    for entry in entries:
        email = entry.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise Refusal("VALIDATION_ERROR", f"email is required and must be an email: {email!r}")
        low = email.strip().lower()
        if low in seen or emu.by_email(low) is not None:
            taken.append(email)
        seen.add(low)
    if taken:
        raise Refusal("EMAIL_EXISTS", f"these emails are taken: {', '.join(taken)}", emails=taken)


def _placements(emu: "WorkDriveEmulator", user: dict[str, Any], entry: dict[str, Any]) -> None:
    if entry.get("department") is not None:
        if entry["department"] not in emu.departments:
            raise Refusal("DEPARTMENT_NOT_FOUND", ids=[entry["department"]])
        emu.place(user, entry["department"], bool(entry.get("isDepartmentHead")))
    if entry.get("location") is not None:
        if entry["location"] not in emu.state["locations"]:
            raise Refusal("LOCATION_NOT_FOUND", ids=[entry["location"]])
        emu.set_field(user, "location", entry["location"])
    if entry.get("securityGroup") is not None:
        group = emu.state["groups"].get(entry["securityGroup"])
        if group is None:
            raise Refusal("GROUP_NOT_FOUND", ids=[entry["securityGroup"]])
        emu.keep(group)
        group["members"].append(user["id"])


# ---- updating ---------------------------------------------------------------------------
def _validate_update(body: dict[str, Any]) -> None:
    """The update body's documented types and values (every field optional)."""
    for name in (*USER_FIELDS, "fileId", "coverFileId", "reportsTo", "department", "location"):
        check_type(body, name, (str,))
    check_type(body, "status", (str,), nullable=False, values=api.STATUSES)
    check_type(body, "availability", (str,), nullable=False, values=tuple(AVAILABILITY))
    check_type(body, "isExpert", (bool,), nullable=False)
    check_type(body, "isDepartmentHead", (bool,), nullable=False)
    for name in ("addAdditionalTeams", "removeAdditionalTeams", "addAdditionalLocations"):
        check_list(body, name)


async def update_user(emu: "WorkDriveEmulator", request: Request) -> Any:
    user = emu.user(request.path_params["id"], "NOT_FOUND")
    body = await emu.body(request)
    _validate_update(body)
    emu.keep(user)
    for key in USER_FIELDS:
        if key in body:
            user[key] = body[key]
    if "status" in body:
        user["status"] = body["status"]
    if "availability" in body:
        user["availability"] = AVAILABILITY[body["availability"]]
    if "isExpert" in body:
        user["isExpert"] = body["isExpert"]
    teams = [t for t in user.get("additionalTeams", []) if t not in (body.get("removeAdditionalTeams") or [])]
    user["additionalTeams"] = teams + [t for t in body.get("addAdditionalTeams") or [] if t not in teams]
    if "reportsTo" in body:
        boss = body["reportsTo"]
        if boss is not None and (boss == user["id"] or boss not in emu.users):
            raise Refusal("REPORTS_TO_NOT_FOUND", ids=[boss])
        emu.set_field(user, "reportsTo", boss)
    _move(emu, user, body)
    user["updatedAt"] = now()
    return {**written(emu, user), "badges": []}


def _move(emu: "WorkDriveEmulator", user: dict[str, Any], body: dict[str, Any]) -> None:
    touched: set[str | None] = set()
    if "department" in body or "isDepartmentHead" in body:
        dept_id = body.get("department", user["department"])
        if dept_id is not None and dept_id not in emu.departments:
            raise Refusal("DEPARTMENT_NOT_FOUND", ids=[dept_id])
        touched |= emu.place(user, dept_id, bool(body.get("isDepartmentHead")))
        heads = emu.departments[dept_id]["heads"] if dept_id else []
        if body.get("isDepartmentHead") is False and user["id"] in heads:
            heads.remove(user["id"])
    if "location" in body:
        if body["location"] is not None and body["location"] not in emu.state["locations"]:
            raise Refusal("LOCATION_NOT_FOUND", ids=[body["location"]])
        emu.set_field(user, "location", body["location"])
    emu.heads_ok(touched)


# ---- deleting ---------------------------------------------------------------------------
async def delete_user(emu: "WorkDriveEmulator", request: Request) -> Any:
    _remove(emu, [emu.user(request.path_params["id"], "NOT_FOUND")["id"]])
    return {"deleted": [request.path_params["id"]]}


async def bulk_delete(emu: "WorkDriveEmulator", request: Request) -> Any:
    ids = emu.ids_list((await emu.body(request)).get("id"), "id")
    emu.known_users(ids)
    _remove(emu, ids)
    return {"deleted": ids}


def _remove(emu: "WorkDriveEmulator", ids: list[str]) -> None:
    touched: set[str | None] = set()
    gone = set(ids)
    for group in emu.state["groups"].values():
        if any(m in gone for m in group["members"]):
            emu.keep(group)
            group["members"] = [m for m in group["members"] if m not in gone]
    for user_id in ids:
        touched |= emu.place(emu.users[user_id], None)
        for other in list(emu.by_field("reportsTo").get(user_id, [])):
            emu.set_field(other, "reportsTo", None)  # the service reassigns; teamform plans it first
    emu.drop_users([emu.users[i] for i in dict.fromkeys(ids)])
    emu.heads_ok(touched)


ROUTES = [
    ("GET", api.USERS, list_users, 200),
    ("GET", api.USER_SUPERVISORS, list_supervisors, 200),
    ("POST", api.USER_ADD, add_user, 201),
    ("POST", api.USERS_BULK_CREATE, bulk_create, 201),
    ("DELETE", api.USERS_BULK_DELETE, bulk_delete, 200),
    ("PATCH", api.USER, update_user, 200),
    ("DELETE", api.USER, delete_user, 200),
]
