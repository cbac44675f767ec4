"""The live state's index and fingerprints, as the planner and a saved plan use them."""

from __future__ import annotations

import hashlib
import json

import pytest

from teamform.model import Ref, Resource, State, fingerprint_of
from teamform.plan.ops import ServicePlan


def _state() -> State:
    return State([
        Resource("team", "core", {"name": "Core"}, id=7),
        Resource("member", "a@x", {"role": "admin"}, refs=(Ref("user", "a@x"), Ref("team", "core")), id="m1"),
        Resource("user", "a@x", {"name": "A"}, pending=True),
        Resource("member", "a@x.y", {"role": "member", "big": 2 ** 70}),  # past what orjson writes
        Resource("member", "b[1]@x", {"role": "member"}),
    ])


def _by_hand(res: Resource) -> str:
    """The fingerprint as saved plans have always recorded it (json, sorted keys, compact)."""
    body = {"attrs": res.attrs, "refs": sorted([r.kind, r.key] for r in res.refs), "pending": res.pending,
            "id": res.id}
    blob = json.dumps(body, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def test_fingerprints_are_what_saved_plans_recorded() -> None:
    state = _state()
    assert state.fingerprints() == {str(r.ref): _by_hand(r) for r in state}
    assert state.fingerprints() == {str(r.ref): r.fingerprint() for r in state}


def test_a_whole_state_fingerprint_hashes_the_sorted_pairs() -> None:
    state = _state()
    # sorted as "kind[key]" strings ("member[a@x.y]" before "member[a@x]"), not as (kind, key)
    pairs = sorted((str(r.ref), _by_hand(r)) for r in state)
    expected = hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()[:16]
    assert state.fingerprint() == fingerprint_of(state.fingerprints()) == expected


def test_a_service_plan_writes_its_fingerprints_by_kind_and_reads_them_back() -> None:
    seen = _state().fingerprints()
    sp = ServicePlan("svc", "fake", live_resources=seen)
    data = json.loads(json.dumps(sp.to_dict()))
    assert list(data["live_resources"]) == ["team", "member", "user"]  # as the resources first appear
    assert data["live_resources"]["member"]["b[1]@x"] == seen["member[b[1]@x]"]
    assert ServicePlan.from_dict(data).live_resources == seen


def test_changed_replaces_in_place_drops_and_appends_in_order() -> None:
    state = _state()
    state.facts["seats"] = 3
    new_role = Resource("member", "a@x", {"role": "member"}, refs=(Ref("user", "a@x"), Ref("team", "core")))
    added = Resource("user", "c@x", {"name": "C"})
    moved = Resource("member", "b[1]@x", {"role": "owner"})  # dropped, then put back: it goes last
    out = state.changed([new_role, added, moved], drop=[Ref("team", "core"), Ref("member", "b[1]@x")])
    assert [str(r.ref) for r in out] == ["member[a@x]", "user[a@x]", "member[a@x.y]", "user[c@x]", "member[b[1]@x]"]
    assert out.get(Ref("member", "a@x")) is new_role
    assert Ref("team", "core") not in out
    assert [r.key for r in out.of_kind("member")] == ["a@x", "a@x.y", "b[1]@x"]
    assert [r.key for r in out.of_kind("user")] == ["a@x", "c@x"]
    assert out.of_kind("team") == []
    assert out.facts == {"seats": 3}
    # the state it came from is as it was
    assert len(state) == 5 and state.get(Ref("member", "a@x")).attrs == {"role": "admin"}
    assert Ref("team", "core") in state and state.of_kind("team")
    out.add(Resource("team", "other"))
    assert Ref("team", "other") not in state


def test_by_ref_is_a_read_only_view() -> None:
    state = _state()
    view = state.by_ref
    assert view.get(Ref("user", "a@x")) is state.get(Ref("user", "a@x"))
    with pytest.raises(TypeError):
        view[Ref("user", "z@x")] = Resource("user", "z@x")  # type: ignore[index]


def test_a_resource_without_private_data_shares_one_read_only_empty_meta():
    import copy
    import pickle

    from teamform.model import NO_META

    plain, private = Resource("user", "a@x"), Resource("user", "b@x", meta={"etag": "1"})
    assert plain.meta is NO_META and not plain.meta and dict(plain.meta) == {}
    with pytest.raises(TypeError):
        plain.meta["x"] = 1  # type: ignore[index]  # a provider's private data is a dict of its own
    for again in (copy.copy(plain), copy.deepcopy(plain), pickle.loads(pickle.dumps(plain))):
        assert again.meta is NO_META
    assert Resource.from_dict(plain.to_dict()).meta is NO_META and "meta" not in plain.to_dict()
    assert Resource.from_dict(private.to_dict()).meta == {"etag": "1"}
