"""The fake service's API, served in process: members on a seat pool, with roles.

Small on purpose, but with the rules the engine must respect: a member needs a free seat, the
pool cannot shrink below its use, the last Admin cannot be removed or demoted, a member's plan
cannot change in place, and the member list is paged (offset/limit, at most 50) with a total.
A member can be suspended (``status: suspended``) and its email changed in place (PATCH), for
the engine's lifecycle tests.

Optional parts, absent from the seed so older states read the same: ``me`` (the email the API
key belongs to, answered by ``GET /me``), a member's ``status`` (active or suspended) and
``invited_at`` (when a pending invitation was sent; ``POST /members/{id}/resend`` sends it again),
and ``groups`` (name -> member emails; the service itself lets ``admins`` go empty).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..emulator import Emulator, JSONResponse

API_KEY = "fake-sandbox-key-5f2a"
MAX_PAGE = 50


def member(id_: int, email: str, role: str = "User", plan: str = "basic", pending: bool = False, *,
           status: str = "active", invited_at: str | None = None) -> dict[str, Any]:
    out = {"id": id_, "email": email, "role": role, "plan": plan, "pending": pending, "status": status}
    if invited_at is not None:
        out["invited_at"] = invited_at
    return out


class FakeEmulator(Emulator):
    sandbox_credentials = {"api_key": API_KEY}
    #: the service's clock, for the date a resent invitation records (tests set their own)
    now: Callable[[], dt.datetime] = staticmethod(lambda: dt.datetime.now(dt.timezone.utc))

    def seed(self) -> dict[str, Any]:
        return {"seats": 3, "members": [member(1, "alice@example.com", "Admin")], "next_id": 2}

    def routes(self) -> list[Route]:
        return [Route("/seats", self.get_seats, methods=["GET"]), Route("/seats", self.put_seats, methods=["PUT"]),
                Route("/members", self.list_members, methods=["GET"]),
                Route("/members", self.create_member, methods=["POST"]),
                Route("/members/bulk", self.bulk_create, methods=["POST"]),
                Route("/members/{id:int}", self.patch_member, methods=["PATCH"]),
                Route("/members/{id:int}", self.delete_member, methods=["DELETE"]),
                Route("/members/{id:int}/resend", self.resend, methods=["POST"]),
                Route("/me", self.get_me, methods=["GET"]),
                Route("/groups", self.get_groups, methods=["GET"]),
                Route("/groups/{name}/members/{email}", self.put_group_member, methods=["PUT"]),
                Route("/groups/{name}/members/{email}", self.delete_group_member, methods=["DELETE"])]

    # ---- rules --------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        return request.headers.get("x-api-key") == API_KEY

    def _find(self, id_: int) -> dict[str, Any] | None:
        return next((m for m in self.state["members"] if m["id"] == id_), None)

    def _admins(self) -> int:
        return sum(1 for m in self.state["members"] if m["role"] == "Admin")

    def _add(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or not isinstance(body.get("email"), str) or "@" not in body["email"]:
            return 400, {"error": "email is required"}
        if body.get("role", "User") not in ("User", "Admin") or body.get("plan", "basic") not in ("basic", "pro"):
            return 400, {"error": "role must be User or Admin, plan basic or pro"}
        if any(m["email"].lower() == body["email"].lower() for m in self.state["members"]):
            return 409, {"error": "exists"}
        if len(self.state["members"]) >= self.state["seats"]:
            return 409, {"error": "no free seat"}
        new = member(self.next_id(), body["email"], body.get("role", "User"), body.get("plan", "basic"), True,
                     status=body.get("status", "active"), invited_at=self.now().isoformat())
        self.state["members"].append(new)
        return 201, new

    # ---- handlers -----------------------------------------------------------------------
    async def get_seats(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        return JSONResponse({"count": self.state["seats"]})

    async def put_seats(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        count = (await request.json()).get("count")
        if not isinstance(count, int) or count < len(self.state["members"]):
            return self.error_response(409, "seats in use")
        self.state["seats"] = count
        return JSONResponse({"count": count})

    async def list_members(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        offset = int(request.query_params.get("offset", 0))
        limit = min(MAX_PAGE, int(request.query_params.get("limit", MAX_PAGE)))
        items = self.state["members"]
        return JSONResponse({"items": items[offset:offset + limit], "total": len(items)})

    async def create_member(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        status, body = self._add(await request.json())
        return JSONResponse(body, status_code=status)

    async def bulk_create(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        results = []
        for item in (await request.json()).get("members") or []:
            status, body = self._add(item)
            results.append({"status": status, **({"member": body} if status == 201 else body)})
        return JSONResponse({"results": results})

    async def patch_member(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        found = self._find(request.path_params["id"])
        if found is None:
            return self.error_response(404, "no such member")
        body = await request.json()
        if "plan" in body and body["plan"] != found["plan"]:
            return self.error_response(400, "a member's plan cannot be changed")
        role = body.get("role", found["role"])
        if role not in ("User", "Admin"):
            return self.error_response(400, "role must be User or Admin")
        if body.get("status", "active") not in ("active", "suspended"):
            return self.error_response(400, "status must be active or suspended")
        if "status" in body:
            found["status"] = body["status"]
        if found["role"] == "Admin" and role != "Admin" and self._admins() == 1:
            return self.error_response(409, "the last Admin cannot be demoted")
        email = body.get("email", found["email"])  # a change of email keeps the member (its id, its data)
        if not isinstance(email, str) or "@" not in email:
            return self.error_response(400, "email must be an email address")
        if email.lower() != found["email"].lower() and any(
                m["email"].lower() == email.lower() for m in self.state["members"]):
            return self.error_response(409, "exists")
        found.update(role=role, email=email)
        return JSONResponse(found)

    async def delete_member(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        found = self._find(request.path_params["id"])
        if found is None:
            return self.error_response(404, "no such member")
        if found["role"] == "Admin" and self._admins() == 1:
            return self.error_response(409, "the last Admin cannot be removed")
        self.state["members"].remove(found)
        for group in (self.state.get("groups") or {}).values():
            if found["email"].lower() in group:
                group.remove(found["email"].lower())
        return Response(status_code=204)

    async def resend(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        found = self._find(request.path_params["id"])
        if found is None:
            return self.error_response(404, "no such member")
        if not found.get("pending"):
            return self.error_response(409, "the member has accepted their invitation")
        found["invited_at"] = self.now().isoformat()
        return JSONResponse(found)

    async def get_me(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        return JSONResponse({"email": self.state.get("me")})

    async def get_groups(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        return JSONResponse({"groups": self.state.get("groups") or {}})

    async def put_group_member(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        name, email = request.path_params["name"], request.path_params["email"].lower()
        group = self.state.setdefault("groups", {}).get(name)
        if group is None:
            return self.error_response(404, "no such group")
        if not any(m["email"].lower() == email for m in self.state["members"]):
            return self.error_response(409, "not a member")
        if email not in group:
            group.append(email)
        return Response(status_code=204)

    async def delete_group_member(self, request: Request) -> Response:
        if not self._authorized(request):
            return self.error_response(401, "bad api key")
        name, email = request.path_params["name"], request.path_params["email"].lower()
        group = (self.state.get("groups") or {}).get(name)
        if group is None or email not in group:
            return self.error_response(404, "no such group member")
        group.remove(email)  # the service lets a group go empty: the engine's guard keeps admins
        return Response(status_code=204)
