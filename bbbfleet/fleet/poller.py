"""The poller: every ``poll_interval`` seconds it asks every server for its meetings and attendance.

It keeps live attendance (which counts against capacity when it exceeds a reservation) and room
peaks (for size prediction) up to date, forgets meetings that ended on their server (releasing
their reservations), drives server health with hysteresis, ends stale copies of re-created
meetings on servers that came back, and disables cordoned servers once they are empty.

With several gateway processes on PostgreSQL only one polls at a time: the one holding a
PostgreSQL advisory lock.  If it stops, its connection closes and another process takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bbbfleet.gateway.backends import BackendClient, BackendFailure
from bbbfleet.health import HealthState, Thresholds, observe
from bbbfleet.placement import ServerState
from bbbfleet.protocol import documents
from bbbfleet.protocol.params import RawQuery
from bbbfleet.settings import Settings
from bbbfleet.storage.database import Database
from bbbfleet.storage.repository import Server, ServerPoll, Store
from bbbfleet.storage.servers import HealthUpdate

log = logging.getLogger(__name__)
POLLER_LOCK = 7_203_116


@dataclass
class PollReport:
    polled: int = 0
    failed: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)  # tenant meetingIDs forgotten
    stale_ended: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # cordoned servers now empty


class Leadership:
    """Whether this process is the one that does a job (always, on SQLite): it holds the
    PostgreSQL session advisory lock ``lock_id`` (the poller's by default)."""

    def __init__(self, db: Database, lock_id: int = POLLER_LOCK) -> None:
        self.db = db
        self.lock_id = lock_id
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if not self.db.is_postgres:
            return True
        if self._connection is not None and not self._connection.closed:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # lost the connection, and with it the lock
                await self.release()
        connection = await self.db.async_engine.connect()
        try:
            got = (
                await connection.execute(text(f"SELECT pg_try_advisory_lock({self.lock_id})"))
            ).scalar_one()
            await connection.commit()
        except BaseException:
            # cancelled or failed between taking the lock and keeping the connection: a pooled
            # connection would keep the lock for ever, so this one is closed for real
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # a pooled connection outlives close(): the session lock must be given back
            await connection.execute(text(f"SELECT pg_advisory_unlock({self.lock_id})"))
            await connection.commit()
        except Exception:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # closed for real: the lock goes with it
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            raise
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    async def run_periodically(
        self, cycle: Callable[[], Awaitable[object]], interval_seconds: float, what: str
    ) -> None:
        """Run ``cycle`` every ``interval_seconds`` while this process leads (a gateway
        lifespan task): a failed cycle is logged and the next one comes; the lock is given
        back when the task is cancelled."""
        try:
            while True:
                try:
                    if await self.acquire():
                        await cycle()
                except Exception:
                    log.exception("%s failed", what)
                await asyncio.sleep(interval_seconds)
        finally:
            await self.release()


def parse_attendance(blocks: list[str]) -> dict[str, int]:
    return {
        meeting_id: documents.block_participant_count(block)
        for block in blocks
        if (meeting_id := documents.block_meeting_id(block)) is not None
    }


class Poller:
    def __init__(
        self,
        store: Store,
        backends: BackendClient,
        settings: Settings,
        clock: Callable[[], int],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.backends = backends
        self.settings = settings
        self.clock = clock
        self.on_change = on_change
        self.thresholds = Thresholds(
            settings.unstable_after, settings.offline_after, settings.available_after
        )
        self.leadership = Leadership(store.db)
        self._semaphore = asyncio.Semaphore(settings.poll_concurrency)

    async def run(self) -> None:
        """Poll forever (the gateway's lifespan runs this as a task)."""
        await self.leadership.run_periodically(
            self.poll_once, self.settings.poll_interval, "poll cycle"
        )

    async def poll_once(self) -> PollReport:
        servers = await self.store.servers.list()
        counts = await self.store.meetings.counts_by_server()
        wanted = [s for s in servers if s.state is not ServerState.DISABLED or counts.get(s.id)]
        polls = await asyncio.gather(*(self._poll(server) for server in wanted))
        now = self.clock()
        report = PollReport(polled=len(polls))
        updates: list[HealthUpdate] = []
        for server, poll in zip(wanted, polls, strict=True):
            state = observe(
                HealthState(server.health, server.failures, server.successes),
                poll.ok,
                self.thresholds,
            )
            if not poll.ok:
                report.failed.append(server.name)
            if state.health is not server.health:
                log.warning(
                    "server %s is now %s (%s)", server.name, state.health, poll.error or "ok"
                )
            updates.append(
                HealthUpdate(
                    server.id,
                    state.health,
                    state.failures,
                    state.successes,
                    now,
                    poll.error,
                    sum(poll.attendance.values()) if poll.ok else server.live_participants,
                    len(poll.attendance) if poll.ok else server.live_meetings,
                )
            )
        await self.store.servers.record_health(updates)
        grace_ms = int(self.settings.ended_grace_seconds * 1000)
        outcome = await self.store.meetings.apply_polls(polls, now, grace_ms)
        report.ended = [m.meeting_id for m in outcome.ended]
        by_id = {s.id: s for s in servers}
        for server_id, backend_id in outcome.stale:
            if await self._end_stale(by_id[server_id], backend_id):
                report.stale_ended.append(backend_id)
        for server in wanted:
            if server.state is ServerState.CORDONED and await self.store.servers.disable_if_empty(
                server.id
            ):
                log.info("cordoned server %s is empty: disabled", server.name)
                report.disabled.append(server.name)
        self.on_change()
        return report

    async def _poll(self, server: Server) -> ServerPoll:
        async with self._semaphore:
            try:
                blocks = await self.backends.meeting_blocks(server, self.settings.poll_timeout)
            except BackendFailure as failure:
                return ServerPoll(server.id, False, {}, failure.reason)
            except Exception as exc:  # never let one server stop the cycle
                return ServerPoll(server.id, False, {}, repr(exc))
        return ServerPoll(server.id, True, parse_attendance(blocks))

    async def _end_stale(self, server: Server, backend_id: str) -> bool:
        """A copy of a meeting that was re-created elsewhere still runs here: end it."""
        try:
            await self.backends.call_document(
                server, "end", RawQuery([]).replace("meetingID", backend_id)
            )
        except BackendFailure as failure:
            log.info("could not end stale %s on %s: %s", backend_id, server.name, failure)
            return False
        log.info("ended stale copy of %s on %s", backend_id, server.name)
        return True
