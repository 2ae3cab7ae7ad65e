"""With PostgreSQL one gateway process indexes recordings at a time, independently of which one
polls meetings; on SQLite (one process) the process always indexes."""

from __future__ import annotations

from bbbfleet.fleet.poller import Leadership
from bbbfleet.recordings.index import RECORDINGS_POLLER_LOCK
from bbbfleet.storage.repository import Store


async def test_one_indexer_at_a_time(database_url: str) -> None:
    first, second = Store.open(database_url), Store.open(database_url)
    await first.db.upgrade()
    leaders = [
        Leadership(first.db, RECORDINGS_POLLER_LOCK),
        Leadership(second.db, RECORDINGS_POLLER_LOCK),
    ]
    meeting_poller = Leadership(second.db)
    try:
        assert await leaders[0].acquire()
        assert await leaders[1].acquire() is (not first.db.is_postgres)
        assert await meeting_poller.acquire()  # a different lock
        await leaders[0].release()
        assert await leaders[1].acquire()  # taken over
    finally:
        for leader in (*leaders, meeting_poller):
            await leader.release()
        await first.close()
        await second.close()
