"""The cycle collector kept off large data: its settings come back as they were, short-lived cycles
are still collected while full collections wait, data set aside keeps no garbage, and a session
that is dropped is freed at once (no cycle holds its providers and directory until a full pass)."""

from __future__ import annotations

import gc
import weakref

import pytest
from engine_fixtures import fake_config, fake_emulator, member

from teamform import gcpause
from teamform.gcpause import collector_paused
from teamform.session import Session


class Node:
    """A container the collector tracks, which can be made into a cycle and be weakly referred to."""

    def __init__(self) -> None:
        self.other: Node | None = None


def garbage_cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def collector():
    """The collector as a test left it, put back: enabled, nothing frozen."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.enable()
    gc.unfreeze()


def test_the_collector_comes_back_as_it_was(collector):
    thresholds = gc.get_threshold()
    for young in (False, True):
        with collector_paused(young=young):
            pass
        assert gc.isenabled() and gc.get_threshold() == thresholds
    gc.disable()
    with collector_paused(young=True):
        assert not gc.isenabled()
    assert not gc.isenabled()  # off stays off


def test_a_young_block_still_collects_short_lived_cycles(collector):
    with collector_paused(young=True):
        cycle = garbage_cycle()
        keep = [Node() for _ in range(20_000)]  # enough new objects for the young collections to run
        assert cycle() is None
    del keep


def test_a_paused_block_collects_nothing_until_it_ends(collector):
    with collector_paused():
        cycle = garbage_cycle()
        keep = [Node() for _ in range(20_000)]
        assert cycle() is not None
    del keep
    gc.collect()
    assert cycle() is None


def test_a_large_block_set_aside_keeps_its_data_not_its_garbage(collector, monkeypatch):
    monkeypatch.setattr(gcpause, "LARGE", 1_000)
    frozen = gc.get_freeze_count()
    with collector_paused(set_aside=True):
        cycle = garbage_cycle()
        data = [Node() for _ in range(5_000)]
    assert cycle() is None  # collected once at the end, not frozen for the rest of the process
    assert gc.get_freeze_count() >= frozen + len(data)


def test_a_small_block_sets_nothing_aside(collector):
    frozen = gc.get_freeze_count()
    with collector_paused(set_aside=True):
        data = [Node() for _ in range(100)]
    assert gc.get_freeze_count() == frozen and data


async def test_a_session_dropped_is_freed_without_the_collector(collector):
    waits = []
    session = Session(fake_config([{"who": "alice@example.com", "role": "Admin"}]),
                      emulators={"svc": fake_emulator(member(1, "alice@example.com", "Admin"))}, environ={})
    session.on_wait = lambda service, wait: waits.append(service)
    async with session:
        plan, _ = await session.make_plan()
    gone, directory = weakref.ref(session), weakref.ref(session.directory)
    gc.disable()
    del session
    assert gone() is None and directory() is None


async def test_an_answer_read_is_freed_without_the_collector(collector):
    """httpx's stream points back at its response: left so, every answer (its body with it) would
    wait for a full collection, which large runs put off."""
    import httpx

    from teamform.http import open_client

    inner = httpx.MockTransport(lambda request: httpx.Response(200, json={"items": list(range(1000))}))
    async with open_client("http://svc.test/api", inner=inner) as client:
        response = await client.get("/users")
        assert response.json()["items"][-1] == 999
        gone = weakref.ref(response)
        gc.disable()
        del response
        assert gone() is None
