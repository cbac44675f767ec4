"""``/user_access``: list, read, create, update and delete company users.

Each handler takes the emulator's state and the request and returns the JSON body, or raises a
``Refusal``. An email is listed once, whatever its case; the company keeps at least one owner
(the billing contact), so the last owner can be neither demoted nor removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from teamform.emulator import Ranked

from .. import api
from .forms import Refusal, boolean, email, fields, privilege, required
from .seed import user

if TYPE_CHECKING:  # pragma: no cover
    from teamform.emulator import Emulator

State = dict[str, Any]


def _by_email(state: State) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for u in state["users"]:
        out.setdefault(u["email"].strip().lower(), u)
    return out


def _ranks(state: State) -> Ranked:
    return Ranked(state["users"])


def _owners(state: State) -> dict[int, dict[str, Any]]:
    return {id(u): u for u in state["users"] if u["privilege"] == api.OWNER}


def _set_privilege(emu: "Emulator", target: dict[str, Any], value: str) -> None:
    owners = emu.lookup("owners", _owners)
    target["privilege"] = value
    if value == api.OWNER:
        owners[id(target)] = target
    else:
        owners.pop(id(target), None)


def find(emu: "Emulator", address: str) -> dict[str, Any] | None:
    """The user listed under this email, whatever its case (the emulator's lookup)."""
    return emu.lookup("emails", _by_email).get(address.strip().lower())


def _target(emu: "Emulator", request: Request) -> dict[str, Any]:
    found = find(emu, request.path_params["email"])
    if found is None:
        raise Refusal(404, "user not found")
    return found


def _keeps_owner(emu: "Emulator", target: dict[str, Any]) -> None:
    if target["privilege"] == api.OWNER and len(emu.lookup("owners", _owners)) == 1:
        raise Refusal(422, "the company must keep an owner (the billing contact); "
                           "make someone else owner first", "privilege")


async def list_users(emu: "Emulator", request: Request) -> Any:
    return [dict(u) for u in emu.state["users"]]


async def get_user(emu: "Emulator", request: Request) -> Any:
    return dict(_target(emu, request))


async def create_user(emu: "Emulator", request: Request) -> Any:
    """The document lists email, privilege, in_demo_pool and send_onboarding_email as what the body
    carries and gives none a default: each is required (a missing one is 422, invented)."""
    given = await fields(request)
    address = email(required(given, "email"))
    created = user(address, privilege(required(given, "privilege")),
                   boolean(required(given, "in_demo_pool"), "in_demo_pool"))
    onboarding = boolean(required(given, "send_onboarding_email"), "send_onboarding_email")
    if find(emu, address) is not None:
        raise Refusal(422, "has already been taken", "email")
    if onboarding:
        emu.state["onboarding_emails"].append(address)
    emails, owners = emu.lookup("emails", _by_email), emu.lookup("owners", _owners)
    emu.lookup("ranks", _ranks).append(emu.state["users"], created)
    emails.setdefault(address.strip().lower(), created)
    if created["privilege"] == api.OWNER:
        owners[id(created)] = created
    return dict(created)


async def update_user(emu: "Emulator", request: Request) -> Any:
    target = _target(emu, request)
    given = await fields(request)
    unknown = sorted(set(given) - set(api.UPDATE_FIELDS))
    if unknown:
        raise Refusal(422, f"cannot be changed (only {', '.join(api.UPDATE_FIELDS)})", unknown[0])
    changes: dict[str, Any] = {}
    if "privilege" in given:
        changes["privilege"] = privilege(given["privilege"])
        if changes["privilege"] != api.OWNER:
            _keeps_owner(emu, target)
    if "in_demo_pool" in given:
        changes["in_demo_pool"] = boolean(given["in_demo_pool"], "in_demo_pool")
    if "privilege" in changes:
        _set_privilege(emu, target, changes.pop("privilege"))
    target.update(changes)
    return dict(target)


async def delete_user(emu: "Emulator", request: Request) -> Any:
    target = _target(emu, request)
    _keeps_owner(emu, target)
    emails, ranks = emu.lookup("emails", _by_email), emu.lookup("ranks", _ranks)
    ranks.remove(emu.state["users"], target)
    ranks.discard(target)
    emu.lookup("owners", _owners).pop(id(target), None)
    if emails.get(target["email"].strip().lower()) is target:
        del emails[target["email"].strip().lower()]
    return None
