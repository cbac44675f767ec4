"""The data of the scale bench (``scale.py``): N people in five services with ~10 % drift, as a
state file and as each emulator's stored state.

4 % of the people are only in the file (created), 3 % are changed (a role), 3 % more are only
live (people who left, removed); a person's Teams API team and WorkDrive department is
``i // TEAM_SIZE`` on both sides, so drift stays drift.
"""

from __future__ import annotations

from typing import Any

import yaml

PROVIDERS = ("krisp", "crankwheel", "teamsapi", "debrief", "workdrive")
TEAM_SIZE = 50  # Teams API and WorkDrive department size
ENV = {"KRISP_API_KEY": "sandbox-key", "KRISP_SECRET": "sandbox-secret", "CRANKWHEEL_API_KEY": "sandbox-key",
       "TEAMSAPI_TOKEN": "sandbox-token", "DEBRIEF_USERNAME": "ops@example.com",
       "DEBRIEF_PASSWORD": "sandbox-password", "DEBRIEF_CLIENT_ID": "sandbox-client",
       "DEBRIEF_CLIENT_SECRET": "sandbox-secret", "WORKDRIVE_API_KEY": "sandbox-workdrive-key"}


# ---- generation ---------------------------------------------------------------------------
class _NoAliases(yaml.SafeDumper):
    """A state file as a person writes it: no anchors for the settings the services share."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False)


def email(i: int) -> str:
    return f"p{i}@example.com"


def drift(n: int) -> tuple[list[int], list[int], set[int], list[int]]:
    """(desired, live, changed, gone): 4 % only desired (created), 3 % changed, 3 % only live
    (removed: people who left)."""
    desired = list(range(n))
    missing = {i for i in desired if i % 25 == 7}
    changed = {i for i in desired if i % 33 == 5 and i not in missing}
    gone = list(range(n, n + max(1, n * 3 // 100)))
    live = [i for i in desired if i not in missing] + gone
    return desired, live, changed, gone


def state_file(n: int, ports: dict[str, int], *, defaults: bool = False, one_group: bool = False) -> dict[str, Any]:
    """``defaults``: teamform's own limits (else lifted); ``one_group``: CrankWheel's users and
    Debrief's developers are one group of every person, not one entry each."""
    desired, _, changed, _ = drift(n)
    people = {email(i): {"name": f"P{i} Person"} for i in desired}
    people["ops@example.com"] = {"name": "Teamform Ops"}
    limits = {} if defaults else {"requests_per_minute": 1_000_000, "concurrency": 16}
    policy = {"authoritative": True, "max_removals": "100%"}

    def base(name: str, path: str = "") -> dict[str, Any]:
        return {"provider": name, "sandbox": False, "base_url": f"http://127.0.0.1:{ports[name]}{path}",
                "limits": limits}

    teams = {f"Team {t}": {"members": [{"who": email(0), "role": "Admin"}]
                           + [{"who": email(i), "role": "Member"} for i in desired[t * TEAM_SIZE: (t + 1) * TEAM_SIZE] if i]}
             for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE)}
    depts = {f"Dept {t}": {"heads": [email(t * TEAM_SIZE)],
                           "members": [email(i) for i in desired[t * TEAM_SIZE + 1: (t + 1) * TEAM_SIZE]]}
             for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE)}
    services = {
        "krisp": {**base("krisp"), "credentials": {"api_key": "env:KRISP_API_KEY", "secret": "env:KRISP_SECRET"},
                  "policy": policy, "seats": {"standard": n},
                  "members": [{"who": email(i), "role": "Admin" if i == 0 or i in changed else "User"}
                              for i in desired]},
        "crankwheel": {**base("crankwheel"), "credentials": {"api_key": "env:CRANKWHEEL_API_KEY"}, "policy": policy,
                       "members": [{"who": email(i), "privilege": "owner" if i == 0 else
                                    ("admin" if i in changed else "user"), "in_demo_pool": False}
                                   for i in desired]},
        "teamsapi": {**base("teamsapi"), "credentials": {"token": "env:TEAMSAPI_TOKEN"}, "policy": policy,
                     "teams": teams},
        "debrief": {**base("debrief"), "credentials": {k.lower(): f"env:DEBRIEF_{k}" for k in
                                                       ("USERNAME", "PASSWORD", "CLIENT_ID", "CLIENT_SECRET")},
                    "policy": policy, "applications": [],
                    "members": [{"who": "ops@example.com", "role": "owner"}]
                    + [{"who": email(i), "role": "admin" if i in changed else "developer"} for i in desired]},
        "workdrive": {**base("workdrive", "/api"), "credentials": {"api_key": "env:WORKDRIVE_API_KEY"},
                      "policy": {"max_removals": "100%"},
                      "users": [{"who": email(i), **({"designation": "Lead"} if i in changed else {})}
                                for i in desired],
                      "departments": depts},
    }
    doc: dict[str, Any] = {"version": 1, "people": people, "services": services}
    if one_group:
        doc["groups"] = {"everyone": [email(i) for i in desired]}
        services["crankwheel"]["members"] = (
            [{"who": email(0), "privilege": "owner", "in_demo_pool": False}]
            + [{"who": email(i), "privilege": "admin", "in_demo_pool": False} for i in desired if i in changed]
            + [{"who": "group:everyone", "privilege": "user", "in_demo_pool": False}])
        services["debrief"]["members"] = (
            [{"who": "ops@example.com", "role": "owner"}]
            + [{"who": email(i), "role": "admin"} for i in desired if i in changed]
            + [{"who": "group:everyone", "role": "developer"}])
    return doc


