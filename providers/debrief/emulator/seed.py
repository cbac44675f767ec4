"""The Debrief emulator's records, and the sandbox's first state."""

from __future__ import annotations

from typing import Any

from .. import api


def user(uid: str, email: str, first: str, last: str, role: str = "developer", *, status: str = api.ACTIVE,
         team_id: str = "team-1", password: str | None = None) -> dict[str, Any]:
    return {"id": uid, "team_id": team_id, "email": email, "first_name": first, "last_name": last,
            "role": role, "status": status, "password": password,
            "invite_token": f"invite-{uid}" if status == api.INVITED else None}


def app(aid: str, name: str, description: str = "", team_id: str = "team-1", icon: str = "app.png") -> dict[str, Any]:
    return {"id": aid, "team_id": team_id, "name": name, "description": description, "icon": icon}


def sandbox(credentials: dict[str, str]) -> dict[str, Any]:
    """Drift from teams.example.yaml: Bob's email has other case; Carol is not on the team;
    Dave's invitation is pending with a misspelt last name and he is a developer on Support
    Bot (admin in the file); Mallory has left and is still on two applications; Support Bot's
    description is stale; Status Page does not exist; Legacy Dashboard is no longer wanted."""
    ops = credentials
    users = [
        user("u1", ops["username"], "Teamform", "Ops", "owner", password=ops["password"]),
        user("u2", "alice@example.com", "Alice", "Doe", "admin"),
        user("u3", "Bob@Example.com", "Bob", "Roe"),
        user("u4", "dave@example.com", "Dave", "Low", status=api.INVITED),
        user("u5", "mallory@example.com", "Mallory", "Stone"),
    ]
    apps = [app("a1", "Support Bot", "Answers chats"), app("a2", "Legacy Dashboard", "Old reports")]
    rows = [{"app_id": "a1", "user_id": "u3", "role": "developer"},
            {"app_id": "a1", "user_id": "u4", "role": "developer"},
            {"app_id": "a1", "user_id": "u5", "role": "developer"},
            {"app_id": "a2", "user_id": "u5", "role": "admin"}]
    return {"teams": [{"id": "team-1", "team_name": "Example Co", "email": ops["username"]}],
            "users": users, "applications": apps, "app_users": rows, "credentials": [], "next_id": 100,
            "clients": [{"client_id": ops["client_id"], "client_secret": ops["client_secret"]}]}
