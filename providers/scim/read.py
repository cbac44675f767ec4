"""Reading SCIM: users and groups into live State, the section into desired State, one resource
for a read-back, and live back into a section (``import``).

Three kinds: ``user`` keyed by the person's lower-cased email, ``group`` keyed by its lower-cased
displayName, and ``member`` (a user in a group) keyed ``group/email``, referring to both.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from teamform.provider import IncompleteRead, Page, Ref, Resource, State, norm_email

from . import api
from .settings import offboarding_word, render

if TYPE_CHECKING:  # pragma: no cover
    from . import ScimProvider

USER, GROUP, MEMBER = "user", "group", "member"
#: the attributes of a user the file says something about ("left out" keeps the live value)
OPTIONAL = ("title", "department", "manager")
#: a section entry that leaves an optional attribute out
KEEP = object()


# ---- paging ---------------------------------------------------------------------------------
@dataclass
class ScimPages:
    """``startIndex`` (1-based) and ``count`` until ``totalResults`` (RFC 7644 §3.4.2.4). A service
    may answer fewer than asked (its own page cap): the next page starts after what came."""

    size: int

    def params(self, index: int, seen: int) -> dict[str, Any]:
        return {"startIndex": 1 + seen, "count": self.size}

    def parse(self, body: Any) -> Page:
        if not isinstance(body, dict):
            raise TypeError(f"a list answer is {type(body).__name__}, not an object")
        total = body.get("totalResults")
        if isinstance(total, str) and total.isdigit():
            total = int(total)
        if isinstance(total, bool) or not isinstance(total, int):
            raise ValueError(f"totalResults is {total!r}, not a count")
        items = body.get("Resources")
        if items is None and total == 0:
            items = []  # RFC 7644 §3.4.2: Resources is required only when totalResults is not 0
        if not isinstance(items, list):
            raise TypeError("the answer has no Resources list")
        return Page(items, total)


# ---- one user or group, as the service holds it ----------------------------------------------
def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _bool(value: Any, default: bool = True) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return default


def primary_email(item: dict[str, Any]) -> str | None:
    emails = [e for e in item.get("emails") or [] if isinstance(e, dict) and _text(e.get("value"))]
    chosen = next((e for e in emails if _bool(e.get("primary"), False)), emails[0] if emails else None)
    return chosen["value"] if chosen else None


def version(item: dict[str, Any]) -> str | None:
    meta = item.get("meta")
    return _text(meta.get("version")) if isinstance(meta, dict) else None


def _manager_id(item: dict[str, Any]) -> str | None:
    ent = item.get(api.ENTERPRISE)
    manager = ent.get("manager") if isinstance(ent, dict) else None
    value = manager.get("value") if isinstance(manager, dict) else manager
    return str(value) if value not in (None, "") else None


def user_resource(p: "ScimProvider", item: dict[str, Any], key: str, person: str | None) -> Resource:
    """A user as a resource: the attributes teamform compares, lower-cased where SCIM compares
    case-insensitively (userName, RFC 7643 §4.1.1; emails, as teamform does everywhere)."""
    name = item.get("name") if isinstance(item.get("name"), dict) else {}
    ent = item.get(api.ENTERPRISE) if isinstance(item.get(api.ENTERPRISE), dict) else {}
    email = primary_email(item)
    manager_id = _manager_id(item)
    manager = p.keys.get(manager_id, f"id:{manager_id}") if manager_id else None
    attrs: dict[str, Any] = {
        "user_name": item["userName"].lower(),
        "first_name": _text(name.get("givenName")),
        "last_name": _text(name.get("familyName")),
        "email": email.lower() if email else None,
        "active": _bool(item.get("active")),  # RFC 7643: optional; a service without it has only active users
        "title": _text(item.get("title")),
        "department": _text(ent.get("department")),
        "manager": manager,
    }
    if p.settings.external_id is not None:
        attrs["external_id"] = _text(item.get("externalId"))
    refs = (Ref(USER, manager),) if manager and not manager.startswith("id:") else ()
    return Resource(USER, key, attrs, refs, person=person, display=item["userName"], id=str(item["id"]),
                    meta={"etag": version(item), "emails": copy.deepcopy(item.get("emails") or [])})


def _check_user(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("id") in (None, "") or not _text(item.get("userName")):
        raise IncompleteRead("the SCIM service listed a user without an id or a userName; refusing to plan from it")
    return item


def person_index(p: "ScimProvider") -> dict[str, str]:
    """userName (lower-cased) -> the person's email, for everyone in the people directory."""
    return {render(p.settings.user_name, p.spelling(email)).lower(): email for email in p.ctx.directory.people}


