"""Writing to Debrief: one operation at a time, ids resolved at apply time (a user or an
application created earlier in the same apply has no id in the plan). A delete answered 404 is
already done: the base's ``gone_statuses`` says so, the applier counts it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import httpx

from teamform.provider import Operation, ProviderError, Resource, State, json_body, norm_email

from . import api, read
from .read import APP_USER, APPLICATION, NAME_ATTRS, TEAM_USER, app_of, email_of
from .settings import app_key

if TYPE_CHECKING:  # pragma: no cover
    from . import DebriefProvider

log = logging.getLogger("teamform.debrief")


class DebriefError(ProviderError):
    def __init__(self, message: str, *, fields: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.fields = dict(fields or {})  # {field: message} of a validation error

    @classmethod
    def from_response(cls, response: httpx.Response) -> "DebriefError":
        """``{"errorType", "response": {field: message}}``; production may drop the body."""
        status, request = response.status_code, response.request
        body = json_body(response)
        said = body.get("errorType")
        kind = said if isinstance(said, str) else api.ERROR_TYPES.get(status) or (
            "not found" if status == 404 else "error")
        fields = body.get("response") if isinstance(body.get("response"), dict) else {}
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
        return cls.from_http(response, f"Debrief refused {request.method} {request.url.path} (HTTP {status} {kind})"
                             + (f": {detail}" if detail else ""), code=kind, fields=fields)


def _taken(exc: BaseException, field: str) -> bool:
    """A validation refusal naming ``field``: perhaps "already exists" (confirmed by reading)."""
    return isinstance(exc, DebriefError) and exc.status == 400 and field in exc.fields


@dataclass
class Ids:
    """Service ids by (kind, key), filled by a fetch and by creates, looked up again on a miss."""

    team: str | int | None = None
    by_key: dict[tuple[str, str], Any] = field(default_factory=dict)

    def reset(self, team: str | int | None) -> None:
        self.team, self.by_key = team, {}


def _changed(before: dict[str, Any], after: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: after[k] for k in keys if after.get(k) != before.get(k)}


async def apply(p: "DebriefProvider", op: Operation) -> None:
    handler = HANDLERS.get((op.action, op.kind))
    if handler is None:
        raise ProviderError(f"Debrief cannot {op.action} a {op.kind}")
    await handler(p, op)


# ---- ids ------------------------------------------------------------------------------
async def _team(p: "DebriefProvider") -> str | int:
    if p.ids.team is None:
        me = await p.find(api.ME)
        p.ids.team = await read.team_id(p, me if isinstance(me, dict) else {}, {"warnings": []})
    if p.ids.team is None:
        raise DebriefError(f"Debrief shows no team id ({api.ME} has no team_id and {api.TEAMS} none): "
                           f"teamform cannot add or remove team users")
    return p.ids.team


async def _listed(p: "DebriefProvider", kind: str) -> dict[str, dict[str, Any]]:
    """The team users by lower-cased email, or the applications by folded name, as listed now."""
    if kind == TEAM_USER:
        users = await read.read_list(p, api.USERS, "team users")
        return {norm_email(read.email(u, f"team users[{i}]")): u for i, u in enumerate(users)}
    apps = await read.read_list(p, api.APPS, "applications")
    return {app_key(read.text(a, "name", f"applications[{i}]")): a for i, a in enumerate(apps)}


async def _id(p: "DebriefProvider", kind: str, key: str) -> Any:
    ids = p.ids.by_key
    if (kind, key) not in ids:
        for k, item in (await _listed(p, kind)).items():
            ids[(kind, k)] = read.ident(item, f"{kind} {k}")
    if (kind, key) not in ids:
        raise DebriefError(f"Debrief has no {kind} '{key}' (was it removed meanwhile?)", status=404)
    return ids[(kind, key)]


async def _create(p: "DebriefProvider", path: str, body: dict[str, Any], what: str) -> Any:
    """POST a create and return the new id. A 2xx without one (not JSON, not an object, no id)
    leaves the outcome unknown: a retryable error, so the applier reads back before anything is
    sent again."""
    response = await p.request("POST", path, json=body)
    try:
        created = response.json()
    except ValueError:
        created = None
    found = created.get("id") if isinstance(created, dict) else None
    if isinstance(found, bool) or not isinstance(found, (str, int)) or found == "":
        got = "something that is not JSON" if created is None and response.content else type(created).__name__
        raise DebriefError(f"Debrief answered POST {path} (HTTP {response.status_code}) with {got} and no id; "
                           f"whether {what} was made is unknown until it is read back",
                           status=response.status_code, retryable=True)
    return found


# ---- team users -----------------------------------------------------------------------
async def _create_team_user(p: "DebriefProvider", op: Operation) -> None:
    """Without a password Debrief sends an invitation; the person is pending until accepted. If
    the email is taken and the person is on the team (an earlier attempt whose answer was lost),
    they are brought to the planned names and role instead."""
    body = {"email": op.after.person or op.key, **op.after.attrs}
    try:
        p.ids.by_key[(TEAM_USER, op.key)] = await _create(p, api.TEAM_ADD.format(team_id=await _team(p)), body,
                                                          f"team user {op.key}")
    except DebriefError as exc:
        if not _taken(exc, "email"):
            raise
        found = (await _listed(p, TEAM_USER)).get(op.key)
        if found is None:
            raise DebriefError(f"{exc}; {op.key} is not on this team: Debrief emails are unique across teams, "
                               f"so they may belong to another team", status=400) from exc
        uid = p.ids.by_key[(TEAM_USER, op.key)] = read.ident(found, f"team user {op.key}")
        have = {k: found.get(k) or "" for k in (*NAME_ATTRS, "role")}
        change = _changed(have, op.after.attrs, (*NAME_ATTRS, "role"))
        if change:
            await p.request("PATCH", api.USER.format(user_id=uid), json=change)


async def _update_team_user(p: "DebriefProvider", op: Operation) -> None:
    await p.request("PATCH", api.USER.format(user_id=op.before.id),
                    json=_changed(op.before.attrs, op.after.attrs, (*NAME_ATTRS, "role")))


async def _delete_team_user(p: "DebriefProvider", op: Operation) -> None:
    """A pending invitation is cancelled by its token; without one (the list shows none), or if
    the cancel path answers 404 (no such path, or the invitation is gone), the user is removed
    from the team, where a 404 means already gone."""
    if op.before.pending:
        token = await _invite_token(p, op.before.id)
        if token is not None:
            try:
                await p.request("POST", api.INVITE_CANCEL.format(token=token))
                return
            except DebriefError as exc:
                if exc.status != 404:
                    raise
                log.warning("Debrief answered 404 to cancelling the invitation of %s: removing them from the "
                            "team instead", op.key)
    await p.request("DELETE", api.TEAM_USER.format(team_id=await _team(p), user_id=op.before.id))


async def _invite_token(p: "DebriefProvider", user_id: Any) -> str | None:
    """Read at apply time, never kept in the plan: the token would let anyone accept. The
    document does not show it in the user list (see README.md)."""
    for item in await read.read_list(p, api.USERS, "team users"):
        if item.get("id") == user_id:
            token = item.get("invite_token")
            return token if item.get("status") == api.INVITED and isinstance(token, str) and token else None
    return None


# ---- applications ---------------------------------------------------------------------
async def _create_application(p: "DebriefProvider", op: Operation) -> None:
    """The document requires name, description and icon; teamform does not manage icons (no
    answer shows one) and sends ``api.DEFAULT_ICON``. A name already taken by the same
    application (an earlier attempt whose answer was lost) is that application: it is given the
    planned name and description instead."""
    attrs = op.after.attrs
    body = {"name": attrs["name"], "description": attrs["description"], "icon": api.DEFAULT_ICON}
    try:
        p.ids.by_key[(APPLICATION, op.key)] = await _create(p, api.APPS, body, f"application {attrs['name']}")
    except DebriefError as exc:
        if not _taken(exc, "name"):
            raise
        found = (await _listed(p, APPLICATION)).get(op.key)
        if found is None:
            raise
        app_id = p.ids.by_key[(APPLICATION, op.key)] = read.ident(found, f"application {attrs['name']}")
        change = _changed({"name": found.get("name"), "description": found.get("description") or ""}, attrs,
                          ("name", "description"))
        if change:
            await p.request("PATCH", api.APP.format(app_id=app_id), json=change)


async def _update_application(p: "DebriefProvider", op: Operation) -> None:
    # the document shows this answer as a one-element array: it is not read
    await p.request("PATCH", api.APP.format(app_id=op.before.id),
                    json=_changed(op.before.attrs, op.after.attrs, ("name", "description")))


async def _delete_application(p: "DebriefProvider", op: Operation) -> None:
    await p.request("DELETE", api.APP.format(app_id=op.before.id))


# ---- application users ----------------------------------------------------------------
async def _app_id(p: "DebriefProvider", res: Resource) -> Any:
    return res.meta.get("app_id") or await _id(p, APPLICATION, app_of(res))


async def _app_user_path(p: "DebriefProvider", res: Resource) -> str:
    user_id = res.id or await _id(p, TEAM_USER, email_of(res))
    return api.APP_USER.format(app_id=await _app_id(p, res), user_id=user_id)


async def _create_application_user(p: "DebriefProvider", op: Operation) -> None:
    """Already on the application (an earlier attempt whose answer was lost): the role is set."""
    path, role = await _app_user_path(p, op.after), {"role": op.after.attrs["role"]}
    try:
        await p.request("POST", path, json=role)
    except DebriefError as exc:
        if not _taken(exc, "user_id"):
            raise
        try:
            await p.request("PATCH", path, json=role)
        except DebriefError:
            raise exc from None  # not on it after all: the refusal was about something else


async def _update_application_user(p: "DebriefProvider", op: Operation) -> None:
    await p.request("PATCH", await _app_user_path(p, op.before), json={"role": op.after.attrs["role"]})


async def _delete_application_user(p: "DebriefProvider", op: Operation) -> None:
    await p.request("DELETE", await _app_user_path(p, op.before))


HANDLERS: dict[tuple[str, str], Callable[["DebriefProvider", Operation], Awaitable[None]]] = {
    ("create", TEAM_USER): _create_team_user,
    ("update", TEAM_USER): _update_team_user,
    ("delete", TEAM_USER): _delete_team_user,
    ("create", APPLICATION): _create_application,
    ("update", APPLICATION): _update_application,
    ("delete", APPLICATION): _delete_application,
    ("create", APP_USER): _create_application_user,
    ("update", APP_USER): _update_application_user,
    ("delete", APP_USER): _delete_application_user,
}


# ---- read-back ------------------------------------------------------------------------
async def verify(p: "DebriefProvider", op: Operation) -> bool:
    """After a write whose outcome is unknown: does Debrief hold its outcome now? One list is
    read (the team users, the applications, or one application's users), not the whole team."""
    res, live = op.resource, State()
    if op.kind == TEAM_USER:
        for i, u in enumerate(await read.read_list(p, api.USERS, "team users")):
            read.add_user(p, live, u, f"team users[{i}]")
    elif op.kind == APPLICATION:
        for key, a in (await _listed(p, APPLICATION)).items():
            p.ids.by_key[(APPLICATION, key)] = read.ident(a, f"application {a['name']}")
            live.add(Resource(APPLICATION, key, {"name": a["name"], "description": read.text(
                a, "description", f"application {a['name']}", required=False) or ""}))
    else:
        try:
            app_id = await _app_id(p, res)
        except DebriefError as exc:
            if exc.status != 404:
                raise
            return op.action == "delete"  # the application is gone, and its users with it
        app = {"id": app_id, "name": app_of(res)}
        try:
            rows = await read.read_list(p, api.APP_USERS.format(app_id=app_id),
                                        f"the users of application {app_of(res)}")
        except ProviderError as exc:  # an IncompleteRead keeps the status of the page that failed
            if exc.status != 404:
                raise
            return op.action == "delete"  # the application was deleted (by us, or meanwhile): gone with it
        for i, row in enumerate(rows):
            live.add(read.app_user(app, row, f"the users of application {app_of(res)}[{i}]"))
    return op.holds_in(live)
