"""Writing SCIM: operations into POST/PATCH/PUT/DELETE (or /Bulk), the read-back after a lost
answer, and the SCIM Error schema in words.

- Creates: ``POST /Users`` and ``/Groups``, or ``/Bulk`` when the service advertises it (chunks
  within ``maxOperations`` and ``maxPayloadSize``). A ``uniqueness`` refusal is read back: an
  existing resource that is as desired counts as done.
- Changes: ``PATCH`` of exactly the attributes that differ, with ``If-Match`` when the service
  versions its resources; PUT of the whole resource, read just before, when PATCH is unsupported.
- Group members: PATCH ``add`` (several members in one operation) and ``remove`` (one filtered
  path each), at most ``max_members_per_patch`` members a request; never a PUT of the whole list
  unless PATCH is unsupported. Writes to one group go one at a time.
- Offboarding: ``active: false`` first; ``DELETE`` only with ``policy.offboarding: delete``.
- A 412 re-reads the resource: if what teamform manages is as the plan saw it (the version moved
  for something else) the write goes on with the new ETag; if it is already as desired it is
  done; otherwise it fails as "changed since the plan".
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, NoReturn, Sequence

import httpx

from teamform.provider import Operation, ProviderError, Resource, json_body

from . import api
from .read import GROUP, MEMBER, USER, find_group, find_user, group_id, user_id
from .settings import offboarding_word

if TYPE_CHECKING:  # pragma: no cover
    from . import ScimProvider


class ScimError(ProviderError):
    """An error answer in words: the SCIM Error schema (``status``, ``scimType``, ``detail``)."""

    @classmethod
    def from_response(cls, response: httpx.Response) -> "ScimError":
        body = json_body(response)
        return cls.from_http(response, describe(response.status_code, body), code=_scim_type(body))

    @classmethod
    def from_body(cls, status: int, body: Any, *, what: str = "") -> "ScimError":
        """An error one operation of a /Bulk answer reports."""
        body = body if isinstance(body, dict) else {}
        return cls(describe(status, body, what), status=status, code=_scim_type(body),
                   retryable=status == 429 or status >= 500)


def _scim_type(body: dict[str, Any]) -> str | None:
    value = body.get("scimType")
    return value if isinstance(value, str) and value else None


def describe(status: int, body: dict[str, Any], what: str = "") -> str:
    scim_type = _scim_type(body)
    words = api.SCIM_TYPES.get(scim_type or "") or api.STATUS_MEANING.get(status) or "the request failed"
    detail = body.get("detail") if isinstance(body.get("detail"), str) else None
    text = f"SCIM {status}{' ' + scim_type if scim_type else ''}{' ' + what if what else ''}: {words}"
    return text + (f" (the service said: {detail})" if detail else "")


def changed_since(op: Operation, now: Resource, was: dict[str, Any]) -> ScimError:
    diff = ", ".join(f"{k} {was.get(k)!r} → {now.attrs.get(k)!r}" for k in sorted(set(was) | set(now.attrs))
                     if was.get(k) != now.attrs.get(k))
    return ScimError(f"SCIM 412: {op.label} changed since the plan ({diff}); run plan again", status=412,
                     code="changed")


# ---- requests -------------------------------------------------------------------------------
async def send(p: "ScimProvider", method: str, path: str, body: Any = None, *,
               etag: str | None = None) -> httpx.Response:
    headers = {"Accept": api.ACCEPT}
    content = None
    if body is not None:
        headers["Content-Type"] = api.MEDIA_TYPE
        content = json.dumps(body)
    if etag and p.caps is not None and p.caps.etag:
        headers["If-Match"] = etag
    return await p.request(method, path, content=content, headers=headers)


def _answer(response: httpx.Response) -> dict[str, Any]:
    return json_body(response) if response.content else {}


def _etag_of(response: httpx.Response) -> str | None:
    meta = _answer(response).get("meta")
    return response.headers.get("etag") or (meta.get("version") if isinstance(meta, dict) else None)


def remember(p: "ScimProvider", kind: str, key: str, resource_id: str | None, etag: str | None) -> None:
    """What a write of ours tells: the id of what it made, and the version it left (the one the
    next write of ours to it expects)."""
    if resource_id is None:
        return
    p.ids[(kind, key)] = str(resource_id)
    if kind == USER:
        p.keys[str(resource_id)] = key
    if etag:
        p.written[str(resource_id)] = etag


def expected(p: "ScimProvider", res: Resource) -> str | None:
    """The version a write to ``res`` expects: the one our last write left, else the one the plan saw."""
    return p.written.get(str(res.id)) or res.meta.get("etag")


def patch_body(operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [api.PATCH_OP], "Operations": operations}


# ---- users ----------------------------------------------------------------------------------
async def user_body(p: "ScimProvider", res: Resource) -> dict[str, Any]:
    a = res.attrs
    body: dict[str, Any] = {"schemas": [api.USER_SCHEMA], "userName": res.meta.get("user_name") or a["user_name"],
                            "active": a["active"],
                            "emails": [{"value": res.meta.get("email") or a["email"], "type": "work", "primary": True}]}
    name = {k: v for k, v in (("givenName", a.get("first_name")), ("familyName", a.get("last_name"))) if v}
    if name:
        body["name"] = name
    if a.get("external_id") is not None:
        body["externalId"] = a["external_id"]
    if a.get("title"):
        body["title"] = a["title"]
    ent: dict[str, Any] = {}
    if a.get("department"):
        ent["department"] = a["department"]
    if a.get("manager"):
        ent["manager"] = {"value": await _manager_id(p, a["manager"])}
    if ent:
        body["schemas"].append(api.ENTERPRISE)
        body[api.ENTERPRISE] = ent
    return body


async def _manager_id(p: "ScimProvider", manager: str) -> str:
    return manager[3:] if manager.startswith("id:") else await user_id(p, manager)


def _emails(current: list[Any], email: str) -> list[dict[str, Any]]:
    """The user's emails with the primary one (or the first) set to ``email``; the others kept."""
    emails = [dict(e) for e in current if isinstance(e, dict)]
    target = next((e for e in emails if e.get("primary") is True), emails[0] if emails else None)
    if target is None:
        return [{"value": email, "type": "work", "primary": True}]
    target["value"], target["primary"] = email, True
    return emails


