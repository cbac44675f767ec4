"""Discovery first (RFC 7644 §4): what the service supports decides how teamform talks to it.

``/ServiceProviderConfig`` says whether PATCH, Bulk (and its limits), filtering (and
``maxResults``) and ETags are supported; ``/ResourceTypes`` says whether users carry the
enterprise extension. A section's ``disable:`` turns a capability off whatever is advertised
(services that advertise more than they do). A service without ``/ServiceProviderConfig``
(404/501) is taken to support PATCH and nothing else; any other failure stops the read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teamform.provider import IncompleteRead, ProviderError

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import ScimProvider

log = logging.getLogger("teamform.scim")

#: answers that mean "this endpoint is not implemented" rather than "the read failed"
ABSENT = frozenset({404, 405, 501})


@dataclass
class Capabilities:
    patch: bool = True
    bulk: bool = False
    bulk_max_operations: int = 0
    bulk_max_payload: int = 0
    filter: bool = False
    max_results: int | None = None
    etag: bool = False
    #: users carry the enterprise extension; None when /ResourceTypes could not tell
    enterprise: bool | None = None
    #: where these came from, for -v
    source: str = "/ServiceProviderConfig"

    def page_size(self, wanted: int) -> int:
        return min(wanted, self.max_results) if self.max_results else wanted

    def describe(self, members_per_patch: int) -> str:
        def yes(flag: bool) -> str:
            return "yes" if flag else "no"
        bulk = (f"yes ({self.bulk_max_operations} operations, {self.bulk_max_payload} bytes)" if self.bulk
                else "no")
        limit = f" (maxResults {self.max_results})" if self.max_results else ""
        paths = [f"group members change by {'PATCH' if self.patch else 'PUT of the whole list'}"
                 + (f", {members_per_patch} a request" if self.patch else ""),
                 "users and groups are created by " + ("/Bulk" if self.bulk else "one POST each"),
                 "a read-back " + ("filters by userName" if self.filter else "reads the whole list"),
                 "writes carry If-Match" if self.etag else "writes carry no If-Match"]
        return (f"{self.source}: patch {yes(self.patch)}, bulk {bulk}, filter {yes(self.filter)}{limit}, "
                f"etag {yes(self.etag)}, enterprise extension "
                f"{'unknown' if self.enterprise is None else yes(self.enterprise)}; " + "; ".join(paths))


def _flag(section: Any) -> bool:
    """``{"supported": true}``; a few services send the boolean as a string."""
    value = section.get("supported") if isinstance(section, dict) else None
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _number(section: Any, key: str) -> int:
    value = section.get(key) if isinstance(section, dict) else None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def parse(body: Any, disabled: set[str]) -> Capabilities:
    if not isinstance(body, dict):
        raise IncompleteRead("the SCIM service's /ServiceProviderConfig is not an object")
    caps = Capabilities(
        patch=_flag(body.get("patch")), bulk=_flag(body.get("bulk")),
        bulk_max_operations=_number(body.get("bulk"), "maxOperations"),
        bulk_max_payload=_number(body.get("bulk"), "maxPayloadSize"),
        filter=_flag(body.get("filter")), max_results=_number(body.get("filter"), "maxResults") or None,
        etag=_flag(body.get("etag")))
    if caps.bulk and caps.bulk_max_operations < 1:
        caps.bulk = False  # "supported" with room for no operation is no bulk
    for feature in disabled:
        setattr(caps, feature, False)
    if disabled:
        caps.source += f" less disable: [{', '.join(sorted(disabled))}]"
    return caps


async def discover(p: "ScimProvider") -> Capabilities:
    disabled = set(p.settings.disable)
    try:
        body = await p.call("GET", api.SERVICE_PROVIDER_CONFIG)
    except ProviderError as exc:
        if exc.status not in ABSENT:
            raise IncompleteRead(f"reading the SCIM service's /ServiceProviderConfig failed: {exc}",
                                 status=exc.status) from exc
        caps = parse({"patch": {"supported": True}}, disabled)
        caps.source = f"no /ServiceProviderConfig (HTTP {exc.status}): assuming PATCH only"
    else:
        caps = parse(body, disabled)
    caps.enterprise = await _enterprise(p)
    log.info("%s: %s", p.ctx.instance, caps.describe(p.settings.max_members_per_patch))
    return caps


async def _enterprise(p: "ScimProvider") -> bool | None:
    """Does the User resource type list the enterprise extension? None when the service does not say."""
    try:
        body = await p.call("GET", api.RESOURCE_TYPES)
    except ProviderError as exc:
        if exc.status in ABSENT:
            return None
        raise IncompleteRead(f"reading the SCIM service's /ResourceTypes failed: {exc}", status=exc.status) from exc
    types = body.get("Resources") if isinstance(body, dict) else body
    if not isinstance(types, list):
        return None
    for rt in types:
        if isinstance(rt, dict) and (rt.get("name") == "User" or rt.get("schema") == api.USER_SCHEMA):
            return any(isinstance(e, dict) and e.get("schema") == api.ENTERPRISE
                       for e in rt.get("schemaExtensions") or [])
    return None
