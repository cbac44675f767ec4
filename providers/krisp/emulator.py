"""An emulator of the Krisp Team Management API (see api.py for the paths).

Rules it enforces, from the document and the vendor's help centre: Basic auth with the four
auth error codes; the ``code``/``error_code``/``message`` envelope; paging; only unassigned
seats can be deleted; no more invitations than unassigned seats; bulk invites skip members;
invoice teams cannot add or delete seats; device-team keys cannot invite; the last Admin
cannot be unassigned or demoted; 700 requests a minute per IP, then a one-hour block.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teamform.emulator import Emulator, RateLimit, form_or_json

from . import api

NOW = "2026-01-05T09:00:00Z"


#: error_code -> (situation, UI message), as the document's "Error codes" table gives them (its
#: last row has the two columns swapped; set right here). The client's own wording is in api.ERRORS.
DOCUMENTED = {
    "AUTH_HEADER_MISSING": ("Make sure to include authorization header in request headers",
                            "Problem during authentication."),
    "AUTH_HEADER_WRONG_FORMAT": ("Only Basic and Bearer tokens are supported", "Problem during authentication."),
    "AUTH_BASIC_ONLY": ("Happens when the authorization header is not basic", "Problem during authentication."),
    "AUTH_BASIC_INVALID_TOKEN": ("Happens when basic auth credentials are wrong", "Problem during authentication."),
    "VALIDATION_ERROR": ("Happens when API receives inputs from a client that are unexpected or wrong",
                         "Something went wrong."),
    "NOT_PERMITTED_ADD_SEATS": ("Happens when team payment type is invoice", "Not enough permissions."),
    "SEAT_NOT_FOUND": ("Happens when seat not found", "Seat not found."),
    "NOT_PERMITTED_CHANGE_SEAT_STATUS": ("Happens when seat type is not device", "Not enough permissions."),
    "SEAT_IS_EMPTY": ("Happens when trying change empty seat status", "Seat is empty."),
    "SEAT_IS_NOT_EMPTY": ("Happens when trying to delete seat but seat already has a user assigned",
                          "Seat is in use. remove assigned user from the seat before deleting it."),
    "NOT_PERMITTED_DELETE_SEAT": ("Happens when team payment type is invoice", "Not enough permissions."),
    "NOT_PERMITTED_INVITE_USER": ("Happens when access denied inviting new members", "Not enough permissions."),
    "NOT_EMPTY_SEAT": ("Happens when trying to log in but don't have empty seats", "You don't have empty seats."),
    "ALREADY_MEMBER": ("User is already assigned to another seat within the same team",
                       "User is already a team member."),
    "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT": (
        "Happens when you try unassign last administrator in the them", "Not enough permissions."),
    # not in the error-code table; the response-code table's message examples
    "TOO_MANY_REQUESTS": ("Too Many Requests", "Too Many Requests"),
    "INTERNAL_ERROR": ("Internal server error", "Internal server error"),
}


class Refusal(Exception):
    """A documented refusal; ``detail`` (what exactly was wrong) replaces the generic situation."""

    def __init__(self, error_code: str, detail: str | None = None) -> None:
        self.error_code = error_code
        self.situation = detail or DOCUMENTED[error_code][0]


def seat(seat_id: int, type_: str = "standard", email: str | None = None, role: str = "User",
         status: str = "active", nickname: str | None = None) -> dict[str, Any]:
    if email is None:
        return {"id": seat_id, "type": type_, "status": "unassigned", "role": None, "join_date": None,
                "nickname": None, "user": None}
    return {"id": seat_id, "type": type_, "status": status, "role": role, "join_date": NOW,
            "nickname": nickname, "user": {"id": seat_id + 1000, "hostname": email.split("@")[0] + "-laptop",
                                           "email": email}}


class KrispEmulator(Emulator):
    sandbox_credentials = {"api_key": "sandbox-key", "secret": "sandbox-secret"}

    def seed(self) -> dict[str, Any]:
        """Live drift from teams.example.yaml: Dave is a User there, Mallory has left the
        company, Carol's invitation is pending, Bob's email has other case, and one seat short."""
        seats = [
            seat(1, email="alice@example.com", role="Admin", nickname="Alice"),
            seat(2, email="Bob@Example.com"),
            seat(3, email="carol@example.com", status="pending_accept"),
            seat(4, email="dave@example.com"),
            seat(5, email="mallory@example.com"),
        ]
        return {"team": {"name": "Example Co", "type": "email", "payment_type": "card"},
                "credentials": dict(self.sandbox_credentials), "seats": seats, "next_id": 6}

    def default_rate_limit(self) -> RateLimit:
        return RateLimit(requests=700, window=60.0, block=3600.0)

    # ---- envelope -----------------------------------------------------------------------
    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        code = {401: "AUTH_BASIC_INVALID_TOKEN", 429: "TOO_MANY_REQUESTS"}.get(status, "INTERNAL_ERROR")
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        body = {"code": api.ERRORS[code][0], "error_code": code, "message": DOCUMENTED[code][1],
                "situation": message}
        return JSONResponse(body, status_code=status, headers=headers)

    @staticmethod
    def ok(data: Any = None) -> Response:
        return JSONResponse({"code": 0, "message": "Success", "data": data if data is not None else {}})

    @staticmethod
    def refuse(exc: Refusal) -> Response:
        code = api.ERRORS[exc.error_code][0]
        return JSONResponse({"code": code, "error_code": exc.error_code, "message": DOCUMENTED[exc.error_code][1],
                             "situation": exc.situation}, status_code=api.RESPONSE_CODES[code])

    def _auth(self, request: Request) -> None:
        header = request.headers.get("authorization")
        if not header:
            raise Refusal("AUTH_HEADER_MISSING")
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("basic", "bearer") or not value:
            raise Refusal("AUTH_HEADER_WRONG_FORMAT")
        if scheme.lower() != "basic":
            raise Refusal("AUTH_BASIC_ONLY")
        creds = self.state["credentials"]
        try:
            key, _, secret = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise Refusal("AUTH_BASIC_INVALID_TOKEN") from None
        if (key, secret) != (creds["api_key"], creds["secret"]):
            raise Refusal("AUTH_BASIC_INVALID_TOKEN")

    def routes(self) -> list[Route]:
        def endpoint(handler):
            async def run(request: Request) -> Response:
                try:
                    self._auth(request)
                    return self.ok(await handler(request))
                except Refusal as exc:
                    return self.refuse(exc)
            return run

        prefix = "/api/{version}"
        return [
            Route(prefix + api.TEAM, endpoint(self.get_team)),
            Route(prefix + api.SEATS, endpoint(self.list_seats), methods=["GET"]),
            Route(prefix + api.SEATS, endpoint(self.add_seats), methods=["POST"]),
            Route(prefix + api.SEAT, endpoint(self.delete_seat), methods=["DELETE"]),
            Route(prefix + api.SEAT, endpoint(self.update_seat), methods=["PATCH"]),
            Route(prefix + api.SEAT_ASSIGN, endpoint(self.assign), methods=["POST"]),
            Route(prefix + api.SEAT_UNASSIGN, endpoint(self.unassign), methods=["POST"]),
            Route(prefix + api.SEAT_STATUS, endpoint(self.seat_status), methods=["PATCH"]),
            Route(prefix + api.INVITE, endpoint(self.invite), methods=["POST"]),
        ]

    # ---- helpers ------------------------------------------------------------------------
    @property
    def seats(self) -> list[dict[str, Any]]:
        return self.state["seats"]

    def _seat(self, request: Request) -> dict[str, Any]:
        try:
            wanted = int(request.path_params["id"])
        except ValueError:
            raise Refusal("VALIDATION_ERROR", "seat id must be a positive integer") from None
        for s in self.seats:
            if s["id"] == wanted:
                return s
        raise Refusal("SEAT_NOT_FOUND")

    def _member_seat(self, email: str) -> dict[str, Any] | None:
        return next((s for s in self.seats if s["user"] and s["user"]["email"].lower() == email.lower()), None)

    def _admins(self) -> list[dict[str, Any]]:
        return [s for s in self.seats if s["user"] and s["role"] == "Admin"]

    def _card_only(self, error_code: str) -> None:
        if self.state["team"]["payment_type"] != "card":
            raise Refusal(error_code)

    @staticmethod
    def _role(body: dict[str, Any], default: str = "User") -> str:
        role = body.get("role", default)
        if role not in api.ROLES:
            raise Refusal("VALIDATION_ERROR", f"role must be one of {', '.join(api.ROLES)}")
        return role

    @staticmethod
    def _type(value: Any) -> str:
        if value not in api.SEAT_TYPES:
            raise Refusal("VALIDATION_ERROR", f"type must be one of {', '.join(api.SEAT_TYPES)}")
        return value

    # ---- handlers -----------------------------------------------------------------------
    async def get_team(self, request: Request) -> Any:
        return dict(self.state["team"])

    async def list_seats(self, request: Request) -> Any:
        q = request.query_params
        try:
            page, limit = int(q.get("page", 1)), int(q.get("limit", 20))
        except ValueError:
            raise Refusal("VALIDATION_ERROR", "page and limit must be integers") from None
        if page < 1 or not 1 <= limit <= api.PAGE_LIMIT:
            raise Refusal("VALIDATION_ERROR", f"page >= 1 and 1 <= limit <= {api.PAGE_LIMIT}")
        seats = [s for s in self.seats if "type" not in q or s["type"] == q["type"]]
        chunk = seats[(page - 1) * limit: page * limit]
        return {"count": len(seats), "page": page, "limit": limit, "seats": chunk}

    async def add_seats(self, request: Request) -> Any:
        body = await form_or_json(request)
        type_ = self._type(body.get("type", "standard"))
        try:
            quantity = int(body.get("quantity", 0))
        except (TypeError, ValueError):
            quantity = 0
        if quantity < 1:
            raise Refusal("VALIDATION_ERROR", "quantity must be a positive integer")
        self._card_only("NOT_PERMITTED_ADD_SEATS")
        added = [seat(self.next_id(), type_) for _ in range(quantity)]
        self.seats.extend(added)
        return {"count": len(added), "seats": added}

    async def delete_seat(self, request: Request) -> Any:
        target = self._seat(request)
        self._card_only("NOT_PERMITTED_DELETE_SEAT")
        if target["user"] is not None:
            raise Refusal("SEAT_IS_NOT_EMPTY")
        self.seats.remove(target)
        return {}

    async def update_seat(self, request: Request) -> Any:
        target = self._seat(request)
        body = await form_or_json(request)
        if target["user"] is None:
            raise Refusal("SEAT_IS_EMPTY")
        if "role" in body:
            role = self._role(body)
            if role != "Admin" and target["role"] == "Admin" and len(self._admins()) == 1:
                raise Refusal("NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT")
            target["role"] = role
        if "nickname" in body:
            target["nickname"] = body["nickname"] or None
        return target

    async def assign(self, request: Request) -> Any:
        target = self._seat(request)
        body = await form_or_json(request)
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise Refusal("VALIDATION_ERROR", "email is required")
        self._invite_allowed()
        if self._member_seat(email) is not None:
            raise Refusal("ALREADY_MEMBER")
        if target["user"] is not None:
            raise Refusal("SEAT_IS_NOT_EMPTY")
        target.update(seat(target["id"], target["type"], email, self._role(body), "pending_accept"))
        return target

    async def unassign(self, request: Request) -> Any:
        target = self._seat(request)
        if target["user"] is None:
            raise Refusal("SEAT_IS_EMPTY")
        if target["role"] == "Admin" and len(self._admins()) == 1:
            raise Refusal("NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT")
        target.update(seat(target["id"], target["type"]))
        return target

    async def seat_status(self, request: Request) -> Any:
        target = self._seat(request)
        body = await form_or_json(request)
        if target["type"] != "device":
            raise Refusal("NOT_PERMITTED_CHANGE_SEAT_STATUS")
        if target["user"] is None:
            raise Refusal("SEAT_IS_EMPTY")
        if body.get("status") not in ("active", "inactive", "blocked"):
            raise Refusal("VALIDATION_ERROR", "status must be active, inactive or blocked")
        target["status"] = body["status"]
        return target

    def _invite_allowed(self) -> None:
        if self.state["team"]["type"] != "email":
            raise Refusal("NOT_PERMITTED_INVITE_USER")

    async def invite(self, request: Request) -> Any:
        body = await form_or_json(request)
        emails = body.get("emails") or []
        if isinstance(emails, str):
            emails = [e for e in emails.split(",") if e]
        if not emails or not all(isinstance(e, str) and "@" in e for e in emails):
            raise Refusal("VALIDATION_ERROR", "emails must be a non-empty list of email addresses")
        type_ = self._type(body.get("type", "standard"))
        role = self._role(body)
        self._invite_allowed()
        fresh, skipped = [], []
        for email in emails:
            if self._member_seat(email) is not None or email.lower() in (e.lower() for e in fresh):
                skipped.append(email)
            else:
                fresh.append(email)
        free = [s for s in self.seats if s["type"] == type_ and s["user"] is None]
        if len(fresh) > len(free):
            raise Refusal("NOT_EMPTY_SEAT", f"{len(fresh)} invitations but {len(free)} unassigned {type_} seats")
        invited = []
        for email, target in zip(fresh, free):
            target.update(seat(target["id"], type_, email, role, "pending_accept"))
            invited.append(target)
        return {"count": len(invited), "seats": invited, "skipped": skipped,
                "at": dt.datetime.now(dt.timezone.utc).isoformat()}
