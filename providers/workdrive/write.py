"""Executing WorkDrive operations, batched into the bulk and member-list calls.

Batch keys: ``user:create`` (POST /users/bulk-create), ``user:delete`` (DELETE
/users/bulk-delete), and per department, location or group ``<kind>:<name>:create|delete``
(the add/remove member lists) and ``department_member:<name>:promote`` (the heads' add list).
Only a head's demotion (the API takes one id) and user updates go one call each.
"""

from __future__ import annotations

from typing import Any, Sequence

import httpx

from teamform.model import norm_email
from teamform.plan.ops import Operation
from teamform.provider import ProviderError, json_body

from . import api
from .read import DEPARTMENT, DEPT_MEMBER, GROUP, GROUP_MEMBER, LOC_MEMBER, LOCATION, MEMBERSHIP, USER, target

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


class Writer:
    """Mixed into the provider: ``apply``, the batches, and id look-ups."""

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise WorkDriveError.from_response(response)
        return response.json() if response.content else None

    async def _id(self, kind: str, key: str, *, missing_ok: bool = False) -> Any:
        if (kind, key) not in self.ids:
            await self.fetch()  # created since we last read (or a saved plan): read again once
        if (kind, key) not in self.ids and not missing_ok:
            raise WorkDriveError(f"WorkDrive has no {kind} '{key}' (changed since the plan?)", code="NOT_FOUND")
        return self.ids.get((kind, key))

    # ---- one operation ------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        if self.batch_key(op) is not None:
            error = (await self.apply_batch([op]))[0]
            if error is not None:
                raise error
            return
        handlers = {(USER, "update"): self._update_user, (DEPT_MEMBER, "update"): self._demote,
                    (DEPARTMENT, "create"): self._create_department, (LOCATION, "create"): self._create_location,
                    (DEPARTMENT, "delete"): self._delete_place, (LOCATION, "delete"): self._delete_place}
        await handlers[(op.kind, op.action)](op)

    async def _update_user(self, op: Operation) -> None:
        before, after = op.before.attrs, op.after.attrs
        body = {api_name: after[name] for name, api_name in USER_FIELDS.items() if after[name] != before.get(name)}
        if after["reports_to"] != before.get("reports_to"):
            body["reportsTo"] = await self._id(USER, after["reports_to"]) if after["reports_to"] else None
        await self.call("PATCH", api.USER.format(id=op.before.id), json=body)

    async def _create_department(self, op: Operation) -> None:
        heads = op.after.meta.get("heads", [])
        members = [{"id": await self._id(USER, e), "isAdmin": True, "isDepartmentHead": False,
                    "existingDept": self.ids.get(("user_department", e))} for e in heads]
        try:
            made = await self.call("POST", api.DEPARTMENTS, json={"name": op.key, "members": members})
        except WorkDriveError as exc:
            if exc.code == "NAME_EXISTS":  # created, answer lost: its heads are added by their own operations
                raise WorkDriveError(exc.message, code=exc.code, already_done=True) from exc
            raise
        self.ids[(DEPARTMENT, op.key)] = made["id"]
        self.seeded.update((op.key, e) for e in heads)

    async def _create_location(self, op: Operation) -> None:
        try:
            made = await self.call("POST", api.LOCATIONS, json={"name": op.key})
        except WorkDriveError as exc:
            if exc.code == "NAME_EXISTS":
                raise WorkDriveError(exc.message, code=exc.code, already_done=True) from exc
            raise
        self.ids[(LOCATION, op.key)] = made["id"]

    async def _delete_place(self, op: Operation) -> None:
        if (op.kind, op.key) in self.removed:
            return  # a department's last heads took it with them (see _remove_from_department)
        path = api.DEPARTMENT if op.kind == DEPARTMENT else api.LOCATION
        try:
            await self.call("DELETE", path.format(id=op.before.id))
        except WorkDriveError as exc:
            if exc.status != 404:
                raise
        self.ids.pop((op.kind, op.key), None)
        self.removed.add((op.kind, op.key))

    async def _demote(self, op: Operation) -> None:
        dept = await self._id(DEPARTMENT, target(op.before, DEPARTMENT))
        user = await self._id(USER, target(op.before, USER))
        await self.call("PATCH", api.DEPARTMENT_HEADS.format(id=dept), json={"remove": user})

    # ---- batches ------------------------------------------------------------------------
    def batch_key(self, op: Operation) -> str | None:
        if op.kind == USER and op.action in ("create", "delete"):
            return f"user:{op.action}"
        if op.kind in MEMBERSHIP:
            where = target(op.resource, MEMBERSHIP[op.kind])
            if op.action == "update":
                return f"{op.kind}:{where}:promote" if op.after.attrs.get("head") else None
            return f"{op.kind}:{where}:{op.action}"
        return None

    def batch_size(self, key: str) -> int:
        return self.settings.batch_size

    async def apply_batch(self, ops: Sequence[Operation]) -> Results:
        run = {(USER, "create"): self._create_users, (USER, "delete"): self._delete_users,
               (DEPT_MEMBER, "create"): self._add_to_department, (DEPT_MEMBER, "update"): self._promote,
               (DEPT_MEMBER, "delete"): self._remove_from_department,
               (LOC_MEMBER, "create"): self._location_members, (LOC_MEMBER, "delete"): self._location_members,
               (GROUP_MEMBER, "create"): self._group_members, (GROUP_MEMBER, "delete"): self._group_members}
        try:
            results = await run[(ops[0].kind, ops[0].action)](list(ops))
        except ProviderError as exc:
            return await self._read_back(ops, exc) if exc.retryable else [exc] * len(ops)
        except httpx.HTTPError as exc:
            return await self._read_back(ops, exc)
        return results or [None] * len(ops)

    async def _read_back(self, ops: Sequence[Operation], exc: BaseException) -> Results:
        """A bulk call failed in a way that may have taken effect: one read for the whole batch."""
        try:
            live = await self.fetch()
        except (ProviderError, httpx.HTTPError):
            return [exc] * len(ops)
        return [None if op.holds_in(live) else exc for op in ops]

    async def _user_ids(self, ops: Sequence[Operation]) -> list[Any]:
        return [await self._id(USER, target(op.resource, USER)) for op in ops]

    # ---- users --------------------------------------------------------------------------
    async def _user_body(self, op: Operation) -> dict[str, Any]:
        a = op.after.attrs
        body = {"email": op.after.person or op.key, "firstName": a["first_name"], "lastName": a["last_name"]}
        if a["designation"] is not None:
            body["designation"] = a["designation"]
        if a["reports_to"]:
            body["reportsTo"] = await self._id(USER, a["reports_to"])
        return body

    async def _create_users(self, ops: list[Operation]) -> Results:
        try:
            await self._bulk_create(ops)
            return [None] * len(ops)
        except WorkDriveError as exc:
            if exc.code != "EMAIL_EXISTS":
                raise
            taken = {norm_email(e) for e in exc.details.get("emails") or []}
        rest = [op for op in ops if op.key not in taken]
        if rest:
            await self._bulk_create(rest)
        live = await self.fetch()  # the taken ones: done if the service already holds them as planned
        return [None if op.key not in taken or op.holds_in(live) else WorkDriveError(
            f"WorkDrive EMAIL_EXISTS: {op.key} already exists with other details; the next plan shows the "
            "update", code="EMAIL_EXISTS") for op in ops]

    async def _bulk_create(self, ops: list[Operation]) -> None:
        created = await self.call("POST", api.USERS_BULK_CREATE, json={"data": [await self._user_body(o) for o in ops]})
        for user in created or []:
            self.ids[(USER, norm_email(user["email"]))] = user["id"]

    async def _delete_users(self, ops: list[Operation]) -> None:
        ids = [op.before.id for op in ops]
        try:
            await self.call("DELETE", api.USERS_BULK_DELETE, json={"id": ids})
        except WorkDriveError as exc:
            gone = set(exc.details.get("ids") or []) if exc.code == "USER_NOT_FOUND" else set()
            if not gone:
                raise
            rest = [i for i in ids if i not in gone]  # deleting what is already gone succeeds
            if rest:
                await self.call("DELETE", api.USERS_BULK_DELETE, json={"id": rest})
        for op in ops:
            self.ids.pop((USER, op.key), None)

    # ---- departments --------------------------------------------------------------------
    async def _entries(self, ops: Sequence[Operation], head: bool | None = None) -> list[dict[str, Any]]:
        return [{"id": uid, "isAdmin": op.after.attrs["head"] if head is None else head, "isDepartmentHead": False,
                 "existingDept": self.ids.get(("user_department", target(op.after, USER)))}
                for op, uid in zip(ops, await self._user_ids(ops))]

    async def _add_to_department(self, ops: list[Operation]) -> None:
        name = target(ops[0].after, DEPARTMENT)
        todo = [op for op in ops if (name, target(op.after, USER)) not in self.seeded]  # came with the department
        if todo:
            dept = await self._id(DEPARTMENT, name)
            await self.call("POST", api.DEPARTMENT_MEMBERS.format(id=dept), json={"addMembers": await self._entries(todo)})

    async def _promote(self, ops: list[Operation]) -> None:
        dept = await self._id(DEPARTMENT, target(ops[0].after, DEPARTMENT))
        await self.call("PATCH", api.DEPARTMENT_HEADS.format(id=dept), json={"add": await self._entries(ops, True)})

    async def _remove_from_department(self, ops: list[Operation]) -> None:
        name = target(ops[0].before, DEPARTMENT)
        dept = await self._id(DEPARTMENT, name, missing_ok=True)
        if dept is None:
            return  # the department is gone, and its members with it
        dying = name not in self._wanted_departments()
        heads = [op for op in ops if op.before.attrs.get("head")] if dying else []
        plain = [op for op in ops if op not in heads]
        if plain:
            await self.call("POST", api.DEPARTMENT_MEMBERS.format(id=dept),
                            json={"removeMembers": await self._user_ids(plain)})
        if heads:  # a department always has a head: its last heads leave with it (after everyone else)
            await self._delete_place(Operation(ops[0].service, "delete", DEPARTMENT, name,
                                               before=type(ops[0].before)(DEPARTMENT, name, id=dept)))

    def _wanted_departments(self) -> set[str]:
        named = {u.department for u in self.settings.users if u.department}
        return set(self.settings.departments) | named

    # ---- locations and security groups --------------------------------------------------
    async def _location_members(self, ops: list[Operation]) -> None:
        name = target(ops[0].resource, LOCATION)
        remove = ops[0].action == "delete"
        loc = await self._id(LOCATION, name, missing_ok=remove)
        if loc is None:
            return  # the location is gone, and its members with it
        field = "removeMembers" if remove else "addMembers"
        await self.call("POST", api.LOCATION_MEMBERS.format(id=loc), json={field: await self._user_ids(ops)})

    async def _group_members(self, ops: list[Operation]) -> None:
        group = await self._id(GROUP, target(ops[0].resource, GROUP))
        method = "DELETE" if ops[0].action == "delete" else "POST"
        await self.call(method, api.GROUP_MEMBERS.format(id=group), json={"ids": await self._user_ids(ops)})
