"""The emulator's records and the sandbox's first state (drift from teams.example.yaml)."""

from __future__ import annotations

from typing import Any

from .. import api


def user(email: str, privilege: str = "user", in_demo_pool: bool | None = False) -> dict[str, Any]:
    return {"email": email, "privilege": privilege, "in_demo_pool": in_demo_pool}


def session(agent: str, start: int, seconds: int) -> dict[str, Any]:
    return {"start_ts": start, "end_ts": start + seconds, "agent": agent, "duration": seconds,
            "shared": [{"at": start, "what": "screen"}], "viewers": {"count": 1, "locations": ["IS"]}}


def sandbox() -> dict[str, Any]:
    """Live drift from teams.example.yaml: Alice (the owner) is spelled with other case, Bob
    is a plain user the file makes admin, Carol's in_demo_pool is null (the file says false:
    no change), Dave is in the demo pool the file takes him out of, Mallory has left, and Erin
    is not listed yet."""
    return {
        "keys": {"sandbox-key": api.READ_WRITE, "sandbox-readonly-key": api.READ_ONLY},
        "users": [
            user("Alice@Example.com", "owner", True),
            user("bob@example.com", "user", False),
            user("carol@example.com", "user", None),
            user("dave@example.com", "reporting", True),
            user("mallory@example.com", "admin", False),
        ],
        "onboarding_emails": [],
        "sessions": [session("alice@example.com", 1767603600, 1800),
                     session("bob@example.com", 1767607200, 600),
                     session("alice@example.com", 1767610800, 300)],
        "demo_sessions": [],
    }
