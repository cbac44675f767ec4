"""The SCIM sandbox and test server: ``scim2-server``'s ASGI application, in process.

This is **not an emulator of ours**: every SCIM request is served by scim2-server, an independent
implementation of RFC 7643/7644, over its in-memory storage. This class only adapts it to what
teamform's sandbox and tests expect of an emulator (``teamform.emulator.Emulator``):

- its resources are loaded from, and saved (atomically) to, the sandbox's JSON store after
  every write, seeded with drift from ``teams.example.yaml`` on first use (``seed.py``);
- the base class's request log, injected faults and chaos wrap it (faults answer in the SCIM
  Error schema); ``/_emulator/*`` stays the base's;
- it accepts one bearer token (``SANDBOX_TOKEN``); ``/ServiceProviderConfig`` needs none (RFC 7644 §4);
- its ServiceProviderConfig is a profile: ``full`` (scim2-server's default: PATCH, Bulk 1000
  operations / 1 MiB, filter with maxResults 1000, ETags), ``weak`` (no Bulk, no ETags, no
  filtering, maxResults 10) or ``nopatch`` (weak, and no PATCH either), or any ``config=``;
- any path prefix before the SCIM root (``/scim/v2/Users``) is the application's root path;
- ``/Me`` (RFC 7644 §3.11) answers 501, scim2-server's default, unless the state names the
  token's user (``"me": userName``): then it is that user, as on a service whose tokens are users.

scim2-server is imported on first use: it takes seconds to import, and the CLI should not pay
that unless a sandbox SCIM service is used.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
import uuid
from functools import lru_cache
from typing import Any

from starlette.responses import JSONResponse, Response

from teamform.emulator import Emulator, RateLimit

from .. import api
from . import seed

SANDBOX_TOKEN = "scim-sandbox-token-7c1e"

_FULL = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "patch": {"supported": True},
    "bulk": {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576},
    "filter": {"supported": True, "maxResults": 1000},
    "changePassword": {"supported": False},
    "sort": {"supported": True},
    "etag": {"supported": True},
}
_WEAK = {**_FULL, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
         "filter": {"supported": False, "maxResults": 10}, "sort": {"supported": False},
         "etag": {"supported": False}}
#: ServiceProviderConfig profiles
PROFILES: dict[str, dict[str, Any]] = {"full": _FULL, "weak": _WEAK,
                                       "nopatch": {**_WEAK, "patch": {"supported": False}}}

#: the first path segment of the SCIM root's endpoints (or its /v2 prefix)
_ROOTS = {"v2", "Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me", ".search"}
_VERSION = re.compile(r'^W/"(\d+)"$')


@lru_cache(maxsize=1)
def _models():
    """scim2-server's default schemas and resource types as models (RFC 7643: User with the
    enterprise extension, Group), built once: building them takes a good part of a second."""
    from scim2_server.utils import load_default_provider

    return load_default_provider()


#: generic models scim2-server parametrizes on each request; pydantic caches them only while
#: something holds them, and rebuilding one costs tens of milliseconds: held here
_HELD: list[Any] = []


@lru_cache(maxsize=8)
def _description(config_json: str):
    """scim2-server's description of the service (schemas, resource types, this config)."""
    from typing import Union

    from scim2_models import (BulkRequest, BulkResponse, ListResponse, PatchOp, ResourceType,
                              ResponseParameters, Schema, SearchRequest, ServiceProviderConfig)

    base = _models()
    description = type(base)(models=base.models, resource_types=base.resource_types,
                             config=ServiceProviderConfig.model_validate(json.loads(config_json)))
    if not _HELD:
        models = [description.model_for(rt) for rt in description.resource_types]
        every = Union[tuple(models)]  # noqa: UP007 - as scim2-server spells it
        _HELD.extend([ListResponse[ResourceType], ListResponse[Schema], ListResponse[every],
                      SearchRequest[every], BulkRequest[every], BulkResponse[every]])
        for model in models:
            _HELD.extend([SearchRequest[Union[(model,)]], PatchOp[model], ResponseParameters[model]])  # noqa: UP007
    return description


