"""Plan time: findings the generic planner cannot know (roles the service offers, each team's
usersLimit, members that cannot be matched to a person, what happens to teams that leave the
file: deleted, left, or handed over), how leaving a team reads, and the order within a team."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from teamform.provider import Finding, Operation, Ref, Resource, State, error, norm_email, note, warning

from . import api
from .read import MEMBER, TEAM, UNMATCHED, member_key
from .settings import TeamsApiSettings

if TYPE_CHECKING:  # pragma: no cover
    from . import TeamsApiProvider


def check(p: "TeamsApiProvider", desired: State, live: State) -> list[Finding]:
    def name_of(email: str) -> str:
        return " ".join(part for part in p.ctx.directory.person(email).names() if part)

    return (reading(live) + roles(desired, live) + capacity(desired, live)
            + unmatched(p.settings, desired, live, name_of) + owners(desired, live)
            + leaving(p.settings, desired, live))


def annotate(p: "TeamsApiProvider", op: Operation) -> None:
    """Leaving a team, or handing it over, is not deleting it: its members stay."""
    if op.kind != TEAM or op.action != "delete":
        return
    entry = p.settings.teams.get(op.key)
    if entry is not None and entry.hand_over_to:
        op.summary = f"handed over to {entry.hand_over_to}: teamform's account leaves it, its members stay"
    elif not op.before.meta.get("owned"):
        op.summary = "left (another account owns it): teamform's account leaves it, its members stay"
    else:
        return
    op.destructive = False


def edges(ops: Sequence[Operation]) -> Iterable[tuple[str, str]]:
    """Within a team, removals free seats before invitations use them (invitations found by
    their team once, not by scanning every operation for each removal)."""
    invites: dict[tuple, list[str]] = defaultdict(list)
    for new in ops:
        if new.kind == MEMBER and new.action == "create":
            invites[new.after.refs].append(new.id)
    if not invites:
        return
    for gone in ops:
        if gone.kind == MEMBER and gone.action == "delete":
            for new_id in invites.get(gone.before.refs, ()):
                yield gone.id, new_id


def _team_of(res: Resource) -> str:
    return next((r.key for r in res.refs if r.kind == TEAM), "")


def reading(live: State) -> list[Finding]:
    """What the read could not see: the invitation list (not in the document) answering 404, and
    teams without a name (the document lets a team be created without one)."""
    out = []
    if live.facts.get("no_invitation_list"):
        out.append(warning(
            f"the Teams API answered 404 to GET {api.INVITATIONS}, which its document does not have and "
            "teamform uses to tie members to emails: every member but a team's owner is unmatched "
            "(reported, never removed), inviting someone already on a team is refused by the service "
            "as a duplicate and counted as done, and role changes cannot be seen; see the teamsapi "
            "README, 'Without the invitation list'", code="check"))
    for team_id in live.facts.get("nameless_teams") or []:
        out.append(warning(f"team {team_id} has no name; teamform matches teams by name, so it leaves "
                           "this one alone (name it in the Teams API to manage it)", f"team[{team_id}]"))
    return out


def roles(desired: State, live: State) -> list[Finding]:
    offered = [r for r in live.facts.get("roles") or [] if r]
    out = []
    for res in desired.of_kind(MEMBER):
        role = res.attrs.get("role")
        if role not in offered:
            out.append(error(f"{res.label}: role {role!r} is not a Teams API role "
                             f"(GET /teams/roles offers: {', '.join(offered) or 'none'})", res.label))
    return out


def _per_team(resources: Iterable[Resource]) -> Counter:
    return Counter(_team_of(r) for r in resources)


def capacity(desired: State, live: State) -> list[Finding]:
    """Every desired member of a team takes a seat, pending invitations and unmatched members too.
    Without the invitation list nearly everyone is unmatched, and counting them on top of the file
    would refuse every full team: the seats needed are then at least the larger of the two."""
    out = []
    blind = bool(live.facts.get("no_invitation_list"))
    # counted per team once: a team's count is then a lookup, not a pass over every resource
    listed_in = _per_team(desired.of_kind(MEMBER))
    unknown_in = _per_team(desired.of_kind(UNMATCHED))
    seen_in = _per_team(r for r in live if r.kind in (MEMBER, UNMATCHED)) if blind else Counter()
    for team in desired.of_kind(TEAM):
        have = live.get(team.ref)
        limit = have.meta.get("users_limit") if have else live.facts.get("default_users_limit")
        listed, unknown = listed_in[team.key], unknown_in[team.key]
        if blind:
            need = max(listed, seen_in[team.key])
            if limit and need <= limit < listed + unknown:
                out.append(warning(f"team {team.key!r}: usersLimit is {limit}; the file lists {listed} and "
                                   f"{unknown} member(s) cannot be matched without the invitation list: if "
                                   "they are not the same people, invitations will be refused for want of "
                                   "seats", team.label))
        else:
            need = listed + unknown
        if limit and need > limit:
            also = (f"; {unknown} of them are members teamform cannot identify (see the warnings: one may be "
                    "someone the file lists, counted twice)") if unknown else ""
            out.append(error(f"team {team.key!r}: usersLimit is {limit} but the plan needs {need} "
                             f"members (pending invitations count): {need - limit} seat(s) missing; "
                             f"remove people from the team or raise its limit with the vendor{also}", team.label))
    return out


def _invited_by_team(desired: State, live: State) -> dict[str, list[Resource]]:
    """The members the plan invites (desired, not live), by team."""
    out: dict[str, list[Resource]] = defaultdict(list)
    for r in desired.of_kind(MEMBER):
        if r.ref not in live:
            out[_team_of(r)].append(r)
    return out


def _namesakes(res: Resource, invited: dict[str, list[Resource]], name_of: Callable[[str], str]) -> list[str]:
    """People the plan invites to the same team under the unmatched member's name: likely the same
    person (a hint only; teamform never matches by name)."""
    name = str(res.meta.get("name") or "").casefold()
    return sorted(r.person or r.key for r in invited.get(_team_of(res), ())
                  if name and name_of(r.person or "").casefold() == name)


def unmatched(settings: TeamsApiSettings, desired: State, live: State,
              name_of: Callable[[str], str] = lambda email: "") -> list[Finding]:
    out = []
    blind = bool(live.facts.get("no_invitation_list"))  # one warning says it for all of them
    strangers = live.of_kind(UNMATCHED)
    invited = _invited_by_team(desired, live) if strangers else {}
    for res in strangers:
        team = live.get(Ref(TEAM, _team_of(res)))
        entry = settings.teams.get(team.key) if team else None
        deleted = team is not None and team.ref not in desired and team.meta.get("owned") and not (
            entry and entry.hand_over_to)
        if deleted:
            out.append(error(f"team {team.key!r} would be deleted, but {res.label} cannot be matched "
                             "to an email; teamform does not remove people it cannot identify (list "
                             "the team, or remove that member in the Teams API first)", res.label))
        elif not blind:
            out.append(warning(f"{res.label} has no invitation record, so teamform cannot tell who "
                               "it is: left alone, never removed", res.label))
        for email in _namesakes(res, invited, name_of):
            out.append(warning(f"{email}, whom the plan invites, has the same name as {res.label}: if "
                               "that is them, the Teams API refuses the invitation as a duplicate "
                               "(409, counted as done: teamform cannot see them to check) on every "
                               "apply and they hold two seats in the plan's count; re-invite them in "
                               "the Teams API so an invitation ties them to their email", email))
    return out


def owners(desired: State, live: State) -> list[Finding]:
    """The owner's membership can neither be cancelled nor re-invited, so its role is fixed."""
    out = []
    for res in desired.of_kind(MEMBER):
        have = live.get(res.ref)
        if have and have.attrs.get("owner") and have.attrs.get("role") != res.attrs.get("role"):
            out.append(error(f"{res.label} owns the team: its role {have.attrs['role']!r} cannot "
                             f"change to {res.attrs['role']!r} (no role update, and the owner's "
                             "membership cannot be cancelled)", res.label))
        elif have is None and res.attrs.get("owner") and res.attrs.get("role") != api.CREATOR_ROLE:
            out.append(error(f"{res.label} creates the team and becomes its owner with role "
                             f"{api.CREATOR_ROLE!r}; list them with that role", res.label))
    return out


