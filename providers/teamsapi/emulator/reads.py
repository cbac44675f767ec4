"""The emulator's GET handlers: the caller's team, its limit, roles, teams, members, invitations.

Each is ``async (emu, request, caller) -> JSON`` and becomes a method of ``TeamsApiEmulator``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .state import home_of, members_of, membership_of, page, team_for, user_of

if TYPE_CHECKING:  # pragma: no cover
    from . import TeamsApiEmulator


async def get_team(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    home = home_of(emu, caller)
    return {"usersLimit": home["usersLimit"], "name": home["name"], "count": len(members_of(emu, home["id"]))}


async def get_limit(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    home = home_of(emu, caller)
    return len(members_of(emu, home["id"])) < home["usersLimit"]


async def list_roles(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    return [{"label": r, "value": r} for r in emu.state["roles"]]


def team_view(state: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
    """A team as ``GET /teams/all`` shows it, read from a state (the emulator uses its lookups)."""
    owner = next(u for u in state["users"] if u["id"] == t["ownerId"])
    return _team_view(t, owner, sum(1 for m in state["memberships"] if m["teamId"] == t["id"]))


def _team_view(t: dict[str, Any], owner: dict[str, Any], count: int) -> dict[str, Any]:
    return {"id": t["id"], "name": t["name"], "usersLimit": t["usersLimit"], "membersCount": count,
            "owner": {k: owner[k] for k in ("id", "firstName", "lastName", "email")},
            "subscription": t["subscription"], "isImpersonationEnabled": t["isImpersonationEnabled"]}


async def list_teams(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    """Teams the caller is an accepted member of, whose name contains ``globalSearch``; only the
    page asked for is put together."""
    search = request.query_params.get("globalSearch", "").lower()
    mine = visible_teams(emu, caller)
    if search:
        mine = [t for t in mine if search in (t["name"] or "").lower()]
    return [_team_view(t, user_of(emu, t["ownerId"]), len(members_of(emu, t["id"]))) for t in page(request, mine)]


def visible_teams(emu: "TeamsApiEmulator", caller: int) -> list[dict[str, Any]]:
    """The teams the caller is an accepted member of, in their order: kept from one page of
    ``GET /teams/all`` to the next (every write drops them), so reading 2,000 teams in pages of 10
    does not scan the 2,000 for each page."""
    by_caller = emu.lookup("visible_teams", lambda state: {})
    if caller not in by_caller:
        by_caller[caller] = [t for t in emu.state["teams"] if (m := membership_of(emu, t["id"], caller))
                             and m["invitationAccepted"]]
    return by_caller[caller]


async def list_members(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    """A team's members as the document shows them: no emails, and the whole list in one answer
    (the document shows no paging; ``offset``/``limit`` are ignored like any unknown parameter)."""
    found = team_for(emu, request.query_params.get("teamId"), caller)
    out = []
    for m in members_of(emu, found["id"]):
        u = user_of(emu, m["userId"])
        out.append({"id": u["id"], "firstName": u["firstName"], "lastName": u["lastName"], "phone": u["phone"],
                    "role": m["role"], "isActive": m["isActive"], "invitationAccepted": m["invitationAccepted"]})
    return out


async def list_invitations(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    """The invitations sent for a team, accepted or not: where a member id meets an email. Not in
    the document (our invention): the whole list in one answer, like ``GET /teams/members``."""
    found = team_for(emu, request.query_params.get("teamId"), caller)
    out = [{"membershipId": m["membershipId"], "userId": m["userId"], "email": user_of(emu, m["userId"])["email"],
            "role": m["role"], "invitationAccepted": m["invitationAccepted"], "teamId": m["teamId"]}
           for m in members_of(emu, found["id"]) if m["invited"]]
    return out
