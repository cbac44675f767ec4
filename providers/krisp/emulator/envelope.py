"""Krisp's answers: the ``{code, error_code, message, situation, data}`` envelope, the document's
error table, and Basic authentication with its four error codes."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from teamform.emulator import JSONResponse

from .. import api

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


def ok(data: Any = None) -> Response:
    return JSONResponse({"code": 0, "message": "Success", "data": data if data is not None else {}})


def refuse(exc: Refusal) -> Response:
    code = api.ERRORS[exc.error_code][0]
    return JSONResponse({"code": code, "error_code": exc.error_code, "message": DOCUMENTED[exc.error_code][1],
                         "situation": exc.situation}, status_code=api.RESPONSE_CODES[code])


def error_response(status: int, message: str, *, retry_after: float | None = None) -> Response:
    """The envelope for what the emulator base answers itself (rate limit, injected faults)."""
    code = {401: "AUTH_BASIC_INVALID_TOKEN", 429: "TOO_MANY_REQUESTS"}.get(
        status, "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR")
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
    body = {"code": api.ERRORS[code][0], "error_code": code, "message": DOCUMENTED[code][1],
            "situation": message}
    return JSONResponse(body, status_code=status, headers=headers)


def authenticate(request: Request, credentials: dict[str, str]) -> None:
    """Basic ``api_key:secret``, or the documented refusal."""
    header = request.headers.get("authorization")
    if not header:
        raise Refusal("AUTH_HEADER_MISSING")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("basic", "bearer") or not value:
        raise Refusal("AUTH_HEADER_WRONG_FORMAT")
    if scheme.lower() != "basic":
        raise Refusal("AUTH_BASIC_ONLY")
    try:
        key, _, secret = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise Refusal("AUTH_BASIC_INVALID_TOKEN") from None
    if (key, secret) != (credentials["api_key"], credentials["secret"]):
        raise Refusal("AUTH_BASIC_INVALID_TOKEN")
