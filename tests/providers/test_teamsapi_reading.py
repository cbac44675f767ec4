"""How the Teams API provider reads a service that differs from its document: lists paged where
the document shows none (with another page size, ignoring offset), lists that never end, answers
of the wrong shape, and the invitation list (not in the document) answering 404.

Each service is a small subclass of the emulator that changes one route; the provider must read
it whole or refuse to plan (an incomplete read), never plan from part of it, never loop."""

from __future__ import annotations

import pytest
from starlette.responses import JSONResponse, Response

from teamform.testing import load, make_plan, plan_apply
from teamform_teamsapi import api
from teamform_teamsapi.emulator import TeamsApiEmulator, membership, team, user
from teamform_teamsapi.emulator.reads import team_view

PEOPLE = ["alice", "bob", "carol", "dave"]


def state_file(members: str = "{who: alice@example.com, role: Admin}", policy: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()} Doe}}" for p in PEOPLE)
    return f"""
version: 1
people:
{people}
services:
  ta:
    provider: teamsapi
    sandbox: true
    limits: {{requests_per_minute: 100000}}  # the client's rate limit runs on the real clock
    {policy}
    teams:
      Eng:
        members: [{members}]
"""


def state(extra: int = 0, teams: int = 0) -> dict:
    """Alice owns Eng; Bob is an accepted Member, Carol invited; ``extra`` members that joined
    without an invitation; ``teams`` more teams Alice owns and is alone on."""
    users = [user(1, "alice@example.com", "Alice", "Doe"), user(2, "bob@example.com", "Bob", "Doe"),
             user(3, "carol@example.com", "Carol", "Doe")]
    ms = [membership(1, "team_1", 1, "Admin", invited=False), membership(2, "team_1", 2, "Member"),
          membership(3, "team_1", 3, "Member", accepted=False)]
    for i in range(extra):
        users.append(user(10 + i, f"x{i}@example.org", f"X{i}", "Loe"))
        ms.append(membership(10 + i, "team_1", 10 + i, "Viewer", invited=False))
    ts = [team("team_1", "Eng", 1, 100)]
    for i in range(teams):
        ts.append(team(f"t{i}", f"T{i:02}", 1))
        ms.append(membership(500 + i, f"t{i}", 1, "Admin", invited=False))
    return {"users": users, "tokens": {"sandbox-token": 1}, "teams": ts, "memberships": ms,
            "roles": ["Admin", "Member", "Viewer"], "default_users_limit": 5, "next_id": 1000}


EVERYONE = ("{who: alice@example.com, role: Admin}, {who: bob@example.com}, {who: carol@example.com}")


def queries(emu, path: str) -> list[str]:
    return [e.query for e in emu.calls("GET", f"^{path}$")]


class PagesMembers(TeamsApiEmulator):
    """A service that pages the member list after all: ``size`` per page unless asked otherwise
    (``honour_limit``), ``offset`` honoured unless ``ignore_offset``."""

    size, honour_limit, ignore_offset = 10, True, False

    async def list_members(self, request, caller):
        whole = await super().list_members(request, caller)
        q = request.query_params
        offset = 0 if self.ignore_offset else int(q.get("offset", 0))
        limit = int(q.get("limit", self.size)) if self.honour_limit else self.size
        return whole[offset: offset + limit]


# ---- lists the document shows whole ----------------------------------------------------------
async def test_members_are_asked_for_as_documented_one_request_without_paging():
    emu = TeamsApiEmulator(state(extra=30))
    plan = await make_plan(load(state_file(EVERYONE)), {"ta": emu})
    assert not plan.errors and not plan.operations
    assert queries(emu, api.MEMBERS) == ["teamId=team_1"]
    assert queries(emu, api.INVITATIONS) == ["teamId=team_1"]


@pytest.mark.parametrize("extra,size,honour_limit,requests", [
    (22, 10, True, 3),    # 25 members in pages of 10: 10, 10, 5
    (17, 10, True, 2),    # 20 members, an exact multiple: no third, empty, request
    (22, 7, False, 4),    # pages of 7 whatever limit says: 7, 7, 7, 4
    (0, 2, True, 2),      # 3 members, pages of 2
])
async def test_a_service_that_pages_members_anyway_is_followed_to_the_count(extra, size, honour_limit, requests):
    emu = PagesMembers(state(extra=extra))
    emu.size, emu.honour_limit = size, honour_limit
    plan = await make_plan(load(state_file(EVERYONE)), {"ta": emu})
    assert not plan.errors and not plan.operations  # every member read once: nobody unmatched twice
    assert len(queries(emu, api.MEMBERS)) == requests
    assert queries(emu, api.MEMBERS)[1] == f"teamId=team_1&offset={size}&limit={size}"


async def test_a_service_that_pages_members_and_ignores_offset_is_an_incomplete_read():
    emu = PagesMembers(state(extra=22))
    emu.ignore_offset = True
    plan = await make_plan(load(state_file()), {"ta": emu}, allow_mass_removal=True)
    [error] = plan.errors
    assert "the members of 'Eng'" in error and "same page twice" in error
    assert not plan.operations and len(queries(emu, api.MEMBERS)) == 2


