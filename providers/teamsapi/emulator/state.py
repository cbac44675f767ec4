"""The emulator's records and lookups over its JSON state: users, tokens, teams, memberships.

Each function takes the emulator (or the request) and raises ``Refusal`` with the status the
service answers; the handlers in ``reads.py``/``writes.py`` compose them. Records are found
through the emulator's lookups (by id, by email, a team's memberships), which the ``add_*`` and
``drop_*`` functions keep right, so a request costs the same with 10 members or 100,000.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from starlette.requests import Request

from teamform.emulator import Ranked

from .. import api

if TYPE_CHECKING:  # pragma: no cover
    from teamform.emulator import Emulator

PHRASES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
MANAGERS = frozenset({"Admin"})
State = dict[str, Any]


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


# ---- records ------------------------------------------------------------------------------
def user(uid: int, email: str, first: str, last: str) -> dict[str, Any]:
    return {"id": uid, "email": email, "firstName": first, "lastName": last, "phone": None}


def membership(mid: int, team: str, uid: int, role: str, accepted: bool = True,
               invited: bool = True) -> dict[str, Any]:
    return {"membershipId": mid, "teamId": team, "userId": uid, "role": role,
            "invitationAccepted": accepted, "invited": invited, "isActive": True}


def team(tid: str, name: str, owner: int, limit: int = 5) -> dict[str, Any]:
    return {"id": tid, "name": name, "usersLimit": limit, "ownerId": owner, "subscription": "Basic",
            "isImpersonationEnabled": False}


def seed() -> State:
    """Drift from teams.example.yaml: Bob is a Member there (Admin wanted: a replace), Carol's
    invitation is pending, Frank is not in the file, Lee joined without an invitation record
    (unmatched), "Old Project" is not in the file, and "Design" does not exist yet."""
    users = [user(1, "alice@example.com", "Alice", "Doe"), user(2, "Bob@Example.com", "Bob", "Roe"),
             user(3, "carol@example.com", "Carol", "Poe"), user(4, "frank@example.com", "Frank", "Hoe"),
             user(5, "lee@example.org", "Lee", "Gacy")]
    memberships = [membership(1, "team_1", 1, "Admin", invited=False), membership(2, "team_1", 2, "Member"),
                   membership(3, "team_1", 3, "Member", accepted=False), membership(4, "team_1", 4, "Viewer"),
                   membership(5, "team_1", 5, "Member", invited=False),
                   membership(6, "team_2", 1, "Admin", invited=False)]
    return {"users": users, "tokens": {"sandbox-token": 1, "carol-token": 3},
            "teams": [team("team_1", "Engineering", 1), team("team_2", "Old Project", 1)],
            "memberships": memberships, "roles": ["Admin", "Member", "Viewer"],
            "default_users_limit": 5, "next_id": 100}


# ---- lookups ------------------------------------------------------------------------------
def caller_of(state: State, request: Request) -> int:
    """The user whose Bearer token signs the request (401 without a valid one)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != api.AUTH_SCHEME.lower() or not token:
        raise Refusal(401, "missing or malformed Authorization header (Bearer token expected)")
    uid = state["tokens"].get(token.strip())
    if uid is None:
        raise Refusal(401, "invalid token")
    return uid


def _users(state: State) -> dict[int, dict[str, Any]]:
    return {u["id"]: u for u in state["users"]}


