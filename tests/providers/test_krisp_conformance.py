"""The conformance kit on the Krisp provider: random Krisp teams (mixed-case emails, pending
invitations, device seats with their statuses, several pages of seats, strangers the file does not
know, invoice and device teams) against random Krisp sections of the state file."""

from __future__ import annotations

from hypothesis import strategies as st

from teamform.testing.conformance import ProviderConformance
from teamform_krisp import KrispProvider
from teamform_krisp.emulator import KrispEmulator, seat

PEOPLE = ProviderConformance.people
ROLES = st.sampled_from(["User", "Admin"])
TYPES = st.sampled_from(["standard", "device"])
NICKNAMES = st.sampled_from([None, "Ace", "Zoë"])
#: what a seat with a user can show (the document's list, less "unassigned")
STATUSES = {"standard": ["active", "inactive", "pending_accept"],
            "device": ["active", "inactive", "blocked", "logged_in", "pending_accept", "pending_login"]}


def spelled(draw, email: str) -> str:
    return draw(st.sampled_from([email, email.upper(), email.capitalize()]))


@st.composite
def live_states(draw):
    """A Krisp team as its emulator holds it. Always an email team that pays by card, or now and
    then an invoice team or a device team (whose plans are refused when they would resize or
    invite: the kit skips those). A team always has an Admin: Krisp refuses to unassign or demote
    the last one, so a team without one cannot be reached through the API."""
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, max_size=len(PEOPLE)))
    if draw(st.booleans()):
        emails.append("Stranger@Elsewhere.example")  # on the team, not in the file's people
    seats, n = [], 1
    for email in emails:
        type_ = draw(TYPES)
        seats.append(seat(n, type_, email=spelled(draw, email), role=draw(ROLES),
                          status=draw(st.sampled_from(STATUSES[type_])), nickname=draw(NICKNAMES)))
        n += 1
    if seats and not any(s["role"] == "Admin" for s in seats):
        seats[0]["role"] = "Admin"
    if not seats:  # the team's owner
        seats.append(seat(n, email="owner@elsewhere.example", role="Admin"))
        n += 1
    # free seats; now and then more than one page of them (the provider asks 100 a page)
    spare = {t: draw(st.integers(0, 3)) for t in ("standard", "device")}
    if draw(st.integers(0, 5)) == 0:
        spare["standard"] = draw(st.integers(100, 130))
    for type_, count in spare.items():
        for _ in range(count):
            seats.append(seat(n, type_))
            n += 1
    draw(st.randoms()).shuffle(seats)  # the service lists seats in its own order
    team = {"name": "Conformance", "type": "email", "payment_type": "card"}
    kind = draw(st.integers(0, 9))
    if kind == 0:
        team["payment_type"] = "invoice"
    elif kind == 1:
        team["type"] = "device"
    return {"team": team, "credentials": dict(KrispEmulator.sandbox_credentials), "seats": seats, "next_id": n}


@st.composite
def sections(draw):
    """A valid Krisp section: someone is Admin (the file is refused otherwise); seat counts named
    for a type or left to the live count, with room for the members of that type or not."""
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1, max_size=len(PEOPLE)))
    members = []
    for email in emails:
        entry = {"who": email, "role": draw(ROLES), "seat": draw(TYPES)}
        nickname = draw(NICKNAMES)
        if nickname is not None:
            entry["nickname"] = nickname
        members.append(entry)
    members[0]["role"] = "Admin"
    seats = {}
    for type_ in ("standard", "device"):
        if draw(st.booleans()):
            seats[type_] = sum(1 for m in members if m["seat"] == type_) + draw(st.integers(0, 2))
    # the client-side pace (300 a minute by default) waits in real time: the tests do not wait for it
    section = {"members": members, "policy": {"max_removals": 100}, "limits": {"requests_per_minute": 100_000}}
    if seats:
        section["seats"] = seats
    return section


class TestKrispConformance(ProviderConformance):
    provider = KrispProvider

    def live_states(self):
        return live_states()

    def sections(self):
        return sections()

    def bad_sections(self):
        return [({"members": [{"who": "nobody@example.com"}]}, "members[0].who"),
                ({"members": [{"who": PEOPLE[0], "role": "Owner"}]}, "members[0].role"),
                ({"members": [{"who": PEOPLE[0], "seat": "premium"}]}, "members[0].seat"),
                ({"seats": {"standard": "many"}}, "seats.standard"),
                ({"seats": {"standard": -1}}, "seats.standard"),
                ({"members": [{"who": PEOPLE[0], "nickname": ["a", "b"]}]}, "members[0].nickname"),
                ({"api_version": "2"}, "api_version")]
