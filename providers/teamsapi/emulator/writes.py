"""The emulator's writes: create and delete a team, invite, cancel, leave, accept, decline.

Each is ``async (emu, request, caller) -> JSON`` and becomes a method of ``TeamsApiEmulator``;
each refuses what the service refuses, with its status (see the package docstring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .. import api
from .state import (Refusal, add_membership, add_team, add_user, body, drop_membership, drop_team, hand_over, home_of,
                    members_of, membership, membership_by_id, membership_of, number, team, team_for, user,
                    user_by_email)

if TYPE_CHECKING:  # pragma: no cover
    from . import TeamsApiEmulator

INVITATION_FIELDS = ("email", "firstName", "lastName", "phone", "role", "teamId")
#: the invitation's fields the document types "string | nullable"
NULLABLE_STRINGS = ("firstName", "lastName", "phone", "teamId")


def done(message: str, description: str) -> dict[str, str]:
    return {"message": message, "description": description}


async def create_team(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    """``teamName`` is optional in the document: a team created without one has no name (``null``,
    invented). Names are kept as sent and need not be unique (not said: invented)."""
    name = (await body(request)).get("teamName")
    if name is not None and not isinstance(name, str):
        raise Refusal(400, "teamName must be a string")
    tid = f"team_{emu.next_id()}"
    limit = emu.state["default_users_limit"]
    add_team(emu, team(tid, name, caller, limit))
    add_membership(emu, membership(emu.next_id(), tid, caller, api.CREATOR_ROLE, invited=False))
    return {"id": tid, "name": name, "usersLimit": limit}


def _checked_invitation(state: dict[str, Any], data: dict[str, Any]) -> None:
    missing = [k for k in INVITATION_FIELDS if k not in data]
    if missing:
        raise Refusal(400, f"missing fields: {', '.join(missing)}")
    if not isinstance(data["email"], str) or "@" not in data["email"]:
        raise Refusal(400, "email must be an email address")
    wrong = [k for k in NULLABLE_STRINGS if data[k] is not None and not isinstance(data[k], str)]
    if wrong:
        raise Refusal(400, f"{', '.join(wrong)} must be a string or null")
    if data["role"] not in state["roles"]:
        raise Refusal(400, f"role must be one of {', '.join(state['roles'])}")


async def invite(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    data = await body(request)
    _checked_invitation(emu.state, data)
    email = data["email"]
    found = team_for(emu, data["teamId"], caller, manage=True)
    invitee = user_by_email(emu, email)
    if invitee is not None and membership_of(emu, found["id"], invitee["id"]) is not None:
        raise Refusal(409, f"{email} is already invited to or a member of this team")
    if len(members_of(emu, found["id"])) >= found["usersLimit"]:
        raise Refusal(403, f"the team has reached its users limit ({found['usersLimit']}); "
                           "pending invitations count")
    if invitee is None:
        invitee = user(emu.next_id(), email, data["firstName"] or "", data["lastName"] or "")
        invitee["phone"] = data["phone"]
        add_user(emu, invitee)
    add_membership(emu, membership(emu.next_id(), found["id"], invitee["id"], data["role"], accepted=False))
    return done("Invitation email sent", "Wait for the invited person to finish their registration.")


async def cancel(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    """Remove a membership, pending or accepted: by ``membershipId``, else in the caller's own team."""
    try:
        uid = int(request.path_params["user_id"])
    except ValueError:
        raise Refusal(400, "id must be a number") from None
    mid = number(await body(request), "membershipId")
    if mid is None:
        target = membership_of(emu, home_of(emu, caller)["id"], uid)
    else:
        target = membership_by_id(emu, mid)
    if target is None or target["userId"] != uid:
        raise Refusal(404, "invitation not found")
    found = team_for(emu, target["teamId"], caller, manage=True)
    if found["ownerId"] == uid:
        raise Refusal(403, "the owner's membership cannot be cancelled; the owner leaves with leave-team")
    drop_membership(emu, target)
    return done("Invitation cancelled successfully", "The invitation has been cancelled successfully.")


async def leave(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    """A member leaves; the owner leaves only by naming an accepted member as ``newOwnerId``."""
    found = team_for(emu, request.path_params["team_id"], caller)
    new_owner = number(await body(request), "newOwnerId")
    if found["ownerId"] != caller:
        if new_owner is not None:
            raise Refusal(403, "only the owner can name a new owner")
    else:
        heir = membership_of(emu, found["id"], new_owner) if isinstance(new_owner, int) else None
        if new_owner is None:
            raise Refusal(400, "the owner must name newOwnerId to leave (or delete the team)")
        if heir is None or not heir["invitationAccepted"] or new_owner == caller:
            raise Refusal(400, "newOwnerId must be another member who has accepted their invitation")
        hand_over(emu, found, new_owner)
    drop_membership(emu, membership_of(emu, found["id"], caller))
    return done("Left the team successfully", "You have left the team successfully.")


def _invitation_of(emu: "TeamsApiEmulator", request: Request, caller: int) -> dict[str, Any]:
    target = membership_of(emu, request.path_params["team_id"], caller)
    if target is None or target["invitationAccepted"]:
        raise Refusal(404, "no pending invitation to this team")
    return target


async def accept(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    _invitation_of(emu, request, caller)["invitationAccepted"] = True
    return done("Invitation accepted successfully", "You have accepted the invitation successfully.")


async def decline(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    drop_membership(emu, _invitation_of(emu, request, caller))
    return done("Invitation declined successfully", "You have declined the invitation successfully.")


async def delete_team(emu: "TeamsApiEmulator", request: Request, caller: int) -> Any:
    found = team_for(emu, request.path_params["team_id"], caller)
    if found["ownerId"] != caller:
        raise Refusal(403, "only the owner can delete a team")
    drop_team(emu, found)
    return done("Team deleted successfully", "The team has been deleted successfully.")