async def _patch_ops(p: "ScimProvider", res: Resource, before: dict[str, Any], target: dict[str, Any],
                     emails: list[Any]) -> list[dict[str, Any]]:
    ops = []
    for name in sorted(k for k in target if target[k] != before.get(k)):
        value, path = target[name], api.PATHS[name]
        if value is None:
            ops.append({"op": "remove", "path": path})
        elif name == "user_name":
            ops.append({"op": "replace", "path": path, "value": res.meta.get("user_name") or value})
        elif name == "email":
            ops.append({"op": "replace", "path": path, "value": _emails(emails, res.meta.get("email") or value)})
        elif name == "manager":
            ops.append({"op": "replace", "path": path, "value": {"value": await _manager_id(p, value)}})
        else:
            ops.append({"op": "replace", "path": path, "value": value})
    return ops


async def _put_user(p: "ScimProvider", op: Operation, res: Resource, target: dict[str, Any]) -> None:
    """No PATCH: read the user now, change what differs, PUT it back (If-Match its version)."""
    async with p.locks[str(op.before.id)]:
        response = await send(p, "GET", api.user_path(op.before.id))
        item = _answer(response)
        now = _fresh_user(p, op, item)
        if await same_user(p, now, target):
            return
        if not await same_user(p, now, op.before.attrs):
            raise changed_since(op, now, op.before.attrs)
        body = {k: v for k, v in item.items() if k != "meta"}
        for name in (k for k in target if target[k] != now.attrs.get(k)):
            _set(body, name, target[name], res, item)
            if name == "manager" and target[name]:
                body[api.ENTERPRISE]["manager"] = {"value": await _manager_id(p, target[name])}
        if api.ENTERPRISE in body and api.ENTERPRISE not in body.get("schemas", []):
            body["schemas"] = [*body.get("schemas", [api.USER_SCHEMA]), api.ENTERPRISE]
        answer = await send(p, "PUT", api.user_path(op.before.id), body, etag=_etag_of(response))
        remember(p, USER, op.key, op.before.id, _etag_of(answer))