async def test_a_member_list_longer_than_the_count_is_refused_team_id_ignored():
    class IgnoresTeamId(TeamsApiEmulator):
        async def list_members(self, request, caller):
            return [m for m in await super().list_members(request, caller)] + [
                {"id": 99, "firstName": "Z", "lastName": "Z", "phone": None, "role": "Admin", "isActive": True,
                 "invitationAccepted": True}]

    plan = await make_plan(load(state_file()), {"ta": IgnoresTeamId(state())}, allow_mass_removal=True)
    assert any("read 4 members but the service counts 3" in e for e in plan.errors)
    assert not plan.operations


async def test_a_member_listed_twice_across_pages_is_refused():
    class Overlapping(PagesMembers):
        async def list_members(self, request, caller):
            whole = await TeamsApiEmulator.list_members(self, request, caller)
            offset = int(request.query_params.get("offset", 0))
            return whole[max(0, offset - 1): offset + 2]  # each page repeats the last of the one before

    plan = await make_plan(load(state_file()), {"ta": Overlapping(state(extra=3))}, allow_mass_removal=True)
    assert any("listed a member twice" in e for e in plan.errors) and not plan.operations


# ---- GET /teams/all: paged as documented -------------------------------------------------------
@pytest.mark.parametrize("teams,requests", [(8, 1), (9, 2), (12, 2), (19, 3), (20, 3)])
async def test_teams_are_paged_by_ten_and_a_full_last_page_costs_one_more_request(teams, requests):
    emu = TeamsApiEmulator(state(teams=teams))
    plan = await make_plan(load(state_file(policy="policy: {authoritative: false}")), {"ta": emu})
    assert not plan.errors and not plan.operations
    assert len(queries(emu, api.ALL_TEAMS)) == requests
    assert queries(emu, api.ALL_TEAMS)[0] == "offset=0&limit=10"


async def test_a_team_list_that_never_ends_stops_as_an_incomplete_read(monkeypatch):
    class Endless(TeamsApiEmulator):
        async def list_teams(self, request, caller):
            offset = int(request.query_params.get("offset", 0))
            home = team_view(self.state, self.state["teams"][0])
            return [{**home, "id": f"ghost_{offset + i}", "name": f"Ghost {offset + i}"} for i in range(10)]

    monkeypatch.setattr(api, "MAX_PAGES", 5)
    emu = Endless(state())
    plan = await make_plan(load(state_file()), {"ta": emu})
    [error] = plan.errors
    assert "did not end after 5 pages" in error and not plan.operations
    assert len(queries(emu, api.ALL_TEAMS)) == 6


async def test_a_team_listed_twice_across_pages_is_refused():
    class Moving(TeamsApiEmulator):
        """A team created between two pages moved every later one a place down."""
        last: list = []

        async def list_teams(self, request, caller):
            teams = await super().list_teams(request, caller)
            moved = self.last[-1:] + teams if int(request.query_params.get("offset", 0)) else teams
            self.last = teams
            return moved

    plan = await make_plan(load(state_file()), {"ta": Moving(state(teams=12))})
    assert any("listed a team twice" in e for e in plan.errors) and not plan.operations


# ---- the invitation list, which the document does not have ---------------------------------------
async def test_without_the_invitation_list_the_provider_works_with_a_warning():
    emu = TeamsApiEmulator(state())
    emu.inject(kind="status", status=404, times=-1, path=f"^{api.INVITATIONS}$")
    config = load(state_file(EVERYONE + ", {who: dave@example.com, role: Viewer}"))
    plan, report = await plan_apply(config, {"ta": emu})
    [warning] = [w for w in plan.services[0].warnings if "GET /teams/invitations" in w]
    assert "answered 404" in warning and "never removed" in warning
    assert not any("no invitation record" in w for w in plan.services[0].warnings)  # said once, not per member
    # bob and carol cannot be seen: their invitations are refused as duplicates and counted as done;
    # nobody is removed, dave is invited
    assert report.ok and [e.method for e in emu.log if e.method != "GET"] == ["POST"] * 3
    assert [e.status for e in emu.calls("POST")] == [409, 409, 200]
    assert len(queries(emu, api.INVITATIONS)) == 1  # asked once, not again for each team or read-back


async def test_without_the_invitation_list_a_seat_count_refuses_only_what_cannot_fit():
    emu = TeamsApiEmulator(state())
    emu.state["teams"][0]["usersLimit"] = 3
    emu.inject(kind="status", status=404, times=-1, path=f"^{api.INVITATIONS}$")
    plan = await make_plan(load(state_file(EVERYONE)), {"ta": emu})  # the same three people, unseen
    assert not plan.errors
    assert any("usersLimit is 3" in w and "cannot be matched" in w for w in plan.services[0].warnings)
    emu.state["teams"][0]["usersLimit"] = 2
    plan = await make_plan(load(state_file(EVERYONE)), {"ta": emu})
    assert any("usersLimit is 2 but the plan needs 3" in e for e in plan.errors)


