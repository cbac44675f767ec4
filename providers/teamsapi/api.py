"""Teams API: every path, constant and error meaning teamform uses, in one place.

The document gives the paths of the team, members, roles, limit, invitation, leave, accept,
decline, cancel and delete calls, and pages only ``GET /teams/all``. It is silent on the auth
scheme, on how to read members of a team other than the caller's own, and on how a member is tied
to an email.
The choices below are ours (see README.md); correct them here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teamform.provider import OffsetPages, Page, ProviderError, Unpaged

DEFAULT_BASE_URL = "https://api.teams.example.com"

# ---- documented --------------------------------------------------------------------------
TEAM = "/teams"                                   # GET: the caller's own team; POST {teamName}: create
MEMBERS = "/teams/members"                        # GET: members (no emails), no paging; ours: ?teamId=
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
#: NOT IN THE DOCUMENT: a service without it answers 404, and teamform then runs without emails
#: for anyone but a team's owner (a warning; see README "Without the invitation list").
INVITATIONS = "/teams/invitations"                # GET ?teamId= -> the whole list, like MEMBERS
AUTH_SCHEME = "Bearer"                            # Authorization: Bearer <token>
CREATOR_ROLE = "Admin"    # the role the account that creates a team gets on it (it owns it)

# ---- paging -----------------------------------------------------------------------------------
#: GET /teams/all is the one list the document pages: ?offset=&limit=, a bare array, no count. We
#: ask for the document's own example size (10), so that a service capping pages lower than we
#: ask is not plausible; a short or empty page is the last (a full last page costs one more
#: request: the document gives no count to stop at).
TEAMS_PAGE = 10
#: a list that has not ended after this many pages is not trusted (a service that never says
#: "last page"): an incomplete read long before the engine's own bound
MAX_PAGES = 1_000
#: GET /teams/roles: the whole list in one answer
WHOLE = Unpaged()


def teams_paging() -> OffsetPages:
    """``GET /teams/all``'s paging, as documented (a fresh one per read: it counts its pages)."""
    return Capped(items="", size=TEAMS_PAGE)


@dataclass
class Capped(OffsetPages):
    """``OffsetPages`` that gives up after ``MAX_PAGES`` pages."""

    pages_read: int = 0

    def parse(self, body: Any) -> Page:
        self.pages_read += 1
        if self.pages_read > MAX_PAGES:
            raise ProviderError(f"the list did not end after {MAX_PAGES} pages")
        return super().parse(body)


@dataclass
class Whole:
    """A list the document shows whole, in one answer (``GET /teams/members``; our
    ``GET /teams/invitations``), read so that a service that pages it anyway is followed, not
    cut short.

    The first request carries no paging parameters, exactly as the document shows. With a count
    from elsewhere (``membersCount`` in ``GET /teams/all``) the answer must reach it: when it holds
    fewer, the service pages after all, and the rest is asked for with ``offset``/``limit``,
    ``limit`` being the length of the first answer (the service's own page size). The base's
    ``pages()`` stops at the count (no extra request when the list is an exact multiple of a
    page), refuses a page that repeats the last one (paging parameters ignored) or an empty one
    before the count, and the caller refuses more items than the count. Without a count the first
    answer is the whole list, as documented.
    """

    total: int | None = None
    size: int = 0  # never guess the end from a page's length: the count decides, or the document
    first: int | None = None
    pages_read: int = 0

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {} if index == 0 else {"offset": seen, "limit": max(1, self.first or 0)}

    def parse(self, body: Any) -> Page:
        if not isinstance(body, list):
            raise TypeError(f"the answer is {type(body).__name__}, not a list")
        self.pages_read += 1
        if self.pages_read > MAX_PAGES:
            raise ProviderError(f"the list did not end after {MAX_PAGES} pages")
        if self.first is None:
            self.first = len(body)
        return Page(body, total=self.total, more=None if self.total is not None else False)


# HTTP status -> what it means for a teamform user (the service answers {statusCode, message, error})
STATUS_MEANING = {
    400: "the Teams API refused the request as invalid",
    401: "the Teams API rejected the token: check the token credential's env variable",
    403: "the Teams API does not allow this",
    404: "not found (changed since it was read?)",
    409: "already there",
    429: "the Teams API's rate limit was hit",
}
