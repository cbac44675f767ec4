"""Executing operations against the Teams API, and what its error answers mean.

A team is created (``POST /teams``) unless one of that name is already there, deleted when the
account owns it, left when someone else does, or handed over (``PUT leave-team`` with
``newOwnerId``). A membership is an invitation (``POST /teams/invitation``) and ends with a
cancel. A role change is a replace: the base's ``replace`` cancels, then invites again. A delete
answered 404 is already gone (the base's ``gone_statuses``); an invitation answered 409 is already
there (``already_done``) once a read-back shows no other role.

Only ``POST /teams`` has an answer teamform needs (the new team's id); every other write is done
on any 2xx, whatever its body, so a malformed answer never stops a role change halfway. After a
lost answer the applier asks ``verify``, which reads back just the team or the team's members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import IncompleteRead, Operation, ProviderError, Resource, json_body, norm_email

from . import api
from .read import MEMBER, TEAM, member_resources, read_invitations, read_team, read_teams

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
        await create_team(p, op.key)
    elif op.kind == TEAM and op.action == "delete":
        await remove_team(p, op.before)
    elif op.kind == MEMBER and op.action == "create":
        if not op.after.attrs.get("owner"):  # the owner of a new team joined by creating it
            await invite(p, op)
    elif op.kind == MEMBER and op.action == "delete":
        # the answer's body is not needed: a 2xx is done, whatever it holds
        await p.request("DELETE", api.CANCEL_INVITATION.format(user_id=op.before.id),
                        json={"membershipId": op.before.meta.get("membershipId")})
    else:
        raise ProviderError(f"{op.label}: the Teams API cannot {op.action} this")


# ---- teams -------------------------------------------------------------------------------------
async def find_team(p: "TeamsApiProvider", name: str) -> dict[str, Any] | None:
    """The visible team named exactly ``name`` (``GET /teams/all?globalSearch=``), or None; its id is
    remembered. Two of that name is an error: teamform would not know which one is meant."""
    found = [t for t in await read_teams(p, search=name) if t["name"] == name]
    if len(found) > 1:
        raise TeamsApiError(f"two teams are named {name!r} in the Teams API; teamform matches teams by "
                            "name, so rename one first")
    if found:
        p.team_ids[name] = found[0]["id"]
    return found[0] if found else None


async def create_team(p: "TeamsApiProvider", name: str) -> None:
    """A create keyed by name finds the existing team first, so a create whose answer was lost is
    never repeated into a second team of the same name (the service allows duplicates)."""
    try:
        existing = await find_team(p, name)
    except IncompleteRead as exc:  # not known whether it exists: try again later, never blind
        raise TeamsApiError(f"team {name!r}: could not check whether it exists before creating it: {exc}",
                            status=exc.status, retryable=True) from exc
    if existing is not None:
        return
    response = await p.request("POST", api.TEAM, json={"teamName": name})
    team_id = created_id(response)
    if team_id is None:  # a 2xx without the documented {id}: find what it made, never post again blind
        found = await find_team(p, name)
        if found is None:
            raise TeamsApiError(f"team {name!r}: the Teams API answered POST {api.TEAM} with HTTP "
                                f"{response.status_code} but no team id ('id'), and no team of that name is "
                                "visible; not repeated (the next plan reads again)", status=response.status_code)
        team_id = found["id"]
    p.team_ids[name] = team_id


def created_id(response: httpx.Response) -> str | int | None:
    """The ``id`` of ``POST /teams``'s answer (``{id, name, usersLimit}``), or None if it has none."""
    try:
        body = response.json()
    except ValueError:
        return None
    team_id = body.get("id") if isinstance(body, dict) else None
    return team_id if isinstance(team_id, (str, int)) and not isinstance(team_id, bool) else None


async def team_id_of(p: "TeamsApiProvider", name: str) -> str:
    """A team's id: from the last read or create, else searched for by name."""
    if name not in p.team_ids and await find_team(p, name) is None:
        raise ProviderError(f"team {name!r} is not visible to teamform's account")
    return p.team_ids[name]


