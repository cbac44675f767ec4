"""Executing WorkDrive operations, batched into the bulk and member-list calls.

Batch keys: ``user:create`` (POST /users/bulk-create), ``user:delete`` (DELETE
/users/bulk-delete), per department or location ``<kind>:<name>:members`` (joins and leaves
together: the members call takes ``addMembers`` and ``removeMembers`` in one body), per group
``group_member:<name>:create|delete`` (adding and removing are two calls there) and
``department_member:<name>:promote`` (the heads' add list). Only a head's demotion (the API
takes one id) and user updates go one call each.

Each function takes the provider (its client, settings and id cache ``p.ids``). A delete that
finds its target gone (404) is done: the base's ``gone_statuses`` says so, not code here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import httpx

from teamform.provider import Operation, ProviderError, Resource, json_body, norm_email

from . import api, read
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


def malformed(what: str, detail: str, status: int | None = None) -> WorkDriveError:
    """A 2xx answer to a write that is not of the documented shape: the write may well have taken
    effect, so it is retryable (the applier reads back before anything is sent again)."""
    return WorkDriveError(f"WorkDrive answered {what} with {detail}; whether it took effect is read back",
                          status=status, code="MALFORMED_ANSWER", retryable=True)


def _object_id(answer: Any, what: str) -> Any:
    """The ``id`` of a created department or location, or ``malformed``."""
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), (str, int)) or isinstance(answer["id"], bool):
        got = type(answer.get("id") if isinstance(answer, dict) else answer).__name__
        raise malformed(what, f"no id (got {got})")
    return answer["id"]


async def _id(p: "WorkDriveProvider", kind: str, key: str, *, missing_ok: bool = False) -> Any:
    """The service id of a ``kind`` named ``key`` (read its list again once if it is not known yet)."""
    if (kind, key) not in p.ids:
        await read.fetch(p, read.NEEDS[kind])  # created since we last read (or a saved plan)
    if (kind, key) not in p.ids and not missing_ok:
        raise WorkDriveError(f"WorkDrive has no {kind} '{key}' (changed since the plan?)", code="NOT_FOUND")
    return p.ids.get((kind, key))


async def _user_ids(p: "WorkDriveProvider", ops: Sequence[Operation]) -> list[Any]:
    return [await _id(p, USER, target(op.resource, USER)) for op in ops]


async def _leaving_ids(p: "WorkDriveProvider", ops: Sequence[Operation]) -> list[Any]:
    """The ids of users leaving a department, location or group; a user who no longer exists
    has left everything already (deleting a user removes their memberships): left out."""
    ids = [await _id(p, USER, target(op.resource, USER), missing_ok=True) for op in ops]
    return [i for i in ids if i is not None]


# ---- read-back ----------------------------------------------------------------------------
async def verify(p: "WorkDriveProvider", op: Operation, attempts: int = 3) -> bool:
    """After a write whose answer was lost: does the service hold its outcome? Reads only the
    lists the operation's kind lives in (one group's members for a group membership), and tries
    the read again when it fails, so a failed read-back does not become a blind repeat."""
    group = target(op.resource, GROUP) if op.kind == GROUP_MEMBER else None
    for attempt in range(attempts):
        try:
            live = await read.fetch(p, read.NEEDS[op.kind], group)
        except (ProviderError, httpx.HTTPError):
            if attempt == attempts - 1:
                raise
            continue
        return op.holds_in(live)
    return False  # pragma: no cover - the loop returns or raises


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
    body = await _changes(p, op.before.attrs, op.after.attrs)
    if body:
        await p.call("PATCH", api.USER.format(id=op.before.id), json=body)


async def _changes(p: "WorkDriveProvider", before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body that takes a user from ``before`` to ``after`` (changed fields only;
    reportsTo as an id)."""
    body = {api_name: after[name] for name, api_name in USER_FIELDS.items() if after[name] != before.get(name)}
    if after["reports_to"] != before.get("reports_to"):
        body["reportsTo"] = await _id(p, USER, after["reports_to"]) if after["reports_to"] else None
    return body


