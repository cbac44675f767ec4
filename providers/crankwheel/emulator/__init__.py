"""An emulator of CrankWheel's company-user API (see api.py for the paths and their sources).

Rules it enforces: ``Authorization: Basic <api_key>`` (the raw key) with read-only and
read/write keys, where a read-only key cannot write; form writes under ``user_access[...]`` or
one ``user_access`` JSON parameter (url-encoded or multipart, as the document shows both); a
create carries all four documented fields; privilege one of user/admin/owner/reporting;
``in_demo_pool`` and ``send_onboarding_email`` exactly ``true``/``false`` (``null`` in the list
is stored as-is and reads as false); an email is listed once (case-insensitively); the list is
never paged, whatever the query; the create answers 201; a company keeps at least one owner (the billing contact), so the last owner
can be neither demoted nor removed. The usage endpoints answer from a small fixed history (``/demo_usage`` with the document's
fields and a count of cancelled requests).
Errors are ``{"error": ...}`` (401/403/404/400, the base's ``error_response``) and Rails-style
``{"errors": {field: [...]}}`` with 422: the document gives no error shape, so this is our
choice (README.md).

Modules: ``seed`` (records and the sandbox state), ``forms`` (key, form fields, refusals),
``users`` and ``usage`` (the handlers, each ``(emulator, request) -> body``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teamform.emulator import Emulator, JSONResponse

from .. import api
from . import usage, users
from .forms import Refusal, authorize
from .seed import sandbox, session, user

__all__ = ["CrankWheelEmulator", "Refusal", "user", "session", "PREFIX"]

PREFIX = "/ss/api"  # the path part of api.DEFAULT_BASE_URL

#: (path, handler, method, status when it works)
TABLE = [(api.USERS, users.list_users, "GET", 200), (api.USERS, users.create_user, "POST", 201),
         (api.USER, users.get_user, "GET", 200), (api.USER, users.update_user, "PATCH", 200),
         (api.USER, users.delete_user, "DELETE", 204), (api.USAGE, usage.usage, "GET", 200),
         (api.DEMO_USAGE, usage.demo_usage, "GET", 200)]


class CrankWheelEmulator(Emulator):
    sandbox_credentials = {"api_key": "sandbox-key"}

    def seed(self) -> dict[str, Any]:
        return sandbox()

    def refuse(self, exc: Refusal) -> Response:
        if exc.status == 422:
            return JSONResponse({"errors": {exc.field or "base": [exc.message]}}, status_code=422)
        return self.error_response(exc.status, exc.message)

    def routes(self) -> list[Route]:
        # under the documented /ss/api, and at the root for `sandbox serve` (base_url: http://127.0.0.1:PORT)
        return [Route(prefix + path, self._endpoint(handler, status), methods=[method])
                for prefix in (PREFIX, "") for path, handler, method, status in TABLE]

    def _endpoint(self, handler, status: int):
        async def run(request: Request) -> Response:
            try:
                authorize(self.state["keys"], request)
                body = await handler(self, request)
            except Refusal as exc:
                return self.refuse(exc)
            return Response(status_code=204) if status == 204 else JSONResponse(body, status_code=status)
        return run
