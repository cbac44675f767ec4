"""What the WorkDrive emulator's modules share: the refusal, ids, timestamps and a user record."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Sequence

from .. import api

OLD = "2025-01-01T09:00:00.000Z"
#: the organization and the identity behind the API key (invented: the document shows "string")
ORG_ID = "0000000a-0000-4000-8000-00000000000a"
ACTOR = "0000000b-0000-4000-8000-00000000000b"


#: the document's "Errors" table: what a status means, where the emulator has nothing more specific
DOCUMENTED = {
    400: "Bad Request -- Your request is invalid.",
    401: "Unauthorized -- Your API key is wrong.",
    403: "Forbidden -- The requested content is hidden for administrators only.",
    404: "Not Found -- The specified content could not be found.",
    500: "Internal Server Error -- We had a problem with our server. Try again later.",
    503: "Service Unavailable -- We're temporarily offline for maintenance. Please try again later.",
}


def check_type(body: dict[str, Any], name: str, types: tuple[type, ...], *, nullable: bool = True,
               values: tuple[Any, ...] | None = None) -> None:
    """Refuse (400) a field of the wrong type or outside its documented values, as a validating
    service does; an absent field is fine (the document marks none required)."""
    if name not in body or body[name] is None and nullable:
        return
    value = body[name]
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        want = " or ".join(t.__name__.replace("str", "string").replace("bool", "boolean") for t in types)
        raise Refusal("VALIDATION_ERROR", f"{name} must be a {want}")
    if values is not None and value not in values:
        raise Refusal("VALIDATION_ERROR", f"{name} must be one of {', '.join(map(str, values))}")


def check_list(body: dict[str, Any], name: str) -> None:
    """An Array<String>/Array<uuid> field: a list of strings, when given."""
    value = body.get(name)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise Refusal("VALIDATION_ERROR", f"{name} must be a list of strings")


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


class Viewed(Sequence):
    """Records shown as a list answer shows them, each made only when it is on the page asked
    for (a page of 100 out of 100,000 makes 100 views, not 100,000)."""

    def __init__(self, records: Sequence[Any], view: Callable[[Any], Any]) -> None:
        self.records, self.view = records, view

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self.view(r) for r in self.records[index]]
        return self.view(self.records[index])
