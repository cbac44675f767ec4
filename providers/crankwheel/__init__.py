"""teamform provider for CrankWheel: company users, their privilege and demo-pool membership."""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import Field

from teamform.config.schema import BaseURL, ProviderSettings, Strict, Who
from teamform.members import expand
from teamform.model import Guard, KindSpec, Ref, Resource, State, norm_email
from teamform.plan.ops import Operation
from teamform.provider import HeaderAuth, IncompleteRead, Finding, Provider, ProviderError

from . import api
from .emulator import CrankWheelEmulator

USER = "user"
Privilege = Literal["user", "admin", "owner", "reporting"]


class CrankWheelMember(Strict):
    who: Who
    privilege: Privilege = "user"
    in_demo_pool: bool | None = Field(
        None, description="in the pool that handles demo requests; left as it is when not given "
                          "(false for a new user)")


class CrankWheelSettings(ProviderSettings):
    base_url: BaseURL = api.DEFAULT_BASE_URL
    send_onboarding_email: bool = Field(
        True, description="email new users a link to set their password (a setting, not state: "
                          "only sent when a user is created)")
    members: list[CrankWheelMember] = Field(default_factory=list)


class CrankWheelError(ProviderError):
    @classmethod
    def from_response(cls, response: httpx.Response) -> "CrankWheelError":
        status = response.status_code
        try:
            detail = _detail(response.json())
        except ValueError:
            detail = None
        text = api.STATUS_MEANING.get(status, f"HTTP {status}")
        if detail:
            text = f"{text} ({detail})"
        return cls.from_http(response, f"CrankWheel {status}: {text}", code=detail)


def _detail(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("errors"), dict):
        return "; ".join(f"{k} {', '.join(map(str, v if isinstance(v, list) else [v]))}"
                         for k, v in body["errors"].items())
    return str(body["error"]) if body.get("error") else None


def _user_resource(item: dict[str, Any]) -> Resource:
    email = item["email"]
    return Resource(USER, norm_email(email), person=email, display=email, id=email,
                    attrs={"privilege": item.get("privilege"), "in_demo_pool": bool(item.get("in_demo_pool"))})


