"""Teams API: every path, constant and error meaning teamform uses, in one place.

The document gives the paths of the team, members, roles, limit, invitation, leave, accept,
decline, cancel and delete calls. It is silent on the auth scheme, on paging of members, on how
to read members of a team other than the caller's own, and on how a member is tied to an email.
The choices below are ours (see README.md); correct them here and nowhere else.
"""

from __future__ import annotations

from teamform.provider import OffsetPages, Unpaged

DEFAULT_BASE_URL = "https://api.teams.example.com"

# ---- documented --------------------------------------------------------------------------
TEAM = "/teams"                                   # GET: the caller's own team; POST {teamName}: create
MEMBERS = "/teams/members"                        # GET: members (no emails); ours: ?teamId=&offset=&limit=
ROLES = "/teams/roles"                            # GET: [{label, value}]
LIMIT = "/teams/limit"                            # GET: true while the caller's team has room
ALL_TEAMS = "/teams/all"                          # GET ?offset=&limit=&globalSearch=
INVITATION = "/teams/invitation"                  # POST {email, firstName, lastName, phone, role, teamId}
CANCEL_INVITATION = "/teams/invitation/{user_id}"  # DELETE {membershipId}
LEAVE_TEAM = "/teams/leave-team/{team_id}"        # PUT {newOwnerId}
ACCEPT_INVITATION = "/teams/accept-invitation/{team_id}"    # PUT (by the invited person)
DECLINE_INVITATION = "/teams/decline-invitation/{team_id}"  # PUT (by the invited person)
TEAM_BY_ID = "/teams/{team_id}"                   # DELETE

# ---- our choice where the document is silent ---------------------------------------------
#: invitations sent for a team, accepted or not: the only place an email meets a member id.
INVITATIONS = "/teams/invitations"                # GET ?teamId=&offset=&limit=
AUTH_SCHEME = "Bearer"                            # Authorization: Bearer <token>

PAGE_LIMIT = 100          # the largest page the emulator (like most APIs) serves
#: GET /teams/all (documented), /teams/members and /teams/invitations (ours): bare JSON arrays,
#: ?offset=&limit=, no count; a short or empty page is the last
PAGED = OffsetPages(items="", size=PAGE_LIMIT)
#: GET /teams/roles: the whole list in one answer
WHOLE = Unpaged()
CREATOR_ROLE = "Admin"    # the role the account that creates a team gets on it (it owns it)

# HTTP status -> what it means for a teamform user (the service answers {statusCode, message, error})
STATUS_MEANING = {
    400: "the Teams API refused the request as invalid",
    401: "the Teams API rejected the token: check the token credential's env variable",
    403: "the Teams API does not allow this",
    404: "not found (changed since it was read?)",
    409: "already there",
    429: "the Teams API's rate limit was hit",
}
