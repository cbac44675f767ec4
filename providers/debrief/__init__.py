"""teamform provider for the Debrief Management API: team users (owner/admin/developer, pending
invitations included), applications, and who has which role on each application."""

from __future__ import annotations

import asyncio
from typing import Any, Iterable, Sequence

import httpx

from teamform.members import expand
from teamform.model import Guard, KindSpec, Ref, Resource, State, norm_email
from teamform.plan.ops import Operation
from teamform.provider import IncompleteRead, Finding, Provider, ProviderError

from . import api
from .auth import DebriefAuth
from .emulator import DebriefEmulator
from .execute import APP_USER, APPLICATION, NAME_ATTRS, TEAM_USER, DebriefError as DebriefError, Writer, _email_of
from .settings import DebriefSettings, app_key



class DebriefProvider(Writer, Provider):
    name = "debrief"
    summary = "Debrief Management API: team users (owner/admin/developer), applications, application users"
    Settings = DebriefSettings
    credential_names = ("username", "password", "client_id", "client_secret")
    secret_path = api.SECRET_PATH
    public_credentials = ("username", "client_id")  # identifiers (RFC 6749 2.2: a client id is no secret)
    emulator_class = DebriefEmulator
    kinds = (
        KindSpec(TEAM_USER, "a person on the team, pending invitations included", role_attr="role",
                 role_rank=api.ROLES,
                 guards=(Guard("role", frozenset({"owner"}), "a Debrief team needs at least one owner"),)),
        KindSpec(APPLICATION, "an application; deleting it revokes its credentials for good", destructive=True),
        KindSpec(APP_USER, "a team user's role on an application (team admins/owners see every application)",
                 role_attr="role", role_rank=api.APP_ROLES, counts_as_member=False),
    )

    def __init__(self, ctx, client=None) -> None:
        super().__init__(ctx, client)
        self._team_id: str | None = None
        self._ids: dict[tuple[str, str], str] = {}  # (kind, key) -> service id
        self._skipped: list[tuple[str, str]] = []   # (email, application) not planned: admins/owners

    def auth(self) -> httpx.Auth:
        return DebriefAuth(self.ctx.credentials, base_path=httpx.URL(self.base_url()).path)

    # ---- reading ------------------------------------------------------------------------
    async def _read(self, path: str, shape: type) -> Any:
        try:
            data = await self.call("GET", path)
        except (ProviderError, httpx.HTTPError) as exc:
            raise IncompleteRead(f"reading {path} failed: {exc}") from exc
        if not isinstance(data, shape):
            raise IncompleteRead(f"{path} answered with {type(data).__name__}, not a {shape.__name__}")
        return data

    async def fetch(self) -> State:
        me = await self._read(api.ME, dict)
        if me.get("role") not in api.SEES_EVERY_APP:
            raise IncompleteRead(
                f"teamform logs in to Debrief as {me.get('email')}, a {me.get('role')}: only team admins and "
                f"owners see every application, so the read would be partial; log in as an admin or owner")
        users = await self._read(api.USERS, list)
        apps = await self._read(api.APPS, list)
        members = await asyncio.gather(*(self._read(api.APP_USERS.format(app_id=a["id"]), list) for a in apps))
        self._team_id, self._ids = me.get("team_id"), {}
        state = State()
        state.facts.update(identity=me.get("email"), team_id=me.get("team_id"))
        for u in users:
            self._add_user(state, u)
        for a, rows in zip(apps, members):
            self._add_app(state, a, rows)
        return state

    def _add_user(self, state: State, u: dict[str, Any]) -> None:
        key = norm_email(u["email"])
        self._ids[(TEAM_USER, key)] = u["id"]
        state.add(Resource(TEAM_USER, key, attrs={"first_name": u.get("first_name") or "",
                                                  "last_name": u.get("last_name") or "", "role": u.get("role")},
                           person=u["email"], display=u["email"], id=u["id"],
                           pending=u.get("status") == api.INVITED))

    def _add_app(self, state: State, a: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        key = app_key(a["name"])
        self._ids[(APPLICATION, key)] = a["id"]
        state.add(Resource(APPLICATION, key, attrs={"name": a["name"], "description": a.get("description") or ""},
                           display=a["name"], id=a["id"]))
        for row in rows:
            email = norm_email(row["email"])
            state.add(Resource(APP_USER, f"{key}/{email}", attrs={"role": row.get("role")},
                               refs=(Ref(TEAM_USER, email), Ref(APPLICATION, key)), person=row["email"],
                               display=f"{a['name']}/{row['email']}", id=row["id"], meta={"app_id": a["id"]}))

    # ---- the file -----------------------------------------------------------------------
    def desired(self, live: State) -> State:
        state = State()
        self._skipped = []
        self._desired_users(state, live)
        if self.settings.applications is None:
            self._keep_applications(state, live)
        else:
            for app in self.settings.applications:
                self._desired_app(state, live, app)
        return state

    def _desired_users(self, state: State, live: State) -> None:
        directory = self.ctx.directory
        wanted = expand(self.settings.members, directory, attrs=lambda m: {"role": m.role},
                        where=f"services.{self.ctx.instance}.members")
        for email, attrs in wanted.items():
            have = live.get(Ref(TEAM_USER, email))
            names = dict(zip(NAME_ATTRS, directory.person(email).names()))
            if not any(names.values()) and have is not None:
                names = {k: have.attrs[k] for k in NAME_ATTRS}  # no name in people: keep the live one
            spelled = directory.spelling.get(email, email)
            state.add(Resource(TEAM_USER, email, attrs={**names, **attrs}, person=spelled,
                               display=have.display if have else spelled))

    def _sees_every_app(self, email: str, state: State, live: State) -> bool:
        """Team admins and owners, after the lockout guard and policy.protect keep live roles."""
        wanted, have = state.get(Ref(TEAM_USER, email)), live.get(Ref(TEAM_USER, email))
        if wanted is not None and wanted.attrs["role"] in api.SEES_EVERY_APP:
            return True
        protected = {norm_email(live.facts.get("identity") or "")}
        for who in self.ctx.policy.protect:
            protected.update(self.ctx.directory.expand(who))
        return email in protected and have is not None and have.attrs["role"] in api.SEES_EVERY_APP

    def _desired_app(self, state: State, live: State, app) -> None:
        key = app_key(app.name)
        have = live.get(Ref(APPLICATION, key))
        description = app.description if app.description is not None else (
            have.attrs["description"] if have else "")
        state.add(Resource(APPLICATION, key, attrs={"name": app.name, "description": description},
                           display=app.name))
        wanted = expand(app.users, self.ctx.directory, attrs=lambda m: {"role": m.role},
                        where=f"services.{self.ctx.instance}.applications[{app.name}].users")
        for email, attrs in wanted.items():
            if self._sees_every_app(email, state, live):
                self._skipped.append((email, app.name))
                continue
            spelled = self.ctx.directory.spelling.get(email, email)
            state.add(Resource(APP_USER, f"{key}/{email}", attrs=attrs,
                               refs=(Ref(TEAM_USER, email), Ref(APPLICATION, key)), person=spelled,
                               display=f"{app.name}/{spelled}"))

    def _keep_applications(self, state: State, live: State) -> None:
        """No ``applications:`` key: applications stay as they are; people who leave the team
        leave its applications too."""
        for res in live.of_kind(APPLICATION):
            state.add(Resource(res.kind, res.key, dict(res.attrs), display=res.display))
        for res in live.of_kind(APP_USER):
            if Ref(TEAM_USER, _email_of(res)) in state:
                state.add(Resource(res.kind, res.key, dict(res.attrs), res.refs, res.person, res.display))

    def check(self, desired: State, live: State) -> list[Finding]:
        where = f"services.{self.ctx.instance}.applications"
        issues = []
        for res in desired.of_kind(APP_USER):
            if Ref(TEAM_USER, _email_of(res)) not in desired:
                issues.append(Finding("error", f"{where}: {res.person} is on application "
                                    f"'{res.display.rsplit('/', 1)[0]}' but not in services.{self.ctx.instance}"
                                    f".members; Debrief adds only team users to applications: add them to members",
                                    res.person))
        by_person: dict[str, list[str]] = {}
        for email, app in self._skipped:
            by_person.setdefault(email, []).append(app)
        for email, apps in by_person.items():
            issues.append(Finding("warning", (
                f"{where}: {email} is a team admin or owner; Debrief gives them every application and does "
                f"not list them as application users, so their entries ({', '.join(apps)}) are not planned. "
                f"Remove the entries, or make them a developer on the team"), email))
        if self.settings.applications is None and live.of_kind(APPLICATION):
            issues.append(Finding("note", f"{where} is not in the file: the team's applications and their "
                                "users are left as they are"))
        return issues

    def edges(self, ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
        """A role change on the team comes before application changes for that person: a new
        developer is added to applications after the demotion, and leaves them before a promotion."""
        role_changes = {op.key: op for op in ops if op.kind == TEAM_USER and op.action == "update"
                        and op.before.attrs.get("role") != op.after.attrs.get("role")}
        for op in ops:
            change = role_changes.get(_email_of(op.resource)) if op.kind == APP_USER else None
            if change is not None and op.action == "create":
                yield change.id, op.id
            elif change is not None and op.action == "delete":
                yield op.id, change.id
