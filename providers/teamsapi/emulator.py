"""An emulator of the Teams API (paths in api.py, choices in README.md).

Rules it enforces: Bearer auth on every call (401); paging with ``offset``/``limit`` (400 on bad
values, at most ``api.PAGE_LIMIT``); roles only from ``GET /teams/roles`` (400); an invitation
past the team's ``usersLimit`` (pending invitations count) is refused (403); a second invitation
for someone already invited or on the team is refused (409); only the owner deletes a team or
names a new owner, the owner cannot leave without handing over (400), the new owner must be an
accepted member (400), and the owner's membership cannot be cancelled (403); only the owner or an
Admin invites and cancels (403).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teamform.emulator import Emulator, RateLimit

from . import api

PHRASES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
MANAGERS = frozenset({"Admin"})


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


def user(uid: int, email: str, first: str, last: str) -> dict[str, Any]:
    return {"id": uid, "email": email, "firstName": first, "lastName": last, "phone": None}


def membership(mid: int, team: str, uid: int, role: str, accepted: bool = True,
               invited: bool = True) -> dict[str, Any]:
    return {"membershipId": mid, "teamId": team, "userId": uid, "role": role,
            "invitationAccepted": accepted, "invited": invited, "isActive": True}


def team(tid: str, name: str, owner: int, limit: int = 5) -> dict[str, Any]:
    return {"id": tid, "name": name, "usersLimit": limit, "ownerId": owner, "subscription": "Basic",
            "isImpersonationEnabled": False}


class TeamsApiEmulator(Emulator):
    sandbox_credentials = {"token": "sandbox-token"}

    def seed(self) -> dict[str, Any]:
        """Drift from teams.example.yaml: Bob is a Member there (Admin wanted: a replace), Carol's
        invitation is pending, Frank is not in the file, Lee joined without an invitation record
        (unmatched), "Old Project" is not in the file, and "Design" does not exist yet."""
        users = [user(1, "alice@example.com", "Alice", "Doe"), user(2, "Bob@Example.com", "Bob", "Roe"),
                 user(3, "carol@example.com", "Carol", "Poe"), user(4, "frank@example.com", "Frank", "Hoe"),
                 user(5, "lee@example.org", "Lee", "Gacy")]
        memberships = [membership(1, "team_1", 1, "Admin", invited=False), membership(2, "team_1", 2, "Member"),
                       membership(3, "team_1", 3, "Member", accepted=False), membership(4, "team_1", 4, "Viewer"),
                       membership(5, "team_1", 5, "Member", invited=False),
                       membership(6, "team_2", 1, "Admin", invited=False)]
        return {"users": users, "tokens": {"sandbox-token": 1, "carol-token": 3},
                "teams": [team("team_1", "Engineering", 1), team("team_2", "Old Project", 1)],
                "memberships": memberships, "roles": ["Admin", "Member", "Viewer"],
                "default_users_limit": 5, "next_id": 100}

    def default_rate_limit(self) -> RateLimit:
        return RateLimit(requests=600, window=60.0)

    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"statusCode": status, "message": message, "error": PHRASES.get(status, "Error")},
                            status_code=status, headers=headers)

    def routes(self) -> list[Route]:
        def endpoint(handler, status: int = 200):
            async def run(request: Request) -> Response:
                try:
                    caller = self._caller(request)
                    return JSONResponse(await handler(request, caller), status_code=status)
                except Refusal as exc:
                    return self.error_response(exc.status, exc.message)
            return run

        return [
            Route(api.TEAM, endpoint(self.get_team), methods=["GET"]),
            Route(api.TEAM, endpoint(self.create_team, 201), methods=["POST"]),
            Route(api.MEMBERS, endpoint(self.list_members), methods=["GET"]),
            Route(api.ROLES, endpoint(self.list_roles), methods=["GET"]),
            Route(api.LIMIT, endpoint(self.get_limit), methods=["GET"]),
            Route(api.ALL_TEAMS, endpoint(self.list_teams), methods=["GET"]),
            Route(api.INVITATIONS, endpoint(self.list_invitations), methods=["GET"]),
            Route(api.INVITATION, endpoint(self.invite), methods=["POST"]),
            Route(api.CANCEL_INVITATION, endpoint(self.cancel), methods=["DELETE"]),
            Route(api.LEAVE_TEAM, endpoint(self.leave), methods=["PUT"]),
            Route(api.ACCEPT_INVITATION, endpoint(self.accept), methods=["PUT"]),
            Route(api.DECLINE_INVITATION, endpoint(self.decline), methods=["PUT"]),
            Route(api.TEAM_BY_ID, endpoint(self.delete_team), methods=["DELETE"]),
        ]

    # ---- lookups ------------------------------------------------------------------------
    def _caller(self, request: Request) -> int:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != api.AUTH_SCHEME.lower() or not token:
            raise Refusal(401, "missing or malformed Authorization header (Bearer token expected)")
        uid = self.state["tokens"].get(token.strip())
        if uid is None:
            raise Refusal(401, "invalid token")
        return uid

    def _user(self, uid: int) -> dict[str, Any]:
        return next(u for u in self.state["users"] if u["id"] == uid)

    def _members(self, tid: str) -> list[dict[str, Any]]:
        return [m for m in self.state["memberships"] if m["teamId"] == tid]

    def _membership(self, tid: str, uid: int) -> dict[str, Any] | None:
        return next((m for m in self._members(tid) if m["userId"] == uid), None)

    def _team(self, tid: str | None, caller: int, *, manage: bool = False) -> dict[str, Any]:
        if tid is None:
            return self._home(caller)
        found = next((t for t in self.state["teams"] if t["id"] == tid), None)
        mine = self._membership(tid, caller) if found else None
        if found is None or mine is None or not mine["invitationAccepted"]:
            raise Refusal(404, f"team {tid} not found")
        if manage and found["ownerId"] != caller and mine["role"] not in MANAGERS:
            raise Refusal(403, "only the team's owner or an Admin may do this")
        return found

    def _home(self, caller: int) -> dict[str, Any]:
        owned = [t for t in self.state["teams"] if t["ownerId"] == caller]
        if not owned:
            raise Refusal(404, "you do not own a team")
        return owned[0]

    @staticmethod
    def _page(request: Request, items: list[Any]) -> list[Any]:
        q = request.query_params
        try:
            offset, limit = int(q.get("offset", 0)), int(q.get("limit", 10))
        except ValueError:
            raise Refusal(400, "offset and limit must be numbers") from None
        if offset < 0 or not 1 <= limit <= api.PAGE_LIMIT:
            raise Refusal(400, f"offset must be >= 0 and limit between 1 and {api.PAGE_LIMIT}")
        return items[offset: offset + limit]

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise Refusal(400, "the body must be JSON") from None
        if not isinstance(data, dict):
            raise Refusal(400, "the body must be a JSON object")
        return data

    # ---- reads --------------------------------------------------------------------------
    async def get_team(self, request: Request, caller: int) -> Any:
        home = self._home(caller)
        return {"usersLimit": home["usersLimit"], "name": home["name"], "count": len(self._members(home["id"]))}

    async def get_limit(self, request: Request, caller: int) -> Any:
        home = self._home(caller)
        return len(self._members(home["id"])) < home["usersLimit"]

    async def list_roles(self, request: Request, caller: int) -> Any:
        return [{"label": r, "value": r} for r in self.state["roles"]]

    def _team_view(self, t: dict[str, Any]) -> dict[str, Any]:
        owner = self._user(t["ownerId"])
        return {"id": t["id"], "name": t["name"], "usersLimit": t["usersLimit"],
                "membersCount": len(self._members(t["id"])),
                "owner": {k: owner[k] for k in ("id", "firstName", "lastName", "email")},
                "subscription": t["subscription"], "isImpersonationEnabled": t["isImpersonationEnabled"]}

    async def list_teams(self, request: Request, caller: int) -> Any:
        search = request.query_params.get("globalSearch", "").lower()
        mine = [t for t in self.state["teams"] if (m := self._membership(t["id"], caller)) and m["invitationAccepted"]
                and search in t["name"].lower()]
        return self._page(request, [self._team_view(t) for t in mine])

    async def list_members(self, request: Request, caller: int) -> Any:
        found = self._team(request.query_params.get("teamId"), caller)
        out = []
        for m in self._members(found["id"]):
            u = self._user(m["userId"])
            out.append({"id": u["id"], "firstName": u["firstName"], "lastName": u["lastName"], "phone": u["phone"],
                        "role": m["role"], "isActive": m["isActive"], "invitationAccepted": m["invitationAccepted"]})
        return self._page(request, out)

    async def list_invitations(self, request: Request, caller: int) -> Any:
        found = self._team(request.query_params.get("teamId"), caller)
        out = [{"membershipId": m["membershipId"], "userId": m["userId"], "email": self._user(m["userId"])["email"],
                "role": m["role"], "invitationAccepted": m["invitationAccepted"], "teamId": m["teamId"]}
               for m in self._members(found["id"]) if m["invited"]]
        return self._page(request, out)

    # ---- writes -------------------------------------------------------------------------
    async def create_team(self, request: Request, caller: int) -> Any:
        name = (await self._body(request)).get("teamName")
        if not isinstance(name, str) or not name.strip():
            raise Refusal(400, "teamName must be a non-empty string")
        tid = f"team_{self.next_id()}"
        self.state["teams"].append(team(tid, name.strip(), caller, self.state["default_users_limit"]))
        self.state["memberships"].append(membership(self.next_id(), tid, caller, api.CREATOR_ROLE, invited=False))
        return {"id": tid, "name": name.strip(), "usersLimit": self.state["default_users_limit"]}

    async def invite(self, request: Request, caller: int) -> Any:
        body = await self._body(request)
        missing = [k for k in ("email", "firstName", "lastName", "phone", "role", "teamId") if k not in body]
        if missing:
            raise Refusal(400, f"missing fields: {', '.join(missing)}")
        email = body["email"]
        if not isinstance(email, str) or "@" not in email:
            raise Refusal(400, "email must be an email address")
        if body["role"] not in self.state["roles"]:
            raise Refusal(400, f"role must be one of {', '.join(self.state['roles'])}")
        found = self._team(body["teamId"], caller, manage=True)
        invitee = next((u for u in self.state["users"] if u["email"].lower() == email.lower()), None)
        if invitee is not None and self._membership(found["id"], invitee["id"]) is not None:
            raise Refusal(409, f"{email} is already invited to or a member of this team")
        if len(self._members(found["id"])) >= found["usersLimit"]:
            raise Refusal(403, f"the team has reached its users limit ({found['usersLimit']}); "
                               "pending invitations count")
        if invitee is None:
            invitee = user(self.next_id(), email, body["firstName"] or "", body["lastName"] or "")
            invitee["phone"] = body["phone"]
            self.state["users"].append(invitee)
        self.state["memberships"].append(
            membership(self.next_id(), found["id"], invitee["id"], body["role"], accepted=False))
        return {"message": "Invitation email sent",
                "description": "Wait for the invited person to finish their registration."}

    async def cancel(self, request: Request, caller: int) -> Any:
        try:
            uid = int(request.path_params["user_id"])
        except ValueError:
            raise Refusal(400, "id must be a number") from None
        mid = (await self._body(request)).get("membershipId")
        if mid is None:
            target = self._membership(self._home(caller)["id"], uid)
        else:
            target = next((m for m in self.state["memberships"] if m["membershipId"] == mid), None)
        if target is None or target["userId"] != uid:
            raise Refusal(404, "invitation not found")
        found = self._team(target["teamId"], caller, manage=True)
        if found["ownerId"] == uid:
            raise Refusal(403, "the owner's membership cannot be cancelled; the owner leaves with leave-team")
        self.state["memberships"].remove(target)
        return {"message": "Invitation cancelled successfully",
                "description": "The invitation has been cancelled successfully."}

    async def leave(self, request: Request, caller: int) -> Any:
        found = self._team(request.path_params["team_id"], caller)
        new_owner = (await self._body(request)).get("newOwnerId")
        if found["ownerId"] != caller:
            if new_owner is not None:
                raise Refusal(403, "only the owner can name a new owner")
        else:
            heir = self._membership(found["id"], new_owner) if isinstance(new_owner, int) else None
            if new_owner is None:
                raise Refusal(400, "the owner must name newOwnerId to leave (or delete the team)")
            if heir is None or not heir["invitationAccepted"] or new_owner == caller:
                raise Refusal(400, "newOwnerId must be another member who has accepted their invitation")
            found["ownerId"] = new_owner
        self.state["memberships"].remove(self._membership(found["id"], caller))
        return {"message": "Left the team successfully", "description": "You have left the team successfully."}

    def _invitation_of(self, request: Request, caller: int) -> dict[str, Any]:
        target = self._membership(request.path_params["team_id"], caller)
        if target is None or target["invitationAccepted"]:
            raise Refusal(404, "no pending invitation to this team")
        return target

    async def accept(self, request: Request, caller: int) -> Any:
        self._invitation_of(request, caller)["invitationAccepted"] = True
        return {"message": "Invitation accepted successfully",
                "description": "You have accepted the invitation successfully."}

    async def decline(self, request: Request, caller: int) -> Any:
        self.state["memberships"].remove(self._invitation_of(request, caller))
        return {"message": "Invitation declined successfully",
                "description": "You have declined the invitation successfully."}

    async def delete_team(self, request: Request, caller: int) -> Any:
        found = self._team(request.path_params["team_id"], caller)
        if found["ownerId"] != caller:
            raise Refusal(403, "only the owner can delete a team")
        self.state["teams"].remove(found)
        self.state["memberships"] = [m for m in self.state["memberships"] if m["teamId"] != found["id"]]
        return {"message": "Team deleted successfully", "description": "The team has been deleted successfully."}
