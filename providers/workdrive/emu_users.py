"""The WorkDrive emulator's user endpoints (list, add, bulk create, update, delete, bulk delete)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from . import api
from .emu_common import Refusal, new_user, now

USER_FIELDS = ("firstName", "lastName", "designation", "phone", "bio")


class UserHandlers:
    """Mixed into ``WorkDriveEmulator``; uses its shared helpers."""

    def user_routes(self) -> list[tuple[str, str, Any, int]]:
        return [
            ("GET", "/api" + api.USERS, self.list_users, 200),
            ("POST", "/api" + api.USER_ADD, self.add_user, 201),
            ("POST", "/api" + api.USERS_BULK_CREATE, self.bulk_create, 201),
            ("DELETE", "/api" + api.USERS_BULK_DELETE, self.bulk_delete, 200),
            ("PATCH", "/api" + api.USER, self.update_user, 200),
            ("DELETE", "/api" + api.USER, self.delete_user, 200),
        ]

    def view(self, user: dict[str, Any]) -> dict[str, Any]:
        dept = self.departments.get(user["department"] or "")
        loc = self.state["locations"].get(user["location"] or "")
        boss = self.users.get(user["reportsTo"] or "")
        return {**user, "userName": user["email"].split("@")[0],
                "isDepartmentHead": bool(dept and user["id"] in dept["heads"]),
                "location": {"id": loc["id"], "name": loc["name"]} if loc else {},
                "reportsToObj": self.mini(boss) if boss else None}

    # ---- reading ------------------------------------------------------------------------
    async def list_users(self, request: Request) -> Any:
        q = request.query_params
        users = [u for u in self.users.values()
                 if ("department" not in q or u["department"] == q["department"])
                 and ("location" not in q or u["location"] == q["location"])]
        return self.page(request, [self.view(u) for u in users], "users")

    # ---- creating -----------------------------------------------------------------------
    async def add_user(self, request: Request) -> Any:
        return self.view(self._create([await self.body(request)])[0])

    async def bulk_create(self, request: Request) -> Any:
        data = (await self.body(request)).get("data")
        if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
            raise Refusal("VALIDATION_ERROR", "data must be a non-empty list of users")
        if len(data) > api.MAX_BATCH:
            raise Refusal("BATCH_TOO_LARGE")
        return [self.view(u) for u in self._create(data)]

    def _create(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._no_duplicates(entries)
        created = []
        for entry in entries:
            user = new_user(self.new_id(), entry["email"].strip(), str(entry.get("firstName") or ""),
                            str(entry.get("lastName") or ""), designation=entry.get("designation"),
                            status=api.NEW_USER_STATUS, at=now())
            if entry.get("reportsTo") is not None:
                user["reportsTo"] = self.user(entry["reportsTo"], "REPORTS_TO_NOT_FOUND")["id"]
            self.users[user["id"]] = user
            self._placements(user, entry)
            created.append(user)
        return created

    def _no_duplicates(self, entries: list[dict[str, Any]]) -> None:
        seen: set[str] = set()
        taken = []
        for entry in entries:
            email = entry.get("email")
            if not isinstance(email, str) or "@" not in email:
                raise Refusal("VALIDATION_ERROR", f"email is required and must be an email: {email!r}")
            low = email.strip().lower()
            if low in seen or self.by_email(low) is not None:
                taken.append(email)
            seen.add(low)
        if taken:
            raise Refusal("EMAIL_EXISTS", f"these emails are taken: {', '.join(taken)}", emails=taken)

    def _placements(self, user: dict[str, Any], entry: dict[str, Any]) -> None:
        if entry.get("department") is not None:
            if entry["department"] not in self.departments:
                raise Refusal("DEPARTMENT_NOT_FOUND", ids=[entry["department"]])
            self.place(user, entry["department"], bool(entry.get("isDepartmentHead")))
        if entry.get("location") is not None:
            if entry["location"] not in self.state["locations"]:
                raise Refusal("LOCATION_NOT_FOUND", ids=[entry["location"]])
            user["location"] = entry["location"]
        if entry.get("securityGroup") is not None:
            group = self.state["groups"].get(entry["securityGroup"])
            if group is None:
                raise Refusal("GROUP_NOT_FOUND", ids=[entry["securityGroup"]])
            group["members"].append(user["id"])

    # ---- updating -----------------------------------------------------------------------
    async def update_user(self, request: Request) -> Any:
        user = self.user(request.path_params["id"], "NOT_FOUND")
        body = await self.body(request)
        for key in USER_FIELDS:
            if key in body:
                user[key] = body[key]
        if "status" in body:
            if body["status"] not in api.STATUSES:
                raise Refusal("VALIDATION_ERROR", f"status must be one of {', '.join(api.STATUSES)}")
            user["status"] = body["status"]
        if "reportsTo" in body:
            boss = body["reportsTo"]
            if boss is not None and (boss == user["id"] or boss not in self.users):
                raise Refusal("REPORTS_TO_NOT_FOUND", ids=[boss])
            user["reportsTo"] = boss
        self._move(user, body)
        user["updatedAt"] = now()
        return self.view(user)

    def _move(self, user: dict[str, Any], body: dict[str, Any]) -> None:
        touched: set[str | None] = set()
        if "department" in body or "isDepartmentHead" in body:
            dept_id = body.get("department", user["department"])
            if dept_id is not None and dept_id not in self.departments:
                raise Refusal("DEPARTMENT_NOT_FOUND", ids=[dept_id])
            touched |= self.place(user, dept_id, bool(body.get("isDepartmentHead")))
            heads = self.departments[dept_id]["heads"] if dept_id else []
            if body.get("isDepartmentHead") is False and user["id"] in heads:
                heads.remove(user["id"])
        if "location" in body:
            if body["location"] is not None and body["location"] not in self.state["locations"]:
                raise Refusal("LOCATION_NOT_FOUND", ids=[body["location"]])
            user["location"] = body["location"]
        self.heads_ok(touched)

    # ---- deleting -----------------------------------------------------------------------
    async def delete_user(self, request: Request) -> Any:
        self._remove([self.user(request.path_params["id"], "NOT_FOUND")["id"]])
        return {"deleted": [request.path_params["id"]]}

    async def bulk_delete(self, request: Request) -> Any:
        ids = self.ids_list((await self.body(request)).get("id"), "id")
        self.known_users(ids)
        self._remove(ids)
        return {"deleted": ids}

    def _remove(self, ids: list[str]) -> None:
        touched: set[str | None] = set()
        for user_id in ids:
            touched |= self.place(self.users[user_id], None)
            for group in self.state["groups"].values():
                group["members"] = [m for m in group["members"] if m != user_id]
            for other in self.users.values():
                if other["reportsTo"] == user_id:
                    other["reportsTo"] = None  # the service reassigns; teamform plans it first
            del self.users[user_id]
        self.heads_ok(touched)