async def _existing(p: "WorkDriveProvider", op: Operation) -> Any:
    """A create tried before in this run (its answer was lost, or it failed half-way): the id of
    what the service already holds under the same name, read first so nothing is made twice."""
    if op.id not in p.tried:
        p.tried.add(op.id)
        return None
    try:
        await read.fetch(p, read.NEEDS[op.kind])
    except (ProviderError, httpx.HTTPError) as exc:  # not known: not sent again now; the applier reads back
        raise WorkDriveError(f"WorkDrive: could not read whether {op.label} exists before creating it again "
                             f"({exc})", code="READ_BACK_FAILED", retryable=True) from exc
    return p.ids.get((op.kind, op.key))


async def _create_named(p: "WorkDriveProvider", op: Operation, path: str, body: dict[str, Any]) -> Any:
    """Create a department or location and return its id, or ``None`` when it exists already
    (a create whose answer was lost took effect): found by name before a retry is sent, and
    ``NAME_EXISTS`` from the service means the same."""
    if await _existing(p, op) is not None:
        return None
    try:
        made = await p.call("POST", path, json=body)
    except WorkDriveError as exc:
        if exc.code == "NAME_EXISTS":
            raise WorkDriveError(exc.message, code=exc.code, already_done=True) from exc
        raise
    made_id = _object_id(made, f"POST {path} ({op.key})")
    p.ids[(op.kind, op.key)] = made_id
    return made_id


async def _create_department(p: "WorkDriveProvider", op: Operation) -> None:
    heads = op.after.meta.get("heads", [])
    members = [_entry(p, e, await _id(p, USER, e), True) for e in heads]
    if await _create_named(p, op, api.DEPARTMENTS, {"name": op.key, "members": members}) is not None:
        p.seeded.update((op.key, e) for e in heads)  # not when it existed: then they join by their own operations


async def _create_location(p: "WorkDriveProvider", op: Operation) -> None:
    await _create_named(p, op, api.LOCATIONS, {"name": op.key})


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
#: the member kinds whose one call takes both lists (``addMembers`` and ``removeMembers``)
BOTH_WAYS = frozenset({DEPT_MEMBER, LOC_MEMBER})


def batch_key(op: Operation) -> str | None:
    if op.kind == USER and op.action in ("create", "delete"):
        return f"user:{op.action}"
    if op.kind in MEMBERSHIP:
        where = target(op.resource, MEMBERSHIP[op.kind])
        if op.action == "update":
            return f"{op.kind}:{where}:promote" if op.after.attrs.get("head") else None
        if op.kind in BOTH_WAYS:
            return f"{op.kind}:{where}:members"
        return f"{op.kind}:{where}:{op.action}"
    return None


def batch_size(p: "WorkDriveProvider", key: str) -> int:
    """Operations per batch: ``batch_size`` items a list; a members batch may fill both lists
    (it is sent as calls of at most ``batch_size`` joins and ``batch_size`` leaves)."""
    return p.settings.batch_size * (2 if key.endswith(":members") else 1)


async def apply_batch(p: "WorkDriveProvider", ops: Sequence[Operation]) -> Results:
    run = {(USER, "create"): _create_users, (USER, "delete"): _delete_users,
           (DEPT_MEMBER, "create"): _department_members, (DEPT_MEMBER, "delete"): _department_members,
           (DEPT_MEMBER, "update"): _promote,
           (LOC_MEMBER, "create"): _location_members, (LOC_MEMBER, "delete"): _location_members,
           (GROUP_MEMBER, "create"): _group_members, (GROUP_MEMBER, "delete"): _group_members}
    try:
        results = await run[(ops[0].kind, ops[0].action)](p, list(ops))
    except ProviderError as exc:
        return await _read_back(p, ops, exc) if exc.retryable else [exc] * len(ops)
    except httpx.HTTPError as exc:
        return await _read_back(p, ops, exc)
    return results or [None] * len(ops)


def _both_lists(p: "WorkDriveProvider", add: list[Any], remove: list[Any]) -> list[dict[str, Any]]:
    """Member-call bodies: joins and leaves side by side, at most ``batch_size`` of each a call."""
    size = p.settings.batch_size
    bodies = []
    for i in range(0, max(len(add), len(remove)), size):
        body = {}
        if add[i:i + size]:
            body["addMembers"] = add[i:i + size]
        if remove[i:i + size]:
            body["removeMembers"] = remove[i:i + size]
        bodies.append(body)
    return bodies


