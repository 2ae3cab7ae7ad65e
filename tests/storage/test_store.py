"""The storage interface on SQLite and PostgreSQL: same behaviour through the same code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData

from bbbfleet.storage import database
from bbbfleet.storage.models import Base
from bbbfleet.storage.repository import AlreadyExists, NewMeeting, NotFound, StorageError, Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store(database.create_engine(database_url))
    await database.upgrade(s.engine)
    try:
        yield s
    finally:
        await s.close()


async def test_migrations_produce_the_models_schema(store: Store) -> None:
    def reflect(connection: object) -> MetaData:
        meta = MetaData()
        meta.reflect(bind=connection)  # type: ignore[arg-type]
        return meta

    async with store.engine.connect() as conn:
        reflected = await conn.run_sync(reflect)
    for table in Base.metadata.sorted_tables:
        assert table.name in reflected.tables
        assert set(reflected.tables[table.name].columns.keys()) == set(table.columns.keys())
    assert await database.current_revision(store.engine) == "0001"
    await database.upgrade(store.engine)  # idempotent


async def test_tenants_and_secrets(store: Store) -> None:
    tenant = await store.add_tenant("acme", "s" * 20, hostname="bbb.acme.example")
    assert (await store.get_tenant("acme")).secrets == ("s" * 20,)
    with pytest.raises(AlreadyExists):
        await store.add_tenant("acme", "t" * 20)
    with pytest.raises(AlreadyExists):
        await store.add_tenant("other", "s" * 20)  # a secret belongs to one tenant only
    await store.add_tenant_secret("acme", "n" * 20)
    with pytest.raises(StorageError):
        await store.remove_tenant_secret("acme", "x" * 20)
    await store.remove_tenant_secret("acme", "s" * 20)
    with pytest.raises(StorageError, match="last secret"):
        await store.remove_tenant_secret("acme", "n" * 20)
    assert [t.id for t in await store.list_tenants()] == [tenant.id]
    await store.remove_tenant("acme")
    with pytest.raises(NotFound):
        await store.get_tenant("acme")


async def test_servers_and_meeting_placement_records(store: Store) -> None:
    tenant = await store.add_tenant("acme", "s" * 20)
    server = await store.add_server("bbb1", "https://bbb1/bigbluebutton/api/", "sec", 50)
    with pytest.raises(AlreadyExists):
        await store.add_server("bbb1", "https://other/bigbluebutton/api/", "sec", 50)
    new = NewMeeting(tenant.id, "room", "bf1-room", server.id, "name=x&meetingID=room")
    meeting, created = await store.claim_meeting(new)
    assert created
    again, created_again = await store.claim_meeting(new)
    assert not created_again and again.id == meeting.id
    await store.record_backend_meeting(meeting.id, "abc-1", "ap", "mp", 1_715_261_728_123)
    loaded = await store.get_meeting(tenant.id, "room")
    assert loaded is not None and loaded.create_time == 1_715_261_728_123
    assert (await store.find_meeting_by_internal_id(tenant.id, "abc-1")) == loaded
    assert await store.meeting_counts() == {server.id: 1}
    with pytest.raises(StorageError, match="still hosts 1 meeting"):
        await store.remove_server("bbb1")
    await store.set_server_enabled("bbb1", False)
    assert not (await store.get_server("bbb1")).enabled
    await store.remove_server("bbb1", force=True)
    assert await store.get_meeting(tenant.id, "room") is None


async def test_concurrent_claims_of_one_meeting_agree_on_one_server(store: Store) -> None:
    tenant = await store.add_tenant("acme", "s" * 20)
    servers = [
        await store.add_server(f"b{i}", f"https://b{i}/bigbluebutton/api/", "x", 10)
        for i in range(4)
    ]
    claims = await asyncio.gather(
        *(store.claim_meeting(NewMeeting(tenant.id, "room", "bf-room", s.id, "")) for s in servers)
    )
    assert sum(1 for _, created in claims if created) == 1
    assert len({m.server_id for m, _ in claims}) == 1
