"""Reading Debrief: the API's answers as a live ``State``, the file's section as a desired one,
and a live state as a section again (``export``, for ``teamform import``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import IncompleteRead, Page, ProviderError, Ref, Resource, State, norm_email

from . import api
from .settings import DebriefApplication, app_key

if TYPE_CHECKING:  # pragma: no cover
    from . import DebriefProvider

TEAM_USER, APPLICATION, APP_USER = "team_user", "application", "application_user"
NAME_ATTRS = ("first_name", "last_name")


def email_of(res: Resource) -> str:
    """The team user an application user refers to."""
    return next(r.key for r in res.refs if r.kind == TEAM_USER)


def app_of(res: Resource) -> str:
    """The application an application user refers to."""
    return next(r.key for r in res.refs if r.kind == APPLICATION)


# ---- the API -> live ------------------------------------------------------------------
class BareList:
    """Paging for a list the document shows whole: a bare JSON array, no paging (``api.py``).

    Each read asks ``?limit=1000&skip=<items so far>`` and goes on to an empty answer, so a
    server that pages after all, at any size from ``SMALLEST_PAGE`` up, is read whole. A first
    answer shorter than that is the whole list (no server pages by fewer). A server that ignores
    the parameters (as documented) answers the second request with the same list: the first
    answer was the whole list, and the read ends there, unless it held exactly ``limit`` items,
    where "ignores skip but honours limit" cannot be told from "ignores both": then the base's
    ``pages`` refuses the read as incomplete. One instance per read."""

    size = 0  # not the base's size rules: a short page is no end, an empty one is

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit or api.PAGE_LIMIT
        self.first: list[Any] | None = None
        self.answers = 0

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {api.PAGE_SIZE_PARAM: self.limit, api.PAGE_SKIP_PARAM: seen}

    def parse(self, body: Any) -> Page:
        if not isinstance(body, list):
            raise TypeError(f"the answer is {type(body).__name__}, not a list")
        self.answers += 1
        if self.answers == 1:
            self.first = body
            if len(body) < api.SMALLEST_PAGE:
                return Page(body, more=False)
        elif self.answers == 2 and body == self.first and len(body) != self.limit:
            return Page([], more=False)  # the paging parameters are ignored: that was the whole list
        return Page(body)


async def read_list(p: "DebriefProvider", path: str, what: str) -> list[dict[str, Any]]:
    """Every item of one of Debrief's lists, each an object, or ``IncompleteRead``."""
    items = await p.pages(path, BareList(), what=what)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise IncompleteRead(f"Debrief: {what}[{i}] is {type(item).__name__}, not an object")
    return items


def text(item: dict[str, Any], key: str, what: str, *, required: bool = True) -> str | None:
    """A string field of an answer, or ``IncompleteRead`` naming the service and the field."""
    value = item.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        got = "missing" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
        raise IncompleteRead(f"Debrief: {what} has {key} {got}, not a string")
    return value


def ident(item: dict[str, Any], what: str) -> str | int:
    value = item.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise IncompleteRead(f"Debrief: {what} has id {value!r:.40}, not an identifier")
    return value


def email(item: dict[str, Any], what: str) -> str:
    value = text(item, "email", what)
    if "@" not in value:
        raise IncompleteRead(f"Debrief: {what} has email {value[:40]!r}, not an email address")
    return value


async def _me(p: "DebriefProvider", users: list[dict[str, Any]], facts: dict[str, Any]) -> dict[str, Any]:
    """The login user: ``GET /user/me`` (NOTES.md; the document's URL says ``/user``). If that
    answers 404, the login user is found in the user list by the username, with a warning."""
    try:
        me = await p.find(api.ME)
    except (ProviderError, httpx.HTTPError) as exc:
        raise IncompleteRead(f"reading {api.ME} failed: {exc}") from exc
    if me is None:
        username = norm_email(p.ctx.credentials.get("username", ""))
        me = next((u for u in users if norm_email(str(u.get("email"))) == username), None)
        if me is None:
            raise IncompleteRead(f"Debrief answered {api.ME} with 404 and the login user {username} is not in "
                                 f"{api.USERS}: cannot tell who teamform acts as")
        facts["warnings"].append(f"Debrief has no {api.ME} (404): the login user was found in {api.USERS}")
    if not isinstance(me, dict):
        raise IncompleteRead(f"Debrief: {api.ME} answered {type(me).__name__}, not an object")
    role = text(me, "role", f"{api.ME}")
    if role not in api.SEES_EVERY_APP:
        raise IncompleteRead(
            f"teamform logs in to Debrief as {me.get('email')}, a {role}: only team admins and "
            f"owners see every application, so the read would be partial; log in as an admin or owner")
    return me


