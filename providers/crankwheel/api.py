"""CrankWheel company-user API: every path, field and error message teamform uses, in one place.

Sources (see README.md): the published Postman collection gives the list (``GET /user_access``),
the create (``POST /user_access``, form-encoded, 201) and the usage endpoints; the update, delete,
one-user read and the auth header come from third-party clients and an API listing, as written
in ``shared/api-docs/NOTES.md``. Correct a path here and nowhere else.
"""

from __future__ import annotations

from urllib.parse import quote

# the document shows http://; NOTES says use https
DEFAULT_BASE_URL = "https://meeting.is/ss/api"

USERS = "/user_access"            # GET: the full list, unpaged; POST: create (form, 201)
USER = "/user_access/{email}"     # GET one; PATCH privilege/in_demo_pool (form); DELETE (204)
USAGE = "/usage"                  # GET ?from=&to= (timestamps): not state, never planned
DEMO_USAGE = "/demo_usage"        # GET ?from=&to= (timestamps): not state, never planned

#: the form wraps every field as ``user_access[<name>]`` (Rails-style nested parameters)
FORM_ROOT = "user_access"
CREATE_FIELDS = ("email", "privilege", "in_demo_pool", "send_onboarding_email")
UPDATE_FIELDS = ("privilege", "in_demo_pool")

#: lowest first: a move down the list is a demotion; owner (the billing contact) is highest
PRIVILEGES = ("reporting", "user", "admin", "owner")
OWNER = "owner"

AUTH_SCHEME = "Basic"  # ``Authorization: Basic <api_key>``: the raw key, not base64(user:pass)
READ_WRITE, READ_ONLY = "read_write", "read_only"

#: the only spellings of a boolean the document gives ("Possible values for in_demo_pool are
#: true and false"); the emulator refuses Rails' other spellings (1/0, t/f, on/off)
BOOLEANS = {"true": True, "false": False}

#: the statuses each call answers when it worked; any other is an error (``ok=`` of the request)
READ_OK = (200,)
CREATE_OK = (200, 201)
UPDATE_OK = (200,)
DELETE_OK = (200, 202, 204)

# HTTP status -> what it means for a teamform user (the document gives no error table)
STATUS_MEANING = {
    401: "CrankWheel refused the API key: check the api_key credential's env variable",
    403: "this CrankWheel API key is read-only: writes need a read/write key",
    404: "no such company user (changed since it was read?)",
    422: "CrankWheel refused the change as invalid",
}


def field(name: str) -> str:
    """The form key of one field: ``user_access[email]``."""
    return f"{FORM_ROOT}[{name}]"


def user_path(email: str) -> str:
    """The one-user path, with the email URL-encoded (``@`` and ``+`` included)."""
    return USER.format(email=quote(email, safe=""))


def form_bool(value: bool | None) -> str:
    return "true" if value else "false"
