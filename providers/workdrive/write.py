"""Executing WorkDrive operations, batched into the bulk and member-list calls.

Batch keys: ``user:create`` (POST /users/bulk-create), ``user:delete`` (DELETE
/users/bulk-delete), and per department, location or group ``<kind>:<name>:create|delete``
(the add/remove member lists) and ``department_member:<name>:promote`` (the heads' add list).
Only a head's demotion (the API takes one id) and user updates go one call each.

Each function takes the provider (its client, settings and id cache ``p.ids``). A delete that
finds its target gone (404) is done: the base's ``gone_statuses`` says so, not code here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import httpx

from teamform.provider import Operation, ProviderError, Resource, json_body, norm_email

from . import api
from .read import DEPARTMENT, DEPT_MEMBER, GROUP, GROUP_MEMBER, LOC_MEMBER, LOCATION, MEMBERSHIP, USER, target

if TYPE_CHECKING:  # pragma: no cover
    from . import WorkDriveProvider

USER_FIELDS = {"first_name": "firstName", "last_name": "lastName", "designation": "designation",
               "status": "status"}
Results = list[BaseException | None]


class WorkDriveError(ProviderError):
    def __init__(self, message: str, *, details: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.details = details or {}

    @classmethod
    def from_response(cls, response: httpx.Response) -> "WorkDriveError":
        body = json_body(response)
        code = str(body.get("code") or body.get("error") or response.status_code)
        known, said = api.ERRORS.get(code), body.get("message")
        text = known[1] if known else (said or f"HTTP {response.status_code}")
        if known and said:
            text = f"{text} (WorkDrive: {said})"
        details = {k: v for k, v in body.items() if k not in ("statusCode", "error", "code", "message")}
        return cls.from_http(response, f"WorkDrive {code}: {text}", code=code, details=details)


async def _id(p: "WorkDriveProvider", kind: str, key: str, *, missing_ok: bool = False) -> Any:
    """The service id of a ``kind`` named ``key`` (read again once if it is not known yet)."""
    if (kind, key) not in p.ids:
        await p.fetch()  # created since we last read (or a saved plan): read again once
    if (kind, key) not in p.ids and not missing_ok:
        raise WorkDriveError(f"WorkDrive has no {kind} '{key}' (changed since the plan?)", code="NOT_FOUND")
    return p.ids.get((kind, key))


async def _user_ids(p: "WorkDriveProvider", ops: Sequence[Operation]) -> list[Any]:
    return [await _id(p, USER, target(op.resource, USER)) for op in ops]


# ---- one operation ------------------------------------------------------------------------
async def apply(p: "WorkDriveProvider", op: Operation) -> None:
    if batch_key(op) is not None:
        error = (await apply_batch(p, [op]))[0]
        if error is not None:
            raise error
        return
    handlers = {(USER, "update"): _update_user, (DEPT_MEMBER, "update"): _demote,
                (DEPARTMENT, "create"): _create_department, (LOCATION, "create"): _create_location,
                (DEPARTMENT, "delete"): _delete_place, (LOCATION, "delete"): _delete_place}
    await handlers[(op.kind, op.action)](p, op)


async def _update_user(p: "WorkDriveProvider", op: Operation) -> None:
    before, after = op.before.attrs, op.after.attrs
    body = {api_name: after[name] for name, api_name in USER_FIELDS.items() if after[name] != before.get(name)}
    if after["reports_to"] != before.get("reports_to"):
        body["reportsTo"] = await _id(p, USER, after["reports_to"]) if after["reports_to"] else None
    await p.call("PATCH", api.USER.format(id=op.before.id), json=body)


async def _create_named(p: "WorkDriveProvider", path: str, body: dict[str, Any]) -> Any:
    """Create a department or location; its name already taken means a create whose answer was
    lost took effect: done."""
    try:
        return await p.call("POST", path, json=body)
    except WorkDriveError as exc:
        if exc.code == "NAME_EXISTS":
            raise WorkDriveError(exc.message, code=exc.code, already_done=True) from exc
        raise


async def _create_department(p: "WorkDriveProvider", op: Operation) -> None:
    heads = op.after.meta.get("heads", [])
    members = [{"id": await _id(p, USER, e), "isAdmin": True, "isDepartmentHead": False,
                "existingDept": p.ids.get(("user_department", e))} for e in heads]
    made = await _create_named(p, api.DEPARTMENTS, {"name": op.key, "members": members})
    p.ids[(DEPARTMENT, op.key)] = made["id"]
    p.seeded.update((op.key, e) for e in heads)  # not when it existed: then they join by their own operations


async def _create_location(p: "WorkDriveProvider", op: Operation) -> None:
    made = await _create_named(p, api.LOCATIONS, {"name": op.key})
    p.ids[(LOCATION, op.key)] = made["id"]


async def _delete_place(p: "WorkDriveProvider", op: Operation) -> None:
    if (op.kind, op.key) in p.removed:
        return  # a department's last heads took it with them (see _remove_from_department)
    path = api.DEPARTMENT if op.kind == DEPARTMENT else api.LOCATION
    await p.call("DELETE", path.format(id=op.before.id))
    p.ids.pop((op.kind, op.key), None)
    p.removed.add((op.kind, op.key))


async def _demote(p: "WorkDriveProvider", op: Operation) -> None:
    dept = await _id(p, DEPARTMENT, target(op.before, DEPARTMENT))
    user = await _id(p, USER, target(op.before, USER))
    await p.call("PATCH", api.DEPARTMENT_HEADS.format(id=dept), json={"remove": user})


# ---- batches ------------------------------------------------------------------------------
def batch_key(op: Operation) -> str | None:
    if op.kind == USER and op.action in ("create", "delete"):
        return f"user:{op.action}"
    if op.kind in MEMBERSHIP:
        where = target(op.resource, MEMBERSHIP[op.kind])
        if op.action == "update":
            return f"{op.kind}:{where}:promote" if op.after.attrs.get("head") else None
        return f"{op.kind}:{where}:{op.action}"
    return None


async def apply_batch(p: "WorkDriveProvider", ops: Sequence[Operation]) -> Results:
    run = {(USER, "create"): _create_users, (USER, "delete"): _delete_users,
           (DEPT_MEMBER, "create"): _add_to_department, (DEPT_MEMBER, "update"): _promote,
           (DEPT_MEMBER, "delete"): _remove_from_department,
           (LOC_MEMBER, "create"): _location_members, (LOC_MEMBER, "delete"): _location_members,
           (GROUP_MEMBER, "create"): _group_members, (GROUP_MEMBER, "delete"): _group_members}
    try:
        results = await run[(ops[0].kind, ops[0].action)](p, list(ops))
    except ProviderError as exc:
        return await _read_back(p, ops, exc) if exc.retryable else [exc] * len(ops)
    except httpx.HTTPError as exc:
        return await _read_back(p, ops, exc)
    return results or [None] * len(ops)


async def _read_back(p: "WorkDriveProvider", ops: Sequence[Operation], exc: BaseException) -> Results:
    """A bulk call failed in a way that may have taken effect: one read for the whole batch."""
    try:
        live = await p.fetch()
    except (ProviderError, httpx.HTTPError):
        return [exc] * len(ops)
    return [None if op.holds_in(live) else exc for op in ops]


# ---- users --------------------------------------------------------------------------------
async def _user_body(p: "WorkDriveProvider", op: Operation) -> dict[str, Any]:
    a = op.after.attrs
    body = {"email": op.after.person or op.key, "firstName": a["first_name"], "lastName": a["last_name"]}
    if a["designation"] is not None:
        body["designation"] = a["designation"]
    if a["reports_to"]:
        body["reportsTo"] = await _id(p, USER, a["reports_to"])
    return body


async def _create_users(p: "WorkDriveProvider", ops: list[Operation]) -> Results:
    try:
        await _bulk_create(p, ops)
        return [None] * len(ops)
    except WorkDriveError as exc:
        if exc.code != "EMAIL_EXISTS":
            raise
        taken = {norm_email(e) for e in exc.details.get("emails") or []}
    rest = [op for op in ops if op.key not in taken]
    if rest:
        await _bulk_create(p, rest)
    live = await p.fetch()  # the taken ones: done if the service already holds them as planned
    return [None if op.key not in taken or op.holds_in(live) else WorkDriveError(
        f"WorkDrive EMAIL_EXISTS: {op.key} already exists with other details; the next plan shows the "
        "update", code="EMAIL_EXISTS") for op in ops]


async def _bulk_create(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    created = await p.call("POST", api.USERS_BULK_CREATE, json={"data": [await _user_body(p, o) for o in ops]})
    for user in created or []:
        p.ids[(USER, norm_email(user["email"]))] = user["id"]


async def _delete_users(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    """One bulk delete; the service refuses it whole when an id is unknown (USER_NOT_FOUND
    naming the ids): those are gone already, so the rest go out again."""
    ids = [op.before.id for op in ops]
    try:
        await p.call("DELETE", api.USERS_BULK_DELETE, json={"id": ids})
    except WorkDriveError as exc:
        gone = set(exc.details.get("ids") or []) if exc.code == "USER_NOT_FOUND" else set()
        if not gone:
            raise
        rest = [i for i in ids if i not in gone]
        if rest:
            await p.call("DELETE", api.USERS_BULK_DELETE, json={"id": rest})
    for op in ops:
        p.ids.pop((USER, op.key), None)


# ---- departments --------------------------------------------------------------------------
async def _entries(p: "WorkDriveProvider", ops: Sequence[Operation], head: bool | None = None) -> list[dict[str, Any]]:
    return [{"id": uid, "isAdmin": op.after.attrs["head"] if head is None else head, "isDepartmentHead": False,
             "existingDept": p.ids.get(("user_department", target(op.after, USER)))}
            for op, uid in zip(ops, await _user_ids(p, ops))]


async def _add_to_department(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    name = target(ops[0].after, DEPARTMENT)
    todo = [op for op in ops if (name, target(op.after, USER)) not in p.seeded]  # came with the department
    if todo:
        dept = await _id(p, DEPARTMENT, name)
        await p.call("POST", api.DEPARTMENT_MEMBERS.format(id=dept), json={"addMembers": await _entries(p, todo)})


async def _promote(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    dept = await _id(p, DEPARTMENT, target(ops[0].after, DEPARTMENT))
    await p.call("PATCH", api.DEPARTMENT_HEADS.format(id=dept), json={"add": await _entries(p, ops, True)})


async def _remove_from_department(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    name = target(ops[0].before, DEPARTMENT)
    dept = await _id(p, DEPARTMENT, name, missing_ok=True)
    if dept is None:
        return  # the department is gone, and its members with it
    dying = name not in _wanted_departments(p)
    heads = [op for op in ops if op.before.attrs.get("head")] if dying else []
    plain = [op for op in ops if op not in heads]
    if plain:
        await p.call("POST", api.DEPARTMENT_MEMBERS.format(id=dept),
                     json={"removeMembers": await _user_ids(p, plain)})
    if heads:  # a department always has a head: its last heads leave with it (after everyone else)
        await _delete_place(p, Operation(ops[0].service, "delete", DEPARTMENT, name,
                                         before=Resource(DEPARTMENT, name, id=dept)))


def _wanted_departments(p: "WorkDriveProvider") -> set[str]:
    named = {u.department for u in p.settings.users if u.department}
    return set(p.settings.departments) | named


# ---- locations and security groups --------------------------------------------------------
async def _location_members(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    name = target(ops[0].resource, LOCATION)
    remove = ops[0].action == "delete"
    loc = await _id(p, LOCATION, name, missing_ok=remove)
    if loc is None:
        return  # the location is gone, and its members with it
    field = "removeMembers" if remove else "addMembers"
    await p.call("POST", api.LOCATION_MEMBERS.format(id=loc), json={field: await _user_ids(p, ops)})


async def _group_members(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    group = await _id(p, GROUP, target(ops[0].resource, GROUP))
    method = "DELETE" if ops[0].action == "delete" else "POST"
    await p.call(method, api.GROUP_MEMBERS.format(id=group), json={"ids": await _user_ids(p, ops)})
