"""``/user_access``: list, read, create, update and delete company users.

Each handler takes the emulator's state and the request and returns the JSON body, or raises a
``Refusal``. An email is listed once, whatever its case; the company keeps at least one owner
(the billing contact), so the last owner can be neither demoted nor removed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .. import api
from .forms import Refusal, boolean, email, fields, privilege, required
from .seed import user

State = dict[str, Any]


def find(state: State, address: str) -> dict[str, Any] | None:
    return next((u for u in state["users"] if u["email"].lower() == address.strip().lower()), None)


def _target(state: State, request: Request) -> dict[str, Any]:
    found = find(state, request.path_params["email"])
    if found is None:
        raise Refusal(404, "user not found")
    return found


def _keeps_owner(state: State, target: dict[str, Any]) -> None:
    owners = [u for u in state["users"] if u["privilege"] == api.OWNER]
    if target["privilege"] == api.OWNER and len(owners) == 1:
        raise Refusal(422, "the company must keep an owner (the billing contact); "
                           "make someone else owner first", "privilege")


async def list_users(state: State, request: Request) -> Any:
    return [dict(u) for u in state["users"]]


async def get_user(state: State, request: Request) -> Any:
    return dict(_target(state, request))


async def create_user(state: State, request: Request) -> Any:
    """The document lists email, privilege, in_demo_pool and send_onboarding_email as what the body
    carries and gives none a default: each is required (a missing one is 422, invented)."""
    given = await fields(request)
    address = email(required(given, "email"))
    created = user(address, privilege(required(given, "privilege")),
                   boolean(required(given, "in_demo_pool"), "in_demo_pool"))
    onboarding = boolean(required(given, "send_onboarding_email"), "send_onboarding_email")
    if find(state, address) is not None:
        raise Refusal(422, "has already been taken", "email")
    if onboarding:
        state["onboarding_emails"].append(address)
    state["users"].append(created)
    return dict(created)


async def update_user(state: State, request: Request) -> Any:
    target = _target(state, request)
    given = await fields(request)
    unknown = sorted(set(given) - set(api.UPDATE_FIELDS))
    if unknown:
        raise Refusal(422, f"cannot be changed (only {', '.join(api.UPDATE_FIELDS)})", unknown[0])
    changes: dict[str, Any] = {}
    if "privilege" in given:
        changes["privilege"] = privilege(given["privilege"])
        if changes["privilege"] != api.OWNER:
            _keeps_owner(state, target)
    if "in_demo_pool" in given:
        changes["in_demo_pool"] = boolean(given["in_demo_pool"], "in_demo_pool")
    target.update(changes)
    return dict(target)


async def delete_user(state: State, request: Request) -> Any:
    target = _target(state, request)
    _keeps_owner(state, target)
    state["users"].remove(target)
    return None