class CrankWheelProvider(Provider):
    name = "crankwheel"
    summary = "CrankWheel company users: privilege user/admin/owner/reporting, demo pool (form-encoded writes)"
    Settings = CrankWheelSettings
    credential_names = ("api_key",)
    emulator_class = CrankWheelEmulator
    kinds = (
        KindSpec(USER, "a person allowed into the company account, with a privilege and demo-pool flag",
                 role_attr="privilege", role_rank=api.PRIVILEGES,
                 guards=(Guard("privilege", frozenset({api.OWNER}),
                               "a CrankWheel company needs an owner (the billing contact)"),)),
    )

    def auth(self) -> httpx.Auth:
        # CrankWheel takes the raw key after "Basic", not base64(user:pass)
        return HeaderAuth("Authorization", f"{api.AUTH_SCHEME} {self.ctx.credentials['api_key']}")

    # ---- calls --------------------------------------------------------------------------
    async def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> httpx.Response:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code not in ok:
            raise CrankWheelError.from_response(response)
        return response

    async def _one(self, email: str) -> dict[str, Any] | None:
        try:
            return (await self.call("GET", api.user_path(email))).json()
        except CrankWheelError as exc:
            if exc.status == 404:
                return None
            raise

    # ---- reading ------------------------------------------------------------------------
    async def fetch(self) -> State:
        try:
            items = (await self.call("GET", api.USERS)).json()
        except (ProviderError, httpx.HTTPError, ValueError) as exc:
            raise IncompleteRead(f"reading CrankWheel users failed: {exc}") from exc
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("email") for i in items):
            raise IncompleteRead("CrankWheel's user list was not a list of users with emails")
        state = State()
        for item in items:
            res = _user_resource(item)
            if res.ref in state:
                raise IncompleteRead(f"CrankWheel listed {res.display} twice; refusing to plan from it")
            state.add(res)
        return state

    def desired(self, live: State) -> State:
        wanted = expand(self.settings.members, self.ctx.directory,
                        attrs=lambda m: {"privilege": m.privilege, "in_demo_pool": m.in_demo_pool},
                        where=f"services.{self.ctx.instance}.members")
        state = State()
        for email, attrs in wanted.items():
            have = live.get(Ref(USER, email))
            if attrs["in_demo_pool"] is None:
                attrs = {**attrs, "in_demo_pool": bool(have and have.attrs["in_demo_pool"])}
            spelled = self.ctx.directory.spelling.get(email, email)
            state.add(Resource(USER, email, attrs=attrs, person=spelled,
                               display=have.display if have else spelled))
        return state

    def check(self, desired: State, live: State) -> list[Finding]:
        new = [r for r in desired.of_kind(USER) if r.ref not in live]
        if new and not self.settings.send_onboarding_email:
            return [Finding("note", f"{len(new)} new CrankWheel user(s) get no onboarding email "
                                  "(send_onboarding_email: false): they must register themselves")]
        return []

    # ---- writing ------------------------------------------------------------------------
    async def apply(self, op: Operation) -> None:
        if op.action == "create":
            await self._create(op)
        elif op.action == "update":
            await self._update(op)
        elif op.action == "delete":
            try:
                await self.call("DELETE", api.user_path(op.before.id or op.key), ok=(200, 202, 204))
            except CrankWheelError as exc:
                if exc.status != 404:  # already gone is done
                    raise

    async def _create(self, op: Operation) -> None:
        attrs = op.after.attrs
        form = {api.field("email"): op.after.display or op.key,
                api.field("privilege"): attrs["privilege"],
                api.field("in_demo_pool"): api.form_bool(attrs["in_demo_pool"]),
                api.field("send_onboarding_email"): api.form_bool(self.settings.send_onboarding_email)}
        try:
            await self.call("POST", api.USERS, ok=(200, 201), data=form)
        except CrankWheelError as exc:
            current = await self._one(op.key) if exc.status == 422 else None
            if current is None:
                raise
            # already listed (someone else, or our lost answer): make it as desired
            await self._patch(op.key, _user_resource(current).attrs, op.after.attrs)

    async def _update(self, op: Operation) -> None:
        await self._patch(op.before.id or op.key, op.before.attrs, op.after.attrs)

    async def _patch(self, email: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        form = {}
        for name in api.UPDATE_FIELDS:
            if after.get(name) != before.get(name):
                value = after[name]
                form[api.field(name)] = api.form_bool(value) if isinstance(value, bool) else value
        if form:
            await self.call("PATCH", api.user_path(email), data=form)

    async def verify(self, op: Operation) -> bool:
        """A cheaper read-back than the whole list: the one user."""
        current = await self._one(op.key)
        if op.action == "delete":
            return current is None
        return current is not None and op.after is not None and _user_resource(current).attrs == op.after.attrs

    # ---- extras -------------------------------------------------------------------------
    async def usage(self, start: int, end: int) -> dict[str, dict[str, int]]:
        """Meetings and seconds per person between two timestamps (``GET /usage``): for people
        who want to see seat use; never part of a plan."""
        body = (await self.call("GET", api.USAGE, params={"from": start, "to": end})).json()
        per_agent = ((body or {}).get("stats") or {}).get("per_agent") or {}
        return {norm_email(k): dict(v) for k, v in per_agent.items()}

    def export(self, live: State) -> dict[str, Any]:
        members = []
        for r in sorted(live.of_kind(USER), key=lambda r: r.key):
            entry: dict[str, Any] = {"who": r.key, "privilege": r.attrs["privilege"]}
            if r.attrs["in_demo_pool"]:
                entry["in_demo_pool"] = True
            members.append(entry)
        return {"members": members}
