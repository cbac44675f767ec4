"""Krisp planning end to end against its emulator: seats, the last Admin, invoices, pending invitations."""

import pytest

from teamform.testing import converge, load, make_plan, plan_apply
from teamform_krisp.emulator import KrispEmulator, seat

PEOPLE = ["aaron", "zed", "alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal", "ivy", "jon", "kim", "lee"]


def state_file(members: str, *, seats: str = "", policy: str = "") -> str:
    people = "\n".join(f"  {p}@example.com: {{name: {p.title()}}}" for p in PEOPLE)
    return f"""
version: 1
people:
{people}
services:
  krisp:
    provider: krisp
    sandbox: true
    {policy}
    {seats}
    members:
{members}
"""


def members(*entries: str) -> str:
    return "\n".join(f"      - {e}" for e in entries)


def emulator(*seats_, payment="card"):
    return KrispEmulator({"team": {"name": "T", "type": "email", "payment_type": payment},
                          "credentials": dict(KrispEmulator.sandbox_credentials),
                          "seats": list(seats_), "next_id": 100})


def ops(plan):
    return [(op.action, op.key) for op in plan.operations]


async def test_case_only_differences_are_no_change():
    emu = emulator(seat(1, email="Alice@Example.COM", role="Admin"))
    plan = await make_plan(load(state_file(members("{who: alice@example.com, role: Admin}"))), {"krisp": emu})
    assert not plan.errors and ops(plan) == []


async def test_update_describes_the_change_and_applies_in_place():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com, role: Admin}")))
    plan, report = await plan_apply(config, {"krisp": emu})
    [op] = plan.operations
    assert op.action == "update" and op.changes == ['role: "User" → "Admin"']
    assert report.ok and emu.state["seats"][1]["role"] == "Admin" and emu.state["seats"][1]["id"] == 2


async def test_a_pending_invitation_is_a_member_and_is_not_invited_again():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"),
                   seat(2, email="bob@example.com", status="pending_accept"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com}")))
    assert ops(await make_plan(config, {"krisp": emu})) == []
    assert not emu.calls("POST")


async def test_removing_a_pending_person_cancels_the_invitation_and_says_so():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"),
                   seat(2, email="bob@example.com", status="pending_accept"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}")))
    plan, report = await plan_apply(config, {"krisp": emu})
    [op] = plan.operations
    assert op.action == "delete" and op.pending and "cancels the invitation" in op.warnings[0]
    assert emu.state["seats"][1]["user"] is None


async def test_shrinking_seats_while_moving_people_unassigns_before_deleting():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"),
                   seat(3, email="carol@example.com"), seat(4, email="dave@example.com"), seat(5))
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: erin@example.com}"),
                             seats="seats: {standard: 2}"))
    plan, report = await plan_apply(config, {"krisp": emu})
    by_id = {op.id: op for op in plan.operations}
    resize = next(op for op in plan.operations if op.kind == "seats")
    removals = [op.id for op in plan.operations if op.action == "delete"]
    assert set(removals) <= set(resize.depends_on) and len(removals) == 3
    invite = next(op for op in plan.operations if op.action == "create")
    assert invite.id in resize.depends_on
    order = [op.id for op in plan.operations]
    assert all(order.index(r) < order.index(resize.id) for r in removals)
    assert report.ok and len(emu.state["seats"]) == 2
    unassigns = [i for i, e in enumerate(emu.log) if e.path.endswith("/unassign")]
    deletes = [i for i, e in enumerate(emu.log) if e.method == "DELETE"]
    assert max(unassigns) < min(deletes)
    assert by_id and (await make_plan(config, {"krisp": emu})).operations == []


async def test_growing_seats_adds_them_before_inviting():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com}",
                                     "{who: carol@example.com}"), seats="seats: {standard: 3}"))
    plan, report = await plan_apply(config, {"krisp": emu})
    resize = next(op for op in plan.operations if op.kind == "seats")
    assert all(resize.id in op.depends_on for op in plan.operations if op.action == "create")
    assert report.ok
    invites = emu.calls("POST", "/team/invite$")
    assert len(invites) == 1, "both invitations go out as one bulk call"


async def test_too_few_seats_is_a_plan_time_error_naming_the_shortfall():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2))
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com}",
                                     "{who: carol@example.com}", "{who: dave@example.com}")))
    plan = await make_plan(config, {"krisp": emu})
    assert any("has 2 but the file places 4 on it: 2 more needed" in e for e in plan.errors)


async def test_invoice_teams_cannot_change_seats_at_plan_time():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), payment="invoice")
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com}"),
                             seats="seats: {standard: 2}"))
    plan = await make_plan(config, {"krisp": emu})
    assert any("pays by invoice" in e for e in plan.errors)


