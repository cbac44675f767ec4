"""An emulator of the WorkDrive API (users, departments, locations, security groups).

Rules it enforces: the ``X-API-KEY`` header; ``cur_page``/``per_page`` paging with ``meta``
(at most ``api.MAX_PER_PAGE`` a page); at most ``api.MAX_BATCH`` items a bulk or member-list
call; unique emails (case-insensitive) and names; ``reportsTo``, department, location and user
ids must exist; security groups cannot be created; every department always has at least one
head (creating one without a head, removing, demoting, moving or deleting its last head are
refused); a department or location with members cannot be deleted (a department's heads leave
with it). Writes are atomic: a refused call changes nothing (what a write changes in place is
kept first, ``keep``, and put back on a refusal: no copy of the whole organization per write).
Users are found by email, department, location and supervisor through the emulator's lookups,
which ``add_user``, ``drop_users`` and ``set_field`` keep right as they change what those map.

The handlers live in ``users.py`` and ``org.py`` (functions of the emulator and the request),
the sandbox's first state in ``seed.py``; this module has the envelope, auth, paging and the
helpers the handlers share.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teamform.emulator import Emulator, JSONResponse, RateLimit, Ranked

from .. import api
from . import org, users
from .records import Refusal, Viewed, new_user, uid
from .seed import sandbox_org

__all__ = ["WorkDriveEmulator", "Refusal", "Viewed", "new_user", "uid"]



class WorkDriveEmulator(Emulator):
    sandbox_credentials = {"api_key": "sandbox-workdrive-key"}
    #: list answers drop their last item this many times (a cut-short read, for tests)
    short_pages = 0
    #: serve ``GET /security_groups/{id}/members`` (INVENTED: the document has no member list;
    #: False answers 404 there, as a service that follows the document would)
    group_member_list = True

    def seed(self) -> dict[str, Any]:
        """The sandbox's first state: drift from teams.example.yaml (see ``seed.py``)."""
        return sandbox_org(self.sandbox_credentials["api_key"])

    def default_rate_limit(self) -> RateLimit:
        return RateLimit(requests=600, window=60.0)  # CHOICE: the doc gives no limit

    # ---- envelope -----------------------------------------------------------------------
    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        code = {401: "UNAUTHORIZED", 429: "TOO_MANY_REQUESTS"}.get(status, "INTERNAL_ERROR")
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"statusCode": status, "error": code, "code": code, "message": message},
                            status_code=status, headers=headers)

    @staticmethod
    def refuse(exc: Refusal) -> Response:
        body = {"statusCode": exc.status, "error": exc.code, "code": exc.code, "message": exc.message}
        body.update(exc.details)
        return JSONResponse(body, status_code=exc.status)

    def routes(self) -> list[Route]:
        def endpoint(handler, status: int = 200):
            async def run(request: Request) -> Response:
                try:
                    if request.headers.get(api.API_KEY_HEADER) != self.state["api_key"]:
                        raise Refusal("UNAUTHORIZED")
                    if request.method == "GET":
                        data = await handler(self, request)
                    else:
                        with self.atomic():
                            data = await handler(self, request)
                except Refusal as exc:
                    return self.refuse(exc)
                return JSONResponse(data, status_code=status) if data is not None else Response(status_code=204)
            return run

        async def unknown(request: Request) -> Response:
            # INVENTED: a route the API does not have answers 404 in the NestJS shape of its bodies
            message = f"Cannot {request.method} {request.url.path}"
            return JSONResponse({"statusCode": 404, "error": "Not Found", "code": "NOT_FOUND", "message": message},
                                status_code=404)

        def undocumented(run):
            async def maybe(request: Request) -> Response:
                return await (run if self.group_member_list else unknown)(request)
            return maybe

        routes = []
        for method, path, handler, status in [*users.ROUTES, *org.ROUTES]:
            run = endpoint(handler, status)
            routes.append(Route("/api" + path, undocumented(run) if (method, path) == ("GET", api.GROUP_MEMBERS)
                                else run, methods=[method]))
        return [*routes, Route("/{path:path}", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]

    #: the tables a write may change (their records are kept one by one, ``keep``; users, the
    #: large one, through ``add_user`` and ``drop_users``)
    TABLES = ("departments", "locations", "groups")
    #: the users' fields they are looked up by (``by_field``)
    INDEXED = ("department", "location", "reportsTo")

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """A write: on a refusal, every table holds again what it held (which records, in which
        order) and every record kept with ``keep`` its old fields."""
        tables = {k: self.state[k].copy() for k in self.TABLES if k in self.state}
        counter = self.state.get("next_id")
        self._kept: dict[int, tuple[dict[str, Any], dict[str, Any]]] | None = {}
        self._added: list[str] = []  # users created by this write
        self._users_before: dict[str, dict[str, Any]] | None = None  # copied before its first delete
        try:
            yield
        except Refusal:
            for record, fields in self._kept.values():
                record.clear()
                record.update(fields)
            self.state.update(tables)
            if self._users_before is not None:
                self.state["users"] = self._users_before
            for user_id in self._added:
                self.state["users"].pop(user_id, None)
            if counter is None:
                self.state.pop("next_id", None)
            else:
                self.state["next_id"] = counter
            self.forget()
            raise
        finally:
            self._kept = None

    def keep(self, record: dict[str, Any]) -> None:
        """Within a write, before ``record`` (a user, department, location or group) is changed in
        place: its fields, to put back if the write is refused."""
        kept = getattr(self, "_kept", None)
        if kept is not None and id(record) not in kept:
            kept[id(record)] = (record, {k: list(v) if isinstance(v, list) else v for k, v in record.items()})

    # ---- the users and the lookups over them ------------------------------------------------
    def ranks(self) -> Ranked:
        """The users' order (the order they were created in)."""
        return self.lookup("ranks", lambda state: Ranked(state["users"].values()))

    def by_field(self, field: str) -> dict[Any, list[dict[str, Any]]]:
        """Users by their ``department``, ``location`` or ``reportsTo`` (in the users' order; do not
        change the lists: ``set_field``)."""
        def build(state: dict[str, Any]) -> dict[Any, list[dict[str, Any]]]:
            out: dict[Any, list[dict[str, Any]]] = {}
            for u in state["users"].values():
                out.setdefault(u.get(field), []).append(u)
            return out
        return self.lookup(f"by_{field}", build)

    def user_list(self) -> list[dict[str, Any]]:
        """Every user, in order (kept between requests: a page of 100 out of 100,000 does not copy
        the 100,000; do not change it)."""
        return self.lookup("user_list", lambda state: list(state["users"].values()))

    def set_field(self, user: dict[str, Any], field: str, value: Any) -> None:
        """Set a user's ``department``, ``location`` or ``reportsTo``, and move the user in the
        lookup by it to its place among the users of the new value."""
        self.keep(user)
        old = user.get(field)
        index = self.built(f"by_{field}")
        if index is not None and old != value:
            ranks = self.ranks()
            ranks.remove(index[old], user)
            if not index[old]:
                del index[old]
            ranks.insert(index.setdefault(value, []), user)
        user[field] = value
        if field == "reportsTo":
            self.forget("supervisors")

    def add_user(self, user: dict[str, Any]) -> None:
        """A new user, last in the users' order."""
        self.users[user["id"]] = user
        if getattr(self, "_kept", None) is not None:
            self._added.append(user["id"])
        if self.built("ranks") is not None:
            self.ranks().add(user)
        if (listed := self.built("user_list")) is not None:
            listed.append(user)
        if (emails := self.built("emails")) is not None:
            emails.setdefault(user["email"].lower(), user)
        for field in self.INDEXED:
            if (index := self.built(f"by_{field}")) is not None:
                index.setdefault(user.get(field), []).append(user)
        self.forget("supervisors")

    def drop_users(self, users: list[dict[str, Any]]) -> None:
        """Delete these users (their places and references to them are the caller's to clear)."""
        if getattr(self, "_kept", None) is not None and self._users_before is None:
            self._users_before = self.users.copy()
        emails = self.built("emails")
        for user in users:
            for field in self.INDEXED:
                if (index := self.built(f"by_{field}")) is not None:
                    self.ranks().remove(index[user.get(field)], user)
                    if not index[user.get(field)]:
                        del index[user.get(field)]
            if self.built("user_list") is not None:
                self.ranks().remove(self.user_list(), user)
            if emails is not None and emails.get(user["email"].lower()) is user:
                del emails[user["email"].lower()]
            del self.users[user["id"]]
            if self.built("ranks") is not None:
                self.ranks().discard(user)
        self.forget("supervisors")

    # ---- shared helpers -----------------------------------------------------------------
    @property
    def users(self) -> dict[str, dict[str, Any]]:
        return self.state["users"]

    @property
    def departments(self) -> dict[str, dict[str, Any]]:
        return self.state["departments"]

    def new_id(self) -> str:
        return uid(self.next_id())

    def page(self, request: Request, items: Sequence[Any], key: str) -> dict[str, Any]:
        """One page of ``items`` (a list, or ``Viewed``: only the page's items are made) as the
        document's lists answer it."""
        q = request.query_params
        try:
            cur, per = int(q.get("cur_page", 1)), int(q.get("per_page", 10))
        except ValueError:
            raise Refusal("VALIDATION_ERROR", "cur_page and per_page must be integers") from None
        if cur < 1 or not 1 <= per <= api.MAX_PER_PAGE:
            raise Refusal("VALIDATION_ERROR", f"cur_page >= 1 and 1 <= per_page <= {api.MAX_PER_PAGE}")
        total = len(items)
        pages = (total + per - 1) // per
        chunk = items[(cur - 1) * per: cur * per]
        if self.short_pages and chunk:
            self.short_pages -= 1
            chunk = chunk[:-1]
        # INVENTED: nextPage is 0 on the last page (the document's examples show integers only)
        return {key: chunk, "meta": {"perPage": per, "totalPages": pages, "totalResults": total,
                                     "curPage": cur, "nextPage": cur + 1 if cur < pages else 0}}

    async def body(self, request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise Refusal("VALIDATION_ERROR", "the body must be JSON") from None
        if not isinstance(data, dict):
            raise Refusal("VALIDATION_ERROR", "the body must be a JSON object")
        return data

    def ids_list(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            raise Refusal("VALIDATION_ERROR", f"{field} must be a list of ids")
        if len(value) > api.MAX_BATCH:
            raise Refusal("BATCH_TOO_LARGE")
        return value

    def user(self, user_id: Any, code: str = "USER_NOT_FOUND") -> dict[str, Any]:
        found = self.users.get(user_id) if isinstance(user_id, str) else None
        if found is None:
            raise Refusal(code, ids=[user_id])
        return found

    def known_users(self, ids: list[str]) -> list[dict[str, Any]]:
        missing = [i for i in ids if i not in self.users]
        if missing:
            raise Refusal("USER_NOT_FOUND", ids=missing)
        return [self.users[i] for i in ids]

    def by_email(self, email: str) -> dict[str, Any] | None:
        def build(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for u in state["users"].values():
                out.setdefault(u["email"].lower(), u)
            return out
        return self.lookup("emails", build).get(email.strip().lower())

    def mini(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user inside another answer (heads, members, reportsToObj), as the document shows one:
        designation and department are objects there (INVENTED: what is inside them)."""
        dept = self.departments.get(user["department"] or "")
        return {"id": user["id"], "firstName": user["firstName"], "lastName": user["lastName"], "picture": {},
                "cover": {}, "color": "#4a90d9", "online": False, "availability": user.get("availability", 1),
                "designation": {"name": user["designation"]} if user["designation"] else {},
                "department": {"id": dept["id"], "name": dept["name"]} if dept else {},
                "availabilityStatusText": "", "phone": user.get("phone") or "", "email": user["email"],
                "status": user["status"]}

    def heads_ok(self, dept_ids: set[str | None]) -> None:
        """Refuse (and so roll back) if any of these departments is left without a head."""
        for dept_id in dept_ids:
            dept = self.departments.get(dept_id) if dept_id else None
            if dept is None:
                continue
            heads = [h for h in dept["heads"] if self.users.get(h, {}).get("department") == dept_id]
            if heads != dept["heads"]:
                self.keep(dept)
                dept["heads"] = heads
            if not dept["heads"]:
                raise Refusal("DEPARTMENT_HEAD_REQUIRED",
                              f"department '{dept['name']}' would be left without a head")

    def place(self, user: dict[str, Any], dept_id: str | None, head: bool = False) -> set[str | None]:
        """Move a user into a department (or out of all); returns the departments touched."""
        old = user["department"]
        self.set_field(user, "department", dept_id)
        if old and old != dept_id and old in self.departments:
            self.keep(self.departments[old])
            self.departments[old]["heads"] = [h for h in self.departments[old]["heads"] if h != user["id"]]
        if dept_id and head and user["id"] not in self.departments[dept_id]["heads"]:
            self.keep(self.departments[dept_id])
            self.departments[dept_id]["heads"].append(user["id"])
        return {old, dept_id}
