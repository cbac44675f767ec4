"""An emulator of the Krisp Team Management API (see ../api.py for the paths).

Rules it enforces, from the document and the vendor's help centre: Basic auth with the four
auth error codes; the ``code``/``error_code``/``message`` envelope; paging; only unassigned
seats can be deleted; no more invitations than unassigned seats; bulk invites skip members;
invoice teams cannot add or delete seats; device-team keys cannot invite; the last Admin
cannot be unassigned or demoted; 700 requests a minute per IP, then a one-hour block.

``envelope.py`` answers and authenticates, ``team.py`` holds the seats, the seed and the rules,
``seats.py`` and ``members.py`` the handlers.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teamform.emulator import Emulator, RateLimit

from .. import api
from . import envelope, members, seats, team
from .envelope import DOCUMENTED, Refusal
from .team import NOW, seat

__all__ = ["KrispEmulator", "seat", "Refusal", "DOCUMENTED", "NOW"]

#: (method, path after /api/{version}, handler method); ``None`` is Starlette's default (GET)
ROUTES: list[tuple[str | None, str, str]] = [
    (None, api.TEAM, "get_team"),
    ("GET", api.SEATS, "list_seats"),
    ("POST", api.SEATS, "add_seats"),
    ("DELETE", api.SEAT, "delete_seat"),
    ("PATCH", api.SEAT, "update_seat"),
    ("POST", api.SEAT_ASSIGN, "assign"),
    ("POST", api.SEAT_UNASSIGN, "unassign"),
    ("PATCH", api.SEAT_STATUS, "seat_status"),
    ("POST", api.INVITE, "invite"),
]


class KrispEmulator(Emulator):
    sandbox_credentials = {"api_key": "sandbox-key", "secret": "sandbox-secret"}

    # the handlers, each ``(emulator, request) -> data``: methods, so a test can swap one and
    # rebuild ``routes()``
    get_team = seats.get_team
    list_seats = seats.list_seats
    add_seats = seats.add_seats
    delete_seat = seats.delete_seat
    seat_status = seats.seat_status
    update_seat = members.update_seat
    assign = members.assign
    unassign = members.unassign
    invite = members.invite

    def seed(self) -> dict[str, Any]:
        return team.seed(self.sandbox_credentials)

    def default_rate_limit(self) -> RateLimit:
        return RateLimit(requests=700, window=60.0, block=3600.0)

    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        return envelope.error_response(status, message, retry_after=retry_after)

    def routes(self) -> list[Route]:
        return [Route("/api/{version}" + path, self._endpoint(getattr(self, name)),
                      methods=[method] if method else None)
                for method, path, name in ROUTES]

    def _endpoint(self, handler: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        """Authenticate, run the handler, and answer in the envelope (a refusal as documented)."""
        async def run(request: Request) -> Response:
            try:
                envelope.authenticate(request, self.state["credentials"])
                return envelope.ok(await handler(request))
            except Refusal as exc:
                return envelope.refuse(exc)
        return run
