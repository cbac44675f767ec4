"""Pieces the WorkDrive emulator's modules share: the refusal, ids, and a user record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import api

OLD = "2025-01-01T09:00:00.000Z"


class Refusal(Exception):
    def __init__(self, code: str, message: str | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = api.ERRORS[code][0]
        self.message = message or api.ERRORS[code][1]
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
