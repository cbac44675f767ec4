"""WorkDrive end to end against its emulator: bulk calls, head swaps, departments deleted with
members, ordering by reports-to, lost answers, and plan/apply/plan-empty."""

from pathlib import Path

import yaml

from teamform.testing import converge, load, make_plan, plan_apply
from teamform_workdrive.emulator import WorkDriveEmulator, new_user, uid

ENV = {"WD_KEY": "k"}
HEAD = """
version: 1
people:
{people}
services:
  wd:
    provider: workdrive
    base_url: https://wd.example.com/api
    credentials: {{api_key: env:WD_KEY}}
    policy: {{max_removals: 50%}}
{section}
"""


def state_file(emails, section: dict):
    people = "\n".join(f"  {e}: {{name: {e.split('@')[0].title()} Test}}" for e in emails)
    body = "\n".join("    " + line for line in yaml.safe_dump(section, sort_keys=False).splitlines())
    return load(HEAD.format(people=people, section=body))


def org(users=(), departments=(), locations=(), groups=(("Everyone", ()),)):
    return {"api_key": "k", "users": {u["id"]: u for u in users},
            "departments": {d[0]: {"id": d[0], "name": d[1], "heads": list(d[2])} for d in departments},
            "locations": {x[0]: {"id": x[0], "name": x[1]} for x in locations},
            "groups": {uid(40 + i): {"id": uid(40 + i), "name": g, "members": list(m)} for i, (g, m) in enumerate(groups)},
            "next_id": 1000}


def writes(emu):
    return [(e.method, e.path) for e in emu.log if e.method != "GET"]


async def test_200_new_people_go_out_as_bulk_calls():
    people = [f"p{i:03d}@example.com" for i in range(200)]
    section = {"users": [{"who": "boss@example.com", "designation": "CEO"}]
               + [{"who": p, "designation": "Staff", "reports_to": "boss@example.com"} for p in people],
               "departments": {"Eng": {"heads": ["boss@example.com"], "members": people[:150]},
                               "Ops": {"heads": [people[150]], "members": people[151:]}},
               "locations": {"Berlin": people[:100], "Remote": people[100:]},
               "security_groups": {"Everyone": people}}
    config = state_file(["boss@example.com", *people], section)
    emu = WorkDriveEmulator(org())
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert plan.counts()["create"] == 1 + 200 + 2 + 2 + 201 + 200 + 200  # every person's change is shown
    assert report.ok, report.by_status("failed")
    assert not emu.calls("POST", "/users/add$")
    assert len(emu.calls("POST", "/users/bulk-create$")) == 3  # the boss, then 100 + 100 who report to her
    assert len(writes(emu)) <= 16, writes(emu)
    assert not [e for e in emu.log if e.status >= 400]
    assert len(emu.state["users"]) == 201
    assert (await make_plan(config, {"wd": emu}, environ=ENV)).operations == []


async def test_reports_to_target_is_created_first():
    config = state_file(["a@example.com", "b@example.com"],
                        {"users": [{"who": "b@example.com", "reports_to": "a@example.com"}, {"who": "a@example.com"}]})
    emu = WorkDriveEmulator(org())
    await plan_apply(config, {"wd": emu}, environ=ENV)
    first, second = (e.body for e in emu.calls("POST", "/users/bulk-create$"))
    assert "a@example.com" in first and "b@example.com" in second
    users = {u["email"]: u for u in emu.state["users"].values()}
    assert users["b@example.com"]["reportsTo"] == users["a@example.com"]["id"]


def eng(heads, members=()):
    users = [new_user(uid(1), "old@example.com", department=uid(20)),
             new_user(uid(2), "new@example.com", department=uid(20)),
             *[new_user(uid(3 + i), m, department=uid(20)) for i, m in enumerate(members)]]
    return org(users, departments=[(uid(20), "Eng", heads)])


async def test_head_swap_adds_the_new_head_before_removing_the_old():
    emu = WorkDriveEmulator(eng([uid(1)]))
    config = state_file(["old@example.com", "new@example.com"],
                        {"departments": {"Eng": {"heads": ["new@example.com"], "members": ["old@example.com"]}}})
    assert await converge(config, {"wd": emu}, environ=ENV) and True
    heads = [(e.body, e.status) for e in emu.calls("PATCH", "/admin$")]
    assert [b for b, _ in heads] == ['{"add":[{"id":"%s","isAdmin":true,"isDepartmentHead":false,'
                                     '"existingDept":"%s"}]}' % (uid(2), uid(20)), '{"remove":"%s"}' % uid(1)]
    assert all(status == 200 for _, status in heads)
    assert emu.state["departments"][uid(20)]["heads"] == [uid(2)]


