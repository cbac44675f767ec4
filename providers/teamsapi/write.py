"""Executing operations against the Teams API, and what its error answers mean.

A team is created (``POST /teams``), deleted when the account owns it, left when someone else
does, or handed over (``PUT leave-team`` with ``newOwnerId``). A membership is an invitation
(``POST /teams/invitation``) and ends with a cancel. A role change is a replace: the base's
``replace`` cancels, then invites again. A delete answered 404 is already gone (the base's
``gone_statuses``); an invitation answered 409 is already there (``already_done``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from teamform.provider import Operation, ProviderError, Resource, json_body, norm_email

from . import api
from .read import MEMBER, TEAM, read_invitations, read_teams

if TYPE_CHECKING:  # pragma: no cover
    from . import TeamsApiProvider


class TeamsApiError(ProviderError):
    """The service answers ``{statusCode, message, error}``; ``message`` may be a list."""

    @classmethod
    def from_response(cls, response: httpx.Response) -> "TeamsApiError":
        detail = json_body(response).get("message")
        if isinstance(detail, list):
            detail = "; ".join(map(str, detail))
        status = response.status_code
        text = api.STATUS_MEANING.get(status, f"HTTP {status}")
        if detail:
            text = f"{text}: {detail}"
        return cls.from_http(response, f"Teams API {status}: {text}", already_done=status == 409)


async def apply(p: "TeamsApiProvider", op: Operation) -> None:
    if op.kind == TEAM and op.action == "create":
        data = await p.call("POST", api.TEAM, json={"teamName": op.key})
        p.team_ids[op.key] = data["id"]
    elif op.kind == TEAM and op.action == "delete":
        await remove_team(p, op.before)
    elif op.kind == MEMBER and op.action == "create":
        if not op.after.attrs.get("owner"):  # the owner of a new team joined by creating it
            await invite(p, op)
    elif op.kind == MEMBER and op.action == "delete":
        await p.call("DELETE", api.CANCEL_INVITATION.format(user_id=op.before.id),
                     json={"membershipId": op.before.meta.get("membershipId")})
    else:
        raise ProviderError(f"{op.label}: the Teams API cannot {op.action} this")


async def invite(p: "TeamsApiProvider", op: Operation) -> None:
    email = op.after.person or op.key.rsplit("/", 1)[1]
    first, last = p.ctx.directory.person(email).names()
    team_id = await team_id_of(p, op.after.refs[0].key)
    await p.call("POST", api.INVITATION, json={
        "email": email, "firstName": first or None, "lastName": last or None, "phone": None,
        "role": op.after.attrs["role"], "teamId": team_id})


async def team_id_of(p: "TeamsApiProvider", name: str) -> str:
    """A team's id: from the last read or create, else searched for by name."""
    if name not in p.team_ids:
        for team in await read_teams(p, search=name):
            if team["name"] is not None:
                p.team_ids.setdefault(team["name"], team["id"])
    if name not in p.team_ids:
        raise ProviderError(f"team {name!r} is not visible to teamform's account")
    return p.team_ids[name]


async def remove_team(p: "TeamsApiProvider", team: Resource) -> None:
    """Hand the team over, leave it (another account owns it), or delete it."""
    entry = p.settings.teams.get(team.key)
    if entry is not None and entry.hand_over_to:
        heir = await member_id(p, team, entry.hand_over_to)
        await p.call("PUT", api.LEAVE_TEAM.format(team_id=team.id), json={"newOwnerId": heir})
    elif not team.meta.get("owned"):
        await p.call("PUT", api.LEAVE_TEAM.format(team_id=team.id), json={})
    else:
        await p.call("DELETE", api.TEAM_BY_ID.format(team_id=team.id))


async def member_id(p: "TeamsApiProvider", team: Resource, email: str) -> int:
    """The user id of a team's member, from the team's invitations."""
    invitations = await read_invitations(p, {"id": team.id, "name": team.key})
    for uid, invitation in invitations.items():
        if norm_email(invitation["email"]) == norm_email(email):
            return uid
    raise ProviderError(f"team {team.key!r}: {email} is not a member, so ownership cannot move to them")
