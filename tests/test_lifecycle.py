"""People's lives on the fake provider: renames (previously:), one-line offboarding in stages,
expiring grants. "Today" is injected (TEAMFORM_TODAY), never read from the clock."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from teamform.config import ConfigError
from teamform.session import Session
from teamform.testing import converge, load, make_plan
from teamform.testing.fake import FAKE, MEMBER, FakeProvider
from teamform.testing.fake_emulator import FakeEmulator, member

ALICE, BOB, ROBERT, ERIN = "alice@example.com", "bob@old.example", "robert@example.com", "erin@example.com"


def config(people: dict[str, dict[str, Any]], members: list[dict[str, Any]], *, groups=None, policy=None,
           providers=FAKE):
    doc = {"version": 1, "people": people, "groups": groups or {},
           "services": {"svc": {"provider": "fake", "sandbox": True, **({"policy": policy} if policy else {}),
                                "members": members}}}
    return load(yaml.safe_dump(doc, sort_keys=False), providers=providers)


def emulator(*members: dict[str, Any]) -> FakeEmulator:
    return FakeEmulator({"seats": len(members) + 3, "members": list(members), "next_id": 100})


def on(day: str) -> dict[str, str]:
    return {"environ": {"TEAMFORM_TODAY": day}}


def problems(text_or_doc) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        if isinstance(text_or_doc, dict):
            load(yaml.safe_dump(text_or_doc, sort_keys=False), providers=FAKE)
    return [str(p) for p in caught.value.problems]


def messages(plan, code="lifecycle", level=None) -> list[str]:
    return [f.message for sp in plan.services for f in sp.findings
            if f.code == code and (level is None or f.level == level)]


# ---- renames --------------------------------------------------------------------------------

async def test_a_previous_address_is_renamed_in_place_keeping_the_account():
    emu = emulator(member(1, ALICE, "Admin"), member(2, BOB, "Admin"))
    cfg = config({ALICE: {}, ROBERT: {"previously": [BOB]}},
                 [{"who": ALICE, "role": "Admin"}, {"who": ROBERT, "role": "Admin"}])
    plan = await make_plan(cfg, {"svc": emu})
    [op] = plan.operations
    assert (op.action, op.key, op.renamed_from) == ("update", ROBERT, BOB)
    assert op.label == f"member[{BOB} → {ROBERT}]"
    assert "renamed in place" in op.summary and not op.warnings
    again = await converge(cfg, {"svc": emu})
    assert again.operations == []
    kept = next(m for m in emu.state["members"] if m["id"] == 2)
    assert kept["email"] == ROBERT and kept["role"] == "Admin"  # the same member: id, role kept


async def test_a_service_that_cannot_rename_replaces_and_says_what_the_person_loses():
    spec = next(k for k in FakeProvider.kinds if k.name == MEMBER)
    no_rename = dataclasses.replace(spec, renames_in_place=False, rename_loss="their recordings")

    class NoRename(FakeProvider):
        kinds = tuple(no_rename if k.name == MEMBER else k for k in FakeProvider.kinds)

    emu = emulator(member(1, ALICE, "Admin"), member(2, BOB))
    cfg = config({ALICE: {}, ROBERT: {"previously": [BOB]}}, [{"who": ALICE, "role": "Admin"}, {"who": ROBERT}],
                 providers={"fake": NoRename})
    plan = await make_plan(cfg, {"svc": emu})
    [op] = plan.operations
    assert (op.action, op.before.key, op.after.key) == ("replace", BOB, ROBERT)
    assert "cannot change an email in place" in op.warnings[0] and "their recordings" in op.warnings[0]
    assert (await converge(cfg, {"svc": emu})).operations == []
    assert {m["email"] for m in emu.state["members"]} == {ALICE, ROBERT}


def test_a_previous_address_used_as_who_is_an_error_that_names_the_new_one():
    doc = {"version": 1, "people": {ALICE: {}, ROBERT: {"previously": [BOB]}},
           "groups": {"team": [BOB]},
           "services": {"svc": {"provider": "fake", "sandbox": True, "members": [{"who": BOB}]}}}
    found = problems(doc)
    assert any("groups.team[0]" in p and f"use '{ROBERT}'" in p for p in found), found
    assert any("services.svc.members[0].who" in p and f"previous address of {ROBERT}" in p for p in found), found


def test_a_previous_address_that_is_also_a_person_is_an_error():
    doc = {"version": 1, "people": {BOB: {}, ROBERT: {"previously": [BOB]}}, "services": {}}
    [found] = problems(doc)
    assert "people.robert@example.com.previously[0]" in found and "person of its own" in found


# ---- offboarding ----------------------------------------------------------------------------

def test_deleting_a_persons_entry_is_an_error_that_says_how_to_offboard():
    doc = {"version": 1, "people": {ALICE: {}},
           "services": {"svc": {"provider": "fake", "sandbox": True, "members": [{"who": ERIN}]}}}
    [found] = problems(doc)
    assert "is not in people" in found and "offboarded: YYYY-MM-DD" in found


async def test_one_line_offboards_everywhere_and_references_become_notes():
    people = {ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}
    cfg = config(people, [{"who": ALICE, "role": "Admin"}, {"who": "group:team"}, {"who": ERIN, "role": "Admin"}],
                 groups={"team": [ERIN, ALICE]})
    assert [n for n in cfg.notes if "erin@example.com is offboarded" in n.message and n.line] and \
        {n.path for n in cfg.notes} == {"groups.team[0]", "services.svc.members[2].who"}
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN, "Admin"))
    before = await make_plan(cfg, {"svc": emu}, **on("2026-01-09"))
    assert before.operations == []  # the day before: still here
    plan = await make_plan(cfg, {"svc": emu}, **on("2026-01-10"))
    [op] = plan.operations
    assert (op.action, op.key) == ("delete", ERIN) and op.summary == "removed: offboarded on 2026-01-10"
    assert any("removed at once" in m for m in messages(plan))
    assert (await converge(cfg, {"svc": emu}, **on("2026-01-10"))).operations == []


async def test_staged_offboarding_suspends_then_removes_after_the_days_from_the_date_in_the_file():
    people = {ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}
    policy = {"offboarding": {"suspend_first": True, "remove_after_days": 30}}
    cfg = config(people, [{"who": ALICE, "role": "Admin"}, {"who": ERIN}], policy=policy)
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN))
    plan = await make_plan(cfg, {"svc": emu}, **on("2026-01-20"))
    [op] = plan.operations
    assert (op.action, op.after.attrs["status"]) == ("update", "suspended")
    assert op.summary == 'suspended (status: "suspended"): offboarded on 2026-01-10'
    assert any("removed on 2026-02-09" in m for m in messages(plan))
    assert (await converge(cfg, {"svc": emu}, **on("2026-01-20"))).operations == []
    assert next(m for m in emu.state["members"] if m["id"] == 2)["status"] == "suspended"
    later = await make_plan(cfg, {"svc": emu}, **on("2026-02-09"))
    [op] = later.operations
    assert (op.action, op.key) == ("delete", ERIN)
    assert (await converge(cfg, {"svc": emu}, **on("2026-02-09"))).operations == []


async def test_a_service_that_cannot_suspend_removes_at_once_and_says_so():
    spec = next(k for k in FakeProvider.kinds if k.name == MEMBER)

    class NoSuspend(FakeProvider):
        kinds = tuple(dataclasses.replace(spec, suspend=None) if k.name == MEMBER else k for k in FakeProvider.kinds)

    cfg = config({ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}, [{"who": ALICE, "role": "Admin"}],
                 policy={"offboarding": {"suspend_first": True}}, providers={"fake": NoSuspend})
    plan = await make_plan(cfg, {"svc": emulator(member(1, ALICE, "Admin"), member(2, ERIN))}, **on("2026-01-11"))
    assert [op.action for op in plan.operations] == ["delete"]
    assert any("cannot suspend" in m for m in messages(plan, level="warning"))


async def test_the_same_file_and_day_give_the_same_plan_whatever_the_clock():
    cfg = config({ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}, [{"who": ALICE, "role": "Admin"}, {"who": ERIN}],
                 policy={"offboarding": {"suspend_first": True, "remove_after_days": 30}})
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN))
    async with Session(cfg, emulators={"svc": emu}, environ={}, today=__import__("datetime").date(2026, 1, 20)) as s:
        first, _ = await s.make_plan()
    second = await make_plan(cfg, {"svc": emu}, **on("2026-01-20"))
    assert [o.to_dict() for o in first.operations] == [o.to_dict() for o in second.operations]


# ---- expiring grants ------------------------------------------------------------------------

async def test_an_expired_membership_entry_is_removed_and_says_when_it_expired():
    cfg = config({ALICE: {}, ERIN: {}}, [{"who": ALICE, "role": "Admin"}, {"who": ERIN, "expires": "2026-03-31"}])
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN))
    assert (await make_plan(cfg, {"svc": emu}, **on("2026-03-01"))).operations == []
    warned = await make_plan(cfg, {"svc": emu}, **on("2026-03-20"))
    assert warned.operations == [] and any("expires on 2026-03-31 (in 11 day(s))" in m for m in messages(warned))
    assert not messages(await make_plan(cfg, {"svc": emu}, **on("2026-03-01")))  # outside the 14-day window
    plan = await make_plan(cfg, {"svc": emu}, **on("2026-04-01"))
    [op] = plan.operations
    assert op.action == "delete" and op.summary == "removed: expired on 2026-03-31 (services.svc.members[1])"


async def test_group_member_and_person_expiry_and_the_warning_window_is_a_policy():
    cfg = config({ALICE: {}, ERIN: {}, ROBERT: {"expires": "2026-05-01"}},
                 [{"who": ALICE, "role": "Admin"}, {"who": "group:temps"}, {"who": ROBERT}],
                 groups={"temps": [{"who": ERIN, "expires": "2026-05-10"}]}, policy={"expiry_warning_days": 60})
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN), member(3, ROBERT))
    early = await make_plan(cfg, {"svc": emu}, **on("2026-03-15"))
    said = messages(early, level="warning")
    assert any("robert@example.com's access" in m and "2026-05-01" in m for m in said), said
    assert any("group temps ends on 2026-05-10" in m for m in said), said
    between = await make_plan(cfg, {"svc": emu}, **on("2026-05-05"))
    assert [(o.action, o.key) for o in between.operations] == [("delete", ROBERT)]
    assert between.operations[0].summary == "removed: expired on 2026-05-01"
    after = await make_plan(cfg, {"svc": emu}, **on("2026-05-11"))
    assert sorted((o.action, o.key) for o in after.operations) == [("delete", ERIN), ("delete", ROBERT)]


def test_dates_are_checked_with_their_location():
    doc = {"version": 1, "people": {ALICE: {"offboarded": "last week"}, ERIN: {}},
           "groups": {"team": [{"who": ERIN, "expires": "2026-13-01"}]},
           "services": {"svc": {"provider": "fake", "sandbox": True,
                                "members": [{"who": ERIN, "expires": "soon"}]}}}
    found = problems(doc)
    assert any(":4:" in p and "people.alice@example.com.offboarded" in p and "YYYY-MM-DD" in p for p in found), found
    assert any("groups.team[0].expires" in p for p in found), found
    assert any("services.svc.members[0].expires: 'soon' is not a date" in p for p in found), found


def test_today_from_the_environment_must_be_a_date():
    cfg = config({ALICE: {}}, [{"who": ALICE, "role": "Admin"}])
    with pytest.raises(ConfigError, match="TEAMFORM_TODAY"):
        Session(cfg, environ={"TEAMFORM_TODAY": "tomorrow"})


async def test_offboarding_removes_even_where_the_service_is_not_authoritative():
    cfg = config({ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}, [{"who": ALICE, "role": "Admin"}],
                 policy={"authoritative": False})
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN), member(3, "stranger@example.com"))
    plan = await make_plan(cfg, {"svc": emu}, **on("2026-01-10"))
    assert [(o.action, o.key) for o in plan.operations] == [("delete", ERIN)]  # the stranger stays


async def test_the_acting_identity_is_never_offboarded_by_a_date():
    class Acting(FakeProvider):
        async def fetch(self):
            state = await super().fetch()
            state.facts["identity"] = ERIN
            return state

    cfg = config({ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}, [{"who": ALICE, "role": "Admin"}],
                 providers={"fake": Acting})
    plan = await make_plan(cfg, {"svc": emulator(member(1, ALICE, "Admin"), member(2, ERIN))}, **on("2026-02-01"))
    assert plan.operations == [] and any("lockout" in w for w in plan.warnings)


def test_validate_prints_the_notes_for_lines_that_still_name_an_offboarded_person(tmp_path, monkeypatch):
    from pathlib import Path

    from click.testing import CliRunner

    from teamform.cli import cli

    monkeypatch.chdir(tmp_path)
    example = (Path(__file__).resolve().parent.parent / "teams.example.yaml").read_text()
    (tmp_path / "teams.yaml").write_text(example)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert "services.scim.users[6].who: note: trent@example.com is offboarded (2025-03-31)" in result.output
    gone = example.replace("  trent@example.com: {name: Trent Oak, offboarded: 2025-03-31}\n", "")
    (tmp_path / "teams.yaml").write_text(gone)
    refused = CliRunner().invoke(cli, ["validate"])
    assert refused.exit_code == 1 and "add offboarded: YYYY-MM-DD" in refused.output, refused.output


def test_remove_after_days_without_suspend_first_is_a_located_error():
    doc = {"version": 1, "people": {ALICE: {}},
           "services": {"svc": {"provider": "fake", "sandbox": True, "members": [{"who": ALICE}],
                                "policy": {"offboarding": {"remove_after_days": 30}}}}}
    [found] = problems(doc)
    assert "services.svc.policy.offboarding" in found and "add suspend_first: true" in found


async def test_resuming_a_saved_plan_after_its_rename_was_done_is_not_drift():
    import json

    from teamform.plan import stale
    from teamform.render import render_json
    from teamform.testing import no_sleep

    cfg = config({ALICE: {}, ROBERT: {"previously": [BOB]}, ERIN: {}},
                 [{"who": ALICE, "role": "Admin"}, {"who": ROBERT}, {"who": ERIN}])
    emu = emulator(member(1, ALICE, "Admin"), member(2, BOB))
    async with Session(cfg, emulators={"svc": emu}, sleep=no_sleep, environ={}) as session:
        saved, _ = await session.make_plan()
        [rename] = [op for op in saved.operations if op.renamed_from]
        text = render_json(saved)
        await session.providers["svc"].apply(rename)  # done and journaled; the run then stopped
        fresh, live = await session.make_plan()
    found = stale.check(type(saved).from_dict(json.loads(text)), fresh, live, allow_unrelated=False,
                        done={rename.id: "r1"})
    assert not found.changes and [op.key for op in found.plan.operations] == [ERIN]


async def test_offboarding_never_removes_or_suspends_the_identity_teamform_acts_as():
    """The key's owner (GET /me) marked offboarded: the lockout guard wins, with a finding."""
    people = {ALICE: {}, ERIN: {"offboarded": "2026-01-10"}}
    cfg = config(people, [{"who": ALICE, "role": "Admin"}, {"who": ERIN, "role": "Admin"}],
                 policy={"offboarding": {"suspend_first": True}})
    emu = emulator(member(1, ALICE, "Admin"), member(2, ERIN, "Admin"))
    emu.state["me"] = ERIN
    plan = await make_plan(cfg, {"svc": emu}, **on("2026-01-20"))
    assert plan.operations == [], [op.id for op in plan.operations]
    assert any(f.code == "lockout" for s in plan.services for f in s.findings), messages(plan)
