"""Reading Krisp where its document is silent or its answers are hostile: the seat list unpaged, with
paging parameters ignored, with another page size, shifting, or never ending; seats of the wrong
shape; a non-JSON 2xx; no team endpoint. Never a duplicate, a hang, a partial list taken for the
whole, or a TypeError: a whole list, or a plan error that names Krisp and the field."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from teamform.testing import count_in_flight, load, make_plan, plan_apply
from teamform_krisp import api
from teamform_krisp.emulator import KrispEmulator, seat

FILE = """
version: 1
people: {alice@example.com: {}, bob@example.com: {}}
services:
  krisp:
    provider: krisp
    sandbox: true
    limits: {retries: 1, requests_per_minute: 100000}
    members: [{who: alice@example.com, role: Admin}, {who: bob@example.com}]
"""
SPARE = 250  # free seats besides alice's and bob's: three of the provider's pages


def state(spare=SPARE):
    seats = [seat(1, email="Alice@Example.com", role="Admin"), seat(2, email="bob@example.com")]
    seats += [seat(i, "device" if i % 7 == 0 else "standard") for i in range(3, 3 + spare)]
    return {"team": {"name": "T", "type": "email", "payment_type": "card"},
            "credentials": dict(KrispEmulator.sandbox_credentials), "seats": seats, "next_id": 3 + spare}


class Listing(KrispEmulator):
    """A Krisp whose seat list answers ``page(emulator, page, limit)`` -> data, for each variant."""

    def page(self, number: int, limit: int) -> dict:  # pragma: no cover - each variant sets it
        raise NotImplementedError

    async def list_seats(self, request: Request):
        q = request.query_params
        return self.page(int(q.get("page", 1)), int(q.get("limit", 20)))


def listing(page) -> Listing:
    emu = type("Variant", (Listing,), {"page": page})(state())
    return emu


async def whole(emu):
    """The plan read every seat once: nothing to do (the counts match the emulator's)."""
    plan = await make_plan(load(FILE), {"krisp": emu})
    assert not plan.errors, plan.errors
    assert plan.operations == [], [op.id for op in plan.operations]
    assert plan.services[0].live_count == 2 + 2  # two members, two seat pools


async def refused(emu, *words):
    plan = await make_plan(load(FILE), {"krisp": emu})
    assert plan.operations == [] and len(plan.errors) == 1, plan.errors
    for word in words:
        assert word in plan.errors[0], plan.errors[0]
    return plan.errors[0]


# ---- paging: the document says nothing about it ----------------------------------------------

async def test_the_emulators_own_paging_is_read_whole():
    emu = KrispEmulator(state())
    await whole(emu)
    assert [e.query for e in emu.calls("GET", "/team/seats")] == ["page=1&limit=100", "page=2&limit=100",
                                                                  "page=3&limit=100"]


async def test_a_list_that_is_not_paged_is_read_in_one_answer():
    emu = listing(lambda self, number, limit: {"count": len(self.state["seats"]), "seats": self.state["seats"]})
    await whole(emu)
    assert len(emu.calls("GET", "/team/seats")) == 1


async def test_a_list_that_pages_with_its_own_size_is_read_whole_once():
    def page(self, number, limit):  # ignores limit: 30 a page
        seats = self.state["seats"]
        return {"count": len(seats), "seats": seats[(number - 1) * 30: number * 30]}

    emu = listing(page)
    await whole(emu)
    assert len(emu.calls("GET", "/team/seats")) == 9


async def test_a_list_that_ignores_the_page_parameter_is_an_incomplete_read_not_a_loop():
    emu = listing(lambda self, number, limit: {"count": len(self.state["seats"]), "seats": self.state["seats"][:limit]})
    await refused(emu, "same page twice")
    assert len(emu.calls("GET", "/team/seats")) == 2


async def test_a_list_that_ignores_the_page_parameter_but_fits_on_one_page_is_whole():
    emu = listing(lambda self, number, limit: {"count": len(self.state["seats"]), "seats": self.state["seats"][:limit]})
    emu.state = state(spare=20)
    await whole(emu)


async def test_a_list_that_stops_short_of_its_count_is_an_incomplete_read():
    def page(self, number, limit):
        seats = self.state["seats"][:150]  # the rest never comes
        return {"count": len(self.state["seats"]), "seats": seats[(number - 1) * limit: number * limit]}

    await refused(listing(page), "ended after 150 of 252")


async def test_a_list_whose_pages_shift_is_an_incomplete_read_not_a_duplicate():
    def page(self, number, limit):  # a seat deleted before page 2: page 2 starts one seat early
        seats = self.state["seats"]
        start = (number - 1) * limit - (1 if number > 1 else 0)
        return {"count": len(seats), "seats": seats[start: start + limit]}

    await refused(listing(page), "listed seat 100 twice")


async def test_a_count_that_changes_between_pages_is_an_incomplete_read():
    def page(self, number, limit):  # a list that never ends: always a full page, always "more"
        ids = range(1000 * number, 1000 * number + limit)
        return {"count": number * limit + 1, "seats": [seat(i) for i in ids]}

    emu = listing(page)
    await refused(emu, "'count' went from 101 to 201")
    assert len(emu.calls("GET", "/team/seats")) == 2


async def test_a_list_that_never_ends_stops_at_a_bound(monkeypatch):
    monkeypatch.setattr(api, "MAX_SEAT_PAGES", 5)

    def page(self, number, limit):  # fresh seats on every page, and a count it never reaches
        return {"count": 10**9, "seats": [seat(i) for i in range(1000 * number, 1000 * number + limit)]}

    emu = listing(page)
    await refused(emu, "did not end after 5 pages")
    assert len(emu.calls("GET", "/team/seats")) == 6


async def test_a_list_without_its_count_is_an_incomplete_read():
    await refused(listing(lambda self, number, limit: {"seats": self.state["seats"][:limit]}), "no 'count'")


# ---- answers of the wrong shape: named, never a TypeError -------------------------------------

def with_seat(**fields):
    def page(self, number, limit):
        seats = [dict(s) for s in self.state["seats"][:3]]
        seats[1].update(fields)
        return {"count": 3, "seats": seats}
    return listing(page)


@pytest.mark.parametrize("fields, words", [
    ({"role": ["Admin"]}, ("seat 2", "'role'", "['Admin']")),
    ({"role": {"name": "Admin"}}, ("seat 2", "'role'")),
    ({"role": "Owner"}, ("seat 2", "'role'", "'Owner'")),
    ({"type": "premium"}, ("seat 2", "'type'", "'premium'")),
    ({"type": None}, ("seat 2", "'type'")),
    ({"id": "2"}, ("a seat with 'id' '2'",)),
    ({"id": True}, ("a seat with 'id' True",)),
    ({"nickname": ["Bob"]}, ("seat 2", "'nickname'")),
    ({"status": 3}, ("seat 2", "'status'")),
    ({"user": "bob@example.com"}, ("seat 2", "'user'")),
    ({"user": {"id": 1, "hostname": "h", "email": ["bob@example.com"]}}, ("seat 2", "'user.email'")),
    ({"user": {"id": 1, "hostname": "h", "email": {"address": "bob@example.com"}}}, ("seat 2", "'user.email'")),
])
async def test_a_seat_of_the_wrong_shape_names_the_seat_and_the_field(fields, words):
    await refused(with_seat(**fields), "krisp", *words)


@pytest.mark.parametrize("data, words", [
    ({"count": 3, "seats": {"1": {}}}, ("'seats' is dict, not a list",)),
    ({"count": "three", "seats": []}, ("'count' is 'three'",)),
    ({"count": 1, "seats": ["seat 1"]}, ("a seat that is str",)),
])
async def test_a_seat_list_of_the_wrong_shape_is_named(data, words):
    await refused(listing(lambda self, number, limit: data), "krisp", *words)


class Answering(KrispEmulator):
    """A Krisp that answers ``body`` (raw bytes, HTTP 200) on one route, after doing the work."""

    route: tuple[str, str] = ("GET", "/team/seats")
    body: bytes = b""

    async def __call__(self, scope, receive, send):
        method, path = scope.get("method"), scope.get("path", "")
        if (method, path.split("/api/v2", 1)[-1]) != self.route:
            return await super().__call__(scope, receive, send)
        await super().__call__(scope, receive, _swallow)
        await Response(self.body, status_code=200, media_type="application/json")(scope, receive, send)


async def _swallow(message):
    pass


@pytest.mark.parametrize("route, body, words", [
    (("GET", "/team/seats"), b"<html>Maintenance</html>", ("not JSON",)),
    (("GET", "/team/seats"), b'["seat"]', ("without its envelope",)),
    (("GET", "/team/seats"), b'{"code": 0, "data": ["seat"]}', ("'data' as list",)),
    (("GET", "/team"), b"", ("the team with an empty answer",)),
    (("GET", "/team"), b'{"code": 0, "data": {"type": ["email"]}}', ("'type'", "['email']")),
    (("GET", "/team"), b'{"code": 0, "data": {"payment_type": {"card": true}}}', ("'payment_type'",)),
])
async def test_a_malformed_2xx_on_a_read_is_an_incomplete_read_naming_it(route, body, words):
    emu = type("Bad", (Answering,), {"route": route, "body": body})(state(spare=2))
    await refused(emu, "krisp", *words)


# ---- no team endpoint ---------------------------------------------------------------------------

class NoTeam(KrispEmulator):
    """A Krisp without ``GET /team`` (the document has none): 404, as for any unknown path."""

    def routes(self):
        return [r for r in super().routes() if not r.path.endswith(api.TEAM)]


async def test_without_a_team_endpoint_the_provider_plans_and_applies_with_a_warning():
    emu = NoTeam(state(spare=2))
    emu.state["seats"][1] = seat(2)  # bob is to be invited
    plan, report = await plan_apply(load(FILE.replace("members:", "seats: {standard: 3}\n    members:")),
                                    {"krisp": emu})
    [warning] = plan.services[0].warnings
    assert "GET /team answered 404" in warning and "not checked" in warning
    assert report.ok and {op.id.split(":", 1)[1] for op in plan.operations} == {
        "member[bob@example.com]:create", "seats[standard]:update"}


async def test_any_other_failure_of_the_team_endpoint_stops_the_read():
    emu = KrispEmulator(state(spare=2))
    emu.inject(kind="status", status=403, method="GET", path="/team$")
    await refused(emu, "reading the team failed", "403")


async def test_the_pages_after_the_first_two_are_read_at_once_never_more_than_the_limit_allows():
    """The first page gives the count and the second shows the paging works: the other pages are
    asked for ahead, at most ``limits.concurrency`` requests in flight, and the list is whole."""
    emu = KrispEmulator(state(spare=1000))  # 11 pages of 100
    peak = count_in_flight(emu)
    plan = await make_plan(load(FILE.replace("requests_per_minute: 100000", "requests_per_minute: 100000, "
                                             "concurrency: 3")), {"krisp": emu})
    assert not plan.errors and plan.services[0].live_count == 2 + 2
    assert [e.query for e in emu.calls("GET", "/team/seats")] == [f"page={n}&limit=100" for n in range(1, 12)]
    assert peak == [3]  # pages 3 to 11 went out together, three at a time
