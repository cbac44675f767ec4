"""Debrief Management API: every path and constant teamform uses, in one place.

Paths follow ``shared/api-docs/NOTES.md`` where the document slips (see README.md): the URL,
not the heading, for removing a team user; ``/invite/{token}/cancel``; ``/user/me``; and the
user id in the path when adding a user to an application. Correct them here and nowhere else.
Every path is a ``str.format`` template; the emulator serves the same strings as routes.
"""

from __future__ import annotations

import re

DEFAULT_BASE_URL = "https://api.debrief.com"  # the doc only says {{apiBasepath}}

# authentication
LOGIN = "/login"                                  # POST password grant -> access + refresh token
REFRESH = "/oauth/token"                          # POST {client_id, client_secret, refresh_token}
LOGOUT = "/logout"                                # POST

# accounts (the emulator serves them; teamform never calls them)
FORGOT_PASSWORD = "/forgot-password"              # POST {email} -> {email, token}
RESET_PASSWORD = "/reset-password"                # POST {token, password}
CHANGE_PASSWORD = "/change-password"              # POST {old_password, new_password}
CLIENT = "/client"                                # POST {name, redirectURI, trusted} -> client credentials

# teams
TEAMS = "/team"                                   # GET the current team; POST create a team and its owner (no auth)
TEAM_EXISTS = "/team-exists"                      # POST {team}
TEAM = "/team/{team_id}"                          # GET, PATCH {name}
TEAM_ADD = "/team/{team_id}/add"                  # POST {email, first_name, last_name, role[, password]}
TEAM_USER = "/team/{team_id}/user/{user_id}"      # DELETE (heading says /add/, URL says /user/)

# users
INVITE_ACCEPT = "/invite/{token}/accept"          # POST {password} (no auth)
SECRET_PATH = re.compile(r"(?<=/invite/)[^/?]+")  # the invitation token: it accepts an invite unauthenticated
INVITE_CANCEL = "/invite/{token}/cancel"          # POST (the doc shows the accept URL)
RESEND_EMAIL = "/resend-email"                    # POST {email}
USER_EXISTS = "/user-exists"                      # POST {email}
USERS = "/user"                                   # GET bare array of the team's users
ME = "/user/me"                                   # GET the login user (the doc shows /user)
USER = "/user/{user_id}"                          # PATCH {first_name, last_name, role}
USER_APPS = "/user/{user_id}/applications"        # GET

# applications
APPS = "/application"                             # GET bare array; POST {name, description, icon} (all required)
APP = "/application/{app_id}"                     # GET, PATCH {name, description[, icon]} (answers [app]), DELETE
APP_USERS = "/application/{app_id}/users"         # GET bare array (team admins/owners not listed)
APP_USER = "/application/{app_id}/users/{user_id}"  # POST/PATCH {role}, DELETE
CREDS = "/application/{app_id}/creds"             # GET, POST {label, environment}, PATCH {id, label} (served only)
CRED = "/application/{app_id}/creds/{creds_id}"   # GET, PATCH {label}, DELETE (served only)

#: the icon sent when teamform creates an application: the document requires one and no answer
#: shows it, so teamform neither reads nor changes icons (set yours in the Developer Portal)
DEFAULT_ICON = "default.png"

# Lists: the document shows bare arrays and no paging. teamform asks for pages anyway, in the
# names Sails (the service's framework, by its headers) pages with, so a server that pages after
# all is read to its end; one that ignores them answers the same list twice, which ends the read.
# A first answer shorter than any plausible page is the whole list: no second request.
PAGE_SIZE_PARAM, PAGE_SKIP_PARAM = "limit", "skip"
PAGE_LIMIT = 1000
SMALLEST_PAGE = 10

CRED_ENVIRONMENTS = ("sandbox", "production")    # a credential's ``environment``
ROLES = ("developer", "admin", "owner")           # team roles, lowest first
APP_ROLES = ("developer", "admin")                # application roles, lowest first
SEES_EVERY_APP = frozenset({"admin", "owner"})    # never listed as application users
ACTIVE, INVITED = "active", "invited"             # a team user's ``status``

# errorType by HTTP status, from the vendor's sibling server code (NOTES.md)
ERROR_TYPES = {400: "validation", 401: "authorization", 403: "forbidden"}
