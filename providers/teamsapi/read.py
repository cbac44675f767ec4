"""Reading the Teams API into resources: every page, and the email of each member.

Members are listed without emails. A member is tied to a person only through evidence the
service gives: the invitations list (``userId`` + ``email``) or the team's ``owner.email`` in
``GET /teams/all``. Anyone else is an ``unmatched`` resource: reported, never removed.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import httpx

from teamform.model import Ref, Resource, State, norm_email
from teamform.provider import IncompleteRead, ProviderError

from . import api

TEAM, MEMBER, UNMATCHED = "team", "member", "unmatched"
Call = Callable[..., Awaitable[Any]]


def member_key(team: str, email: str) -> str:
    return f"{team}/{norm_email(email)}"


async def pages(call: Call, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every item of a bare-array list paged with offset/limit; a short page is the last."""
    items: list[dict[str, Any]] = []
    while True:
        query = {**(params or {}), "offset": len(items), "limit": api.PAGE_LIMIT}
        try:
            chunk = await call("GET", path, params=query)
        except (ProviderError, httpx.HTTPError) as exc:
            raise IncompleteRead(f"reading {path} stopped after {len(items)} items: {exc}") from exc
        if not isinstance(chunk, list):
            raise IncompleteRead(f"{path} answered something other than a list")
        items.extend(chunk)
        if len(chunk) < api.PAGE_LIMIT:
            return items


async def read_team(call: Call, team: dict[str, Any]) -> tuple[list[dict], dict[int, dict]]:
    """(members, invitation by user id) of one team; refuses a list shorter than membersCount."""
    params = {"teamId": team["id"]}
    members = await pages(call, api.MEMBERS, params)
    expected = int(team.get("membersCount") or 0)
    if len(members) < expected:
        raise IncompleteRead(f"team {team['name']!r}: read {len(members)} members but the service counts "
                             f"{expected}; refusing to plan from a partial list")
    invitations = await pages(call, api.INVITATIONS, params)
    return members, {int(i["userId"]): i for i in invitations}


async def read_once(call: Call, path: str) -> Any:
    try:
        return await call("GET", path)
    except (ProviderError, httpx.HTTPError) as exc:
        raise IncompleteRead(f"reading {path} failed: {exc}") from exc


def team_resource(team: dict[str, Any], identity: str | None, home: str | None) -> Resource:
    owner = team.get("owner") or {}
    owner_email = norm_email(owner.get("email") or "")
    return Resource(TEAM, team["name"], display=team["name"], id=team["id"], meta={
        "owner": owner_email, "owner_id": owner.get("id"), "users_limit": int(team.get("usersLimit") or 0),
        "owned": bool(identity) and owner_email == identity, "home": team["name"] == home})


def member_resources(team: dict[str, Any], members: list[dict], invitations: dict[int, dict]) -> list[Resource]:
    owner = team.get("owner") or {}
    name, out = team["name"], []
    for m in members:
        uid = int(m["id"])
        invitation = invitations.get(uid)
        email = invitation["email"] if invitation else (owner.get("email") if uid == owner.get("id") else None)
        pending = not m.get("invitationAccepted", True)
        if not email:
            who = " ".join(p for p in (m.get("firstName"), m.get("lastName")) if p) or "?"
            out.append(Resource(UNMATCHED, f"{name}/#{uid}", attrs={"role": m.get("role")},
                                refs=(Ref(TEAM, name),), display=f"{name}/#{uid} ({who})", id=uid,
                                pending=pending, meta={"name": who}))
            continue
        out.append(Resource(
            MEMBER, member_key(name, email), attrs={"role": m.get("role"), "owner": uid == owner.get("id")},
            refs=(Ref(TEAM, name),), person=email, display=f"{name}/{email}", id=uid, pending=pending,
            meta={"membershipId": invitation.get("membershipId") if invitation else None}))
    return out


def identity_of(home: dict[str, Any], teams: list[dict[str, Any]]) -> str | None:
    """The account teamform acts as: the owner of its own team (``GET /teams``), found by name."""
    for team in teams:
        if team["name"] == home.get("name") and (team.get("owner") or {}).get("email"):
            return norm_email(team["owner"]["email"])
    return None


async def fetch_state(call: Call) -> tuple[State, dict[str, str]]:
    """The live state and the team ids by name."""
    try:
        home = await call("GET", api.TEAM)
    except ProviderError as exc:
        if exc.status != 404:  # 404: the account owns no team of its own; anything else is a failed read
            raise IncompleteRead(f"reading {api.TEAM} failed: {exc}") from exc
        home = {}
    except httpx.HTTPError as exc:
        raise IncompleteRead(f"reading {api.TEAM} failed: {exc}") from exc
    roles = await read_once(call, api.ROLES)
    teams = await pages(call, api.ALL_TEAMS)
    identity = identity_of(home, teams)
    state = State()
    state.facts.update(identity=identity, roles=[r.get("value") for r in roles], home_team=home.get("name"),
                       default_users_limit=int(home.get("usersLimit") or 0))
    ids: dict[str, str] = {}
    for team in teams:
        if team["name"] in ids:
            raise IncompleteRead(f"two teams are named {team['name']!r}; teamform matches teams by name, "
                                 "so rename one in the Teams API first")
        ids[team["name"]] = team["id"]
        members, invitations = await read_team(call, team)
        state.add(team_resource(team, identity, home.get("name")))
        for res in member_resources(team, members, invitations):
            state.add(res)
    return state, ids