def _set(body: dict[str, Any], name: str, value: Any, res: Resource, item: dict[str, Any]) -> None:
    if name == "user_name":
        body["userName"] = res.meta.get("user_name") or value
    elif name in ("first_name", "last_name"):
        body.setdefault("name", {})["givenName" if name == "first_name" else "familyName"] = value
    elif name == "email":
        body["emails"] = _emails(item.get("emails") or [], res.meta.get("email") or value)
    elif name == "external_id":
        body["externalId"] = value
    elif name in api.ENTERPRISE_ATTRS:
        ent = body.setdefault(api.ENTERPRISE, {})
        if value is None:
            ent.pop(name, None)
        else:
            ent[name] = value
    elif value is None:
        body.pop(name, None)
    else:
        body[name] = value


def _fresh_user(p: "ScimProvider", op: Operation, item: dict[str, Any]) -> Resource:
    from .read import user_resource

    return user_resource(p, item, op.key, op.resource.person)


async def same_user(p: "ScimProvider", now: Resource, wanted: dict[str, Any]) -> bool:
    """Does the user read back (``now``) hold ``wanted``? A read names a manager by key only when
    this run has seen the manager's user (read or created); a read-back in a run that has not
    (a provider that has read one user, not the list) names it ``id:…``: that is the same manager
    when it is the id of the user ``wanted`` names."""
    if now.attrs == wanted:
        return True
    held, manager = now.attrs.get("manager"), wanted.get("manager")
    if not (isinstance(held, str) and held.startswith("id:") and manager and not manager.startswith("id:")):
        return False
    if {**now.attrs, "manager": manager} != wanted:
        return False
    try:
        return await user_id(p, manager) == held[3:]
    except ProviderError:
        return False


async def change_user(p: "ScimProvider", op: Operation, res: Resource, target: dict[str, Any]) -> None:
    """Bring the user ``op.before`` to ``target`` attributes (a change, or a deactivation)."""
    caps = await p.capabilities()
    if not caps.patch:
        await _put_user(p, op, res, target)
        return
    ops = await _patch_ops(p, res, op.before.attrs, target, op.before.meta.get("emails") or [])
    if not ops:
        return
    path = api.user_path(op.before.id)
    try:
        response = await send(p, "PATCH", path, patch_body(ops), etag=expected(p, op.before))
    except ScimError as exc:
        if exc.status != 412:
            raise
        response = await _after_412(p, op, target, lambda etag: send(p, "PATCH", path, patch_body(ops), etag=etag))
        if response is None:
            return
    remember(p, USER, op.key, op.before.id, _etag_of(response))


async def _after_412(p: "ScimProvider", op: Operation, target: dict[str, Any], again) -> httpx.Response | None:
    """The service's version moved since the plan: read the user. As desired already: done (None).
    What teamform manages as the plan saw it: go on with the new version. Else: changed since the plan."""
    response = await send(p, "GET", api.user_path(op.before.id))
    now = _fresh_user(p, op, _answer(response))
    if await same_user(p, now, target):
        remember(p, USER, op.key, op.before.id, _etag_of(response))
        return None
    if not await same_user(p, now, op.before.attrs):
        raise changed_since(op, now, op.before.attrs)
    return await again(_etag_of(response))


async def create_user(p: "ScimProvider", op: Operation) -> None:
    try:
        response = await send(p, "POST", api.USERS, await user_body(p, op.after))
    except ScimError as exc:
        if exc.status != 409:
            raise
        await exists_as_desired(p, op, exc)
    body = _answer(response)
    remember(p, USER, op.key, body.get("id") or _location_id(response), _etag_of(response))


def _location_id(response: httpx.Response) -> str | None:
    location = response.headers.get("location")
    return api.id_of_location(location) if location else None


