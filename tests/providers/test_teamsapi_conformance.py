"""The conformance kit on the Teams API provider: random live states of the service against random
sections of the state file (converge, import, faults, gone-on-delete, located errors, no secrets).

The live states are ones the service can be in: teamform's account (person0, the token's user)
owns its own team and maybe more, is an Admin of a team someone else owns, and the teams hold
accepted and pending members (emails in any case, as the service keeps them), members who joined
without an invitation record (unmatched), and sometimes more teams than one page of
``GET /teams/all`` (10).

One constraint is not the service's but the kit's: no team the account can see is left out of
the file, so no team is deleted or left. The kit's fault check ("nothing changed that no plan
showed") compares what ``fetch`` sees before and after; deleting a team takes the account's own
membership with it, and leaving a team takes every member of it out of the account's view, yet
the engine never lets a plan show the acting identity's membership going (its lockout guard), and
members who merely drop out of view are not changed at all. Deleting and leaving are tested in
``test_teamsapi_provider.py`` and, under faults, in ``test_teamsapi_faults.py``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from teamform.testing.conformance import ProviderConformance
from teamform_teamsapi import TeamsApiProvider
from teamform_teamsapi.emulator import membership, team, user

PEOPLE = ProviderConformance.people
IDENTITY = PEOPLE[0]                 # the sandbox token's user: teamform's account
PARTNER_OWNER = PEOPLE[5]
ROLES = ["Admin", "Member", "Viewer"]
OWN = ["Eng", "Ops", "Design"]       # teams the account owns; the first is its own team (GET /teams)
NEW = ["Research", "Support"]        # names the file may list that the service may not hold yet
PARTNER = "Partner"                  # someone else's team the account is an Admin of
CLUBS = [f"Club {i:02}" for i in range(1, 10)]  # more teams, to cross GET /teams/all's pages
OUTSIDERS = ["lee@example.org", "kim@example.net"]  # joined without an invitation; never in the file
#: the client-side rate limit runs on the real clock: lifted so that examples do not wait
FAST = {"requests_per_minute": 1_000_000}


#: which teams the service holds, shared by the two strategies within one example (hypothesis's
#: ``shared``), so that the file lists every one of them (see the module's docstring)
OWNED = st.shared(st.lists(st.sampled_from(OWN[1:]), unique=True), key="teamsapi-owned")
HAS_PARTNER = st.shared(st.booleans(), key="teamsapi-partner")
N_CLUBS = st.shared(st.sampled_from([0, 0, 0, 0, 9]), key="teamsapi-clubs")


@st.composite
def live_states(draw):
    spell = {e: draw(st.sampled_from([e, e.upper(), e.capitalize()])) for e in PEOPLE}
    users = [user(i + 1, spell[e], f"Person{i}", "Example") for i, e in enumerate(PEOPLE)]
    users += [user(100 + i, e, e.split("@")[0].title(), "Outsider") for i, e in enumerate(OUTSIDERS)]
    uid = {e: i + 1 for i, e in enumerate(PEOPLE)} | {e: 100 + i for i, e in enumerate(OUTSIDERS)}
    teams, memberships, ids = [], [], iter(range(1000, 100000))

    def add(name: str, owner: str, limit: int, others: list[tuple[str, str, bool, bool]]) -> None:
        tid = f"team_{len(teams) + 1}"
        teams.append(team(tid, name, uid[owner], limit))
        memberships.append(membership(next(ids), tid, uid[owner], "Admin", invited=False))
        for email, role, accepted, invited in others:
            memberships.append(membership(next(ids), tid, uid[email], role, accepted, invited))

    def people(pool: list[str]) -> list[tuple[str, str, bool, bool]]:
        chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool)))
        out = [(e, draw(st.sampled_from(ROLES)), draw(st.booleans()), True) for e in chosen]
        if draw(st.integers(0, 3)) == 0:  # someone added without an invitation record
            out.append((draw(st.sampled_from(OUTSIDERS)), draw(st.sampled_from(ROLES)), True, False))
        return out

    for name in [OWN[0], *draw(OWNED)]:
        add(name, IDENTITY, draw(st.integers(8, 12)), people(PEOPLE[1:]))
    if draw(HAS_PARTNER):
        add(PARTNER, PARTNER_OWNER, 12, [(IDENTITY, "Admin", True, True), *people(PEOPLE[1:5])])
    for name in CLUBS[:draw(N_CLUBS)]:
        add(name, IDENTITY, 5, [])
    return {"users": users, "tokens": {"sandbox-token": uid[IDENTITY]}, "teams": teams,
            "memberships": memberships, "roles": ROLES, "default_users_limit": 8, "next_id": 200000}


@st.composite
def sections(draw):
    """Every team the service holds (so none is deleted or left: see the module's docstring) and
    maybe new ones, each with its owner as the service has it (the owner's role cannot change),
    people in any role, and the account spelled in any case."""
    def me() -> dict:
        return {"who": draw(st.sampled_from([IDENTITY, IDENTITY.upper()])), "role": "Admin"}

    def some(pool: list[str]) -> list[dict]:
        chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool)))
        return [{"who": e, "role": draw(st.sampled_from(ROLES))} for e in chosen]

    names = [OWN[0], *draw(OWNED), *draw(st.lists(st.sampled_from(NEW), unique=True, max_size=1))]
    teams = {name: {"members": [me(), *some(PEOPLE[1:])]} for name in names}
    if draw(HAS_PARTNER) or draw(st.integers(0, 3)) == 0:  # listed but missing: the account creates it
        teams[PARTNER] = {"members": [me(), {"who": PARTNER_OWNER, "role": "Admin"}, *some(PEOPLE[1:5])]}
    teams.update({name: {"members": [me()]} for name in CLUBS[:draw(N_CLUBS)]})
    return {"limits": FAST, "teams": teams}


class TestTeamsApiConformance(ProviderConformance):
    provider = TeamsApiProvider

    def live_states(self):
        return live_states()

    def sections(self):
        return sections()

    def import_source(self):
        return {"limits": FAST}

    def bad_sections(self):
        # roles are the service's (GET /teams/roles), checked at plan time: the file can only be
        # refused a role that is no string at all, or empty
        return [
            ({"teams": {"Eng": {"members": [{"who": "nobody@example.com"}]}}}, "teams.Eng.members[0].who"),
            ({"teams": {"Eng": {"members": [{"who": PEOPLE[1], "role": ""}]}}}, "teams.Eng.members[0].role"),
            ({"teams": {"Eng": {"members": {"who": PEOPLE[1]}}}}, "teams.Eng.members"),
            ({"teams": {"Eng": {"members": [{"who": PEOPLE[1], "role": ["Admin"]}]}}}, "teams.Eng.members[0].role"),
            ({"teams": {"Eng": {"hand_over_to": "stranger@example.com"}}}, "teams.Eng.hand_over_to"),
            ({"teams": {"Eng": {"members": [], "owner": PEOPLE[1]}}}, "teams.Eng.owner"),
        ]