def _application(storage: Any, description: Any, token: str, me=lambda: None):
    """``me()``: the id of the user the token belongs to, or ``None`` (``/Me`` then answers 501)."""
    import os

    from scim2_models import UnauthorizedException
    from scim2_server.applications.asgi import ASGIApplication
    from scim2_server.service import ScimService

    class BearerApplication(ASGIApplication):
        def check_auth(self, request) -> None:
            scheme, _, given = (request.header("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or given != token:
                raise UnauthorizedException(detail="the bearer token is missing or wrong")

    class MeService(ScimService):
        def me_target(self, request):
            found = me()
            if found is None:
                return super().me_target(request)
            return self.get_resource_type_by_endpoint("Users"), found

    return BearerApplication(storage, description,
                             MeService(description, secret=os.environ.get("SCIM2_SERVER_SECRET")))


def root_path(path: str) -> str:
    """What comes before the SCIM root in a path: ``/scim`` in ``/scim/v2/Users``."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part in _ROOTS:
            return "/".join(parts[:i])
    return ""


class ScimEmulator(Emulator):
    sandbox_credentials = {"token": SANDBOX_TOKEN}

    def __init__(self, state: dict[str, Any] | None = None, *, store=None, rate_limit: RateLimit | None = None,
                 profile: str | None = None, config: dict[str, Any] | None = None) -> None:
        if profile is not None and profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r} (profiles: {', '.join(PROFILES)})")
        self._asked = copy.deepcopy(config) if config is not None else PROFILES.get(profile or "")
        super().__init__(state, store=store, rate_limit=rate_limit)
        self._control = self.app
        self.app = self._dispatch

    # ---- the base's hooks ---------------------------------------------------------------
    def seed(self) -> dict[str, Any]:
        return seed.sandbox()

    def routes(self) -> list:
        from scim2_server.memory import AsyncInMemoryStorage, InMemoryStorage

        config = self._asked or self.state.get("config") or _FULL
        self.state["config"] = config
        self.description = _description(json.dumps(config, sort_keys=True))
        self.memory = InMemoryStorage()
        self.storage = AsyncInMemoryStorage(self.memory)
        self.scim = _application(self.storage, self.description, SANDBOX_TOKEN, self._me)
        self._load()
        return []

    def error_response(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return JSONResponse({"schemas": [api.ERROR_SCHEMA], "status": str(status), "detail": message},
                            status_code=status, headers=headers, media_type=api.MEDIA_TYPE)

    def sync_state(self) -> None:
        if hasattr(self, "memory"):
            self.state["Users"], self.state["Groups"] = self.users(), self.groups()

    def state_loaded(self) -> None:
        if hasattr(self, "memory"):
            self._load()

    # ---- serving ------------------------------------------------------------------------
    async def _dispatch(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_emulator/"):
            await self._control(scope, receive, send)
            return
        if scope["type"] == "http":
            scope = dict(scope, root_path=root_path(scope["path"]))
        await self.scim(scope, receive, send)

    # ---- the resources, as JSON ---------------------------------------------------------
    def _resources(self, kind: str) -> list[dict[str, Any]]:
        found = [r for r in self.memory.resources if r.meta is not None and r.meta.resource_type == kind]
        return [r.model_dump(mode="json", exclude_none=True) for r in sorted(found, key=lambda r: str(r.id))]

    def users(self) -> list[dict[str, Any]]:
        return self._resources("User")

    def groups(self) -> list[dict[str, Any]]:
        return self._resources("Group")

    def user(self, user_name: str) -> dict[str, Any] | None:
        return next((u for u in self.users() if u["userName"].lower() == user_name.lower()), None)

    def _me(self) -> str | None:
        """The id of the user named by the state's ``me`` (a userName), if any."""
        name = self.state.get("me")
        found = self.user(name) if isinstance(name, str) else None
        return str(found["id"]) if found else None

    def group(self, name: str) -> dict[str, Any] | None:
        return next((g for g in self.groups() if g["displayName"].lower() == name.lower()), None)

    def _load(self) -> None:
        """The state's resources into the storage; those without an id or meta (a test's or a seed's
        shorthand) get them."""
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        last = 0
        built = []
        for kind, schema in (("User", api.USER_SCHEMA), ("Group", api.GROUP_SCHEMA)):
            model = self.description.model_for(kind)
            for item in self.state.get(f"{kind}s") or []:
                data = copy.deepcopy(item)
                data.setdefault("schemas", [schema] + ([api.ENTERPRISE] if api.ENTERPRISE in data else []))
                data.setdefault("id", uuid.uuid4().hex)
                meta = data.setdefault("meta", {"resourceType": kind, "created": now, "lastModified": now})
                if "version" not in meta:
                    last += 1
                    meta["version"] = f'W/"{last}"'
                built.append(model.model_validate(data))
        versions = [int(m.group(1)) for r in built
                    if r.meta and r.meta.version and (m := _VERSION.match(r.meta.version))]
        self.memory.resources = built
        self.memory.versions = itertools.count(max([last, *versions]) + 1)
