"""Shorthands for SCIM resources, and the sandbox's first state (drift from teams.example.yaml).

A user or group here is the JSON scim2-server stores; ``ScimEmulator`` adds what is left out
(schemas, meta).
"""

from __future__ import annotations

from typing import Any

from .. import api


def user(id_: str, user_name: str, given: str | None = None, family: str | None = None, *,
         email: str | None = None, active: bool = True, title: str | None = None,
         department: str | None = None, manager: str | None = None,
         external_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": id_, "userName": user_name, "active": active,
                            "emails": [{"value": email or user_name, "type": "work", "primary": True}]}
    name = {k: v for k, v in (("givenName", given), ("familyName", family)) if v}
    if name:
        item["name"] = name
    if title:
        item["title"] = title
    if external_id:
        item["externalId"] = external_id
    ent = {k: v for k, v in (("department", department), ("manager", {"value": manager} if manager else None)) if v}
    if ent:
        item[api.ENTERPRISE] = ent
    return item


def group(id_: str, name: str, members: list[str] = ()) -> dict[str, Any]:
    item: dict[str, Any] = {"id": id_, "displayName": name}
    if members:
        item["members"] = [{"value": m} for m in members]
    return item


def sandbox() -> dict[str, Any]:
    """Live drift from the example's ``scim`` service: Alice is spelled with other case (no
    change); Bob's title is old and he has no manager; Carol is missing (created); Dave's family
    name is misspelt and his department abbreviated; Erin, on leave in the file, is still active;
    Trent has left (offboarded in the file: deactivated, not deleted); Peggy left earlier and is
    already deactivated (left as she is); Grace is still known by her previous address (renamed in
    place). Engineering lacks Dave and still has Trent; Support is missing; Contractors
    (not in the file) is deleted."""
    return {
        "Users": [
            user("u-alice", "Alice@Example.com", "Alice", "Doe", title="CTO", department="Engineering"),
            user("u-bob", "bob@example.com", "Bob", "Roe", title="Support Engineer", department="Support"),
            user("u-dave", "dave@example.com", "Dave", "Low", department="Eng", manager="u-alice"),
            user("u-erin", "erin@example.com", "Erin", "Moe", department="Support", manager="u-bob"),
            user("u-trent", "trent@example.com", "Trent", "Oak", department="Engineering", manager="u-alice"),
            user("u-peggy", "peggy@example.com", "Peggy", "Ash", active=False),
            user("u-grace", "grace.hill@old.example", "Grace", "Hill", department="Support"),
        ],
        "Groups": [
            group("g-eng", "Engineering", ["u-alice", "u-trent"]),
            group("g-contractors", "Contractors", ["u-trent"]),
        ],
    }