def live_states(n: int) -> dict[str, dict[str, Any]]:
    """Each emulator's state: its own seed (credentials, keys), its people replaced."""
    from teamform.provider.registry import installed

    desired, live, changed, _ = drift(n)
    live_desired = [i for i in live if i < n]
    out: dict[str, dict[str, Any]] = {}
    emulators = {name: installed()[name].emulator_class for name in PROVIDERS}

    from teamform_krisp.emulator.team import seat
    st = emulators["krisp"](rate_limit=None).state
    st["seats"] = [seat(k + 1, email=email(i), role="Admin" if i == 0 else "User") for k, i in enumerate(live)]
    st["next_id"] = len(live) + 1
    out["krisp"] = st

    from teamform_crankwheel.emulator.seed import user as cw_user
    st = emulators["crankwheel"](rate_limit=None).state
    st["users"] = [cw_user(email(i), "owner" if i == 0 else "user", False) for i in live]
    st["sessions"], st["demo_sessions"] = [], []
    out["crankwheel"] = st

    from teamform_teamsapi.emulator.state import membership, team, user as t_user
    st = emulators["teamsapi"](rate_limit=None).state
    st["users"] = [t_user(i + 1, email(i), f"P{i}", "Person") for i in live]
    teams, members = [], []
    by_team: dict[int, list[int]] = {}  # a person's team is i // TEAM_SIZE on both sides: drift stays drift
    for i in live_desired:
        by_team.setdefault(i // TEAM_SIZE, []).append(i)
    for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE):
        teams.append(team(f"team_{t}", f"Team {t}", 1, limit=TEAM_SIZE * 2))
        members.append(membership(len(members) + 1, f"team_{t}", 1, "Admin", invited=False))
        for i in by_team.get(t, ()):
            if i:
                members.append(membership(len(members) + 1, f"team_{t}", i + 1, "Member"))
    for k, i in enumerate(i for i in live if i >= n):  # the people who left, spread over the teams
        members.append(membership(len(members) + 1, f"team_{k % len(teams)}", i + 1, "Member"))
    st["teams"], st["memberships"], st["next_id"] = teams, members, 10 * n + 100
    st["tokens"] = {"sandbox-token": 1}
    out["teamsapi"] = st

    from teamform_debrief.emulator.seed import user as d_user
    st = emulators["debrief"](rate_limit=None).state
    st["users"] = st["users"][:1] + [d_user(f"u{i + 10}", email(i), f"P{i}", "Person") for i in live]
    st["applications"], st["app_users"], st["next_id"] = [], [], 10 * n + 100
    out["debrief"] = st

    from teamform_workdrive.emulator.records import new_user, uid
    st = emulators["workdrive"](rate_limit=None).state
    dept_of = {i: uid(5 * n + i // TEAM_SIZE) for i in live_desired}
    present = set(live_desired)
    users = [new_user(uid(i + 1), email(i), f"P{i}", "Person", department=dept_of.get(i)) for i in live]
    st["users"] = {u["id"]: u for u in users}
    st["departments"] = {uid(5 * n + t): {"id": uid(5 * n + t), "name": f"Dept {t}",
                                          "heads": [uid(t * TEAM_SIZE + 1)]}
                         for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE) if t * TEAM_SIZE in present}
    st["locations"], st["groups"], st["next_id"] = {}, {}, 10 * n + 100
    out["workdrive"] = st
    return out
