"""The conformance kit on the CrankWheel provider: random company-user lists against random
sections converge, import plans empty, faults converge without unplanned writes, a delete of a
user already gone is done, bad sections give located errors, no credential leaks."""

from __future__ import annotations

from hypothesis import strategies as st

from teamform.testing.conformance import ProviderConformance
from teamform_crankwheel import CrankWheelProvider, api
from teamform_crankwheel.emulator import user

PEOPLE = ProviderConformance.people
#: someone the state file does not know (a user added by hand in CrankWheel's own UI)
STRANGERS = ("Stranger@Elsewhere.example", "temp+contractor@example.com")

privileges = st.sampled_from(api.PRIVILEGES)
#: the list shows true, false and null (null = false); all three occur
demo_pool = st.sampled_from([True, False, None])


def spelled(draw, email: str) -> str:
    """The service keeps whatever case the user was listed with."""
    return draw(st.sampled_from([email, email.upper(), email.capitalize()]))


@st.composite
def live_states(draw):
    """Company users as the emulator holds them. The list is never paged (the document shows it
    whole), so there are no pages to vary. Every state has at least one owner: the real service
    cannot be without one (the owner is the billing contact and cannot be removed or demoted
    while alone), so a state without an owner is not one the service can be in."""
    emails = draw(st.lists(st.sampled_from(PEOPLE + STRANGERS), unique=True, min_size=1, max_size=8))
    users = [user(spelled(draw, e), draw(privileges), draw(demo_pool)) for e in emails]
    if not any(u["privilege"] == api.OWNER for u in users):
        users[draw(st.integers(0, len(users) - 1))]["privilege"] = api.OWNER
    return {"keys": {"sandbox-key": api.READ_WRITE, "sandbox-readonly-key": api.READ_ONLY},
            "users": users, "onboarding_emails": [], "sessions": [], "demo_sessions": []}


@st.composite
def sections(draw):
    """Valid sections: some members (any privilege, in_demo_pool given or left out), mostly with
    an owner (a section without one is refused at plan time, which the kit skips)."""
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1, max_size=len(PEOPLE)))
    members = []
    for e in emails:
        entry: dict = {"who": spelled(draw, e)}
        if draw(st.booleans()):
            entry["privilege"] = draw(privileges)
        pool = draw(st.sampled_from([True, False, None]))
        if pool is not None:
            entry["in_demo_pool"] = pool
        members.append(entry)
    if draw(st.integers(0, 9)):  # one in ten keeps no owner: the plan must refuse it, not crash
        members[0]["privilege"] = api.OWNER
    section: dict = {"members": members}
    if draw(st.booleans()):
        section["send_onboarding_email"] = draw(st.booleans())
    return section


class TestCrankWheelConformance(ProviderConformance):
    provider = CrankWheelProvider

    def live_states(self):
        return live_states()

    def sections(self):
        return sections()

    def bad_sections(self):
        return [({"members": [{"who": "nobody@example.com"}]}, "members[0].who"),
                ({"members": [{"who": PEOPLE[0], "privilege": "superuser"}]}, "members[0].privilege"),
                ({"members": [{"who": PEOPLE[0], "privilege": "owner"}, {"who": PEOPLE[1], "in_demo_pool": "maybe"}]},
                 "members[1].in_demo_pool"),
                ({"send_onboarding_email": [True], "members": []}, "send_onboarding_email"),
                ({"members": {"who": PEOPLE[0]}}, "members")]
