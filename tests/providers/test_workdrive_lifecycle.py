"""WorkDrive and people's lives: an offboarded person archived first (status ARCHIVE), deleted
after policy.offboarding.remove_after_days counted from the date in the file; the older
spelling (offboarding: archive, archive_grace_days) keeps working and does not mix with the new
one; a new address is a new user (the API cannot change an email), warned."""

import pytest
import yaml

from teamform.config import ConfigError
from teamform.testing import converge, load, make_plan
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

ENV = {"WD_KEY": "k"}


def org(users):
    return {"api_key": "k", "users": {u["id"]: u for u in users}, "departments": {}, "locations": {},
            "groups": {uid(40): {"id": uid(40), "name": "Everyone", "members": [u["id"] for u in users]}},
            "next_id": 1000}


def config(people, users, policy):
    doc = {"version": 1, "people": people,
           "services": {"wd": {"provider": "workdrive", "base_url": "https://wd.example.com/api",
                               "credentials": {"api_key": "env:WD_KEY"},
                               "policy": {"max_removals": "50%", **policy}, "users": users}}}
    return load(yaml.safe_dump(doc, sort_keys=False))


def on(day):
    return {"environ": {**ENV, "TEAMFORM_TODAY": day}}


PEOPLE = {"alice@example.com": {"name": "Alice Test"},
          "erin@example.com": {"name": "Erin Test", "offboarded": "2026-01-10"}}
USERS = [{"who": "alice@example.com"}, {"who": "erin@example.com"}]


def emulator():
    return WorkDriveEmulator(org([new_user(uid(1), "alice@example.com", "Alice", "Test"),
                                  new_user(uid(2), "erin@example.com", "Erin", "Test")]))


async def test_an_offboarded_person_is_archived_then_deleted_after_the_days_from_the_file():
    cfg = config(PEOPLE, USERS, {"offboarding": {"suspend_first": True, "remove_after_days": 30}})
    emu = emulator()
    plan = await make_plan(cfg, {"wd": emu}, **on("2026-01-15"))
    [user] = [op for op in plan.operations if op.kind == "user"]
    assert (user.action, user.after.attrs["status"]) == ("update", "ARCHIVE")
    assert (await converge(cfg, {"wd": emu}, **on("2026-01-15"))).operations == []
    assert emu.state["users"][uid(2)]["status"] == "ARCHIVE"
    later = await make_plan(cfg, {"wd": emu}, **on("2026-02-09"))
    assert [(op.action, op.key) for op in later.operations if op.kind == "user"] == [("delete", "erin@example.com")]
    assert (await converge(cfg, {"wd": emu}, **on("2026-02-09"))).operations == []
    assert uid(2) not in emu.state["users"]


async def test_the_older_spelling_archive_with_grace_days_still_stages_an_offboarded_person():
    cfg = config(PEOPLE, USERS, {"offboarding": "archive", "archive_grace_days": 30})
    plan = await make_plan(cfg, {"wd": emulator()}, **on("2026-01-15"))
    [user] = [op for op in plan.operations if op.kind == "user"]
    assert (user.action, user.after.attrs["status"]) == ("update", "ARCHIVE")


async def test_without_suspend_first_an_offboarded_person_is_deleted_at_once():
    plan = await make_plan(config(PEOPLE, USERS, {}), {"wd": emulator()}, **on("2026-01-15"))
    assert [(op.action, op.key) for op in plan.operations if op.kind == "user"] == [("delete", "erin@example.com")]


def test_archive_grace_days_with_the_new_spelling_says_where_the_days_go():
    with pytest.raises(ConfigError) as info:
        config(PEOPLE, USERS, {"offboarding": {"suspend_first": True}, "archive_grace_days": 30})
    [problem] = info.value.problems
    assert problem.path == "services.wd.policy" and "remove_after_days: 30 inside offboarding" in problem.message


async def test_a_new_address_is_a_new_user_and_the_plan_says_what_is_lost():
    people = {"alice@example.com": {"name": "Alice Test"},
              "erin.new@example.com": {"name": "Erin Test", "previously": ["erin@example.com"]}}
    cfg = config(people, [{"who": "alice@example.com"}, {"who": "erin.new@example.com"}], {})
    emu = emulator()
    plan = await make_plan(cfg, {"wd": emu}, **on("2026-01-15"))
    [user] = [op for op in plan.operations if op.kind == "user"]
    assert (user.action, user.renamed_from) == ("replace", "erin@example.com")
    assert "cannot change an email in place" in user.warnings[0] and "their files" in user.warnings[0]
    assert (await converge(cfg, {"wd": emu}, allow_mass_removal=True, **on("2026-01-15"))).operations == []
    assert sorted(u["email"] for u in emu.state["users"].values()) == ["alice@example.com", "erin.new@example.com"]
