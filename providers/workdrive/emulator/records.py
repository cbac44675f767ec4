"""What the WorkDrive emulator's modules share: the refusal, ids, timestamps and a user record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import api

OLD = "2025-01-01T09:00:00.000Z"


#: the document's "Errors" table: what a status means, where the emulator has nothing more specific
DOCUMENTED = {
    400: "Bad Request -- Your request is invalid.",
    401: "Unauthorized -- Your API key is wrong.",
    403: "Forbidden -- The requested content is hidden for administrators only.",
    404: "Not Found -- The specified content could not be found.",
    500: "Internal Server Error -- We had a problem with our server. Try again later.",
    503: "Service Unavailable -- We're temporarily offline for maintenance. Please try again later.",
}


class Refusal(Exception):
    def __init__(self, code: str, message: str | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = api.ERRORS[code][0]
        self.message = message or DOCUMENTED.get(self.status) or code.replace("_", " ").capitalize()
        self.details = details


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_user(uid: str, email: str, first: str = "", last: str = "", *, designation: str | None = None,
             status: str = "ACTIVE", reports_to: str | None = None, department: str | None = None,
             location: str | None = None, at: str = OLD) -> dict[str, Any]:
    return {"id": uid, "email": email, "firstName": first, "lastName": last, "designation": designation,
            "status": status, "reportsTo": reports_to, "department": department, "location": location,
            "createdAt": at, "updatedAt": at}


def uid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"