async def exists_as_desired(p: "ScimProvider", op: Operation, exc: ProviderError) -> NoReturn:
    """A create refused for uniqueness is read back: it raises ``already_done`` (the applier counts it
    done) when the existing resource is the one desired, else the refusal in words that say what
    differs."""
    if op.kind == GROUP:
        found = await find_group(p, op.key, op.after.display or op.key)
        if found is None:
            raise exc
        remember(p, GROUP, op.key, found.get("id"), None)
        raise ScimError(f"{op.label} exists (read back after the uniqueness refusal)", status=exc.status,
                        code=exc.code, already_done=True)
    now = await find_user(p, op.key, op.after.meta.get("user_name") or op.after.attrs["user_name"])
    if now is None:
        raise exc
    if not await same_user(p, now, op.after.attrs):
        diff = ", ".join(f"{k} {now.attrs.get(k)!r} (desired {v!r})" for k, v in sorted(op.after.attrs.items())
                         if now.attrs.get(k) != v)
        raise ScimError(f"{exc}; {op.label} already exists and differs: {diff}; run plan again",
                        status=exc.status, code=exc.code) from None
    raise ScimError(f"{op.label} exists as {now.display} (read back after the uniqueness refusal)",
                    status=exc.status, code=exc.code, already_done=True)


async def delete_user(p: "ScimProvider", op: Operation) -> None:
    """Offboarding: deactivate first; delete only when policy.offboarding says so."""
    before = op.before
    target = {**before.attrs, "active": False}
    if before.attrs.get("active") is not False:
        await change_user(p, op, before, target)
    if offboarding_word(p.ctx.policy) != "delete":
        return
    path = api.user_path(before.id)
    try:
        await send(p, "DELETE", path, etag=expected(p, before))
    except ScimError as exc:
        if exc.status != 412:
            raise
        response = await send(p, "GET", path)
        now = _fresh_user(p, op, _answer(response))
        if now.attrs not in (target, before.attrs):
            raise changed_since(op, now, before.attrs)
        await send(p, "DELETE", path, etag=_etag_of(response))


# ---- groups ---------------------------------------------------------------------------------
def group_body(res: Resource) -> dict[str, Any]:
    return {"schemas": [api.GROUP_SCHEMA], "displayName": res.display or res.key}


async def create_group(p: "ScimProvider", op: Operation) -> None:
    try:
        response = await send(p, "POST", api.GROUPS, group_body(op.after))
    except ScimError as exc:
        if exc.status != 409:
            raise
        await exists_as_desired(p, op, exc)
    remember(p, GROUP, op.key, _answer(response).get("id") or _location_id(response), _etag_of(response))


async def delete_group(p: "ScimProvider", op: Operation) -> None:
    path = api.group_path(op.before.id)
    async with p.locks[str(op.before.id)]:
        try:
            await send(p, "DELETE", path, etag=expected(p, op.before))
        except ScimError as exc:
            if exc.status != 412:
                raise
            response = await send(p, "GET", path)
            members = {str(m.get("value")) for m in _answer(response).get("members") or [] if isinstance(m, dict)}
            added = members - set(op.before.meta.get("members") or [])
            if added:
                raise ScimError(f"SCIM 412: {op.label} changed since the plan ({len(added)} member(s) added); "
                                "run plan again", status=412, code="changed") from None
            await send(p, "DELETE", path, etag=_etag_of(response))


# ---- group members --------------------------------------------------------------------------
def _group_of(op: Operation) -> tuple[str, str]:
    """The key and the displayName of a member operation's group."""
    key = next(r.key for r in op.resource.refs if r.kind == GROUP)
    return key, op.resource.meta.get("group") or key


async def _member_id(p: "ScimProvider", op: Operation) -> str:
    if op.before is not None and op.before.meta.get("user_id"):
        return str(op.before.meta["user_id"])
    return await user_id(p, next(r.key for r in op.resource.refs if r.kind == USER))


async def members(p: "ScimProvider", ops: Sequence[Operation]) -> None:
    """One request for these member changes of one group (the applier keeps them within
    ``max_members_per_patch``)."""
    key, name = _group_of(ops[0])
    gid = await group_id(p, key, name)
    adds, removes = [], []
    for op in ops:
        (adds if op.action == "create" else removes).append(await _member_id(p, op))
    caps = await p.capabilities()
    async with p.locks[gid]:
        if caps.patch:
            await _patch_members(p, key, gid, adds, removes)
        else:
            await _put_members(p, key, gid, adds, removes)


