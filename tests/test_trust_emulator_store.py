"""The sandbox's state files under concurrent use: several emulators (as in several processes)
on one store file never lose each other's changes, never share a temporary file, and a reader
never sees half a file."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx

from teamform.testing.fake_emulator import API_KEY, FakeEmulator


def _client(emulator: FakeEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=emulator.transport(), base_url="http://fake", headers={"X-Api-Key": API_KEY})


async def _add(emulator: FakeEmulator, emails: list[str]) -> list[int]:
    async with _client(emulator) as client:
        return [(await client.post("/members", json={"email": e})).status_code for e in emails]


def test_two_writers_on_one_store_lose_nothing_and_leave_no_temporary_file(tmp_path):
    store = tmp_path / "sandbox" / "fake.json"
    first = FakeEmulator(store=store)
    first.state["seats"] = 500
    first.save()
    writers = [FakeEmulator(store=store) for _ in range(4)]  # each as another process would: its own lock
    statuses: list[list[int]] = [[] for _ in writers]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            statuses[i] = asyncio.run(_add(writers[i], [f"w{i}-{n}@example.com" for n in range(25)]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(s == [201] * 25 for s in statuses)
    emails = {m["email"] for m in json.loads(store.read_text())["members"]}
    assert len(emails) == 1 + 4 * 25  # the seeded Admin and every writer's 25
    ids = [m["id"] for m in json.loads(store.read_text())["members"]]
    assert len(ids) == len(set(ids))  # ids handed out from the shared counter, never twice
    assert sorted(p.name for p in store.parent.iterdir()) == ["fake.json", "fake.json.lock"]


async def test_a_reader_sees_another_process_change_and_its_own_requests_do_not_undo_it(tmp_path):
    """`plan` in one terminal (reads, and a POST that changes nothing) while another applies."""
    store = tmp_path / "fake.json"
    reader = FakeEmulator(store=store)
    writer = FakeEmulator(store=store)
    assert await _add(writer, ["bob@example.com"]) == [201]
    async with _client(reader) as client:
        listed = (await client.get("/members")).json()["items"]
        assert [m["email"] for m in listed] == ["alice@example.com", "bob@example.com"]
        # a refused write changes nothing and writes nothing
        assert (await client.post("/members", json={"email": "bob@example.com"})).status_code == 409
    assert await _add(writer, ["carol@example.com"]) == [201]
    assert [m["email"] for m in json.loads(store.read_text())["members"]] == [
        "alice@example.com", "bob@example.com", "carol@example.com"]


def test_the_store_is_replaced_whole_and_explicit_saves_still_write(tmp_path):
    store = tmp_path / "fake.json"
    emulator = FakeEmulator(store=store)
    inode = store.stat().st_ino
    emulator.state["seats"] = 9
    emulator.save()
    assert json.loads(store.read_text())["seats"] == 9 and store.stat().st_ino != inode
    assert FakeEmulator(store=store).state["seats"] == 9
