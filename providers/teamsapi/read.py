"""Reading the Teams API into resources, the file into desired resources, and live back into a
section of the file (``import``).

Members are listed without emails. A member is tied to a person only through evidence the
service gives: the invitations list (``userId`` + ``email``) or the team's ``owner.email`` in
``GET /teams/all``. Anyone else is an ``unmatched`` resource: reported, never removed.
"""

from __future__ import annotations

import asyncio
import copy
from typing import TYPE_CHECKING, Any, Iterable

import httpx

from teamform.provider import IncompleteRead, ProviderError, Ref, Resource, State, norm_email

from . import api

if TYPE_CHECKING:  # pragma: no cover
    from . import TeamsApiProvider

TEAM, MEMBER, UNMATCHED = "team", "member", "unmatched"


def member_key(team: str, email: str) -> str:
    return f"{team}/{norm_email(email)}"


# ---- answers of the wrong shape --------------------------------------------------------------
class Shape:
    """Checks one answer's items against the document's shape: a field of the wrong type is an
    ``IncompleteRead`` naming the service, the call and the field (never a TypeError later)."""

    def __init__(self, where: str) -> None:
        self.where = where

    def item(self, value: Any, index: int | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.wrong(index, None, f"is {type(value).__name__}, not an object")
        return value

    def wrong(self, index: int | None, name: str | None, problem: str) -> IncompleteRead:
        at = f" item {index + 1}" if index is not None else ""
        field = f": '{name}'" if name else ""
        return IncompleteRead(f"the Teams API answered {self.where} in an unexpected shape:{at}{field} {problem}")

    def get(self, item: dict[str, Any], name: str, kind: type | tuple[type, ...], index: int | None = None,
            *, required: bool = True) -> Any:
        """``item[name]`` if it is of ``kind`` (bool is never a number); ``None`` when it is absent or
        null and not ``required``."""
        value = item.get(name)
        if type(value) is kind:  # the usual answer, decided at once (asked ~10 times a member at scale)
            return value
        if value is None:
            if required:
                raise self.wrong(index, name, "is missing")
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            said = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise self.wrong(index, name, f"is {_TYPE_NAMES.get(type(value), type(value).__name__)}, not {said}")
        return value

    def email(self, item: dict[str, Any], name: str, index: int | None = None) -> str:
        value = self.get(item, name, str, index)
        if "@" not in value:
            raise self.wrong(index, name, "is not an email address")
        return value


_TYPE_NAMES = {str: "a string", int: "a number", bool: "true/false", dict: "an object", list: "a list",
               float: "a number"}


# ---- live ------------------------------------------------------------------------------------
async def fetch(p: "TeamsApiProvider") -> State:
    """The live state; remembers the team ids by name on ``p.team_ids``."""
    home = await read_home(p)
    roles = await read_roles(p)
    teams = await read_teams(p)
    identity = identity_of(home, teams)
    state = State()
    state.facts.update(identity=identity, roles=roles, home_team=home.get("name"),
                       default_users_limit=home.get("usersLimit") or 0, nameless_teams=[],
                       no_invitation_list=False)
    ids: dict[str, str] = {}
    named = []
    for team in teams:
        if team["name"] is None:
            state.facts["nameless_teams"].append(team["id"])
            continue
        if team["name"] in ids:
            raise IncompleteRead(f"two teams are named {team['name']!r}; teamform matches teams by name, "
                                 "so rename one in the Teams API first")
        ids[team["name"]] = team["id"]
        named.append(team)
    for team, (members, invitations) in zip(named, await read_teams_members(p, named)):
        state.add(team_resource(team, identity, home.get("name")))
        for res in member_resources(team, members, invitations):
            state.add(res)
    state.facts["no_invitation_list"] = p.invitations_missing
    p.team_ids = ids
    return state


async def read_teams_members(p: "TeamsApiProvider", teams: list[dict[str, Any]]) -> list[tuple[list[dict], dict]]:
    """``read_team`` of each team, in their order: the first alone (its invitation list tells
    whether the service has one: a 404 is asked once, not once a team), then the others at once."""
    p.invitations_missing = False
    if not teams:
        return []
    first = await read_team(p, teams[0])
    return [first, *await asyncio.gather(*(read_team(p, team) for team in teams[1:]))]


async def read_home(p: "TeamsApiProvider") -> dict[str, Any]:
    """The caller's own team (``GET /teams``), or ``{}`` when the account owns none (404)."""
    try:
        body = await p.call("GET", api.TEAM)
    except ProviderError as exc:
        if exc.status == 404:
            return {}
        raise IncompleteRead(f"reading {api.TEAM} failed: {exc}") from exc
    except httpx.HTTPError as exc:
        raise IncompleteRead(f"reading {api.TEAM} failed: {exc}") from exc
    shape = Shape(f"GET {api.TEAM}")
    home = shape.item(body)
    return {"name": shape.get(home, "name", str, required=False),
            "usersLimit": shape.get(home, "usersLimit", int, required=False)}


async def read_roles(p: "TeamsApiProvider") -> list[str]:
    shape = Shape(f"GET {api.ROLES}")
    items = await p.pages(api.ROLES, api.WHOLE, what="the roles")
    return [shape.get(shape.item(r, i), "value", str, i) for i, r in enumerate(items)]


async def read_teams(p: "TeamsApiProvider", search: str | None = None) -> list[dict[str, Any]]:
    """``GET /teams/all`` (every page), each team checked: ``{id, name, usersLimit, membersCount,
    owner: {id, email}}``; a team without a name has ``name`` None."""
    params = {"globalSearch": search} if search is not None else None
    items = await p.pages(api.ALL_TEAMS, api.teams_paging(), params=params, what="the teams")
    shape, out = Shape(f"GET {api.ALL_TEAMS}"), []
    for i, raw in enumerate(items):
        t = shape.item(raw, i)
        owner = shape.get(t, "owner", dict, i, required=False) or {}
        owner_shape = Shape(f"GET {api.ALL_TEAMS} (a team's owner)")
        out.append({"id": shape.get(t, "id", (str, int), i), "name": shape.get(t, "name", str, i, required=False),
                    "usersLimit": shape.get(t, "usersLimit", int, i, required=False) or 0,
                    "membersCount": shape.get(t, "membersCount", int, i, required=False),
                    "owner": {"id": owner_shape.get(owner, "id", int, i, required=False),
                              "email": owner_shape.get(owner, "email", str, i, required=False)}})
    ids = [t["id"] for t in out]
    if len(set(ids)) != len(ids):
        raise IncompleteRead("the Teams API listed a team twice in GET /teams/all (paging that moved or "
                             "overlapped); refusing to plan from it")
    return out


async def read_team(p: "TeamsApiProvider", team: dict[str, Any]) -> tuple[list[dict], dict[int, dict]]:
    """(members, invitation by user id) of one team (checked listing from ``read_teams``).

    The member list must hold exactly the team's ``membersCount``: fewer is a partial read, more is
    a list that is not this team's (a ``teamId`` the service ignored). A 404 from the invitation
    list, which the document does not have, is remembered on ``p.invitations_missing`` and gives
    no invitations."""
    params = {"teamId": team["id"]}
    where = f"GET {api.MEMBERS}?teamId={team['id']}"
    expected = team.get("membersCount")
    raw = await p.pages(api.MEMBERS, api.Whole(total=expected), params=params,
                        what=f"the members of {team['name']!r}")
    shape = Shape(where)
    members = [member_record(shape, m, i) for i, m in enumerate(raw)]
    ids = [m["id"] for m in members]
    if len(set(ids)) != len(ids):
        raise IncompleteRead(f"team {team['name']!r}: {where} listed a member twice (paging that moved "
                             "or overlapped); refusing to plan from it")
    if expected is not None and len(members) != expected:
        raise IncompleteRead(f"team {team['name']!r}: read {len(members)} members but the service counts "
                             f"{expected}; refusing to plan from a partial or mismatched list")
    return members, await read_invitations(p, team)


def member_record(shape: Shape, raw: Any, i: int) -> dict[str, Any]:
    m = shape.item(raw, i)
    accepted = shape.get(m, "invitationAccepted", bool, i, required=False)
    return {"id": shape.get(m, "id", int, i), "role": shape.get(m, "role", str, i),
            "firstName": shape.get(m, "firstName", str, i, required=False),
            "lastName": shape.get(m, "lastName", str, i, required=False),
            "invitationAccepted": True if accepted is None else accepted}


async def read_invitations(p: "TeamsApiProvider", team: dict[str, Any]) -> dict[int, dict]:
    if getattr(p, "invitations_missing", False):
        return {}
    where = f"GET {api.INVITATIONS}?teamId={team['id']}"
    try:
        raw = await p.pages(api.INVITATIONS, api.Whole(), params={"teamId": team["id"]},
                            what=f"the invitations of {team['name']!r}")
    except IncompleteRead as exc:
        if exc.status != 404:
            raise
        p.invitations_missing = True  # the service has no invitation list: see checks.no_invitation_list
        return {}
    shape, out = Shape(where), {}
    for i, item in enumerate(raw):
        inv = shape.item(item, i)
        if shape.get(inv, "teamId", (str, int), i, required=False) not in (None, team["id"]):
            raise shape.wrong(i, "teamId", f"is another team's, not {team['id']!r}: the service ignored "
                                           "teamId; refusing to tie members to emails from it")
        uid = shape.get(inv, "userId", int, i)
        if uid in out:
            raise shape.wrong(i, "userId", "is listed twice")
        out[uid] = {"userId": uid, "email": shape.email(inv, "email", i),
                    "membershipId": shape.get(inv, "membershipId", int, i, required=False)}
    return out


def identity_of(home: dict[str, Any], teams: list[dict[str, Any]]) -> str | None:
    """The account teamform acts as: the owner of its own team (``GET /teams``), found by name."""
    for team in teams:
        if home.get("name") is not None and team["name"] == home.get("name") and team["owner"]["email"]:
            return norm_email(team["owner"]["email"])
    return None


def team_resource(team: dict[str, Any], identity: str | None, home: str | None) -> Resource:
    owner = team["owner"]
    owner_email = norm_email(owner["email"] or "")
    return Resource(TEAM, team["name"], display=team["name"], id=team["id"], meta={
        "owner": owner_email, "owner_id": owner["id"], "users_limit": team["usersLimit"],
        "owned": bool(identity) and owner_email == identity, "home": team["name"] == home})


def member_resources(team: dict[str, Any], members: list[dict], invitations: dict[int, dict]) -> list[Resource]:
    owner_id, owner_email = team["owner"]["id"], team["owner"]["email"]
    name, out = team["name"], []
    on_team = (Ref(TEAM, name),)  # one tuple shared by the team's members (immutable)
    for m in members:
        uid = m["id"]
        invitation = invitations.get(uid)
        email = invitation["email"] if invitation else (owner_email if uid == owner_id else None)
        pending = not m["invitationAccepted"]
        if not email:
            who = " ".join(p for p in (m["firstName"], m["lastName"]) if p) or "?"
            out.append(Resource(UNMATCHED, f"{name}/#{uid}", attrs={"role": m["role"]},
                                refs=on_team, display=f"{name}/#{uid} ({who})", id=uid,
                                pending=pending, meta={"name": who}))
            continue
        out.append(Resource(
            MEMBER, member_key(name, email), attrs={"role": m["role"], "owner": uid == owner_id},
            refs=on_team, person=email, display=f"{name}/{email}", id=uid, pending=pending,
            meta={"membershipId": invitation.get("membershipId") if invitation else None}))
    return out


# ---- desired -----------------------------------------------------------------------------------
def desired(p: "TeamsApiProvider", live: State) -> State:
    """The listed teams and their members; unlisted live teams as the plan should end them:
    the account's own team kept, someone else's team left (its members stay), an owned one
    deleted (its members cancelled, the owner's membership goes with the team)."""
    state = State()
    members = members_by_team(live)
    for name, entry in p.settings.teams.items():
        if entry.hand_over_to:
            copy_members(state, members.get(name, ()))  # the team leaves teamform's hands as it is
            continue
        state.add(Resource(TEAM, name, display=name))
        desired_members(p, state, live, name, entry.members)
    for team in live.of_kind(TEAM):
        if team.key in p.settings.teams:
            continue
        if team.meta.get("home"):
            state.add(copy.deepcopy(team))
            copy_members(state, members.get(team.key, ()))
        elif not team.meta.get("owned"):
            copy_members(state, members.get(team.key, ()))
        else:
            copy_members(state, members.get(team.key, ()), only=team.meta.get("owner"))
    return state


def desired_members(p: "TeamsApiProvider", state: State, live: State, name: str, entries: list) -> None:
    wanted = p.wanted(entries, attrs=lambda m: {"role": m.role}, field=f"teams.{name}.members")
    have = live.get(Ref(TEAM, name))
    identity = live.facts.get("identity")
    owner = have.meta.get("owner") if have else identity
    if have is None and identity and identity not in wanted:
        wanted[identity] = {"role": api.CREATOR_ROLE}  # the creator becomes the new team's owner
    team = (Ref(TEAM, name),)
    for email, attrs in wanted.items():
        key = member_key(name, email)  # once: for the live lookup and the resource
        current = live.get(Ref(MEMBER, key))
        spelled = current.person if current else p.spelling(email)
        state.add(Resource(MEMBER, key, attrs={"role": attrs["role"], "owner": email == owner},
                           refs=team, person=spelled, display=f"{name}/{spelled}"))


def members_by_team(live: State) -> dict[str, list[Resource]]:
    """The live members (and unmatched members) of each team, in the order they were read."""
    out: dict[str, list[Resource]] = {}
    for res in live:
        if res.kind in (MEMBER, UNMATCHED):
            for ref in res.refs:
                if ref.kind == TEAM:
                    out.setdefault(ref.key, []).append(res)
    return out


def copy_members(state: State, members: Iterable[Resource], only: str | None = None) -> None:
    """A team's live members (``members_by_team``), as they are; ``only`` one person's."""
    for res in members:
        if only is None or (res.person and norm_email(res.person) == only):
            state.add(copy.deepcopy(res))


# ---- import ------------------------------------------------------------------------------------
def export(live: State) -> dict[str, Any]:
    teams: dict[str, Any] = {t.key: {"members": []} for t in sorted(live.of_kind(TEAM), key=lambda r: r.key)}
    for r in sorted(live.of_kind(MEMBER), key=lambda r: r.key):
        teams[r.refs[0].key]["members"].append({"who": r.person, "role": r.attrs["role"]})
    return {"teams": teams}