def key_users(p: "ScimProvider", items: Iterable[Any]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(key, person, item) for each listed user. A user is the person whose userName the template
    gives; failing that, the person whose email is its primary email (so a userName that does not
    follow the template is planned as a change, not as a stranger); else a stranger keyed by its
    own userName."""
    index = person_index(p)
    directory = p.ctx.directory.people
    claimed: set[str] = set()
    out: list[tuple[str, str | None, dict[str, Any]]] = []
    rest = []
    for item in map(_check_user, items):
        person = index.get(item["userName"].lower())
        if person is not None and person not in claimed:
            claimed.add(person)
            out.append((person, p.spelling(person), item))
        else:
            rest.append(item)
    taken = set(claimed)
    for item in rest:
        email = primary_email(item)
        low = norm_email(email) if email else None
        if low and low in directory and low not in claimed:
            claimed.add(low)
            taken.add(low)
            out.append((low, p.spelling(low), item))
            continue
        key = item["userName"].lower()
        if key in taken:
            key = f"{key}#{item['id']}"
        taken.add(key)
        person = email or (item["userName"] if "@" in item["userName"] else None)
        out.append((key, person, item))
    return out


def group_resource(item: dict[str, Any]) -> Resource:
    members = [str(m["value"]) for m in item.get("members") or [] if isinstance(m, dict) and m.get("value")]
    return Resource(GROUP, item["displayName"].lower(), {}, display=item["displayName"], id=str(item["id"]),
                    meta={"etag": version(item), "members": members})


def member_resource(group_key: str, group_name: str, user_key: str, person: str | None,
                    user_id: str | None = None) -> Resource:
    meta = {"group": group_name, **({"user_id": user_id} if user_id else {})}
    return Resource(MEMBER, f"{group_key}/{user_key}", {}, (Ref(GROUP, group_key), Ref(USER, user_key)),
                    person=person, display=f"{person or user_key} in {group_name}", meta=meta)


def _check_group(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("id") in (None, "") or not _text(item.get("displayName")):
        raise IncompleteRead("the SCIM service listed a group without an id or a displayName; refusing to plan "
                             "from it")
    return item


# ---- the whole live state -------------------------------------------------------------------
async def list_users(p: "ScimProvider") -> list[Any]:
    caps = await p.capabilities()
    return await p.pages(api.USERS, ScimPages(caps.page_size(p.settings.page_size)), what="SCIM users")


async def list_groups(p: "ScimProvider") -> list[dict[str, Any]]:
    caps = await p.capabilities()
    per_group = p.settings.group_members == "per_group"
    groups = await p.pages(api.GROUPS, ScimPages(caps.page_size(p.settings.page_size)), what="SCIM groups",
                           params={"excludedAttributes": "members"} if per_group else None)
    groups = [_check_group(g) for g in groups]
    if per_group:
        for g in groups:  # one GET each: the members the list leaves out
            whole = await p.read(api.group_path(g["id"]), what=f"SCIM group {g['displayName']}")
            g["members"] = whole.get("members") or []
    return groups


async def fetch(p: "ScimProvider") -> State:
    await p.capabilities()
    users = await list_users(p)
    groups = await list_groups(p)
    keyed = key_users(p, users)
    p.ids.clear()
    p.keys.clear()
    for key, _, item in keyed:
        p.ids[(USER, key)] = str(item["id"])
        p.keys[str(item["id"])] = key
    state = State()
    for key, person, item in keyed:
        state.add(user_resource(p, item, key, person))
    for item in groups:
        group = state.add(group_resource(item))
        p.ids[(GROUP, group.key)] = group.id
        seen: set[str] = set()
        for user_id in group.meta["members"]:
            key = p.keys.get(user_id)  # nested groups and unknown ids are not ours: left alone
            if key is None or key in seen:
                continue
            seen.add(key)
            user = state.get(Ref(USER, key))
            state.add(member_resource(group.key, group.display, key, user.person if user else None, user_id))
    state.facts["identity"] = await acting_identity(p, state)
    return state


async def acting_identity(p: "ScimProvider", state: State) -> str | None:
    """The email of the user the token belongs to (``GET /Me``), or None where the service does not
    serve ``/Me`` or the token is not a user (the usual case: then ``policy.identity``)."""
    try:
        body = await p.call("GET", api.ME)
    except p.Error as exc:
        if exc.status in api.NO_ME:
            return None
        raise IncompleteRead(f"reading {api.ME} failed: {exc}", status=exc.status) from exc
    key = p.keys.get(str(body.get("id"))) if isinstance(body, dict) else None
    user = state.get(Ref(USER, key)) if key else None
    return norm_email(user.person) if user is not None and user.person else None


# ---- one resource, for a read-back ----------------------------------------------------------
async def find_user(p: "ScimProvider", key: str, user_name: str) -> Resource | None:
    """The user teamform knows as ``key`` (userName ``user_name``) as the service holds it now, or
    None: by id when known, else by a ``userName eq`` filter, else from the whole list."""
    known = p.ids.get((USER, key))
    if known is not None:
        item = await p.find(api.user_path(known))
        if isinstance(item, dict) and _text(item.get("userName")):
            return user_resource(p, item, key, p.spelling(key) if "@" in key else None)
    caps = await p.capabilities()
    if caps.filter:
        body = await p.call("GET", api.USERS, params={"filter": api.eq("userName", user_name)})
        items = [i for i in (body or {}).get("Resources") or []
                 if isinstance(i, dict) and str(i.get("userName", "")).lower() == user_name.lower()]
    else:
        items = await list_users(p)
    for k, person, item in key_users(p, items):
        if k == key or str(item.get("userName", "")).lower() == user_name.lower():
            p.ids[(USER, key)] = str(item["id"])
            p.keys[str(item["id"])] = key
            return user_resource(p, item, key, person)
    return None


async def find_group(p: "ScimProvider", key: str, name: str) -> dict[str, Any] | None:
    """The group named ``name`` as the service holds it now (members included), or None."""
    known = p.ids.get((GROUP, key))
    if known is not None:
        item = await p.find(api.group_path(known))
        return item if isinstance(item, dict) else None
    caps = await p.capabilities()
    if caps.filter:
        body = await p.call("GET", api.GROUPS, params={"filter": api.eq("displayName", name)})
        items = (body or {}).get("Resources") or []
    else:
        items = await list_groups(p)
    for item in items:
        if isinstance(item, dict) and str(item.get("displayName", "")).lower() == key:
            p.ids[(GROUP, key)] = str(item["id"])
            if "members" not in item and p.settings.group_members == "per_group":
                return await p.find(api.group_path(item["id"]))
            return item
    return None


async def user_id(p: "ScimProvider", key: str) -> str:
    """The service's id of a user teamform knows (created in this run, or read)."""
    known = p.ids.get((USER, key))
    if known is not None:
        return known
    found = await find_user(p, key, render(p.settings.user_name, p.spelling(key)))
    if found is None:
        raise p.Error(f"SCIM user {key} not found (deleted since the plan?)", status=404)
    return found.id


async def group_id(p: "ScimProvider", key: str, name: str) -> str:
    known = p.ids.get((GROUP, key))
    if known is not None:
        return known
    found = await find_group(p, key, name)
    if found is None:
        raise p.Error(f"SCIM group {name} not found (deleted since the plan?)", status=404)
    return str(found["id"])


# ---- desired --------------------------------------------------------------------------------
def entry_attrs(entry: Any) -> dict[str, Any]:
    """What one ``users:`` entry says; an optional attribute left out is ``KEEP``."""
    out: dict[str, Any] = {"active": entry.active}
    for name in OPTIONAL:
        if name not in entry.model_fields_set:
            out[name] = KEEP
        else:
            value = getattr(entry, name)
            out[name] = norm_email(value) if name == "manager" and value else (value or None)
    return out


DEFAULT_ENTRY = {"active": True, **{name: KEEP for name in OPTIONAL}}


def group_members(p: "ScimProvider") -> dict[str, list[str]]:
    """Each group of the section with its members' lower-cased emails (groups of people expanded)."""
    out: dict[str, list[str]] = {}
    for name, whos in p.settings.groups.items():
        emails: list[str] = []
        for who in whos:
            emails += [e for e in p.ctx.directory.expand(who) if e not in emails]
        out[name] = emails
    return out


def offboarded(p: "ScimProvider", live: State, named: set[str]) -> list[Resource]:
    """With ``policy.offboarding: deactivate``, users no longer in the file stay, deactivated: those
    already inactive are kept as they are (their deactivation was planned when they left)."""
    if offboarding_word(p.ctx.policy) != "deactivate":
        return []
    return [copy.deepcopy(r) for r in live.of_kind(USER) if r.key not in named and r.attrs.get("active") is False]


def desired(p: "ScimProvider", live: State) -> State:
    users = p.wanted(p.settings.users, attrs=entry_attrs, field="users")
    groups = group_members(p)
    for emails in groups.values():
        for email in emails:
            users.setdefault(email, dict(DEFAULT_ENTRY))
    kept = offboarded(p, live, set(users))
    names = set(users) | {r.key for r in kept}
    state = State()
    for email, entry in users.items():
        state.add(_user(p, email, entry, live, names))
    for res in kept:
        state.add(res)
    for name, emails in groups.items():
        key = name.lower()
        have = live.get(Ref(GROUP, key))
        state.add(Resource(GROUP, key, {}, display=have.display if have else name))
        for email in emails:
            state.add(member_resource(key, have.display if have else name, email, p.spelling(email)))
    for group in live.of_kind(GROUP):  # a group the file leaves to policy.ignore keeps its members
        if group.key not in {n.lower() for n in groups} and p.ignored(group):
            for res in live.of_kind(MEMBER):
                if Ref(GROUP, group.key) in res.refs and _target(res, USER) in names:
                    state.add(copy.deepcopy(res))
    return state


def _target(res: Resource, kind: str) -> str | None:
    return next((r.key for r in res.refs if r.kind == kind), None)


def _user(p: "ScimProvider", email: str, entry: dict[str, Any], live: State, names: set[str]) -> Resource:
    have = live.get(Ref(USER, email))
    old = have.attrs if have else {}
    first, last = p.ctx.directory.person(email).names()
    if have is not None and not old.get("first_name") and not old.get("last_name"):
        first = last = None  # a service that keeps no name for this user (some keep none): not planned forever
    spelled = p.spelling(email)
    user_name = render(p.settings.user_name, spelled)
    attrs: dict[str, Any] = {
        "user_name": user_name.lower(),
        "first_name": first or old.get("first_name"),   # a person without a name keeps the service's
        "last_name": last or old.get("last_name"),
        "email": email,
        "active": entry["active"],
    }
    for name in OPTIONAL:
        attrs[name] = old.get(name) if entry[name] is KEEP else entry[name]
    manager = attrs["manager"]
    if entry["manager"] is KEEP and manager and not manager.startswith("id:") and manager not in names:
        attrs["manager"] = manager = None  # their manager is leaving: clearing it is planned
    if p.settings.external_id is not None:
        attrs["external_id"] = render(p.settings.external_id, email)
    refs = (Ref(USER, manager),) if manager and not manager.startswith("id:") else ()
    return Resource(USER, email, attrs, refs, person=spelled, display=have.display if have else user_name,
                    meta={"user_name": user_name, "email": spelled})


# ---- import ---------------------------------------------------------------------------------
def export(live: State) -> dict[str, Any]:
    """The section that describes ``live``: users a people directory can name (an email key) with
    what differs from the defaults, and every group with its members."""
    named = {r.key for r in live.of_kind(USER) if "@" in r.key and "#" not in r.key}
    users = []
    for r in sorted(live.of_kind(USER), key=lambda r: r.key):
        if r.key not in named:
            continue
        entry: dict[str, Any] = {"who": r.key}
        if r.attrs["active"] is False:
            entry["active"] = False
        for name in ("title", "department"):
            if r.attrs.get(name):
                entry[name] = r.attrs[name]
        if r.attrs.get("manager") in named:
            entry["manager"] = r.attrs["manager"]
        users.append(entry)
    groups: dict[str, list[str]] = {}
    for g in sorted(live.of_kind(GROUP), key=lambda r: r.key):
        groups[g.display or g.key] = sorted(
            _target(m, USER) for m in live.of_kind(MEMBER)
            if _target(m, GROUP) == g.key and _target(m, USER) in named)
    return {"users": users, "groups": groups}


__all__ = ["USER", "GROUP", "MEMBER", "ScimPages", "fetch", "desired", "export", "find_user", "find_group",
           "user_id", "group_id", "user_resource", "group_resource", "key_users"]
