"""The conformance kit on the Debrief provider against its emulator: random teams (mixed-case
emails, pending invitations, owners and admins who see every application, application rows the
service keeps but does not list) against random sections of the state file."""

from __future__ import annotations

from hypothesis import strategies as st

from teamform.testing.conformance import ProviderConformance
from teamform_debrief import DebriefProvider
from teamform_debrief.emulator import DebriefEmulator, app, user

PEOPLE = ProviderConformance.people
OPS = DebriefEmulator.sandbox_credentials
#: application names, and the spellings of them a file or a team may use
NAMES = ("Support Bot", "Status Page", "Billing", "Ops Console", "Wiki")
roles = st.sampled_from(["developer", "admin", "owner"])
app_roles = st.sampled_from(["developer", "admin"])
words = st.sampled_from(["", "Answers chats", "Old reports", "The public status page", "Internal"])


def spelled(draw, text: str) -> str:
    return draw(st.sampled_from([text, text.lower(), text.upper(), text.title()]))


@st.composite
def live_states(draw):
    """A team as Debrief holds it. The login user (the sandbox's ops@example.com) is an active
    owner: teamform refuses to read as anyone who does not see every application. Emails and
    application names are unique regardless of case (the service refuses duplicates)."""
    users = [user("u0", OPS["username"], "Teamform", "Ops", "owner", password=OPS["password"])]
    emails = draw(st.lists(st.sampled_from(PEOPLE + ("former@example.com",)), unique=True))
    for i, email in enumerate(emails, start=1):
        first = draw(st.sampled_from([email.split("@")[0].capitalize(), "Someone"]))
        users.append(user(f"u{i}", spelled(draw, email), first, draw(st.sampled_from(["Example", "Else", ""])),
                          draw(roles), status=draw(st.sampled_from(["active", "invited"]))))
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    apps = [app(f"a{i}", spelled(draw, name), draw(words)) for i, name in enumerate(names, start=1)]
    # Application roles of developers only. Debrief does not list team admins and owners on
    # applications, and nothing in the document shows whether it keeps (unlisted) roles for them:
    # if it does, no client can see them, and a demotion would bring them back into view unplanned
    # (README: "Team admins and owners on applications"). teamform never leaves such roles itself:
    # it removes a person's application roles before promoting them.
    developers = [u for u in users[1:] if u["role"] == "developer"]
    rows = []
    for a in apps:
        for u in draw(st.lists(st.sampled_from(developers), unique_by=lambda u: u["id"])) if developers else []:
            rows.append({"app_id": a["id"], "user_id": u["id"], "role": draw(app_roles)})
    return {"teams": [{"id": "team-1", "team_name": "Example Co", "email": OPS["username"]}], "users": users,
            "applications": apps, "app_users": rows, "credentials": [], "next_id": 1000,
            "clients": [{"client_id": OPS["client_id"], "client_secret": OPS["client_secret"]}]}


#: the checks run in real time, and the client-side rate limit (120 a minute by default, 20 at
#: once) would make most examples wait for its bucket: not what these checks are about
FAST = {"requests_per_minute": 60000}


@st.composite
def sections(draw):
    members = [{"who": spelled(draw, e), "role": draw(roles)}
               for e in draw(st.lists(st.sampled_from(PEOPLE), unique=True))]
    section: dict = {"limits": FAST, "members": members}
    if draw(st.booleans()):
        apps = []
        for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4)):
            entry: dict = {"name": spelled(draw, name), "description": draw(words.filter(bool))}
            on = draw(st.lists(st.sampled_from(members), unique_by=lambda m: m["who"].lower())) if members else []
            entry["users"] = [{"who": m["who"], "role": draw(app_roles)} for m in on]
            apps.append(entry)
        section["applications"] = apps
    return section


class TestDebriefConformance(ProviderConformance):
    provider = DebriefProvider

    def live_states(self):
        return live_states()

    def sections(self):
        return sections()

    def import_source(self):
        return {"limits": FAST}

    def bad_sections(self):
        return [({"members": [{"who": "nobody@example.com"}]}, "members[0].who"),
                ({"members": [{"who": PEOPLE[0], "role": "boss"}]}, "members[0].role"),
                ({"applications": [{"name": 5}]}, "applications[0].name"),
                ({"members": [{"who": PEOPLE[0]}], "applications": [
                    {"name": "A", "description": "d", "users": [{"who": PEOPLE[0], "role": "owner"}]}]},
                 "applications[0].users[0].role"),
                ({"applications": [{"name": "  "}]}, "applications[0].name")]
