"""The sandbox's first state: drift from teams.example.yaml, so the first plan has work to do."""

from __future__ import annotations

from typing import Any

from .records import new_user, uid


def sandbox_org(api_key: str) -> dict[str, Any]:
    """Bob's title is old and he is a plain member of Support, whose head is Mallory (gone from the
    file); Carol's invitation is pending and she is in Sales, which the file no longer has (its head
    Oscar is gone too); Dave and Erin are new; Pat was archived long ago; Remote does not exist yet;
    nobody is in Everyone but Alice and Bob."""
    users = [
        new_user(uid(1), "alice@example.com", "Alice", "Doe", designation="CTO", department=uid(20),
                 location=uid(30)),
        new_user(uid(2), "Bob@Example.com", "Bob", "Roe", designation="Support Engineer",
                 reports_to=uid(1), department=uid(21), location=uid(30)),
        new_user(uid(3), "carol@example.com", "Carol", "Poe", status="INVITED", department=uid(22)),
        new_user(uid(4), "mallory@example.com", "Mallory", "Moe", designation="Support Lead",
                 department=uid(21)),
        new_user(uid(5), "oscar@example.com", "Oscar", "Noe", designation="Sales Lead", department=uid(22)),
        new_user(uid(6), "pat@example.com", "Pat", "Coe", status="ARCHIVE"),
    ]
    return {
        "api_key": api_key,
        "users": {u["id"]: u for u in users},
        "departments": {uid(20): {"id": uid(20), "name": "Engineering", "heads": [uid(1)]},
                        uid(21): {"id": uid(21), "name": "Support", "heads": [uid(4)]},
                        uid(22): {"id": uid(22), "name": "Sales", "heads": [uid(5)]}},
        "locations": {uid(30): {"id": uid(30), "name": "Berlin"}},
        "groups": {uid(40): {"id": uid(40), "name": "Admins", "members": [uid(1)]},
                   uid(41): {"id": uid(41), "name": "Everyone", "members": [uid(1), uid(2)]},
                   uid(42): {"id": uid(42), "name": "Finance", "members": [uid(4)]}},
        "next_id": 100,
    }
