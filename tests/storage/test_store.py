"""The storage interface on SQLite and PostgreSQL: same behaviour through the same code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData, text

from bbbfleet.placement import Health, ServerState
from bbbfleet.storage.meetings import PlacementInputs
from bbbfleet.storage.models import Base
from bbbfleet.storage.repository import (
    AlreadyExists,
    Database,
    NewMeeting,
    NotFound,
    ServerPoll,
    StorageError,
    Store,
)
from bbbfleet.storage.servers import HealthUpdate


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store.open(database_url)
    await s.db.upgrade()
    try:
        yield s
    finally:
        await s.close()


def new(tenant_id: int, meeting_id: str, seats: int = 5, created_ms: int = 0) -> NewMeeting:
    return NewMeeting(
        tenant_id,
        meeting_id,
        f"bf{tenant_id}-{meeting_id}",
        f"meetingID={meeting_id}",
        reserved_participants=seats,
        created_ms=created_ms,
    )


def on(server_id: int):  # type: ignore[no-untyped-def]
    return lambda _inputs: server_id


async def test_migrations_produce_the_models_schema(store: Store) -> None:
    def reflect(connection: object) -> MetaData:
        meta = MetaData()
        meta.reflect(bind=connection)  # type: ignore[arg-type]
        return meta

    reflected = await store.db.read(reflect)
    for table in Base.metadata.sorted_tables:
        assert table.name in reflected.tables
        assert set(reflected.tables[table.name].columns.keys()) == set(table.columns.keys())
    assert await store.db.current_revision() == "0007"
    await store.db.upgrade()  # idempotent


async def test_upgrade_from_0001_keeps_data(database_url: str) -> None:
    db = Database(database_url)
    await db.upgrade("0001")
    await db.write(
        lambda conn: conn.execute(
            text(
                "INSERT INTO servers (name, api_url, secret, capacity, enabled) "
                "VALUES ('old', 'https://old/bigbluebutton/api/', 's', 50, false), "
                "('new', 'https://new/bigbluebutton/api/', 's', 60, true)"
            )
        )
    )
    await db.upgrade()
    store = Store(db)
    try:
        states = {s.name: (s.state, s.capacity, s.weight) for s in await store.servers.list()}
        assert states == {
            "old": (ServerState.DISABLED, 50, 1.0),
            "new": (ServerState.ENABLED, 60, 1.0),
        }
    finally:
        await store.close()


async def test_tenants_secrets_and_settings(store: Store) -> None:
    tenant = await store.tenants.add("acme", "s" * 20, hostname="bbb.acme.example")
    assert (await store.tenants.get("acme")).secrets == ("s" * 20,)
    with pytest.raises(AlreadyExists):
        await store.tenants.add("acme", "t" * 20)
    with pytest.raises(AlreadyExists):
        await store.tenants.add("other", "s" * 20)  # a secret belongs to one tenant only
    await store.tenants.add_secret("acme", "n" * 20)
    with pytest.raises(StorageError):
        await store.tenants.remove_secret("acme", "x" * 20)
    await store.tenants.remove_secret("acme", "s" * 20)
    with pytest.raises(StorageError, match="last secret"):
        await store.tenants.remove_secret("acme", "n" * 20)
    configured = await store.tenants.configure(
        "acme", default_participants=20, pool_participants=100
    )
    assert (configured.default_participants, configured.pool_participants) == (20, 100)
    with pytest.raises(StorageError, match="unknown tenant setting"):
        await store.tenants.configure("acme", secret="x")
    assert [t.id for t in await store.tenants.list()] == [tenant.id]
    await store.tenants.remove("acme")
    with pytest.raises(NotFound):
        await store.tenants.get("acme")


async def test_server_lifecycle_and_health(store: Store) -> None:
    server = await store.servers.add(
        "bbb1", "https://bbb1/bigbluebutton/api/", "sec", 50, tags=frozenset({"eu"})
    )
    with pytest.raises(AlreadyExists):
        await store.servers.add("bbb1", "https://other/bigbluebutton/api/", "sec", 50)
    assert (await store.servers.set_weight("bbb1", 0.5)).weight == 0.5
    assert (await store.servers.set_tags("bbb1", frozenset({"gpu", "eu"}))).tags == {"eu", "gpu"}
    assert (
        await store.servers.set_state("bbb1", ServerState.CORDONED)
    ).state is ServerState.CORDONED
    assert await store.servers.disable_if_empty(server.id)
    assert (await store.servers.get("bbb1")).state is ServerState.DISABLED
    await store.servers.record_failure(server.id, "boom")
    assert (await store.servers.get("bbb1")).health is Health.UNSTABLE
    await store.servers.record_health(
        [HealthUpdate(server.id, Health.OFFLINE, 3, 0, 1000, "down", 7, 2)]
    )
    polled = await store.servers.get("bbb1")
    assert (polled.health, polled.failures, polled.polled_ms, polled.live_participants) == (
        Health.OFFLINE,
        3,
        1000,
        7,
    )
    await store.servers.record_failure(server.id, "still down")
    assert (await store.servers.get("bbb1")).health is Health.OFFLINE  # never back to unstable
    with pytest.raises(NotFound):
        await store.servers.set_state("nope", ServerState.ENABLED)


async def test_placement_reserves_and_repeats_agree(store: Store) -> None:
    tenant = await store.tenants.add("acme", "s" * 20)
    server = await store.servers.add("bbb1", "https://bbb1/bigbluebutton/api/", "x", 50)
    seen: list[PlacementInputs] = []

    def decide(inputs: PlacementInputs) -> int:
        seen.append(inputs)
        return server.id

    meeting, created = await store.meetings.place(new(tenant.id, "room", seats=12), decide)
    assert created and meeting.server_id == server.id and meeting.reserved_participants == 12
    again, created_again = await store.meetings.place(new(tenant.id, "room"), decide)
    assert not created_again and again.id == meeting.id and len(seen) == 1
    refused = await store.meetings.place(new(tenant.id, "other"), lambda _i: "full")
    assert refused == "full"
    await store.meetings.place(new(tenant.id, "room2", seats=3), decide)
    assert seen[-1].reserved_by_server == {server.id: 12} and seen[-1].tenant_load == 12
    assert await store.meetings.reserved_by_server() == {server.id: 15}
    assert await store.meetings.tenant_load(tenant.id) == 15
    await store.meetings.record_backend_meeting(meeting.id, "abc-1", "ap", "mp", 1_715_261_728_123)
    loaded = await store.meetings.get(tenant.id, "room")
    assert loaded is not None and loaded.create_time == 1_715_261_728_123
    assert await store.meetings.find_by_internal_id(tenant.id, "abc-1") == loaded


async def test_polls_update_attendance_forget_ended_and_find_stale(store: Store) -> None:
    tenant = await store.tenants.add("acme", "s" * 20)
    a = await store.servers.add("a", "https://a/bigbluebutton/api/", "x", 50)
    b = await store.servers.add("b", "https://b/bigbluebutton/api/", "x", 50)
    running, _ = await store.meetings.place(new(tenant.id, "running", 5, created_ms=0), on(a.id))
    _gone, _ = await store.meetings.place(new(tenant.id, "gone", 5, created_ms=0), on(a.id))
    _young, _ = await store.meetings.place(new(tenant.id, "young", 5, created_ms=95_000), on(a.id))
    elsewhere, _ = await store.meetings.place(new(tenant.id, "elsewhere", 5), on(b.id))
    polls = [
        ServerPoll(
            a.id,
            True,
            {running.backend_meeting_id: 9, elsewhere.backend_meeting_id: 1, "not-ours": 3},
        ),
        ServerPoll(b.id, False, {}, "down"),
    ]
    outcome = await store.meetings.apply_polls(polls, now_ms=100_000, grace_ms=30_000)
    assert [m.meeting_id for m in outcome.ended] == ["gone"]
    assert outcome.stale == [(a.id, elsewhere.backend_meeting_id)]
    updated = await store.meetings.get(tenant.id, "running")
    assert updated is not None and (updated.live_participants, updated.peak_participants) == (9, 9)
    assert await store.meetings.get(tenant.id, "young") is not None  # still in its grace time
    # live attendance above the reservation counts: max(5, 9) + young 5 on a
    assert (await store.meetings.reserved_by_server())[a.id] == 14
    assert await store.meetings.room_peak(tenant.id, "gone", since_ms=0) is None  # never attended
    await store.meetings.forget(updated, now_ms=200_000)
    assert await store.meetings.room_peak(tenant.id, "running", since_ms=150_000) == 9
    assert await store.meetings.room_peak(tenant.id, "running", since_ms=250_000) is None


async def test_move_and_orphan(store: Store) -> None:
    tenant = await store.tenants.add("acme", "s" * 20)
    a = await store.servers.add("a", "https://a/bigbluebutton/api/", "x", 50)
    b = await store.servers.add("b", "https://b/bigbluebutton/api/", "x", 50)
    meeting, _ = await store.meetings.place(new(tenant.id, "room", 10), on(a.id))
    await store.meetings.record_backend_meeting(meeting.id, "abc-1", "ap", "mp", 1)
    stored = await store.meetings.get_by_pk(meeting.id)
    assert stored is not None

    def decide(inputs: PlacementInputs) -> int:
        assert inputs.reserved_by_server.get(a.id, 0) == 0  # its own reservation does not count
        return b.id

    moved = await store.meetings.move(stored, decide, now_ms=5)
    assert moved is not None and not isinstance(moved, str)
    assert moved.server_id == b.id and moved.internal_meeting_id is None
    assert await store.meetings.move(stored, decide, now_ms=6) is None  # stale view: refused
    detached = await store.meetings.orphan_server(b.id)
    assert [m.id for m in detached] == [meeting.id]
    orphan = await store.meetings.get_by_pk(meeting.id)
    assert orphan is not None and orphan.server_id is None
    assert orphan.attendee_pw == "ap"  # kept for re-creating it with the known passwords
    await store.meetings.place(new(tenant.id, "x"), on(a.id))
    with pytest.raises(StorageError, match="still hosts 1 meeting"):
        await store.servers.remove("a")
    await store.servers.remove("a", force=True)
    kept = await store.meetings.get(tenant.id, "x")
    assert kept is not None and kept.server_id is None  # re-created elsewhere on next use


async def test_concurrent_placements_of_one_meeting_agree(store: Store) -> None:
    tenant = await store.tenants.add("acme", "s" * 20)
    servers = [
        await store.servers.add(f"b{i}", f"https://b{i}/bigbluebutton/api/", "x", 10)
        for i in range(4)
    ]
    results = await asyncio.gather(
        *(store.meetings.place(new(tenant.id, "room"), on(s.id)) for s in servers)
    )
    assert sum(1 for _, created in results if created) == 1  # type: ignore[misc]
    assert len({m.server_id for m, _ in results}) == 1  # type: ignore[misc]