async def remove_team(p: "TeamsApiProvider", team: Resource) -> None:
    """Hand the team over, leave it (another account owns it), or delete it."""
    entry = p.settings.teams.get(team.key)
    if entry is not None and entry.hand_over_to:
        heir = await member_id(p, team, entry.hand_over_to)
        await p.request("PUT", api.LEAVE_TEAM.format(team_id=team.id), json={"newOwnerId": heir})
    elif not team.meta.get("owned"):
        await p.request("PUT", api.LEAVE_TEAM.format(team_id=team.id), json={})
    else:
        await p.request("DELETE", api.TEAM_BY_ID.format(team_id=team.id))


async def member_id(p: "TeamsApiProvider", team: Resource, email: str) -> int:
    """The user id of a team's member, from the team's invitations."""
    invitations = await read_invitations(p, {"id": team.id, "name": team.key})
    for uid, invitation in invitations.items():
        if norm_email(invitation["email"]) == norm_email(email):
            return uid
    raise ProviderError(f"team {team.key!r}: {email} is not a member teamform can identify, so ownership "
                        "cannot move to them")


# ---- members -----------------------------------------------------------------------------------
async def invite(p: "TeamsApiProvider", op: Operation) -> None:
    """``POST /teams/invitation`` with every field the document requires. A 409 (already invited or
    on the team) is done only if the person is there with the role asked for."""
    email = op.after.person or op.key.rsplit("/", 1)[1]
    first, last = p.ctx.directory.person(email).names()
    team_id = await team_id_of(p, op.after.refs[0].key)
    try:
        await p.request("POST", api.INVITATION, json={
            "email": email, "firstName": first or None, "lastName": last or None, "phone": None,
            "role": op.after.attrs["role"], "teamId": team_id})
    except TeamsApiError as exc:
        if exc.status != 409:
            raise
        await confirm_duplicate(p, op, exc)


async def confirm_duplicate(p: "TeamsApiProvider", op: Operation, refused: TeamsApiError) -> None:
    """After a 409: re-raise it (already done) when the person is on the team with the role asked
    for, or cannot be seen at all (an unmatched member: the README says why that counts as done);
    fail when they are there with another role (a cancel that did not take: the next plan replaces)."""
    try:
        current = await member_now(p, op)
    except (ProviderError, httpx.HTTPError) as exc:
        raise TeamsApiError(f"{op.label}: the Teams API says it is already there (409), and reading it back "
                            f"to check its role failed: {exc}", status=409, retryable=True) from exc
    want = op.after.attrs["role"]
    if current is not None and current.attrs.get("role") != want:
        raise TeamsApiError(f"{op.label}: the Teams API refused the invitation (409): they are already on "
                            f"the team as {current.attrs.get('role')!r}, not {want!r}; the next plan replaces "
                            "the membership", status=409)
    raise refused


async def member_now(p: "TeamsApiProvider", op: Operation) -> Resource | None:
    """The membership ``op`` is about as the service holds it now (one team's members and
    invitations: two requests, three when the team's id must be searched for)."""
    name = op.resource.refs[0].key
    team = await find_team(p, name)
    if team is None:
        return None
    members, invitations = await read_team(p, team)
    for res in member_resources(team, members, invitations):
        if res.ref == op.resource.ref:
            return res
    return None


async def verify(p: "TeamsApiProvider", op: Operation) -> bool:
    """After a write whose answer was lost: does the service hold its outcome? Reads only what the
    operation is about (a team by name; one team's members), exactly."""
    if op.kind == TEAM:
        found = await find_team(p, op.key)
        return found is not None if op.action == "create" else found is None
    if op.kind == MEMBER:
        current = await member_now(p, op)
        if op.action == "delete":
            return current is None
        return current is not None and current.attrs.get("role") == op.after.attrs.get("role")
    return False
