"""The recording store on SQLite and PostgreSQL: tenant-scoped filters in SQL give what
``RecordingQuery.matches`` decides in Python."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator

import pytest

from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.recordings import RecordingSnapshot, meta_matches, recording_block
from bbbfleet.storage.recordings import CENTRAL, RecordingEntry, RecordingFilter
from bbbfleet.storage.repository import Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store.open(database_url)
    await s.db.upgrade()
    await s.tenants.add("alpha", "alpha-secret-000000")
    await s.tenants.add("beta", "beta-secret-0000000")
    await s.servers.add("one", "http://one/bigbluebutton/api/", "s1", capacity=10)
    try:
        yield s
    finally:
        await s.close()


def record_id(meeting: str, n: int) -> str:
    return f"{hashlib.sha1(meeting.encode()).hexdigest()}-{1700000000000 + n}"


def entry(
    tenant_id: int,
    meeting: str,
    n: int,
    state: str = rec.PUBLISHED,
    metadata: tuple[tuple[str, str], ...] | None = (),
    server_id: int | None = 1,
) -> RecordingEntry:
    backend = f"bf{tenant_id}-{meeting}"
    snapshot = RecordingSnapshot(
        record_id=record_id(backend, n),
        meeting_id=meeting,
        name=meeting,
        state=state,
        start_time=1700000000000 + n,
        end_time=1700000000000 + n + 1000,
        participants=2,
        raw_size=10,
        metadata=metadata,
    )
    return RecordingEntry(tenant_id, meeting, backend, server_id, snapshot)


VALUES = ["Greenlight", "greenlight", "Moodle 4", "moodle", "x" * 300, "x" * 300 + "end", ""]


async def test_filters_match_the_python_rules(store: Store) -> None:
    alpha, beta = (await store.tenants.get("alpha")).id, (await store.tenants.get("beta")).id
    entries = [
        entry(
            tenant,
            f"room-{n % 3}",
            n,
            state=[rec.PUBLISHED, rec.UNPUBLISHED, rec.DELETED, rec.PROCESSING][n % 4],
            metadata=None if n % 7 == 6 else (("bbb-origin", VALUES[n % len(VALUES)]),),
        )
        for tenant, n in itertools.product((alpha, beta), range(40))
    ]
    assert await store.recordings.upsert(entries, 1) == len(entries)
    assert await store.recordings.upsert(entries, 2) == 0  # nothing changed: nothing written
    await store.recordings.optimize()  # planner statistics: same answers, faster
    assert await store.recordings.count() == len(entries)
    patterns = [
        "Greenlight",
        "green%",
        "%light",
        "%oodl%",
        "%",
        "%%",
        "x%",
        "%end",
        "x" * 200 + "%",
    ]
    for pattern in patterns:
        for states in (frozenset({rec.PUBLISHED, rec.UNPUBLISHED}), None):
            selection = RecordingFilter(
                tenant_id=alpha, states=states, metadata=(("bbb-origin", pattern),)
            )
            found, total = await store.recordings.search(selection)
            expected = [
                e.snapshot.record_id
                for e in entries
                if e.tenant_id == alpha
                and (states is None or e.snapshot.state in states)
                and e.snapshot.metadata is not None
                and any(
                    k == "bbb-origin" and meta_matches(v, pattern) for k, v in e.snapshot.metadata
                )
            ]
            assert [r.record_id for r in found] == expected, pattern
            assert total == len(expected)
            # the metadata-index path and the general one agree, page by page
            general = RecordingFilter(
                tenant_id=alpha,
                states=states,
                metadata=(("bbb-origin", pattern),),
                meeting_ids=("room-0", "room-1", "room-2"),
            )
            for offset, limit in ((0, 3), (2, 5), (len(expected), 5)):
                fast = await store.recordings.search(selection, offset, limit)
                slow = await store.recordings.search(general, offset, limit)
                assert [r.record_id for r in fast[0]] == [r.record_id for r in slow[0]]
                assert fast[1] == slow[1] == len(expected)
    # meetingID and recordID (prefix; wins over meetingID) filters, pagination
    by_meeting, total = await store.recordings.search(
        RecordingFilter(tenant_id=alpha, meeting_ids=("room-1",)), offset=2, limit=3
    )
    assert total == 13 and [r.meeting_id for r in by_meeting] == ["room-1"] * 3
    first = by_meeting[0].record_id
    for prefix in (first, first[:10], first[:41]):
        found, _ = await store.recordings.search(
            RecordingFilter(tenant_id=alpha, record_prefixes=(prefix,), meeting_ids=("room-0",))
        )
        assert first in [r.record_id for r in found]
        assert all(r.record_id.startswith(prefix) for r in found)
    # another tenant's IDs are not found
    assert await store.recordings.find(beta, [first]) == []
    found, _ = await store.recordings.search(
        RecordingFilter(tenant_id=beta, record_prefixes=(first,))
    )
    assert found == []


async def test_state_meta_location_gone_and_removed_servers(store: Store) -> None:
    alpha = (await store.tenants.get("alpha")).id
    one = entry(alpha, "m", 1, metadata=(("a", "1"), ("b", "2")))
    two = entry(alpha, "m", 2, metadata=None)
    await store.recordings.upsert([one, two], 1)
    ids = [one.snapshot.record_id, two.snapshot.record_id]
    assert await store.recordings.set_state(ids, rec.UNPUBLISHED, 2) == 2
    assert await store.recordings.update_meta(ids, {"b": "", "c": "3", "a": "9"}, 3) == 1
    got = await store.recordings.get(one.snapshot.record_id)
    assert got is not None
    assert got.state == rec.UNPUBLISHED and got.snapshot.metadata == (("a", "9"), ("c", "3"))
    # the stored block follows every change
    for record_id in ids:
        stored = await store.recordings.get(record_id)
        assert stored is not None
        assert stored.block == recording_block(stored.snapshot)
        assert "<state>unpublished</state>" in stored.block
    found, _ = await store.recordings.search(RecordingFilter(alpha, metadata=(("b", "%"),)))
    assert found == []
    found, _ = await store.recordings.search(RecordingFilter(alpha, metadata=(("c", "3"),)))
    assert [r.record_id for r in found] == [one.snapshot.record_id]
    by_c = RecordingFilter(alpha, metadata=(("c", "3"),))
    published = RecordingFilter(alpha, states=frozenset({rec.PUBLISHED}), metadata=(("c", "3"),))
    assert (await store.recordings.search(published))[1] == 0  # the state reached the meta rows
    # gone: hidden unless stored centrally
    assert await store.recordings.server_record_ids(1) == set(ids)
    assert await store.recordings.mark_gone(ids, 4) == 2
    assert await store.recordings.server_record_ids(1) == set()
    assert (await store.recordings.search(by_c))[1] == 0
    assert await store.recordings.set_location(one.snapshot.record_id, CENTRAL)
    found, _ = await store.recordings.search(RecordingFilter(alpha))
    assert [r.record_id for r in found] == [one.snapshot.record_id]
    assert (await store.recordings.search(by_c))[1] == 1
    await store.recordings.set_state([one.snapshot.record_id], rec.PUBLISHED, 5)
    assert (await store.recordings.search(published))[1] == 1
    # seen again: back
    await store.recordings.upsert([two], 5)
    found, _ = await store.recordings.search(RecordingFilter(alpha))
    assert len(found) == 2
    # the server is removed: its recordings stay, with no server
    await store.servers.remove("one", force=True)
    kept = await store.recordings.get(two.snapshot.record_id)
    assert kept is not None and kept.server_id is None


async def test_hashed_meeting_ids_resolve_through_earlier_recordings(store: Store) -> None:
    alpha = (await store.tenants.get("alpha")).id
    long_id = "L" * 300
    backend = f"bf{alpha}-h-{hashlib.sha256(long_id.encode()).hexdigest()}"
    assert await store.recordings.tenant_meeting_id(alpha, backend) is None
    first = entry(alpha, long_id, 1)
    await store.recordings.upsert([RecordingEntry(alpha, long_id, backend, 1, first.snapshot)], 1)
    assert await store.recordings.tenant_meeting_id(alpha, backend) == long_id