def _first_by(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[Any, dict[str, Any]]:
    """Each item by ``key(item)``; where two share a key, the first (as a scan would find)."""
    out: dict[Any, dict[str, Any]] = {}
    for item in items:
        out.setdefault(key(item), item)
    return out


def _emails(state: State) -> dict[str, dict[str, Any]]:
    return _first_by(state["users"], lambda u: u["email"].lower())


def _teams(state: State) -> dict[str, dict[str, Any]]:
    return _first_by(state["teams"], lambda t: t["id"])


def _members(state: State) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for m in state["memberships"]:
        out.setdefault(m["teamId"], []).append(m)
    return out


def _pairs(state: State) -> dict[tuple[str, int], dict[str, Any]]:
    return _first_by(state["memberships"], lambda m: (m["teamId"], m["userId"]))


def _owned(state: State) -> dict[int, dict[str, Any]]:
    return _first_by(state["teams"], lambda t: t["ownerId"])


def _ranks(state: State) -> Ranked:
    return Ranked(state["memberships"])


def _by_membership_id(state: State) -> dict[int, dict[str, Any]]:
    return _first_by(state["memberships"], lambda m: m["membershipId"])


# Lookups over the emulator's lists (``Emulator.lookup``), kept right by ``add_*``/``drop_*``.
def user_of(emu: "Emulator", uid: int) -> dict[str, Any]:
    return emu.lookup("users", _users)[uid]


def user_by_email(emu: "Emulator", email: str) -> dict[str, Any] | None:
    return emu.lookup("emails", _emails).get(email.lower())


def team_by_id(emu: "Emulator", tid: str) -> dict[str, Any] | None:
    return emu.lookup("teams", _teams).get(tid)


def members_of(emu: "Emulator", tid: str) -> list[dict[str, Any]]:
    """A team's memberships, in the order they were made (do not change the list: ``drop_membership``)."""
    return emu.lookup("members", _members).get(tid, [])


def membership_by_id(emu: "Emulator", mid: int) -> dict[str, Any] | None:
    return emu.lookup("membership_ids", _by_membership_id).get(mid)


def membership_of(emu: "Emulator", tid: str, uid: int) -> dict[str, Any] | None:
    return emu.lookup("pairs", _pairs).get((tid, uid))


# Each change takes the lookups first (a lookup built after the change would hold it already).
def add_user(emu: "Emulator", u: dict[str, Any]) -> None:
    users, emails = emu.lookup("users", _users), emu.lookup("emails", _emails)
    emu.state["users"].append(u)
    users[u["id"]] = u
    emails.setdefault(u["email"].lower(), u)


def add_team(emu: "Emulator", t: dict[str, Any]) -> None:
    teams, owned = emu.lookup("teams", _teams), emu.lookup("owned", _owned)
    emu.state["teams"].append(t)
    teams.setdefault(t["id"], t)
    owned.setdefault(t["ownerId"], t)


def drop_team(emu: "Emulator", t: dict[str, Any]) -> None:
    """The team and every membership of it (rare: one pass over all of them)."""
    emu.state["teams"].remove(t)
    emu.state["memberships"] = [m for m in emu.state["memberships"] if m["teamId"] != t["id"]]
    emu.forget("teams", "owned", "members", "pairs", "membership_ids", "membership_ranks")


def hand_over(emu: "Emulator", t: dict[str, Any], owner: int) -> None:
    """The team's owner is now ``owner``."""
    t["ownerId"] = owner
    emu.forget("owned")


def add_membership(emu: "Emulator", m: dict[str, Any]) -> None:
    members, pairs = emu.lookup("members", _members), emu.lookup("pairs", _pairs)
    ids = emu.lookup("membership_ids", _by_membership_id)
    emu.lookup("membership_ranks", _ranks).append(emu.state["memberships"], m)
    members.setdefault(m["teamId"], []).append(m)
    pairs.setdefault((m["teamId"], m["userId"]), m)
    ids.setdefault(m["membershipId"], m)


def drop_membership(emu: "Emulator", m: dict[str, Any]) -> None:
    members, pairs = emu.lookup("members", _members), emu.lookup("pairs", _pairs)
    ids, ranks = emu.lookup("membership_ids", _by_membership_id), emu.lookup("membership_ranks", _ranks)
    ranks.remove(emu.state["memberships"], m)
    ranks.remove(members[m["teamId"]], m)
    ranks.discard(m)
    # one membership a person and team (invite refuses a second), membership ids are unique
    if pairs.get((m["teamId"], m["userId"])) is m:
        del pairs[(m["teamId"], m["userId"])]
    if ids.get(m["membershipId"]) is m:
        del ids[m["membershipId"]]


def home_of(emu: "Emulator", caller: int) -> dict[str, Any]:
    """The caller's own team: the first it owns (404 when it owns none)."""
    owned = emu.lookup("owned", _owned).get(caller)
    if owned is None:
        raise Refusal(404, "you do not own a team")
    return owned


def team_for(emu: "Emulator", tid: str | None, caller: int, *, manage: bool = False) -> dict[str, Any]:
    """A team the caller is an accepted member of (their own team when ``tid`` is None); with
    ``manage``, one they own or are an Admin of (403 otherwise)."""
    if tid is None:
        return home_of(emu, caller)
    found = team_by_id(emu, tid)
    mine = membership_of(emu, tid, caller) if found else None
    if found is None or mine is None or not mine["invitationAccepted"]:
        raise Refusal(404, f"team {tid} not found")
    if manage and found["ownerId"] != caller and mine["role"] not in MANAGERS:
        raise Refusal(403, "only the team's owner or an Admin may do this")
    return found


# ---- the request ----------------------------------------------------------------------------
#: ``GET /teams/all`` without ``limit``: the document gives 10 as its example, not as a default
#: (invented), and the largest page it serves (invented)
DEFAULT_PAGE, MAX_PAGE = 10, 100


def page(request: Request, items: list[Any]) -> list[Any]:
    """The ``offset``/``limit`` slice of a list, for ``GET /teams/all`` only, the one list the
    document pages (400 on values that are not numbers in range: invented)."""
    q = request.query_params
    try:
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", DEFAULT_PAGE))
    except ValueError:
        raise Refusal(400, "offset and limit must be numbers") from None
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise Refusal(400, f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
    return items[offset: offset + limit]


def number(data: dict[str, Any], name: str) -> int | None:
    """An optional body field the document types as a number (400 for anything else)."""
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise Refusal(400, f"{name} must be a number")
    return value


async def body(request: Request) -> dict[str, Any]:
    """The JSON object sent (``{}`` for no body; 400 for anything else)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise Refusal(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, "the body must be a JSON object")
    return data
