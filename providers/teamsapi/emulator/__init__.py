"""An emulator of the Teams API (paths in api.py, choices in README.md).

Rules it enforces: Bearer auth on every call (401); ``GET /teams/all`` paged with
``offset``/``limit`` as documented (400 on bad values, at most 100), every other list whole in one
answer (the document pages none of them); the documented required fields and their types on an
invitation (400) and roles only from ``GET /teams/roles`` (400); an invitation past the team's
``usersLimit`` (pending invitations count) is refused (403); a second invitation for someone
already invited or on the team is refused (409); only the owner deletes a team or names a new
owner, the owner cannot leave without handing over (400), the new owner must be an accepted member
(400), and the owner's membership cannot be cancelled (403); only the owner or an Admin invites
and cancels (403). Which of these the document says and which we chose is in
``tests/providers/test_teamsapi_document.py`` and the README.

``state.py`` holds the records and lookups, ``reads.py`` and ``writes.py`` the handlers; each
handler is a method of the emulator, so a test can override one (a truncating member list).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teamform.emulator import Emulator, JSONResponse, RateLimit

from .. import api
from . import reads, writes
from .state import PHRASES, Refusal, caller_of, membership, seed, team, user

__all__ = ["TeamsApiEmulator", "Refusal", "membership", "team", "user"]


class TeamsApiEmulator(Emulator):
    sandbox_credentials = {"token": "sandbox-token"}

    # the handlers: async (self, request, caller) -> JSON
    get_team, get_limit, list_roles = reads.get_team, reads.get_limit, reads.list_roles
    list_teams, list_members, list_invitations = reads.list_teams, reads.list_members, reads.list_invitations
    create_team, delete_team, leave = writes.create_team, writes.delete_team, writes.leave
    invite, cancel, accept, decline = writes.invite, writes.cancel, writes.accept, writes.decline

    def seed(self) -> dict[str, Any]:
        return seed()

    def default_rate_limit(self) -> RateLimit:
        return RateLimit(requests=600, window=60.0)

    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"statusCode": status, "message": message, "error": PHRASES.get(status, "Error")},
                            status_code=status, headers=headers)

    def endpoint(self, handler, status: int = 200):
        """A Starlette endpoint: the caller from the token, the handler's answer or its refusal."""
        async def run(request: Request) -> Response:
            try:
                caller = caller_of(self.state, request)
                return JSONResponse(await handler(request, caller), status_code=status)
            except Refusal as exc:
                return self.error_response(exc.status, exc.message)
            finally:
                if request.method != "GET":  # a write may change who sees which team
                    self.forget("visible_teams")
        return run

    def routes(self) -> list[Route]:
        def route(path: str, method: str, handler, status: int = 200) -> Route:
            return Route(path, self.endpoint(handler, status), methods=[method])

        return [
            route(api.TEAM, "GET", self.get_team),
            route(api.TEAM, "POST", self.create_team, 201),
            route(api.MEMBERS, "GET", self.list_members),
            route(api.ROLES, "GET", self.list_roles),
            route(api.LIMIT, "GET", self.get_limit),
            route(api.ALL_TEAMS, "GET", self.list_teams),
            route(api.INVITATIONS, "GET", self.list_invitations),
            route(api.INVITATION, "POST", self.invite),
            route(api.CANCEL_INVITATION, "DELETE", self.cancel),
            route(api.LEAVE_TEAM, "PUT", self.leave),
            route(api.ACCEPT_INVITATION, "PUT", self.accept),
            route(api.DECLINE_INVITATION, "PUT", self.decline),
            route(api.TEAM_BY_ID, "DELETE", self.delete_team),
        ]