def leaving(settings: TeamsApiSettings, desired: State, live: State) -> list[Finding]:
    out = []
    identity = live.facts.get("identity")
    for name, entry in settings.teams.items():
        if entry.hand_over_to:
            out += _hand_over(name, norm_email(entry.hand_over_to), identity, live)
    for team in live.of_kind(TEAM):
        if team.key in settings.teams:
            continue
        if team.meta.get("home"):
            out.append(warning(f"team {team.key!r} is the account's own team (GET /teams): teamform "
                               "never deletes it; list it to manage its members", team.label))
        elif not team.meta.get("owned"):
            out.append(warning(f"team {team.key!r} is owned by {team.meta.get('owner')}: teamform's "
                               "account leaves it (PUT leave-team); the team and its members stay", team.label))
    return out


def _hand_over(name: str, heir: str, identity: str | None, live: State) -> list[Finding]:
    subject = str(Ref(TEAM, name))
    team = live.get(Ref(TEAM, name))
    if team is None:
        return [note(f"team {name!r} is not visible to teamform's account (already handed over?): "
                     "nothing to do; the entry can go", subject)]
    if not team.meta.get("owned"):
        return [error(f"team {name!r} is owned by {team.meta.get('owner')}, not by {identity} whom "
                      "teamform acts as: only the owner can hand a team over", subject)]
    member = live.get(Ref(MEMBER, member_key(name, heir)))
    if member is None and live.facts.get("no_invitation_list"):
        return [error(f"team {name!r}: {heir} cannot be found among its members without the invitation "
                      f"list (GET {api.INVITATIONS} answered 404), so ownership cannot move to them; hand "
                      "the team over in the Teams API", subject)]
    if member is None or member.pending or heir == identity:
        return [error(f"team {name!r}: ownership can only move to another member who has accepted "
                      f"their invitation, and {heir} is not one", subject)]
    return [warning(f"team {name!r}: teamform's account leaves it and hands ownership to {heir} "
                    "(PUT leave-team with newOwnerId); teamform will no longer see or manage it", subject)]
