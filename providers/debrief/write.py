"""Writing to Debrief: one operation at a time, ids resolved at apply time (a user or an
application created earlier in the same apply has no id in the plan), deletes of things
already gone count as done, and ``export`` for ``teamform import``."""

from __future__ import annotations

from typing import Any

import httpx

from teamform.model import Resource, State
from teamform.plan.ops import Operation
from teamform.provider import ProviderError, json_body

from . import api

TEAM_USER, APPLICATION, APP_USER = "team_user", "application", "application_user"
NAME_ATTRS = ("first_name", "last_name")


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


def _email_of(res: Resource) -> str:
    return next(r.key for r in res.refs if r.kind == TEAM_USER)


def _app_of(res: Resource) -> str:
    return next(r.key for r in res.refs if r.kind == APPLICATION)


def _changed(op: Operation, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: op.after.attrs[k] for k in keys if op.after.attrs.get(k) != op.before.attrs.get(k)}


class Writer:
    client: httpx.AsyncClient
    _team_id: str | None
    _ids: dict[tuple[str, str], str]

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(method, path, json=body)
        if response.status_code >= 400:
            raise DebriefError.from_response(response)
        return response.json() if response.content else None

    async def _gone_ok(self, method: str, path: str) -> None:
        """A delete of something already gone is done."""
        try:
            await self.call(method, path)
        except DebriefError as exc:
            if exc.status != 404:
                raise

    async def apply(self, op: Operation) -> None:
        handler = getattr(self, f"_{op.action}_{op.kind}", None)
        if handler is None:
            raise ProviderError(f"Debrief cannot {op.action} a {op.kind}")
        await handler(op)

    # ---- ids ----------------------------------------------------------------------------
    async def _team(self) -> str:
        if self._team_id is None:
            self._team_id = (await self.call("GET", api.ME))["team_id"]
        return self._team_id

    async def _id(self, kind: str, key: str) -> str:
        if (kind, key) not in self._ids:
            from .settings import app_key
            from teamform.model import norm_email

            path, key_of = (api.USERS, lambda x: norm_email(x["email"])) if kind == TEAM_USER else \
                (api.APPS, lambda x: app_key(x["name"]))
            for item in await self.call("GET", path) or []:
                self._ids[(kind, key_of(item))] = item["id"]
        if (kind, key) not in self._ids:
            raise ProviderError(f"Debrief has no {kind} '{key}' (was it removed meanwhile?)")
        return self._ids[(kind, key)]

    # ---- team users ---------------------------------------------------------------------
    async def _create_team_user(self, op: Operation) -> None:
        """Without a password Debrief sends an invitation; the person is pending until accepted."""
        body = {"email": op.after.person or op.key, **op.after.attrs}
        created = await self.call("POST", api.TEAM_ADD.format(team_id=await self._team()), body)
        self._ids[(TEAM_USER, op.key)] = created["id"]

    async def _update_team_user(self, op: Operation) -> None:
        await self.call("PATCH", api.USER.format(user_id=op.before.id), _changed(op, (*NAME_ATTRS, "role")))

    async def _delete_team_user(self, op: Operation) -> None:
        if op.before.pending:
            token = await self._invite_token(op.before.id)
            if token is not None:
                await self._gone_ok("POST", api.INVITE_CANCEL.format(token=token))
                return
        path = api.TEAM_USER.format(team_id=await self._team(), user_id=op.before.id)
        await self._gone_ok("DELETE", path)

    async def _invite_token(self, user_id: str) -> str | None:
        """Read at apply time, never kept in the plan: the token would let anyone accept."""
        for item in await self.call("GET", api.USERS) or []:
            if item.get("id") == user_id:
                return item.get("invite_token") if item.get("status") == api.INVITED else None
        return None

    # ---- applications -------------------------------------------------------------------
    async def _create_application(self, op: Operation) -> None:
        created = await self.call("POST", api.APPS, dict(op.after.attrs))
        self._ids[(APPLICATION, op.key)] = created["id"]

    async def _update_application(self, op: Operation) -> None:
        # the doc shows this answer as a one-element array: it is not read
        await self.call("PATCH", api.APP.format(app_id=op.before.id), _changed(op, ("name", "description")))

    async def _delete_application(self, op: Operation) -> None:
        await self._gone_ok("DELETE", api.APP.format(app_id=op.before.id))

    # ---- application users --------------------------------------------------------------
    async def _app_user_path(self, res: Resource) -> str:
        app_id = res.meta.get("app_id") or await self._id(APPLICATION, _app_of(res))
        user_id = res.id or await self._id(TEAM_USER, _email_of(res))
        return api.APP_USER.format(app_id=app_id, user_id=user_id)

    async def _create_application_user(self, op: Operation) -> None:
        await self.call("POST", await self._app_user_path(op.after), {"role": op.after.attrs["role"]})

    async def _update_application_user(self, op: Operation) -> None:
        await self.call("PATCH", await self._app_user_path(op.before), {"role": op.after.attrs["role"]})

    async def _delete_application_user(self, op: Operation) -> None:
        await self._gone_ok("DELETE", await self._app_user_path(op.before))

    # ---- import -------------------------------------------------------------------------
    def export(self, live: State) -> dict[str, Any]:
        members = [{"who": r.key, "role": r.attrs["role"]} for r in sorted(live.of_kind(TEAM_USER), key=lambda r: r.key)]
        apps = []
        for a in sorted(live.of_kind(APPLICATION), key=lambda r: r.key):
            users = [{"who": _email_of(r), "role": r.attrs["role"]} for r in live.of_kind(APP_USER)
                     if _app_of(r) == a.key]
            apps.append({"name": a.attrs["name"], "description": a.attrs["description"],
                         "users": sorted(users, key=lambda u: u["who"])})
        return {"members": members, "applications": apps}