async def test_swapping_the_only_admin_promotes_before_it_demotes():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"))
    config = load(state_file(members("{who: alice@example.com, role: User}", "{who: bob@example.com, role: Admin}")))
    plan, report = await plan_apply(config, {"krisp": emu})
    promote = next(op for op in plan.operations if op.key == "bob@example.com")
    demote = next(op for op in plan.operations if op.key == "alice@example.com")
    assert promote.id in demote.depends_on and demote.demotion
    assert [op.key for op in plan.operations] == ["bob@example.com", "alice@example.com"]
    assert report.ok and [s["role"] for s in emu.state["seats"]] == ["User", "Admin"]


async def test_removing_the_last_admin_is_refused():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"))
    plan = await make_plan(load(state_file(members("{who: bob@example.com}"))), {"krisp": emu})
    assert any("at least one Admin" in e for e in plan.errors)


async def test_protected_people_are_not_removed_or_demoted():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com", role="Admin"),
                   seat(3, email="carol@example.com"))
    config = load(state_file(members("{who: alice@example.com, role: User}"),
                             policy="policy: {protect: [alice@example.com, carol@example.com]}"))
    plan = await make_plan(config, {"krisp": emu})
    assert ops(plan) == [("delete", "bob@example.com")]
    assert any("carol@example.com" in w and "protect" in w for w in plan.services[0].warnings)
    assert any("alice@example.com" in w and "keeps role" in w for w in plan.services[0].warnings)


async def test_ignored_members_are_left_alone():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="svc-bot@example.com"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}"), policy="policy: {ignore: ['svc-*']}"))
    assert ops(await make_plan(config, {"krisp": emu})) == []


async def test_not_authoritative_leaves_unlisted_members():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="zed@example.com"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}"), policy="policy: {authoritative: false}"))
    plan = await make_plan(config, {"krisp": emu})
    assert ops(plan) == [] and "left alone" in plan.services[0].notes[0]


def crowd(n: int):
    return [seat(1, email="alice@example.com", role="Admin")] + [seat(i, email=f"p{i}@example.com") for i in range(2, n + 2)]


@pytest.mark.parametrize("limit, allowed", [("3", False), ("5", True), ("'25%'", False), ("'50%'", True)])
async def test_max_removals_as_count_or_share(limit, allowed):
    emu = emulator(*crowd(15))  # 16 live members; the file keeps alice only... minus 5 kept below
    keep = ["{who: alice@example.com, role: Admin}"]
    config_text = state_file(members(*keep), policy=f"policy: {{max_removals: {limit}}}")
    people = "\n".join(f"  p{i}@example.com: {{}}" for i in range(2, 17))
    config_text = config_text.replace("people:\n", "people:\n" + people + "\n")
    config_text = config_text.replace("    members:\n", "    members:\n" + "\n".join(
        f"      - {{who: p{i}@example.com}}" for i in range(2, 12)) + "\n")
    plan = await make_plan(load(config_text), {"krisp": emu})
    removals = [op for op in plan.operations if op.action == "delete"]
    assert len(removals) == 5
    assert (not plan.errors) is allowed
    if not allowed:
        assert "--allow-mass-removal" in plan.errors[0]
        plan = await make_plan(load(config_text), {"krisp": emu}, allow_mass_removal=True)
        assert not plan.errors


async def test_an_emptied_member_list_cannot_wipe_a_small_team():
    emu = emulator(seat(1, email="alice@example.com", role="User"), seat(2, email="bob@example.com", role="User"))
    plan = await make_plan(load(state_file("      []").replace("    members:\n      []", "    members: []")),
                           {"krisp": emu})
    assert any("every one of the 2 live members" in e for e in plan.errors)


async def test_a_read_cut_short_aborts_the_plan_and_never_removes():
    emu = emulator(*crowd(250))
    emu.inject(kind="status", status=500, method="GET", path="/team/seats$", after=1, times=50)
    config = load(state_file(members("{who: alice@example.com, role: Admin}"), policy="policy: {max_removals: 1000}"))
    plan = await make_plan(config, {"krisp": emu})
    assert plan.operations == []
    assert "could not read live state" in plan.errors[0] and "page 2" in plan.errors[0]


async def test_a_short_page_is_a_cut_short_read():
    emu = emulator(*crowd(150))

    real = emu.list_seats

    async def drop_page_two(request):
        data = await real(request)
        if request.query_params.get("page") == "2":
            data["seats"] = []
        return data

    emu.list_seats = drop_page_two
    emu.app = type(emu.app)(routes=emu.routes())
    config = load(state_file(members("{who: alice@example.com, role: Admin}"), policy="policy: {max_removals: 1000}"))
    plan = await make_plan(config, {"krisp": emu})
    assert plan.operations == [] and "ended after 100 of 151" in plan.errors[0]