async def test_a_new_user_can_become_the_head_before_the_old_one_leaves():
    emu = WorkDriveEmulator(eng([uid(1)]))
    config = state_file(["new@example.com", "fresh@example.com"],
                        {"departments": {"Eng": {"heads": ["fresh@example.com"], "members": ["new@example.com"]}}})
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    order = [p for _, p in writes(emu)]
    assert order.index("/api/users/bulk-create") < order.index(f"/api/departments/{uid(20)}/members")
    assert order.index(f"/api/departments/{uid(20)}/members") < order.index("/api/users/bulk-delete")


async def test_a_department_is_deleted_after_its_members_move_or_leave():
    users = [new_user(uid(1), "head@example.com", department=uid(21)),
             new_user(uid(2), "mover@example.com", department=uid(21)),
             new_user(uid(3), "stayer@example.com", department=uid(21)),
             new_user(uid(4), "boss@example.com", department=uid(20))]
    emu = WorkDriveEmulator(org(users, departments=[(uid(20), "Eng", [uid(4)]), (uid(21), "Sales", [uid(1)])]))
    config = state_file(["head@example.com", "mover@example.com", "stayer@example.com", "boss@example.com"],
                        {"users": [{"who": "head@example.com"}, {"who": "stayer@example.com"}],
                         "departments": {"Eng": {"heads": ["boss@example.com"], "members": ["mover@example.com"]}}})
    plan = await make_plan(config, {"wd": emu}, environ=ENV)
    assert not plan.errors
    assert await converge(config, {"wd": emu}, environ=ENV) is not None
    assert [e for e in emu.log if e.status >= 400] == []
    order = [(m, p) for m, p in writes(emu)]
    leave = order.index(("POST", f"/api/departments/{uid(21)}/members"))
    join = order.index(("POST", f"/api/departments/{uid(20)}/members"))
    delete = order.index(("DELETE", f"/api/departments/{uid(21)}"))
    # the mover's join moves them (existingDept): only the delete must wait for both calls
    assert leave < delete and join < delete
    assert "Sales" not in [d["name"] for d in emu.state["departments"].values()]
    assert emu.state["users"][uid(2)]["department"] == uid(20) and emu.state["users"][uid(1)]["department"] is None


async def test_people_swapping_departments_and_locations_take_one_members_call_per_place():
    """The members call takes addMembers and removeMembers together, and a join moves a user out
    of their old department (existingDept) or location (a user has one): Ann and Ben swap both,
    Cy leaves the company, Dee (no department or location yet) joins. One call per place."""
    users = [new_user(uid(1), "head-a@example.com", department=uid(20)),
             new_user(uid(2), "head-b@example.com", department=uid(21)),
             new_user(uid(3), "ann@example.com", department=uid(20), location=uid(30)),
             new_user(uid(4), "ben@example.com", department=uid(21), location=uid(31)),
             new_user(uid(5), "cy@example.com", department=uid(20), location=uid(31)),
             new_user(uid(6), "dee@example.com")]
    emu = WorkDriveEmulator(org(users, departments=[(uid(20), "A", [uid(1)]), (uid(21), "B", [uid(2)])],
                                locations=[(uid(30), "Here"), (uid(31), "There")]))
    people = ["head-a@example.com", "head-b@example.com", "ann@example.com", "ben@example.com", "dee@example.com"]
    config = state_file(people, {
        "users": [{"who": "head-a@example.com"}, {"who": "head-b@example.com"}],
        "departments": {"A": {"heads": ["head-a@example.com"], "members": ["ben@example.com", "dee@example.com"]},
                        "B": {"heads": ["head-b@example.com"], "members": ["ann@example.com"]}},
        "locations": {"Here": ["ben@example.com"], "There": ["ann@example.com", "dee@example.com"]}})
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    bodies = {p: [e.body for e in emu.calls("POST", p + "$")] for p in (
        f"/departments/{uid(20)}/members", f"/departments/{uid(21)}/members",
        f"/locations/{uid(30)}/members", f"/locations/{uid(31)}/members")}
    assert all(len(sent) == 1 for sent in bodies.values()), bodies
    [to_a] = bodies[f"/departments/{uid(20)}/members"]
    assert '"addMembers"' in to_a and '"removeMembers"' in to_a and uid(5) in to_a and uid(6) in to_a
    state = emu.state["users"]
    assert [state[uid(i)]["department"] for i in (3, 4, 6)] == [uid(21), uid(20), uid(20)]
    assert [state[uid(i)]["location"] for i in (3, 4, 6)] == [uid(31), uid(30), uid(31)]
    assert (await make_plan(config, {"wd": emu}, environ=ENV)).operations == []


