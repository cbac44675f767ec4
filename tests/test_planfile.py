"""A saved plan file is untrusted input: every tampering gives a located error, never a traceback,
and a fuzzed plan file is either a valid plan or refused."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine_fixtures import fake_config, fake_emulator, member
from teamform.plan import planfile
from teamform.render import render
from teamform.testing import make_plan


@pytest.fixture(scope="module")
def saved() -> dict:
    import asyncio

    emu = fake_emulator(member(1, "alice@example.com", "Admin"), member(2, "carol@example.com"), seats=2)
    cfg = fake_config([{"who": "alice@example.com", "role": "Admin"}, {"who": "bob@example.com"}], seats=3)
    plan = asyncio.run(make_plan(cfg, {"svc": emu}))
    assert len(plan.operations) == 3
    return json.loads(render(plan, "json"))


def first_op(doc: dict) -> dict:
    return doc["services"][0]["operations"][0]


TAMPERINGS = {
    "an unknown action": (lambda d: first_op(d).update(action="drop_table"), "operations[0].action"),
    "a wrong type": (lambda d: first_op(d).update(depends_on="everything"), "operations[0].depends_on"),
    "an id that says something else": (lambda d: first_op(d).update(id="svc:member[x]:delete"), "does not match"),
    "a dependency on nothing": (lambda d: first_op(d).setdefault("depends_on", []).append("svc:member[ghost]:create"),
                                "is not an operation of this plan"),
    "a cycle": (lambda d: [op.update(depends_on=[o["id"] for o in d["services"][0]["operations"] if o is not op])
                           for op in d["services"][0]["operations"]], "form a cycle"),
    "a create without its after": (lambda d: [op.update(after=None) for op in d["services"][0]["operations"]
                                              if op["action"] == "create"], "needs"),
    "another version": (lambda d: d.update(format_version=99), "format_version"),
    "an operation of another service": (lambda d: first_op(d).update(service="other"), "does not match"),
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_a_tampered_plan_file_is_refused_with_where(saved, name, tmp_path):
    edit, expected = TAMPERINGS[name]
    doc = copy.deepcopy(saved)
    edit(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(planfile.PlanFileError) as caught:
        planfile.load(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_the_untampered_plan_file_loads_as_it_was_saved(saved, tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(saved))
    assert json.loads(render(planfile.load(path), "json")) == saved


def test_deep_nesting_and_devices_are_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(planfile.PlanFileError):
        planfile.load(deep)
    with pytest.raises(planfile.PlanFileError, match="not a regular file"):
        planfile.load("/dev/zero")


def test_a_plan_naming_a_device_as_its_state_file_is_refused_cleanly(saved, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from teamform.cli import cli

    doc = copy.deepcopy(saved)
    doc["state_file"] = "/dev/zero"
    (tmp_path / "plan.json").write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["apply", "plan.json", "--journal", "-"])
    assert result.exit_code == 1 and "not a regular file" in result.output


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_plan_files_are_a_plan_or_a_located_refusal(saved, data):
    """The quick run of bench/fuzz_planfiles.py: replace one value anywhere with random JSON."""
    doc = copy.deepcopy(saved)
    paths = [p for p in _paths(doc) if p]
    where = data.draw(st.sampled_from(paths))
    parent = doc
    for part in where[:-1]:
        parent = parent[part]
    parent[where[-1]] = data.draw(JSON)
    try:
        planfile.parse(doc)
    except planfile.PlanFileError as exc:
        assert exc.problems


def test_a_plans_repr_stays_short_whatever_its_size(saved, tmp_path):
    """asyncio formats the task that returned a plan when ``plan`` ends; spelling every operation
    there took seconds at 100,000 people."""
    path = tmp_path / "plan.json"
    doc = copy.deepcopy(saved)
    path.write_text(json.dumps(doc))
    plan = planfile.load(path)
    plan.services[0].operations *= 1000
    assert len(repr(plan)) < 200 and "3000 operations" in repr(plan)