async def test_service_selection():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}")))
    plan = await make_plan(config, {"krisp": emu}, services=["krisp"])
    assert [s.name for s in plan.services] == ["krisp"]
    from teamform.config import ConfigError
    with pytest.raises(ConfigError, match="no such service"):
        await make_plan(config, {"krisp": emu}, services=["nope"])


async def test_the_example_round_trip_converges(example_text):
    emu = KrispEmulator()
    plan = await converge(load(example_text), {"krisp": emu}, services=["krisp"])
    assert plan.operations == [] and not plan.errors


async def test_moving_the_only_admin_to_another_seat_type_is_refused_not_half_done():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, "device"))
    config = load(state_file(members("{who: alice@example.com, role: Admin, seat: device}")))
    plan = await make_plan(config, {"krisp": emu})
    assert any("replacing member[alice@example.com] removes it first" in e for e in plan.errors)


async def test_moving_an_admin_waits_for_another_admin():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"), seat(3, "device"))
    config = load(state_file(members("{who: alice@example.com, role: Admin, seat: device}",
                                     "{who: bob@example.com, role: Admin}")))
    plan, report = await plan_apply(config, {"krisp": emu})
    move = next(op for op in plan.operations if op.action == "replace")
    assert "member[bob@example.com]:update" in move.depends_on[0] and move.warnings
    assert report.ok


async def test_a_full_team_replacing_its_only_admin_frees_a_seat_from_someone_else():
    """The new Admin needs a seat and alice may only leave after the new Admin exists: the seat
    must come from another removal, not from alice's (that order could never run)."""
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"),
                   seat(3, email="carol@example.com"))
    config = load(state_file(members("{who: bob@example.com}", "{who: dave@example.com, role: Admin}"),
                             seats="seats: {standard: 3}"))
    plan, report = await plan_apply(config, {"krisp": emu})
    invite = next(op for op in plan.operations if op.key == "dave@example.com")
    alice = next(op for op in plan.operations if op.key == "alice@example.com")
    assert invite.id in alice.depends_on and invite.depends_on == ["krisp:member[carol@example.com]:delete"]
    assert report.ok
    assert sorted((s["user"]["email"], s["role"]) for s in emu.state["seats"] if s["user"]) == [
        ("bob@example.com", "User"), ("dave@example.com", "Admin")]


@pytest.mark.parametrize("new_admin", ["aaron@example.com", "zed@example.com"])
async def test_which_seat_the_new_admin_takes_does_not_depend_on_email_order(new_admin):
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"),
                   seat(3, email="carol@example.com"))
    config = load(state_file(members("{who: bob@example.com}", "{who: dave@example.com}",
                                     f"{{who: {new_admin}, role: Admin}}"), seats="seats: {standard: 3}"))
    plan, report = await plan_apply(config, {"krisp": emu})
    assert report.ok


@pytest.mark.parametrize("newcomer", ["aaron@example.com", "dave@example.com"])
async def test_pairing_across_seat_types_does_not_depend_on_email_order(newcomer):
    """Bob moves to a standard seat and the new Admin zed takes a device seat, while the only
    Admin leaves: the chain alice → zed runs through the other seat type."""
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="pat@example.com"),
                   seat(3, email="carol@example.com"), seat(4, "device", email="bob@example.com"),
                   seat(5, "device", email="quinn@example.com"))
    config = load(state_file(members("{who: carol@example.com}", "{who: bob@example.com}", f"{{who: {newcomer}}}",
                                     "{who: zed@example.com, role: Admin, seat: device}"),
                             seats="seats: {standard: 3, device: 2}", policy="policy: {max_removals: 3}"))
    plan, report = await plan_apply(config, {"krisp": emu})
    assert report.ok and not (await make_plan(config, {"krisp": emu})).operations


async def test_two_people_swapping_seat_types_on_full_pools():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"),
                   seat(3, email="pat@example.com"), seat(4, "device", email="carol@example.com"),
                   seat(5, "device", email="quinn@example.com"))
    config = load(state_file(members("{who: alice@example.com, role: Admin}", "{who: bob@example.com, seat: device}",
                                     "{who: carol@example.com}"),
                             seats="seats: {standard: 3, device: 2}", policy="policy: {max_removals: 3}"))
    plan, report = await plan_apply(config, {"krisp": emu})
    assert report.ok


async def test_a_full_team_whose_only_seat_to_free_is_the_admins_says_a_seat_is_needed():
    emu = emulator(seat(1, email="alice@example.com", role="Admin"), seat(2, email="bob@example.com"))
    config = load(state_file(members("{who: bob@example.com}", "{who: dave@example.com, role: Admin}"),
                             seats="seats: {standard: 2}"))
    plan = await make_plan(config, {"krisp": emu})
    assert any("cannot be ordered" in e for e in plan.errors)
