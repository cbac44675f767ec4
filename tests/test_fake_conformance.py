"""The conformance kit on the fake provider: the kit's own reference run, and the engine's
guarantees (convergence, faults, gone-on-delete, located errors, no secrets) on a provider with
no real service's quirks."""

from __future__ import annotations

from hypothesis import strategies as st

from teamform.testing.conformance import ProviderConformance
from teamform.testing.fake import FakeProvider
from teamform.testing.fake_emulator import member

PEOPLE = ProviderConformance.people
roles = st.sampled_from(["User", "Admin"])
plans = st.sampled_from(["basic", "pro"])


@st.composite
def live_states(draw):
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, max_size=len(PEOPLE)))
    members = [member(i + 1, email.upper() if draw(st.booleans()) else email, draw(roles), draw(plans),
                      draw(st.booleans())) for i, email in enumerate(emails)]
    if members and not any(m["role"] == "Admin" for m in members):
        members[0]["role"] = "Admin"
    return {"seats": len(members) + draw(st.integers(0, 2)), "members": members, "next_id": len(members) + 1}


@st.composite
def sections(draw):
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1, max_size=len(PEOPLE)))
    members = [{"who": e, "role": draw(roles), "plan": draw(plans)} for e in emails]
    members[0]["role"] = "Admin"
    return {"seats": len(PEOPLE) + 1, "members": members}


class TestFakeConformance(ProviderConformance):
    provider = FakeProvider

    def live_states(self):
        return live_states()

    def sections(self):
        return sections()

    def bad_sections(self):
        return [({"members": [{"who": "nobody@example.com"}]}, "members[0].who"),
                ({"members": [{"who": PEOPLE[0], "role": "Owner"}]}, "members[0].role"),
                ({"seats": -1}, "seats")]