async def _read_back(p: "WorkDriveProvider", ops: Sequence[Operation], exc: BaseException) -> Results:
    """A bulk call failed in a way that may have taken effect: one read of the lists its kind
    lives in for the whole batch (what does not hold goes to the applier's own read-back and retry)."""
    group = target(ops[0].resource, GROUP) if ops[0].kind == GROUP_MEMBER else None
    try:
        live = await read.fetch(p, read.NEEDS[ops[0].kind], group)
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
        # where they go, in the same call, when the place exists; only with a supervisor named:
        # without reportsTo the service makes the department's or location's admins the boss
        places = op.after.meta.get("places") or {}  # those that existed when planned (read.desired)
        dept = places.get("department") and await _id(p, DEPARTMENT, places["department"], missing_ok=True)
        loc = places.get("location") and await _id(p, LOCATION, places["location"], missing_ok=True)
        if dept:
            body.update(department=dept, isDepartmentHead=bool(places.get("head")))
        if loc:
            body["location"] = loc
    return body


async def _create_users(p: "WorkDriveProvider", ops: list[Operation]) -> Results:
    """One bulk create; then what creating cannot set (a status: every new user is invited).
    A user who exists already (a retry of a create whose answer was lost, found by reading before
    the retry is sent, or ``EMAIL_EXISTS``) is not created again but brought to what the plan says."""
    taken = {op.key for op in ops if await _existing(p, op) is not None}
    fresh = [op for op in ops if op.key not in taken]
    try:
        if fresh:
            await _bulk_create(p, fresh)
    except WorkDriveError as exc:
        if exc.code != "EMAIL_EXISTS" and exc.status != 409:
            raise
        live = await read.fetch(p, read.NEEDS[USER])
        exists = {op.key for op in fresh if live.get(op.resource.ref) is not None}
        if not exists:
            raise
        taken |= exists
        rest = [op for op in fresh if op.key not in exists]
        if rest:
            await _bulk_create(p, rest)
    return await _settle(p, ops, taken)


async def _settle(p: "WorkDriveProvider", ops: list[Operation], taken: set[str]) -> Results:
    """Bring each created user to the planned attributes: a new user is invited, so a planned
    ARCHIVE or BLOCKED is set now (else the next plan would change it again); a user who existed
    gets whatever differs. One result per operation: a failed PATCH fails only its user."""
    live = await read.fetch(p, read.NEEDS[USER]) if taken else None
    results: Results = []
    for op in ops:
        try:
            if op.key in taken:
                have = live.get(op.resource.ref) if live is not None else None
                if have is None:
                    raise WorkDriveError(f"WorkDrive: {op.key} exists (EMAIL_EXISTS) but is not in the users list",
                                         code="EMAIL_EXISTS", retryable=True)
                body, user_id = await _changes(p, have.attrs, op.after.attrs), have.id
            else:
                body = await _changes(p, {**op.after.attrs, "status": "ACTIVE"}, op.after.attrs)
                user_id = await _id(p, USER, op.key) if body else None
            if body:
                await p.call("PATCH", api.USER.format(id=user_id), json=body)
            results.append(None)
        except (ProviderError, httpx.HTTPError) as exc:
            results.append(exc)
    return results