async def team_id(p: "DebriefProvider", me: dict[str, Any], facts: dict[str, Any]) -> str | int | None:
    """The team's id: ``team_id`` of the login user, else ``GET /team`` (the current team). The
    document shows neither answer; without either, a fetch still works (only adding and removing
    team users need the id) and the plan warns."""
    found = me.get("team_id")
    if isinstance(found, (str, int)) and not isinstance(found, bool) and found != "":
        return found
    try:
        team = await p.find(api.TEAMS)
    except (ProviderError, httpx.HTTPError) as exc:
        raise IncompleteRead(f"reading {api.TEAMS} failed: {exc}") from exc
    if isinstance(team, dict) and team.get("id") not in (None, ""):
        return ident(team, api.TEAMS)
    facts["warnings"].append(f"Debrief shows no team id ({api.ME} has no team_id, {api.TEAMS} answered "
                             f"{'404' if team is None else 'without an id'}): people cannot be added to or "
                             f"removed from the team until it does")
    return None


async def fetch(p: "DebriefProvider") -> State:
    """Every list is a bare array (NOTES.md), read with ``BareList``."""
    state = State()
    state.facts["warnings"] = []
    users = await read_list(p, api.USERS, "team users")
    me = await _me(p, users, state.facts)
    apps = await read_list(p, api.APPS, "applications")
    for i, a in enumerate(apps):
        ident(a, f"applications[{i}]")
        text(a, "name", f"applications[{i}]")
    members = await asyncio.gather(*(read_list(p, api.APP_USERS.format(app_id=a["id"]),
                                               f"the users of application {a['name']}") for a in apps))
    team = await team_id(p, me, state.facts)
    p.ids.reset(team)
    state.facts.update(identity=me.get("email") or p.ctx.credentials.get("username"), team_id=team)
    for i, u in enumerate(users):
        add_user(p, state, u, f"team users[{i}]")
    for a, rows in zip(apps, members):
        _add_app(p, state, a, rows)
    return state


def add_user(p: "DebriefProvider", state: State, u: dict[str, Any], what: str) -> None:
    spelled, uid = email(u, what), ident(u, what)
    key = norm_email(spelled)
    status = text(u, "status", what, required=False)
    pending = status == api.INVITED
    if pending and not isinstance(u.get("invite_token"), str):
        state.facts.setdefault("tokenless", []).append(key)
    p.ids.by_key[(TEAM_USER, key)] = uid
    state.add(Resource(TEAM_USER, key, attrs={"first_name": text(u, "first_name", what, required=False) or "",
                                              "last_name": text(u, "last_name", what, required=False) or "",
                                              "role": text(u, "role", what)},
                       person=spelled, display=spelled, id=uid, pending=pending))


