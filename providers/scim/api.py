"""SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol): every path, schema URN, attribute path and
error word teamform uses, in one place.

Paths are relative to ``base_url`` (the service's SCIM root, e.g. ``https://example.com/scim/v2``).
Correct a path or an attribute here and nowhere else.
"""

from __future__ import annotations

from urllib.parse import quote

# ---- endpoints (RFC 7644 §3.2) --------------------------------------------------------------
SERVICE_PROVIDER_CONFIG = "/ServiceProviderConfig"   # RFC 7644 §4: needs no authentication
RESOURCE_TYPES = "/ResourceTypes"
USERS = "/Users"
GROUPS = "/Groups"
BULK = "/Bulk"
ME = "/Me"                    # RFC 7644 §3.11: the token's own user, where the service serves it
#: answers to GET /Me meaning "no user behind this token" (not served, not a user, not allowed)
NO_ME = frozenset({400, 401, 403, 404, 405, 501})

#: the media type of every SCIM body (RFC 7644 §3.1); servers accept application/json as well
MEDIA_TYPE = "application/scim+json"
ACCEPT = "application/scim+json, application/json"

# ---- schema URNs ----------------------------------------------------------------------------
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# ---- attribute paths (RFC 7644 §3.10) --------------------------------------------------------
#: teamform attribute -> the SCIM attribute path a PATCH replaces (core unless prefixed by a URN)
PATHS = {
    "user_name": "userName",
    "first_name": "name.givenName",
    "last_name": "name.familyName",
    "email": "emails",
    "active": "active",
    "external_id": "externalId",
    "title": "title",                            # core User (RFC 7643 §4.1.1), not the extension
    "department": f"{ENTERPRISE}:department",    # enterprise extension (RFC 7643 §4.3)
    "manager": f"{ENTERPRISE}:manager",          # {"value": the manager's id}
}
#: the attributes that live in the enterprise extension
ENTERPRISE_ATTRS = ("department", "manager")

#: which capabilities a section may turn off (``disable:``) whatever the service advertises
FEATURES = ("patch", "bulk", "filter", "etag")


def user_path(resource_id: str) -> str:
    return f"{USERS}/{quote(str(resource_id), safe='')}"


def group_path(resource_id: str) -> str:
    return f"{GROUPS}/{quote(str(resource_id), safe='')}"


def eq(attribute: str, value: str) -> str:
    """A filter ``attribute eq "value"`` (RFC 7644 §3.4.2.2), the value's quotes escaped as JSON."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{attribute} eq "{escaped}"'


def member_filter(resource_id: str) -> str:
    """The PATCH path that selects one member (RFC 7644 §3.5.2.2's remove example)."""
    return f"members[{eq('value', resource_id)}]"


def id_of_location(location: str) -> str:
    """The resource id at the end of a Location URL (a Bulk answer gives only that)."""
    return location.rstrip("/").rsplit("/", 1)[-1]


# ---- errors (RFC 7644 §3.12) ----------------------------------------------------------------
#: scimType -> what it means for a teamform user
SCIM_TYPES = {
    "invalidFilter": "the service refused the filter teamform sent (disable: [filter] reads without one)",
    "tooMany": "the service says the request would return too many results",
    "uniqueness": "a value that must be unique is already taken (a userName, externalId or group name)",
    "mutability": "the service does not let this attribute be changed",
    "invalidSyntax": "the service could not read the request",
    "invalidPath": "the service does not know an attribute teamform sent (does it support the enterprise "
                   "extension?)",
    "noTarget": "the change found nothing to act on (a member already removed?)",
    "invalidValue": "a value is missing or not allowed by the service",
    "invalidVers": "the service does not speak this SCIM version",
    "sensitive": "the service refuses sensitive data in a URL",
}

#: HTTP status -> what it means, when the answer has no scimType that says more
STATUS_MEANING = {
    400: "the service refused the request",
    401: "the service refused the bearer token: check the token credential's env variable",
    403: "the token may not do this",
    404: "no such resource (deleted since it was read?)",
    409: "the service refused the change as a conflict",
    412: "changed since the plan: the resource's version (ETag) is not the one the plan was made from; "
         "run plan again",
    413: "the request is larger than the service accepts",
    429: "too many requests",
    500: "the service failed",
    501: "the service does not support this operation",
    503: "the service is unavailable",
}
