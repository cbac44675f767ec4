"""Krisp Team Management API: every path and error code teamform uses, in one place.

The published document gives the envelope, the error codes and the rules, but no endpoint
paths. These are our choice of the most plausible REST shape (see README.md); correct them
here and nowhere else.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://teams.krisp.ai"
DEFAULT_VERSION = "v2"
PAGE_LIMIT = 100  # the emulator, like most APIs, refuses larger pages
#: a seat list longer than this many pages is a list that does not end (100,000 seats at 100 a page)
MAX_SEAT_PAGES = 1000
#: the document: past 700 requests a minute an IP is blocked "for a predefined period" (1 hour in
#: its example); a 429 that does not say how long to wait is taken to mean that block
BLOCK_SECONDS = 3600.0

TEAM = "/team"                                  # GET: name, type (email|device), payment_type
SEATS = "/team/seats"                           # GET ?page=&limit=&type= ; POST {type, quantity}
SEAT = "/team/seats/{id}"                       # DELETE (must be unassigned); PATCH {role, nickname}
SEAT_ASSIGN = "/team/seats/{id}/assign"         # POST {email, role}
SEAT_UNASSIGN = "/team/seats/{id}/unassign"     # POST
SEAT_STATUS = "/team/seats/{id}/status"         # PATCH {status} (device seats only)
INVITE = "/team/invite"                         # POST {emails: [...], type, role}: bulk invite

SEAT_TYPES = ("standard", "device")
ROLES = ("User", "Admin")  # lowest first
#: the document's seat statuses
STATUSES = ("unassigned", "active", "inactive", "blocked", "logged_in", "pending_accept", "pending_login")
PENDING_STATUSES = frozenset({"pending_accept", "pending_login"})
#: not in the document (no team endpoint is): the vendor's help centre names both kinds of each
TEAM_TYPES = ("email", "device")
PAYMENT_TYPES = ("card", "invoice")

# an unassign refused with one of these finds the person already off their seat: done, not failed
ALREADY_GONE = frozenset({"SEAT_IS_EMPTY", "SEAT_NOT_FOUND"})

# body ``code`` -> HTTP status, per the document's "Response codes" table
RESPONSE_CODES = {0: 200, 1: 401, 1015: 400, 1016: 400, 1023: 400, 1026: 429, 10000: 500}

# error_code -> (body code, what it means for a teamform user)
ERRORS: dict[str, tuple[int, str]] = {
    "AUTH_HEADER_MISSING": (1, "no Authorization header was sent; check the api_key/secret credentials"),
    "AUTH_HEADER_WRONG_FORMAT": (1, "the Authorization header is malformed; only Basic and Bearer are supported"),
    "AUTH_BASIC_ONLY": (1, "Krisp accepts Basic authentication only (api_key:secret)"),
    "AUTH_BASIC_INVALID_TOKEN": (1, "Krisp rejected the api_key/secret: check the credentials' env variables"),
    "VALIDATION_ERROR": (1016, "Krisp refused the request as invalid"),
    "NOT_PERMITTED_ADD_SEATS": (1023, "this team pays by invoice: seats cannot be added through the API"),
    "SEAT_NOT_FOUND": (1015, "the seat no longer exists (changed since it was read?)"),
    "NOT_PERMITTED_CHANGE_SEAT_STATUS": (1023, "only device seats have a status that can be changed"),
    "SEAT_IS_EMPTY": (1016, "the seat is empty: there is no user whose status could change"),
    "SEAT_IS_NOT_EMPTY": (1016, "the seat is in use: unassign its user before deleting it"),
    "NOT_PERMITTED_DELETE_SEAT": (1023, "this team pays by invoice: seats cannot be removed through the API"),
    "NOT_PERMITTED_INVITE_USER": (1023, "this API key may not invite members (a device team?)"),
    "NOT_EMPTY_SEAT": (1016, "there are no unassigned seats left for this invitation"),
    "ALREADY_MEMBER": (1016, "the user is already on another seat of this team"),
    "NOT_PERMITTED_UNASSIGN_LAST_ADMINISTRATOR_SEAT": (
        1023, "the last Admin cannot be unassigned or demoted; make someone else Admin first"),
    "TOO_MANY_REQUESTS": (1026, "Krisp's rate limit was hit (700 requests a minute per IP, then a one-hour block)"),
    "INTERNAL_ERROR": (10000, "Krisp had an internal error"),
}