async def test_without_the_invitation_list_a_hand_over_is_refused_saying_why():
    emu = TeamsApiEmulator(state(teams=1))
    emu.state["memberships"].append(membership(700, "t0", 2, "Member"))
    emu.inject(kind="status", status=404, times=-1, path=f"^{api.INVITATIONS}$")
    text = state_file(EVERYONE).replace("    teams:\n", "    teams:\n      T00: {hand_over_to: bob@example.com}\n")
    plan = await make_plan(load(text), {"ta": emu})
    assert any("bob@example.com cannot be found among its members without the invitation list" in e
               for e in plan.errors)


async def test_an_invitation_list_error_other_than_404_is_an_incomplete_read():
    emu = TeamsApiEmulator(state())
    emu.inject(kind="status", status=403, times=-1, path=f"^{api.INVITATIONS}$")
    plan = await make_plan(load(state_file()), {"ta": emu}, allow_mass_removal=True)
    assert any("the invitations of 'Eng'" in e for e in plan.errors) and not plan.operations


# ---- answers of the wrong shape -----------------------------------------------------------------
class Garbles(TeamsApiEmulator):
    """Answers one route (``path``) with ``change(answer)`` instead of its answer."""

    path, change = "", staticmethod(lambda body: body)

    def endpoint(self, handler, status: int = 200):
        run = super().endpoint(handler, status)

        async def garbled(request) -> Response:
            response = await run(request)
            if request.url.path != self.path or response.status_code >= 400:
                return response
            import json
            body = self.change(json.loads(response.body))
            if isinstance(body, bytes):
                return Response(body, status_code=response.status_code, media_type="text/plain")
            return JSONResponse(body, status_code=response.status_code)
        return garbled


def _set(field: str, value):
    def change(items):
        items[-1][field] = value
        return items
    return change


@pytest.mark.parametrize("path,change,said", [
    (api.MEMBERS, _set("role", ["Admin"]), "GET /teams/members?teamId=team_1 in an unexpected shape: item 3: 'role' is a list, not a string"),
    (api.MEMBERS, _set("role", {"value": "Admin"}), "'role' is an object, not a string"),
    (api.MEMBERS, _set("id", "3"), "'id' is a string, not a number"),
    (api.MEMBERS, _set("id", True), "'id' is true/false, not a number"),
    (api.MEMBERS, _set("invitationAccepted", "no"), "'invitationAccepted' is a string, not true/false"),
    (api.MEMBERS, lambda items: {"data": items}, "the members of 'Eng' answered in an unexpected shape"),
    (api.MEMBERS, lambda items: items[:2] + [7], "item 3 is int, not an object"),
    (api.MEMBERS, lambda items: b"<html>502 Bad Gateway</html>", "not JSON"),
    (api.INVITATIONS, _set("email", ["carol@example.com"]), "'email' is a list, not a string"),
    (api.INVITATIONS, _set("email", "carol"), "'email' is not an email address"),
    (api.INVITATIONS, _set("teamId", "team_9"), "'teamId' is another team's"),
    (api.ALL_TEAMS, _set("membersCount", "3"), "'membersCount' is a string, not a number"),
    (api.ALL_TEAMS, _set("owner", "alice@example.com"), "'owner' is a string, not an object"),
    (api.ALL_TEAMS, _set("name", ["Eng"]), "'name' is a list, not a string"),
    (api.ROLES, lambda items: ["Admin", "Member"], "item 1 is str, not an object"),
    (api.ROLES, lambda items: {"roles": items}, "the roles answered in an unexpected shape"),
    (api.TEAM, lambda body: [body], "GET /teams in an unexpected shape: is list, not an object"),
    (api.TEAM, lambda body: {**body, "usersLimit": "5"}, "'usersLimit' is a string, not a number"),
])
async def test_an_answer_of_the_wrong_shape_is_a_clean_error_naming_the_call_and_field(path, change, said):
    emu = Garbles(state())
    emu.path, emu.change = path, change
    plan = await make_plan(load(state_file()), {"ta": emu}, allow_mass_removal=True)
    [error] = plan.errors
    assert said in error, error
    assert "could not read live state" in error and not plan.operations
    assert "Traceback" not in error and "TypeError" not in error


async def test_a_nameless_team_is_left_alone_with_a_warning():
    emu = TeamsApiEmulator(state())
    emu.state["teams"].append(team("t_x", None, 1))
    emu.state["memberships"].append(membership(600, "t_x", 1, "Admin", invited=False))
    plan = await make_plan(load(state_file(EVERYONE)), {"ta": emu})
    assert not plan.errors and not plan.operations
    assert any("team t_x has no name" in w for w in plan.services[0].warnings)


async def test_a_connection_reset_on_a_read_is_tried_again():
    class Resets(TeamsApiEmulator):
        resets = 2

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http" and scope["path"] == api.MEMBERS and self.resets:
                self.resets -= 1
                import httpx
                raise httpx.ReadError("connection reset by peer")
            await super().__call__(scope, receive, send)

    emu = Resets(state())
    plan = await make_plan(load(state_file(EVERYONE)), {"ta": emu})
    assert not plan.errors and not plan.operations and emu.resets == 0
