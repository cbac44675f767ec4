"""WorkDrive API: every path, constant and error code teamform uses, in one place.

The document (workdrive-api.txt, sections User, Departments, Locations, Security Groups) gives
most paths. Where it is silent or slips, the choice made is marked CHOICE and explained in
README.md; correct it here and nowhere else.
"""

from __future__ import annotations

#: the document shows https://[[API_SERVER_ENDPOINT]]/api/... : the server is per customer,
#: so there is no default base URL (the state file must give one, e.g. https://acme.example.com/api)
API_KEY_HEADER = "X-API-KEY"

# ---- users -------------------------------------------------------------------------------
USERS = "/users"                        # GET ?cur_page&per_page[&department&location] -> {users, meta}
USER_SUPERVISORS = "/users/supervisors"  # GET ?cur_page&per_page[&userId] -> {users: [{id,email,firstName,lastName}], meta}
USER_ADD = "/users/add"                 # POST one user (teamform uses bulk-create instead)
USER = "/users/{id}"                    # PATCH {firstName,lastName,designation,status,reportsTo}; DELETE
USERS_BULK_CREATE = "/users/bulk-create"  # POST {data: [user, ...]} -> [user, ...]
USERS_BULK_DELETE = "/users/bulk-delete"  # DELETE {id: [ids]}   (the doc's body parameter is "id")

# ---- departments -------------------------------------------------------------------------
DEPARTMENTS = "/departments"            # GET paged -> {departments: [{id,name,memberCount,admins}], meta};
                                        # POST {name, members: [{id,isAdmin,existingDept,isDepartmentHead}]}
DEPARTMENT = "/departments/{id}"        # PATCH {name}; DELETE
DEPARTMENT_HEADS = "/departments/{id}/admin"     # PATCH {add: [{id,isAdmin:true,...}]} or {remove: id}
DEPARTMENT_MEMBERS = "/departments/{id}/members"  # POST {addMembers: [...], removeMembers: [ids]}; GET

# ---- locations ---------------------------------------------------------------------------
LOCATIONS = "/locations"                # GET paged -> {locations, meta}; POST {name}
                                        # CHOICE: the doc's "Create a Location" shows POST /departments
LOCATION = "/locations/{id}"            # PATCH {name}; DELETE
LOCATION_MEMBERS = "/locations/{id}/members"      # POST {addMembers: [ids], removeMembers: [ids]}; GET

# ---- security groups ---------------------------------------------------------------------
SECURITY_GROUPS = "/security_groups"    # GET paged -> {groups: [{id,name,memberCount}], meta}
GROUP_MEMBERS = "/security_groups/{id}/members"   # POST {ids}; DELETE {ids}
                                        # CHOICE: the doc's path ends in a stray "}";
                                        # NOT IN THE DOC: GET (paged, {users, meta}) lists the members.
                                        # A 404 to it: the group's members cannot be read, and the
                                        # file's members of that group are left alone (a warning)

# ---- paging and batches ------------------------------------------------------------------
#: NOTES.md: cur_page/per_page with meta.totalPages; the doc's meta also has totalResults,
#: curPage, perPage and nextPage (all integers in its examples)
PAGE_PARAM, SIZE_PARAM = "cur_page", "per_page"
DEFAULT_PER_PAGE = 10   # the doc's default per_page
MAX_PER_PAGE = 100      # CHOICE: the largest page the service serves (the doc gives no maximum)
MAX_BATCH = 100         # CHOICE: the most items one bulk or member-list call takes

# ---- values ------------------------------------------------------------------------------
STATUSES = ("ACTIVE", "ARCHIVE", "PRE_INVITED", "INVITED", "BLOCKED")
PENDING_STATUSES = frozenset({"PRE_INVITED", "INVITED"})  # an invitation: counts as ACTIVE
SETTABLE_STATUSES = ("ACTIVE", "ARCHIVE", "BLOCKED")
NEW_USER_STATUS = "INVITED"  # what the service gives a user it has just created
#: lowest first: a move down is a suspension, refused for the identity teamform acts as (lockout)
STATUS_RANK = ("ARCHIVE", "BLOCKED", "ACTIVE")
#: CHOICE: security groups that must keep a member (the document names no group; the sandbox's
#: administrators' group is "Admins")
ADMIN_GROUPS = frozenset({"Admins"})

# ---- errors (CHOICE: the doc shows none; a NestJS-style body {statusCode, error, code, message})
ERRORS: dict[str, tuple[int, str]] = {
    "UNAUTHORIZED": (401, "WorkDrive rejected the X-API-KEY: check the api_key credential's env variable"),
    "VALIDATION_ERROR": (400, "WorkDrive refused the request as invalid"),
    "NOT_FOUND": (404, "not found (changed since it was read?)"),
    "EMAIL_EXISTS": (409, "a user with this email already exists"),
    "USER_NOT_FOUND": (400, "a user id in the request does not exist"),
    "REPORTS_TO_NOT_FOUND": (400, "reportsTo names a user that does not exist"),
    "DEPARTMENT_NOT_FOUND": (404, "the department does not exist"),
    "LOCATION_NOT_FOUND": (404, "the location does not exist"),
    "GROUP_NOT_FOUND": (404, "the security group does not exist (groups cannot be created through the API)"),
    "DEPARTMENT_HEAD_REQUIRED": (400, "a department must always have at least one head"),
    "DEPARTMENT_NOT_EMPTY": (409, "the department still has members: move or remove them first"),
    "LOCATION_NOT_EMPTY": (409, "the location still has members: move or remove them first"),
    "NAME_EXISTS": (409, "the name is already taken"),
    "BATCH_TOO_LARGE": (413, f"more than {MAX_BATCH} items in one call"),
    "TOO_MANY_REQUESTS": (429, "WorkDrive's rate limit was hit"),
    "INTERNAL_ERROR": (500, "WorkDrive had an internal error"),
}