def _member_ops(adds: list[str], removes: list[str]) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    if adds:
        ops.append({"op": "add", "path": "members", "value": [{"value": i} for i in adds]})
    ops += [{"op": "remove", "path": api.member_filter(i)} for i in removes]
    return ops


async def _patch_members(p: "ScimProvider", key: str, gid: str, adds: list[str], removes: list[str]) -> None:
    path = api.group_path(gid)
    try:
        response = await send(p, "PATCH", path, patch_body(_member_ops(adds, removes)))
    except ScimError as exc:
        if exc.code != "noTarget":
            raise
        # RFC 7644 §3.5.2.2: a remove whose filter matches nothing is noTarget (a member already
        # gone, or our answer was lost): send again only what the group still needs
        now = {str(m.get("value")) for m in _answer(await send(p, "GET", path)).get("members") or []
               if isinstance(m, dict)}
        adds, removes = [i for i in adds if i not in now], [i for i in removes if i in now]
        if not adds and not removes:
            return
        response = await send(p, "PATCH", path, patch_body(_member_ops(adds, removes)))
    remember(p, GROUP, key, gid, _etag_of(response))


async def _put_members(p: "ScimProvider", key: str, gid: str, adds: list[str], removes: list[str]) -> None:
    """No PATCH: read the group now and PUT it back with the members changed (If-Match its version)."""
    path = api.group_path(gid)
    response = await send(p, "GET", path)
    item = _answer(response)
    current = [m for m in item.get("members") or [] if isinstance(m, dict)]
    present = {str(m.get("value")) for m in current}
    gone = set(removes)
    kept = [{k: v for k, v in m.items() if k in ("value", "type")} for m in current if str(m.get("value")) not in gone]
    new = kept + [{"value": i} for i in dict.fromkeys(adds) if i not in present]
    if len(new) == len(current) and not (present & gone):
        return
    body = {k: v for k, v in item.items() if k != "meta"}
    body["members"] = new
    answer = await send(p, "PUT", path, body, etag=_etag_of(response))
    remember(p, GROUP, key, gid, _etag_of(answer))