async def _bulk_create(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    bodies = [await _user_body(p, o) for o in ops]
    created = await p.call("POST", api.USERS_BULK_CREATE, json={"data": bodies})
    for op, body in zip(ops, bodies):  # placed by the create: their joins need no call
        places = op.after.meta.get("places") or {}
        if "department" in body:
            p.seeded.add((places["department"], op.key))
        if "location" in body:
            p.placed.add((places["location"], op.key))
    what = f"POST {api.USERS_BULK_CREATE}"
    if not isinstance(created, list):
        raise malformed(what, f"{type(created).__name__}, not the list of created users")
    for user in created:
        email = user.get("email") if isinstance(user, dict) else None
        if not isinstance(email, str) or not isinstance(user.get("id"), (str, int)):
            raise malformed(what, "a created user without an email or id")
        p.ids[(USER, norm_email(email))] = user["id"]


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
    return [_entry(p, target(op.after, USER), uid, op.after.attrs["head"] if head is None else head)
            for op, uid in zip(ops, await _user_ids(p, ops))]


def _entry(p: "WorkDriveProvider", email: str, user_id: Any, admin: bool) -> dict[str, Any]:
    """One user in a department's member or head list, as the document describes it: whether
    they will head it (isAdmin), their department now (existingDept, left out when they have
    none) and whether they head it (isDepartmentHead: "already head of another department")."""
    entry = {"id": user_id, "isAdmin": admin, "isDepartmentHead": bool(p.ids.get(("user_is_head", email)))}
    if p.ids.get(("user_department", email)):
        entry["existingDept"] = p.ids[("user_department", email)]
    return entry


async def _department_members(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    """Joins and leaves of one department, together in its members call. A new head sent with
    the department's creation has joined already; a department the file no longer has keeps its
    last heads until it is deleted (they leave with it, after everyone else)."""
    name = target(ops[0].resource, DEPARTMENT)
    joining = [op for op in ops if op.action == "create" and (name, target(op.after, USER)) not in p.seeded]
    leaving_ops = [op for op in ops if op.action == "delete"]
    dept = await _id(p, DEPARTMENT, name, missing_ok=not joining)
    if dept is None:
        return  # the department is gone, and its members with it
    dying = bool(leaving_ops) and name not in _wanted_departments(p)
    heads = [op for op in leaving_ops if op.before.attrs.get("head")] if dying else []
    # someone whose join elsewhere has moved them already is not removed again (nothing to do)
    plain = [op for op in leaving_ops if op not in heads and p.ids.get(_where(op), dept) == dept]
    leaving = await _leaving_ids(p, plain)
    for body in _both_lists(p, await _entries(p, joining) if joining else [], leaving):
        await p.call("POST", api.DEPARTMENT_MEMBERS.format(id=dept), json=body)
    for op in joining:  # where they are now: their leave of the old department has nothing to do
        p.ids[_where(op)] = dept
    if heads:  # a department always has a head: its last heads leave with it (after everyone else)
        await _delete_place(p, Operation(ops[0].service, "delete", DEPARTMENT, name,
                                         before=Resource(DEPARTMENT, name, id=dept)))


async def _promote(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    dept = await _id(p, DEPARTMENT, target(ops[0].after, DEPARTMENT))
    await p.call("PATCH", api.DEPARTMENT_HEADS.format(id=dept), json={"add": await _entries(p, ops, True)})


def _where(op: Operation) -> tuple[str, str]:
    """The id cache's key for the department a member's user is in (read.fetch fills it)."""
    return ("user_department", norm_email(target(op.resource, USER)))


def _wanted_departments(p: "WorkDriveProvider") -> set[str]:
    named = {u.department for u in p.settings.users if u.department}
    return set(p.settings.departments) | named


# ---- locations and security groups --------------------------------------------------------
async def _location_members(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    """Joins and leaves of one location, together in its members call."""
    name = target(ops[0].resource, LOCATION)
    joining = [op for op in ops if op.action == "create" and (name, target(op.after, USER)) not in p.placed]
    loc = await _id(p, LOCATION, name, missing_ok=not joining)
    if loc is None:
        return  # the location is gone, and its members with it
    add = await _user_ids(p, joining)
    remove = await _leaving_ids(p, [op for op in ops if op.action == "delete"])
    for body in _both_lists(p, add, remove):
        await p.call("POST", api.LOCATION_MEMBERS.format(id=loc), json=body)


async def _group_members(p: "WorkDriveProvider", ops: list[Operation]) -> None:
    remove = ops[0].action == "delete"
    group = await _id(p, GROUP, target(ops[0].resource, GROUP))
    ids = await (_leaving_ids if remove else _user_ids)(p, ops)
    if ids:
        await p.call("DELETE" if remove else "POST", api.GROUP_MEMBERS.format(id=group), json={"ids": ids})