def _add_app(p: "DebriefProvider", state: State, a: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    key = app_key(a["name"])
    p.ids.by_key[(APPLICATION, key)] = a["id"]
    what = f"application {a['name']}"
    state.add(Resource(APPLICATION, key, attrs={"name": a["name"],
                                                "description": text(a, "description", what, required=False) or ""},
                       display=a["name"], id=a["id"]))
    for i, row in enumerate(rows):
        state.add(app_user(a, row, f"the users of {what}[{i}]"))


def app_user(a: dict[str, Any], row: dict[str, Any], what: str) -> Resource:
    """One row of ``GET /application/{id}/users`` as a resource (its id is the user's id)."""
    key, spelled = app_key(a["name"]), email(row, what)
    address = norm_email(spelled)
    return Resource(APP_USER, f"{key}/{address}", attrs={"role": text(row, "role", what)},
                    refs=(Ref(TEAM_USER, address), Ref(APPLICATION, key)), person=spelled,
                    display=f"{a['name']}/{spelled}", id=ident(row, what), meta={"app_id": a["id"]})


# ---- the file -> desired --------------------------------------------------------------
def desired(p: "DebriefProvider", live: State) -> State:
    """Also records in ``p.skipped`` the application entries of team admins and owners, which
    are not planned (``check`` warns about them)."""
    state = State()
    p.skipped = []
    _desired_users(p, state, live)
    if p.settings.applications is None:
        _keep_applications(p, state, live)
    else:
        for app in p.settings.applications:
            _desired_app(p, state, live, app)
    return state


def _desired_users(p: "DebriefProvider", state: State, live: State) -> None:
    person, spelling, add = p.ctx.directory.person, p.spelling, state.add
    for email, attrs in p.wanted(p.settings.members, attrs=lambda m: {"role": m.role}).items():
        have = live.get(Ref(TEAM_USER, email))
        first, last = person(email).names()
        if not (first or last) and have is not None:  # no name in people: keep the live one
            first, last = have.attrs["first_name"], have.attrs["last_name"]
        spelled = spelling(email)
        add(Resource(TEAM_USER, email, attrs={"first_name": first, "last_name": last, **attrs}, person=spelled,
                     display=have.display if have else spelled))


def _sees_every_app(p: "DebriefProvider", email: str, state: State, live: State) -> bool:
    """Team admins and owners in the file, and those whose live role the engine keeps (the login
    user, ``policy.protect``)."""
    wanted, have = state.get(Ref(TEAM_USER, email)), live.get(Ref(TEAM_USER, email))
    if wanted is not None and wanted.attrs["role"] in api.SEES_EVERY_APP:
        return True
    # (who is protected is worked out last: only for the few whose live role sees every application)
    return have is not None and have.attrs["role"] in api.SEES_EVERY_APP and email in p.protected(live)


def _desired_app(p: "DebriefProvider", state: State, live: State, app: DebriefApplication) -> None:
    key = app_key(app.name)
    have = live.get(Ref(APPLICATION, key))
    description = app.description if app.description is not None else (have.attrs["description"] if have else "")
    state.add(Resource(APPLICATION, key, attrs={"name": app.name, "description": description}, display=app.name))
    wanted = p.wanted(app.users, attrs=lambda m: {"role": m.role}, field=f"applications[{app.name}].users")
    for email, attrs in wanted.items():
        if _sees_every_app(p, email, state, live):
            p.skipped.append((email, app.name))
            continue
        spelled = p.spelling(email)
        state.add(Resource(APP_USER, f"{key}/{email}", attrs=attrs, refs=(Ref(TEAM_USER, email), Ref(APPLICATION, key)),
                           person=spelled, display=f"{app.name}/{spelled}"))


def _keep_applications(p: "DebriefProvider", state: State, live: State) -> None:
    """No ``applications:`` key: applications stay as they are; people who leave the team leave
    its applications too, and so do people who become team admins or owners: Debrief stops
    listing them on applications (they see every one), so their roles there are removed first,
    in the plan, rather than vanish from view as a side effect of the promotion."""
    for res in live.of_kind(APPLICATION):
        state.add(Resource(res.kind, res.key, dict(res.attrs), display=res.display))
    for res in live.of_kind(APP_USER):
        email = email_of(res)
        if Ref(TEAM_USER, email) in state and not _sees_every_app(p, email, state, live):
            state.add(Resource(res.kind, res.key, dict(res.attrs), res.refs, res.person, res.display))


# ---- live -> the file (import) --------------------------------------------------------
def export(live: State) -> dict[str, Any]:
    """An application without a description (one made before Debrief required it) is exported
    without one: the file cannot say "blank", and leaving it out keeps the live one."""
    members = [{"who": r.key, "role": r.attrs["role"]} for r in sorted(live.of_kind(TEAM_USER), key=lambda r: r.key)]
    apps = []
    for a in sorted(live.of_kind(APPLICATION), key=lambda r: r.key):
        users = [{"who": email_of(r), "role": r.attrs["role"]} for r in live.of_kind(APP_USER) if app_of(r) == a.key]
        described = {"description": a.attrs["description"]} if a.attrs["description"].strip() else {}
        apps.append({"name": a.attrs["name"], **described, "users": sorted(users, key=lambda u: u["who"])})
    return {"members": members, "applications": apps}
