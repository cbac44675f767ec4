"""Writing to Debrief: one operation at a time, ids resolved at apply time (a user or an
application created earlier in the same apply has no id in the plan). A delete answered 404 is
already done: the base's ``gone_statuses`` says so, the applier counts it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import httpx

from teamform.provider import Operation, ProviderError, Resource, json_body, norm_email

from . import api
from .read import APP_USER, APPLICATION, NAME_ATTRS, TEAM_USER, app_of, email_of
from .settings import app_key

if TYPE_CHECKING:  # pragma: no cover
    from . import DebriefProvider


class DebriefError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "DebriefError":
        """``{"errorType", "response": {field: message}}``; production may drop the body."""
        status, request = response.status_code, response.request
        body = json_body(response)
        kind = body.get("errorType") or api.ERROR_TYPES.get(status) or ("not found" if status == 404 else "error")
        fields = body.get("response") if isinstance(body.get("response"), dict) else {}
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
        return cls.from_http(response, f"Debrief refused {request.method} {request.url.path} (HTTP {status} {kind})"
                             + (f": {detail}" if detail else ""), code=kind)


@dataclass
class Ids:
    """Service ids by (kind, key), filled by a fetch and by creates, looked up again on a miss."""

    team: str | None = None
    by_key: dict[tuple[str, str], str] = field(default_factory=dict)

    def reset(self, team: str | None) -> None:
        self.team, self.by_key = team, {}


def _changed(op: Operation, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: op.after.attrs[k] for k in keys if op.after.attrs.get(k) != op.before.attrs.get(k)}


async def apply(p: "DebriefProvider", op: Operation) -> None:
    handler = HANDLERS.get((op.action, op.kind))
    if handler is None:
        raise ProviderError(f"Debrief cannot {op.action} a {op.kind}")
    await handler(p, op)


# ---- ids ------------------------------------------------------------------------------
async def _team(p: "DebriefProvider") -> str:
    if p.ids.team is None:
        p.ids.team = (await p.call("GET", api.ME))["team_id"]
    return p.ids.team


async def _id(p: "DebriefProvider", kind: str, key: str) -> str:
    ids = p.ids.by_key
    if (kind, key) not in ids:
        path, key_of = (api.USERS, lambda x: norm_email(x["email"])) if kind == TEAM_USER else \
            (api.APPS, lambda x: app_key(x["name"]))
        for item in await p.call("GET", path) or []:
            ids[(kind, key_of(item))] = item["id"]
    if (kind, key) not in ids:
        raise ProviderError(f"Debrief has no {kind} '{key}' (was it removed meanwhile?)")
    return ids[(kind, key)]


# ---- team users -----------------------------------------------------------------------
async def _create_team_user(p: "DebriefProvider", op: Operation) -> None:
    """Without a password Debrief sends an invitation; the person is pending until accepted."""
    body = {"email": op.after.person or op.key, **op.after.attrs}
    created = await p.call("POST", api.TEAM_ADD.format(team_id=await _team(p)), json=body)
    p.ids.by_key[(TEAM_USER, op.key)] = created["id"]


async def _update_team_user(p: "DebriefProvider", op: Operation) -> None:
    await p.call("PATCH", api.USER.format(user_id=op.before.id), json=_changed(op, (*NAME_ATTRS, "role")))


async def _delete_team_user(p: "DebriefProvider", op: Operation) -> None:
    if op.before.pending:
        token = await _invite_token(p, op.before.id)
        if token is not None:
            await p.call("POST", api.INVITE_CANCEL.format(token=token))
            return
    await p.call("DELETE", api.TEAM_USER.format(team_id=await _team(p), user_id=op.before.id))


async def _invite_token(p: "DebriefProvider", user_id: str) -> str | None:
    """Read at apply time, never kept in the plan: the token would let anyone accept."""
    for item in await p.call("GET", api.USERS) or []:
        if item.get("id") == user_id:
            return item.get("invite_token") if item.get("status") == api.INVITED else None
    return None


# ---- applications ---------------------------------------------------------------------
async def _create_application(p: "DebriefProvider", op: Operation) -> None:
    """The document requires name, description and icon; teamform does not manage icons (no
    answer shows one) and sends ``api.DEFAULT_ICON``."""
    body = {"name": op.after.attrs["name"], "description": op.after.attrs["description"], "icon": api.DEFAULT_ICON}
    created = await p.call("POST", api.APPS, json=body)
    p.ids.by_key[(APPLICATION, op.key)] = created["id"]


async def _update_application(p: "DebriefProvider", op: Operation) -> None:
    # the doc shows this answer as a one-element array: it is not read
    await p.call("PATCH", api.APP.format(app_id=op.before.id), json=_changed(op, ("name", "description")))


async def _delete_application(p: "DebriefProvider", op: Operation) -> None:
    await p.call("DELETE", api.APP.format(app_id=op.before.id))


# ---- application users ----------------------------------------------------------------
async def _app_user_path(p: "DebriefProvider", res: Resource) -> str:
    app_id = res.meta.get("app_id") or await _id(p, APPLICATION, app_of(res))
    user_id = res.id or await _id(p, TEAM_USER, email_of(res))
    return api.APP_USER.format(app_id=app_id, user_id=user_id)


async def _create_application_user(p: "DebriefProvider", op: Operation) -> None:
    await p.call("POST", await _app_user_path(p, op.after), json={"role": op.after.attrs["role"]})


async def _update_application_user(p: "DebriefProvider", op: Operation) -> None:
    await p.call("PATCH", await _app_user_path(p, op.before), json={"role": op.after.attrs["role"]})


async def _delete_application_user(p: "DebriefProvider", op: Operation) -> None:
    await p.call("DELETE", await _app_user_path(p, op.before))


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
