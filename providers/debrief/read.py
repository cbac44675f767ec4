"""Reading Debrief: the API's answers as a live ``State``, the file's section as a desired one,
and a live state as a section again (``export``, for ``teamform import``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx

from teamform.provider import IncompleteRead, ProviderError, Ref, Resource, State, Unpaged, norm_email

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
async def _me(p: "DebriefProvider") -> dict[str, Any]:
    """The login user: one object, not a list, so not ``pages``; a failure is a failed read."""
    try:
        me = await p.call("GET", api.ME)
    except (ProviderError, httpx.HTTPError) as exc:
        raise IncompleteRead(f"reading {api.ME} failed: {exc}") from exc
    if not isinstance(me, dict):
        raise IncompleteRead(f"{api.ME} answered with {type(me).__name__}, not an object")
    if me.get("role") not in api.SEES_EVERY_APP:
        raise IncompleteRead(
            f"teamform logs in to Debrief as {me.get('email')}, a {me.get('role')}: only team admins and "
            f"owners see every application, so the read would be partial; log in as an admin or owner")
    return me


async def fetch(p: "DebriefProvider") -> State:
    """Every list is a bare array, unpaged (NOTES.md)."""
    me = await _me(p)
    users = await p.pages(api.USERS, Unpaged(), what="team users")
    apps = await p.pages(api.APPS, Unpaged(), what="applications")
    members = await asyncio.gather(*(p.pages(api.APP_USERS.format(app_id=a["id"]), Unpaged(),
                                             what=f"the users of application {a['name']}") for a in apps))
    p.ids.reset(me.get("team_id"))
    state = State()
    state.facts.update(identity=me.get("email"), team_id=me.get("team_id"))
    for u in users:
        _add_user(p, state, u)
    for a, rows in zip(apps, members):
        _add_app(p, state, a, rows)
    return state


def _add_user(p: "DebriefProvider", state: State, u: dict[str, Any]) -> None:
    key = norm_email(u["email"])
    p.ids.by_key[(TEAM_USER, key)] = u["id"]
    state.add(Resource(TEAM_USER, key, attrs={"first_name": u.get("first_name") or "",
                                              "last_name": u.get("last_name") or "", "role": u.get("role")},
                       person=u["email"], display=u["email"], id=u["id"], pending=u.get("status") == api.INVITED))


def _add_app(p: "DebriefProvider", state: State, a: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    key = app_key(a["name"])
    p.ids.by_key[(APPLICATION, key)] = a["id"]
    state.add(Resource(APPLICATION, key, attrs={"name": a["name"], "description": a.get("description") or ""},
                       display=a["name"], id=a["id"]))
    for row in rows:
        email = norm_email(row["email"])
        state.add(Resource(APP_USER, f"{key}/{email}", attrs={"role": row.get("role")},
                           refs=(Ref(TEAM_USER, email), Ref(APPLICATION, key)), person=row["email"],
                           display=f"{a['name']}/{row['email']}", id=row["id"], meta={"app_id": a["id"]}))


# ---- the file -> desired --------------------------------------------------------------
def desired(p: "DebriefProvider", live: State) -> State:
    """Also records in ``p.skipped`` the application entries of team admins and owners, which
    are not planned (``check`` warns about them)."""
    state = State()
    p.skipped = []
    _desired_users(p, state, live)
    if p.settings.applications is None:
        _keep_applications(state, live)
    else:
        for app in p.settings.applications:
            _desired_app(p, state, live, app)
    return state


def _desired_users(p: "DebriefProvider", state: State, live: State) -> None:
    for email, attrs in p.wanted(p.settings.members, attrs=lambda m: {"role": m.role}).items():
        have = live.get(Ref(TEAM_USER, email))
        names = dict(zip(NAME_ATTRS, p.ctx.directory.person(email).names()))
        if not any(names.values()) and have is not None:
            names = {k: have.attrs[k] for k in NAME_ATTRS}  # no name in people: keep the live one
        spelled = p.spelling(email)
        state.add(Resource(TEAM_USER, email, attrs={**names, **attrs}, person=spelled,
                           display=have.display if have else spelled))


def _sees_every_app(p: "DebriefProvider", email: str, state: State, live: State) -> bool:
    """Team admins and owners in the file, and those whose live role the engine keeps (the login
    user, ``policy.protect``)."""
    wanted, have = state.get(Ref(TEAM_USER, email)), live.get(Ref(TEAM_USER, email))
    if wanted is not None and wanted.attrs["role"] in api.SEES_EVERY_APP:
        return True
    return email in p.protected(live) and have is not None and have.attrs["role"] in api.SEES_EVERY_APP


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


def _keep_applications(state: State, live: State) -> None:
    """No ``applications:`` key: applications stay as they are; people who leave the team leave
    its applications too."""
    for res in live.of_kind(APPLICATION):
        state.add(Resource(res.kind, res.key, dict(res.attrs), display=res.display))
    for res in live.of_kind(APP_USER):
        if Ref(TEAM_USER, email_of(res)) in state:
            state.add(Resource(res.kind, res.key, dict(res.attrs), res.refs, res.person, res.display))


# ---- live -> the file (import) --------------------------------------------------------
def export(live: State) -> dict[str, Any]:
    members = [{"who": r.key, "role": r.attrs["role"]} for r in sorted(live.of_kind(TEAM_USER), key=lambda r: r.key)]
    apps = []
    for a in sorted(live.of_kind(APPLICATION), key=lambda r: r.key):
        users = [{"who": email_of(r), "role": r.attrs["role"]} for r in live.of_kind(APP_USER) if app_of(r) == a.key]
        apps.append({"name": a.attrs["name"], "description": a.attrs["description"],
                     "users": sorted(users, key=lambda u: u["who"])})
    return {"members": members, "applications": apps}
