"""Reading the Teams API into resources, the file into desired resources, and live back into a
section of the file (``import``).

Members are listed without emails. A member is tied to a person only through evidence the
service gives: the invitations list (``userId`` + ``email``) or the team's ``owner.email`` in
``GET /teams/all``. Anyone else is an ``unmatched`` resource: reported, never removed.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import IncompleteRead, ProviderError, Ref, Resource, State, norm_email

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import TeamsApiProvider

TEAM, MEMBER, UNMATCHED = "team", "member", "unmatched"


def member_key(team: str, email: str) -> str:
    return f"{team}/{norm_email(email)}"


# ---- live ------------------------------------------------------------------------------------
async def fetch(p: "TeamsApiProvider") -> State:
    """The live state; remembers the team ids by name on ``p.team_ids``."""
    home = await read_home(p)
    roles = await p.pages(api.ROLES, api.WHOLE, what="roles")
    teams = await p.pages(api.ALL_TEAMS, api.PAGED, what="teams")
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
        members, invitations = await read_team(p, team)
        state.add(team_resource(team, identity, home.get("name")))
        for res in member_resources(team, members, invitations):
            state.add(res)
    p.team_ids = ids
    return state


async def read_home(p: "TeamsApiProvider") -> dict[str, Any]:
    """The caller's own team (``GET /teams``), or ``{}`` when the account owns none (404)."""
    try:
        return await p.call("GET", api.TEAM) or {}
    except ProviderError as exc:
        if exc.status == 404:
            return {}
        raise IncompleteRead(f"reading {api.TEAM} failed: {exc}") from exc
    except httpx.HTTPError as exc:
        raise IncompleteRead(f"reading {api.TEAM} failed: {exc}") from exc


async def read_team(p: "TeamsApiProvider", team: dict[str, Any]) -> tuple[list[dict], dict[int, dict]]:
    """(members, invitation by user id) of one team; refuses a list shorter than membersCount."""
    params = {"teamId": team["id"]}
    members = await p.pages(api.MEMBERS, api.PAGED, params=params, what=f"the members of {team['name']!r}")
    expected = int(team.get("membersCount") or 0)
    if len(members) < expected:
        raise IncompleteRead(f"team {team['name']!r}: read {len(members)} members but the service counts "
                             f"{expected}; refusing to plan from a partial list")
    invitations = await p.pages(api.INVITATIONS, api.PAGED, params=params,
                                what=f"the invitations of {team['name']!r}")
    return members, {int(i["userId"]): i for i in invitations}


def identity_of(home: dict[str, Any], teams: list[dict[str, Any]]) -> str | None:
    """The account teamform acts as: the owner of its own team (``GET /teams``), found by name."""
    for team in teams:
        if team["name"] == home.get("name") and (team.get("owner") or {}).get("email"):
            return norm_email(team["owner"]["email"])
    return None


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


# ---- desired -----------------------------------------------------------------------------------
def desired(p: "TeamsApiProvider", live: State) -> State:
    """The listed teams and their members; unlisted live teams as the plan should end them:
    the account's own team kept, someone else's team left (its members stay), an owned one
    deleted (its members cancelled, the owner's membership goes with the team)."""
    state = State()
    for name, entry in p.settings.teams.items():
        if entry.hand_over_to:
            copy_members(state, live, name)  # the team leaves teamform's hands as it is
            continue
        state.add(Resource(TEAM, name, display=name))
        desired_members(p, state, live, name, entry.members)
    for team in live.of_kind(TEAM):
        if team.key in p.settings.teams:
            continue
        if team.meta.get("home"):
            state.add(copy.deepcopy(team))
            copy_members(state, live, team.key)
        elif not team.meta.get("owned"):
            copy_members(state, live, team.key)
        else:
            copy_members(state, live, team.key, only=team.meta.get("owner"))
    return state


def desired_members(p: "TeamsApiProvider", state: State, live: State, name: str, entries: list) -> None:
    wanted = p.wanted(entries, attrs=lambda m: {"role": m.role}, field=f"teams.{name}.members")
    have = live.get(Ref(TEAM, name))
    identity = live.facts.get("identity")
    owner = have.meta.get("owner") if have else identity
    if have is None and identity and identity not in wanted:
        wanted[identity] = {"role": api.CREATOR_ROLE}  # the creator becomes the new team's owner
    for email, attrs in wanted.items():
        current = live.get(Ref(MEMBER, member_key(name, email)))
        spelled = current.person if current else p.spelling(email)
        state.add(Resource(MEMBER, member_key(name, email), attrs={"role": attrs["role"], "owner": email == owner},
                           refs=(Ref(TEAM, name),), person=spelled, display=f"{name}/{spelled}"))


def copy_members(state: State, live: State, team: str, only: str | None = None) -> None:
    """The live members (and unmatched members) of a team, as they are; ``only`` one person's."""
    for res in live:
        if res.kind in (MEMBER, UNMATCHED) and Ref(TEAM, team) in res.refs:
            if only is None or (res.person and norm_email(res.person) == only):
                state.add(copy.deepcopy(res))


# ---- import ------------------------------------------------------------------------------------
def export(live: State) -> dict[str, Any]:
    teams: dict[str, Any] = {t.key: {"members": []} for t in sorted(live.of_kind(TEAM), key=lambda r: r.key)}
    for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key):
        teams[r.refs[0].key]["members"].append({"who": r.person, "role": r.attrs["role"]})
    return {"teams": teams}