# ---- creates by /Bulk -------------------------------------------------------------------------
async def creates(p: "ScimProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    caps = await p.capabilities()
    if not caps.bulk:
        return await _one_by_one(p, ops)
    bodies = []
    for op in ops:
        bodies.append(await user_body(p, op.after) if op.kind == USER else group_body(op.after))
    out: list[BaseException | None] = []
    for chunk in _chunks(list(zip(ops, bodies)), caps.bulk_max_operations, caps.bulk_max_payload):
        out += await _bulk(p, chunk)
    return out


def _bulk_request(chunk: Sequence[tuple[Operation, dict[str, Any]]]) -> dict[str, Any]:
    return {"schemas": [api.BULK_REQUEST], "Operations": [
        {"method": "POST", "path": api.USERS if op.kind == USER else api.GROUPS, "bulkId": str(i), "data": body}
        for i, (op, body) in enumerate(chunk)]}


def _size(chunk: Sequence[tuple[Operation, dict[str, Any]]]) -> int:
    return len(json.dumps(_bulk_request(chunk)).encode())


def _chunks(items: list[tuple[Operation, dict[str, Any]]], max_ops: int, max_bytes: int):
    """Runs of operations within maxOperations and maxPayloadSize (0: no byte limit given). One
    operation larger than the payload limit goes alone (and then by POST)."""
    chunk: list[tuple[Operation, dict[str, Any]]] = []
    for item in items:
        if chunk and (len(chunk) >= max_ops or (max_bytes and _size([*chunk, item]) > max_bytes)):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


async def _bulk(p: "ScimProvider", chunk: list[tuple[Operation, dict[str, Any]]]) -> list[BaseException | None]:
    ops = [op for op, _ in chunk]
    caps = p.caps
    if caps.bulk_max_payload and _size(chunk) > caps.bulk_max_payload:
        return await _one_by_one(p, ops)  # one operation alone is over the limit: POST it
    try:
        response = await send(p, "POST", api.BULK, _bulk_request(chunk))
    except ScimError as exc:
        if exc.status in (404, 405, 501):
            caps.bulk = False  # advertised but not there: say so, and create one by one
            from .discovery import log

            log.info("%s: /Bulk answered %s: creating one by one", p.ctx.instance, exc.status)
            return await _one_by_one(p, ops)
        if exc.status == 413 and len(chunk) > 1:
            half = len(chunk) // 2
            return await _bulk(p, chunk[:half]) + await _bulk(p, chunk[half:])
        return [exc] * len(chunk)
    results = {str(r.get("bulkId")): r for r in _answer(response).get("Operations") or [] if isinstance(r, dict)}
    out: list[BaseException | None] = []
    for i, op in enumerate(ops):
        out.append(await _bulk_result(p, op, results.get(str(i))))
    return out


async def _bulk_result(p: "ScimProvider", op: Operation, result: dict[str, Any] | None) -> BaseException | None:
    if result is None:
        return ScimError(f"SCIM /Bulk gave no answer for {op.label}", retryable=True)
    try:
        status = int(result.get("status") or 0)
    except (TypeError, ValueError):
        status = 0
    if 200 <= status < 300:
        location = result.get("location")
        remember(p, op.kind, op.key, api.id_of_location(location) if location else None, result.get("version"))
        return None
    error = ScimError.from_body(status, result.get("response"), what=f"(in /Bulk, {op.label})")
    if status != 409:
        return error
    try:
        await exists_as_desired(p, op, error)
    except ProviderError as exc:
        return exc


async def _one_by_one(p: "ScimProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    gate = asyncio.Semaphore(max(1, p.settings.limits.concurrency))

    async def one(op: Operation) -> BaseException | None:
        async with gate:
            try:
                await (create_user(p, op) if op.kind == USER else create_group(p, op))
            except Exception as exc:  # noqa: BLE001 - each operation's own outcome
                return exc
            return None

    return list(await asyncio.gather(*(one(op) for op in ops)))


# ---- the applier's entry points ---------------------------------------------------------------
async def apply(p: "ScimProvider", op: Operation) -> None:
    if op.kind == MEMBER:
        await members(p, [op])
    elif op.kind == USER and op.action == "create":
        await create_user(p, op)
    elif op.kind == USER and op.action == "update":
        await change_user(p, op, op.after, op.after.attrs)
    elif op.kind == USER and op.action == "delete":
        await delete_user(p, op)
    elif op.kind == GROUP and op.action == "create":
        await create_group(p, op)
    elif op.kind == GROUP and op.action == "delete":
        await delete_group(p, op)
    # a group has no attribute to update: its members are their own resources


async def apply_batch(p: "ScimProvider", ops: Sequence[Operation]) -> list[BaseException | None]:
    if ops[0].kind == MEMBER:
        await members(p, ops)
        return [None] * len(ops)
    return await creates(p, ops)


async def verify(p: "ScimProvider", op: Operation) -> bool:
    """After a lost answer: does the service hold the outcome? One resource is read, not the lists."""
    if op.kind == USER:
        user_name = (op.after or op.before).meta.get("user_name") or (op.after or op.before).display or op.key
        now = await find_user(p, op.key, user_name)
        if op.action == "delete":
            deleting = offboarding_word(p.ctx.policy) == "delete"
            return now is None or (not deleting and now.attrs.get("active") is False)
        return now is not None and await same_user(p, now, op.after.attrs)
    key, name = (op.key, op.resource.display or op.key) if op.kind == GROUP else _group_of(op)
    group = await find_group(p, key, name)
    if op.kind == GROUP:
        return (group is None) == (op.action == "delete")
    if group is None:
        return op.action == "delete"
    present = {str(m.get("value")) for m in group.get("members") or [] if isinstance(m, dict)}
    try:
        member = await _member_id(p, op)
    except ProviderError:
        return op.action == "delete"
    return (member in present) == (op.action == "create")


__all__ = ["ScimError", "apply", "apply_batch", "verify", "describe"]
