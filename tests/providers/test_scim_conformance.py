"""The conformance kit on the SCIM provider, against scim2-server (a server we did not write), twice:
as a full service (PATCH, Bulk, filtering, ETags) and as a weak one (no Bulk, no ETags, no
filtering, maxResults 10), so that both code paths converge, survive faults and keep secrets."""

from __future__ import annotations

from hypothesis import strategies as st

from teamform.testing.conformance import ProviderConformance
from teamform_scim import ScimEmulator, ScimProvider
from teamform_scim.emulator.seed import group, user

PEOPLE = ProviderConformance.people
BASE = "https://scim.example.com/scim/v2"
GROUPS = ("Engineering", "Ops", "Sales")
FAST = {"requests_per_minute": 100000}


def _name(email: str) -> str:
    return email.split("@")[0].capitalize()


@st.composite
def live_states(draw):
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, max_size=len(PEOPLE)))
    users = []
    for i, email in enumerate(emails):
        named = draw(st.sampled_from(["as people says", "otherwise", "given only", "family only", "not at all"]))
        given, family = {"as people says": (_name(email), "Example"), "otherwise": ("Someone", "Else"),
                         "given only": ("Solo", None), "family only": (None, "Solo"),
                         "not at all": (None, None)}[named]
        users.append(user(f"u{i}", email.upper() if draw(st.booleans()) else email, given, family,
                          active=draw(st.booleans()), title=draw(st.sampled_from([None, "CTO", "Engineer"])),
                          department=draw(st.sampled_from([None, "Engineering", "Sales"])),
                          manager=draw(st.sampled_from([None, *(f"u{j}" for j in range(i))]))))
    names = draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=len(GROUPS)))
    ids = [u["id"] for u in users]
    groups = [group(f"g{i}", name if draw(st.booleans()) else name.lower(),
                    draw(st.lists(st.sampled_from(ids), unique=True)) if ids else [])
              for i, name in enumerate(names)]
    return {"Users": users, "Groups": groups}


@st.composite
def sections(draw):
    emails = draw(st.lists(st.sampled_from(PEOPLE), unique=True, min_size=1, max_size=len(PEOPLE)))
    users = []
    for i, email in enumerate(emails):
        entry = {"who": email}
        if draw(st.booleans()):
            entry["active"] = draw(st.booleans())
        for name, values in (("title", [None, "CTO", "Lead"]), ("department", [None, "Engineering", "Ops"])):
            if draw(st.booleans()):
                entry[name] = draw(st.sampled_from(values))
        if i and draw(st.booleans()):
            entry["manager"] = draw(st.sampled_from([None, *emails[:i]]))
        users.append(entry)
    groups = {name: draw(st.lists(st.sampled_from(PEOPLE), unique=True))
              for name in draw(st.lists(st.sampled_from(GROUPS), unique=True))}
    return {"base_url": BASE, "limits": FAST, "users": users, "groups": groups,
            "max_members_per_patch": draw(st.integers(1, 3)),
            "policy": {"offboarding": draw(st.sampled_from(["deactivate", "delete"]))}}


class TestScimConformanceFull(ProviderConformance):
    provider = ScimProvider
    profile = "full"
    #: scim2-server serializes each resource through pydantic (a few ms each): fewer examples than
    #: the kit's default keep this file within a few seconds
    examples = 5

    def emulator(self, state):
        return ScimEmulator(state, profile=self.profile)

    def live_states(self):
        return live_states()

    def sections(self):
        return sections()

    def import_source(self):
        return {"base_url": BASE, "limits": FAST}

    def bad_sections(self):
        return [({"base_url": BASE, "users": [{"who": "nobody@example.com"}]}, "users[0].who"),
                ({"base_url": BASE, "users": [{"who": PEOPLE[0], "role": "admin"}]}, "users[0].role"),
                ({"base_url": BASE, "users": [{"who": PEOPLE[0], "manager": "nobody@example.com"}]},
                 "users[0].manager"),
                ({"base_url": BASE, "groups": {"Ops": ["nobody@example.com"]}}, "groups.Ops[0]"),
                ({"base_url": BASE, "groups": {"Ops": [], "ops": []}}, "groups.ops"),
                ({"base_url": BASE, "user_name": "{first}.{last}"}, "user_name"),
                ({"base_url": BASE, "disable": ["cursor"]}, "disable[0]"),
                ({"base_url": BASE, "max_members_per_patch": 0}, "max_members_per_patch"),
                ({"base_url": "http://scim.example.com"}, "base_url"),
                ({"base_url": BASE, "policy": {"offboarding": "archive"}}, "policy.offboarding")]


class TestScimConformanceWeak(TestScimConformanceFull):
    """The same checks against a service that supports less: every create is a POST, every
    read-back reads the whole list, ten at a time, and no write carries If-Match."""

    profile = "weak"
    examples = 4