async def test_a_head_moving_departments_still_leaves_before_joining():
    """A head's leave waits for their department's new head (the guard) and comes before their
    join elsewhere, so a department is never left without a head half-way."""
    users = [new_user(uid(1), "mover@example.com", department=uid(20)),
             new_user(uid(2), "next@example.com", department=uid(20)),
             new_user(uid(3), "head-b@example.com", department=uid(21))]
    emu = WorkDriveEmulator(org(users, departments=[(uid(20), "A", [uid(1)]), (uid(21), "B", [uid(3)])]))
    config = state_file(["mover@example.com", "next@example.com", "head-b@example.com"], {
        "departments": {"A": {"heads": ["next@example.com"]},
                        "B": {"heads": ["head-b@example.com"], "members": ["mover@example.com"]}}})
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    order = [p for _, p in writes(emu)]
    assert order.index(f"/api/departments/{uid(20)}/admin") < order.index(f"/api/departments/{uid(20)}/members") \
        < order.index(f"/api/departments/{uid(21)}/members")
    assert not [e for e in emu.log if e.status >= 400]


async def test_a_location_already_deleted_counts_as_done():
    emu = WorkDriveEmulator(org([new_user(uid(1), "a@example.com", "A", "Test")], locations=[(uid(30), "Old")]))
    emu.inject(kind="status", status=404, method="DELETE", path=f"/locations/{uid(30)}$")
    plan, report = await plan_apply(state_file(["a@example.com"], {"users": [{"who": "a@example.com"}]}),
                                    {"wd": emu}, environ=ENV)
    assert [op.id for op in plan.operations] == ["wd:location[Old]:delete"]
    assert report.ok and report.results[0].message.startswith("already gone")


async def test_a_lost_bulk_create_answer_is_read_back_not_repeated():
    emu = WorkDriveEmulator(org())
    emu.inject(kind="drop", method="POST", path="/users/bulk-create$")
    config = state_file(["a@example.com", "b@example.com"], {"users": [{"who": "a@example.com"}, {"who": "b@example.com"}]})
    nxt = await converge(config, {"wd": emu}, environ=ENV)
    assert nxt.operations == [] and len(emu.calls("POST", "/users/bulk-create$")) == 1
    assert len(emu.state["users"]) == 2


async def test_the_example_file_converges_in_the_sandbox(tmp_path: Path, example_text):
    config = load(example_text)
    emu = WorkDriveEmulator()
    nxt = await converge(config, {"workdrive": emu}, services=["workdrive"])
    assert nxt.operations == [] and not nxt.errors
    assert [e for e in emu.log if e.status >= 400] == []
    names = {u["email"].lower(): u["status"] for u in emu.state["users"].values()}
    assert names["mallory@example.com"] == "ARCHIVE" and "pat@example.com" not in names


async def test_new_users_with_a_supervisor_are_placed_by_the_bulk_create_itself():
    """The create call takes department, isDepartmentHead and location: new users who name their
    supervisor go into existing places in that one call (no members calls). Without reportsTo
    the document makes the place's admins their boss, so a user who names none joins by the
    members call, and their supervisor stays as the file has it (none)."""
    users = [new_user(uid(1), "boss@example.com", department=uid(20), location=uid(30))]
    emu = WorkDriveEmulator(org(users, departments=[(uid(20), "Eng", [uid(1)])], locations=[(uid(30), "Berlin")]))
    people = ["boss@example.com", "ann@example.com", "ben@example.com", "cy@example.com"]
    config = state_file(people, {
        "users": [{"who": "ann@example.com", "reports_to": "boss@example.com"},
                  {"who": "ben@example.com", "reports_to": "boss@example.com"}, {"who": "cy@example.com"}],
        "departments": {"Eng": {"heads": ["boss@example.com"], "members": people[1:]}},
        "locations": {"Berlin": people}})
    plan, report = await plan_apply(config, {"wd": emu}, environ=ENV)
    assert report.ok, report.by_status("failed")
    [created] = [e.body for e in emu.calls("POST", "/users/bulk-create$")]
    assert created.count(f'"department":"{uid(20)}"') == 2 and created.count(f'"location":"{uid(30)}"') == 2
    ids = {u["email"]: u["id"] for u in emu.state["users"].values()}
    [to_eng] = [e.body for e in emu.calls("POST", f"/departments/{uid(20)}/members$")]
    [to_berlin] = [e.body for e in emu.calls("POST", f"/locations/{uid(30)}/members$")]
    assert ids["cy@example.com"] in to_eng and ids["cy@example.com"] in to_berlin
    assert ids["ann@example.com"] not in to_eng + to_berlin and ids["ben@example.com"] not in to_eng + to_berlin
    assert {u["email"]: (u["department"], u["location"], u["reportsTo"]) for u in emu.state["users"].values()} == {
        "boss@example.com": (uid(20), uid(30), None), "ann@example.com": (uid(20), uid(30), uid(1)),
        "ben@example.com": (uid(20), uid(30), uid(1)), "cy@example.com": (uid(20), uid(30), None)}
    assert (await make_plan(config, {"wd": emu}, environ=ENV)).operations == []
