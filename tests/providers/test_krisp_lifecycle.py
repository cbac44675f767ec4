"""Krisp and people's lives: no suspended state for a person's seat (status changes only on
device seats) and no change of email, so an offboarded person is removed at once, said so when
the policy asks to suspend first, and a new address is a replace that says what is lost."""

import yaml

from teamform.testing import converge, load, make_plan
from teamform_krisp.emulator import KrispEmulator, seat


def config(people, members, policy=None):
    doc = {"version": 1, "people": people,
           "services": {"krisp": {"provider": "krisp", "sandbox": True, "seats": {"standard": 3},
                                  **({"policy": policy} if policy else {}), "members": members}}}
    return load(yaml.safe_dump(doc, sort_keys=False))


def emulator(*seats):
    return KrispEmulator({"team": {"name": "T", "type": "email", "payment_type": "card"},
                          "credentials": dict(KrispEmulator.sandbox_credentials), "seats": list(seats),
                          "next_id": 100})


TODAY = {"environ": {"TEAMFORM_TODAY": "2026-02-01"}}


async def test_an_offboarded_person_is_unassigned_at_once_and_the_plan_says_krisp_cannot_suspend():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="erin@example.com"),
                   seat(3))
    people = {"alice@example.com": {}, "erin@example.com": {"offboarded": "2026-01-15"}}
    cfg = config(people, [{"who": "alice@example.com", "role": "Admin"}, {"who": "erin@example.com"}],
                 policy={"offboarding": {"suspend_first": True, "remove_after_days": 30}, "max_removals": 5})
    plan = await make_plan(cfg, {"krisp": emu}, **TODAY)
    [op] = plan.operations
    assert (op.action, op.key) == ("delete", "erin@example.com") and "offboarded on 2026-01-15" in op.summary
    assert any("cannot suspend" in w for w in plan.warnings), plan.warnings
    assert (await converge(cfg, {"krisp": emu}, **TODAY)).operations == []


async def test_a_new_address_is_a_replace_that_keeps_the_seat_count_and_converges():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="erin@old.example"), seat(3))
    people = {"alice@example.com": {}, "erin@example.com": {"previously": ["erin@old.example"]}}
    cfg = config(people, [{"who": "alice@example.com", "role": "Admin"}, {"who": "erin@example.com"}],
                 policy={"max_removals": 5})
    plan = await make_plan(cfg, {"krisp": emu}, **TODAY)
    [op] = [o for o in plan.operations if o.kind == "member"]
    assert (op.action, op.renamed_from) == ("replace", "erin@old.example")
    assert "their seat" in op.warnings[0]
    assert (await converge(cfg, {"krisp": emu}, **TODAY)).operations == []
    emails = sorted(s["user"]["email"] for s in emu.state["seats"] if s.get("user"))
    assert emails == ["alice@example.com", "erin@example.com"]
