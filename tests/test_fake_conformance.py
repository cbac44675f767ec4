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



class _DeltaSeats(FakeProvider):
    """A provider that changes the seat count by the plan's delta on what the service holds when
    it writes: a blind repeat of it overshoots."""

    async def apply(self, op):
        if op.kind == "seats":
            current = (await self.call("GET", "/seats"))["count"]
            await self.call("PUT", "/seats", json={"count": current + op.after.attrs["count"] - op.before.attrs["count"]})
        else:
            await super().apply(op)


def _delta_kit():
    kit = TestFakeConformance()
    kit.provider = _DeltaSeats
    live = {"seats": 2, "members": [member(1, PEOPLE[0], "Admin")], "next_id": 2}
    return kit, kit.emulator(live), kit.config({"seats": 4, "members": [{"who": PEOPLE[0], "role": "Admin"}]})


async def test_a_delta_whose_answer_is_lost_and_whose_read_back_fails_once_is_not_sent_again():
    """The seat change's answer is lost; the read-back's first try fails (all six of the transport's
    tries): it is read back again and found done. Sent again, the delta would leave 6 seats."""
    from teamform.emulator import Fault

    kit, emulator, config = _delta_kit()
    async with kit.session(config, emulator) as s:
        plan, _ = await s.make_plan(allow_mass_removal=True)
        emulator.inject(Fault(kind="drop", method="PUT", path="/seats$"))
        emulator.inject(Fault(status=503, method="GET", path="/seats$", after=1, times=6))  # the write's own read passes
        report = await s.apply(plan)
    assert report.ok and emulator.state["seats"] == 4


async def test_the_fault_test_names_a_value_neither_as_it_was_nor_as_planned():
    from teamform.testing.conformance import _wrong_values

    kit, emulator, config = _delta_kit()
    plan = await kit.plan(config, emulator)
    emulator.state["seats"] = 6  # what a blind repeat of the delta leaves
    assert _wrong_values(plan.operations, await kit.live(config, emulator)) == [
        "svc:seats[seats]:update: count is 6, planned 4 (was 2)"]
    emulator.state["seats"] = 4
    assert _wrong_values(plan.operations, await kit.live(config, emulator)) == []
    emulator.state["seats"] = 3  # on the way, by an operation that failed part-way: not a wrong value
    assert _wrong_values(plan.operations, await kit.live(config, emulator), done=set()) == []
    assert _wrong_values(plan.operations, await kit.live(config, emulator)) == [
        "svc:seats[seats]:update: count is 3, planned 4 (was 2)"]  # ... but reported done, it is
