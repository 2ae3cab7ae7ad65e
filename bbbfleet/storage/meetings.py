"""Meeting placements and reservations, poll results, and room history.

Placement is atomic: the decision is taken and the reservation written in one transaction under a
lock (a PostgreSQL advisory lock, so several gateway processes never place on the same stale view;
on SQLite the transaction runs without yielding to the event loop), before the backend is called.
The decision itself is a pure function handed in by the caller (see bbbfleet.placement).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, bindparam, case, delete, func, select, text, update
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite as sqlite_dialect
from sqlalchemy.exc import IntegrityError

from bbbfleet.storage.database import Database
from bbbfleet.storage.models import hosted_meetings, meetings, recordings, rooms
from bbbfleet.storage.records import Meeting, NewMeeting, Server, ServerPoll
from bbbfleet.storage.servers import list_servers

T = TypeVar("T")
PLACEMENT_LOCK = 7_203_115
BACKEND_ID = re.compile(r"^bf\d+-")
HASHED_BACKEND_ID = re.compile(r"^bf\d+-h-[0-9a-f]{64}$")

_COLUMNS = tuple(meetings.c[name] for name in Meeting.__dataclass_fields__)
_LOAD = case(
    (
        meetings.c.reserved_participants > meetings.c.live_participants,
        meetings.c.reserved_participants,
    ),
    else_=meetings.c.live_participants,
)


_BY_MEETING_ID = select(*_COLUMNS).where(
    meetings.c.tenant_id == bindparam("tenant_id"), meetings.c.meeting_id == bindparam("meeting_id")
)


_BY_MEETING_ID_SQLITE = str(_BY_MEETING_ID.compile(dialect=sqlite_dialect(paramstyle="qmark")))


def _meeting(row: Row[*tuple[Any, ...]]) -> Meeting:
    return Meeting(*row)  # _COLUMNS are the dataclass fields, in order


def _one(conn: Connection, *where: Any) -> Meeting | None:
    row = conn.execute(select(*_COLUMNS).where(*where)).first()
    return None if row is None else _meeting(row)


_RESERVED_BY_SERVER = (
    select(meetings.c.server_id, func.sum(_LOAD))
    .where(meetings.c.server_id.is_not(None))
    .group_by(meetings.c.server_id)
)
_TENANT_LOAD = select(func.sum(_LOAD)).where(meetings.c.tenant_id == bindparam("tenant_id"))


def _reserved_by_server(conn: Connection) -> dict[int, int]:
    rows = conn.execute(_RESERVED_BY_SERVER).all()
    return {server_id: int(total or 0) for server_id, total in rows}


def _tenant_load(conn: Connection, tenant_id: int) -> int:
    total = conn.execute(_TENANT_LOAD, {"tenant_id": tenant_id}).scalar()
    return int(total or 0)


def _inputs(conn: Connection, tenant_id: int) -> PlacementInputs:
    return PlacementInputs(
        list_servers(conn), _reserved_by_server(conn), _tenant_load(conn, tenant_id)
    )


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({PLACEMENT_LOCK})"))


HOSTED_KEEP_MS = 14 * 24 * 3600 * 1000  # recording pipelines can run for days


def _remember_hosting(conn: Connection, meeting: Meeting, now_ms: int) -> None:
    """Note that the meeting's server hosted it (the event ingress trusts its events later),
    and forget such notes after ``HOSTED_KEEP_MS``."""
    if meeting.server_id is None:
        return
    conn.execute(
        hosted_meetings.insert().values(
            server_id=meeting.server_id,
            backend_meeting_id=meeting.backend_meeting_id,
            ended_ms=now_ms,
        )
    )
    conn.execute(
        delete(hosted_meetings).where(hosted_meetings.c.ended_ms < now_ms - HOSTED_KEEP_MS)
    )


def _remember_room(conn: Connection, meeting: Meeting, now_ms: int) -> None:
    peak = max(meeting.peak_participants, meeting.live_participants)
    where = (rooms.c.tenant_id == meeting.tenant_id, rooms.c.meeting_id == meeting.meeting_id)
    if peak <= 0:
        # a hashed backend ID is remembered even without attendance (and without touching an
        # earlier peak): the recording index maps bf<t>-h-<sha256> back through the rooms
        if not HASHED_BACKEND_ID.match(meeting.backend_meeting_id):
            return
        if conn.execute(select(rooms.c.id).where(*where)).first() is None:
            conn.execute(
                rooms.insert().values(
                    tenant_id=meeting.tenant_id,
                    meeting_id=meeting.meeting_id,
                    recent_peak=0,
                    updated_ms=now_ms,
                )
            )
        return
    result = conn.execute(update(rooms).where(*where).values(recent_peak=peak, updated_ms=now_ms))
    if result.rowcount == 0:
        conn.execute(
            rooms.insert().values(
                tenant_id=meeting.tenant_id,
                meeting_id=meeting.meeting_id,
                recent_peak=peak,
                updated_ms=now_ms,
            )
        )


@dataclass(frozen=True, slots=True)
class PlacementInputs:
    """Everything a placement decision looks at, read inside the placement transaction."""

    servers: list[Server]
    reserved_by_server: dict[int, int]  # Σ max(reservation, live) of the meetings on each server
    tenant_load: int  # the same sum over the tenant's meetings (for its pool)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    ended: list[Meeting] = field(default_factory=list)  # gone from their server: forgotten
    # (server id, backend meetingID) of gateway meetings running where they do not belong
    stale: list[tuple[int, str]] = field(default_factory=list)


class MeetingStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # PostgreSQL transactions await the network: serialise this process's placements so they
        # queue here instead of on the advisory lock's connection slots
        self._placement_lock = asyncio.Lock()

    # --- reads ------------------------------------------------------------------------------------

    async def get(self, tenant_id: int, meeting_id: str) -> Meeting | None:
        """The hot path of every routed call: one prepared, indexed SELECT (on SQLite straight
        through the driver, with the SQL SQLAlchemy compiled once for that statement)."""
        driver = self.db.sqlite_driver()
        if driver is not None:
            raw = driver.execute(_BY_MEETING_ID_SQLITE, (tenant_id, meeting_id)).fetchone()
            return None if raw is None else Meeting(*raw)
        params = {"tenant_id": tenant_id, "meeting_id": meeting_id}
        row = await self.db.read(lambda conn: conn.execute(_BY_MEETING_ID, params).first())
        return None if row is None else _meeting(row)

    async def get_by_pk(self, meeting_pk: int) -> Meeting | None:
        return await self.db.read(lambda conn: _one(conn, meetings.c.id == meeting_pk))

    async def find_by_backend_id(self, backend_meeting_id: str) -> Meeting | None:
        """The meeting sent to BBB as ``backend_meeting_id`` (webhook events name it so)."""
        return await self.db.read(
            lambda conn: _one(conn, meetings.c.backend_meeting_id == backend_meeting_id)
        )

    async def find_by_internal_id(self, tenant_id: int, internal_id: str) -> Meeting | None:
        return await self.db.read(
            lambda conn: _one(
                conn,
                meetings.c.tenant_id == tenant_id,
                meetings.c.internal_meeting_id == internal_id,
            )
        )

    async def all(
        self, tenant_id: int | None = None, server_id: int | None = None
    ) -> list[Meeting]:
        query = select(*_COLUMNS).order_by(meetings.c.id)
        if tenant_id is not None:
            query = query.where(meetings.c.tenant_id == tenant_id)
        if server_id is not None:
            query = query.where(meetings.c.server_id == server_id)
        rows = await self.db.read(lambda conn: conn.execute(query).all())
        return [_meeting(row) for row in rows]

    async def hosted(self, server_id: int, backend_meeting_id: str) -> bool:
        """Whether the server hosted the meeting: it still does, it did recently (ended in the
        last ``HOSTED_KEEP_MS``), or it holds a recording of it."""

        def run(conn: Connection) -> bool:
            for table in (meetings, hosted_meetings, recordings):
                found = conn.execute(
                    select(table.c.id)
                    .where(
                        table.c.backend_meeting_id == backend_meeting_id,
                        table.c.server_id == server_id,
                    )
                    .limit(1)
                ).first()
                if found is not None:
                    return True
            return False

        return await self.db.read(run)

    async def reserved_by_server(self) -> dict[int, int]:
        return await self.db.read(_reserved_by_server)

    async def counts_by_server(self) -> dict[int, int]:
        query = (
            select(meetings.c.server_id, func.count())
            .where(meetings.c.server_id.is_not(None))
            .group_by(meetings.c.server_id)
        )
        rows = await self.db.read(lambda conn: conn.execute(query).all())
        return {server_id: count for server_id, count in rows}

    async def tenant_load(self, tenant_id: int) -> int:
        return await self.db.read(lambda conn: _tenant_load(conn, tenant_id))

    async def room_peak(self, tenant_id: int, meeting_id: str, since_ms: int) -> int | None:
        """The peak attendance of the room's last run, if it ended after ``since_ms``."""
        query = select(rooms.c.recent_peak).where(
            rooms.c.tenant_id == tenant_id,
            rooms.c.meeting_id == meeting_id,
            rooms.c.updated_ms >= since_ms,
        )
        peak = await self.db.read(lambda conn: conn.execute(query).scalar())
        return None if peak is None or peak <= 0 else int(peak)

    # --- placement ----------------------------------------------------------------------------------

    async def place(
        self, new: NewMeeting, decide: Callable[[PlacementInputs], int | T]
    ) -> tuple[Meeting, bool] | T:
        """Insert the meeting on the server ``decide`` picks, or return the meeting that exists
        already (``False``), or what ``decide`` returned instead of a server id."""

        def transaction(conn: Connection) -> tuple[Meeting, bool] | T:
            _lock(conn)
            found = conn.execute(
                _BY_MEETING_ID, {"tenant_id": new.tenant_id, "meeting_id": new.meeting_id}
            ).first()
            existing = None if found is None else _meeting(found)
            if existing is not None:
                return existing, False
            decision = decide(_inputs(conn, new.tenant_id))
            if not isinstance(decision, int):
                return decision
            values = {
                "tenant_id": new.tenant_id,
                "meeting_id": new.meeting_id,
                "backend_meeting_id": new.backend_meeting_id,
                "server_id": decision,
                "create_query": new.create_query,
                "create_body": new.create_body,
                "create_content_type": new.create_content_type,
                "reserved_participants": new.reserved_participants,
                "reserved_until_ms": new.reserved_until_ms,
                "created_ms": new.created_ms,
                "nonce": secrets.token_hex(8),
            }
            meeting_pk = conn.execute(
                meetings.insert().values(**values).returning(meetings.c.id)
            ).scalar_one()
            return (
                Meeting(
                    id=meeting_pk,
                    internal_meeting_id=None,
                    attendee_pw=None,
                    moderator_pw=None,
                    create_time=None,
                    **values,  # type: ignore[arg-type]
                ),
                True,
            )

        try:
            async with self._placement_lock:
                return await self.db.write(transaction)
        except IntegrityError:  # another process inserted the same meeting meanwhile
            existing = await self.get(new.tenant_id, new.meeting_id)
            if existing is None:
                raise
            return existing, False

    async def move(
        self, meeting: Meeting, decide: Callable[[PlacementInputs], int | T], now_ms: int
    ) -> Meeting | T | None:
        """Re-place a meeting whose server failed (failover).  Returns the moved meeting, what
        ``decide`` returned instead of a server, or None if the meeting is gone or was moved by
        someone else meanwhile (then re-read it)."""
        changes = {
            "nonce": secrets.token_hex(8),
            "internal_meeting_id": None,
            "create_time": None,
            "live_participants": 0,
            "seen_ms": None,
            "created_ms": now_ms,
        }

        def transaction(conn: Connection) -> Meeting | T | None:
            _lock(conn)
            current = _one(conn, meetings.c.id == meeting.id)
            if current is None or current.server_id != meeting.server_id:
                return None
            inputs = _inputs(conn, meeting.tenant_id)
            # the meeting's own reservation must not count against its new server or its pool
            own = max(meeting.reserved_participants, meeting.live_participants)
            reserved = dict(inputs.reserved_by_server)
            if meeting.server_id is not None:
                reserved[meeting.server_id] = reserved.get(meeting.server_id, 0) - own
            decision = decide(
                replace(inputs, reserved_by_server=reserved, tenant_load=inputs.tenant_load - own)
            )
            if not isinstance(decision, int):
                return decision
            conn.execute(
                update(meetings)
                .where(meetings.c.id == meeting.id)
                .values(server_id=decision, **changes)
            )
            return replace(meeting, server_id=decision, **changes)  # type: ignore[arg-type]

        async with self._placement_lock:
            return await self.db.write(transaction)

    # --- what the backend answered ----------------------------------------------------------------

    async def record_backend_meeting(
        self,
        meeting_pk: int,
        internal_meeting_id: str,
        attendee_pw: str | None,
        moderator_pw: str | None,
        create_time: int | None,
    ) -> None:
        """Remember what the backend answered to create (for join checks and failover)."""
        statement = (
            update(meetings)
            .where(meetings.c.id == meeting_pk)
            .values(
                internal_meeting_id=internal_meeting_id,
                attendee_pw=attendee_pw,
                moderator_pw=moderator_pw,
                create_time=create_time,
            )
        )
        await self.db.write(lambda conn: conn.execute(statement))

    async def forget(self, meeting: Meeting, now_ms: int) -> None:
        """The meeting ended: release its reservation and remember how big it got."""

        def transaction(conn: Connection) -> None:
            conn.execute(delete(meetings).where(meetings.c.id == meeting.id))
            _remember_room(conn, meeting, now_ms)
            _remember_hosting(conn, meeting, now_ms)

        await self.db.write(transaction)

    async def release(self, meeting_pk: int) -> None:
        """Drop a placement that never became a meeting (its create failed)."""
        await self.db.write(
            lambda conn: conn.execute(delete(meetings).where(meetings.c.id == meeting_pk))
        )

    async def orphan_server(self, server_id: int) -> list[Meeting]:
        """Detach every meeting from a server (panic): each is re-created elsewhere on its next
        create or join."""

        def transaction(conn: Connection) -> list[Meeting]:
            rows = conn.execute(select(*_COLUMNS).where(meetings.c.server_id == server_id)).all()
            conn.execute(
                update(meetings)
                .where(meetings.c.server_id == server_id)
                .values(server_id=None, internal_meeting_id=None, live_participants=0)
            )
            return [_meeting(row) for row in rows]

        return await self.db.write(transaction)

    # --- poll results --------------------------------------------------------------------------

    async def apply_polls(
        self, polls: Sequence[ServerPoll], now_ms: int, grace_ms: int
    ) -> PollOutcome:
        """Apply one poll cycle in one transaction: update live attendance, forget meetings that
        are gone from their server (older than ``grace_ms``, so creates in flight are safe), and
        report copies of gateway meetings running on a server they do not belong to."""
        answered = {poll.server_id: poll.attendance for poll in polls if poll.ok}
        if not answered:
            return PollOutcome()

        def transaction(conn: Connection) -> PollOutcome:
            rows = [
                _meeting(row)
                for row in conn.execute(
                    select(*_COLUMNS).where(meetings.c.server_id.in_(list(answered)))
                ).all()
            ]
            changed: list[dict[str, int]] = []
            ended: list[Meeting] = []
            for meeting in rows:
                attendance = answered[meeting.server_id]  # type: ignore[index]
                live = attendance.get(meeting.backend_meeting_id)
                if live is None:
                    if meeting.created_ms < now_ms - grace_ms:
                        ended.append(meeting)
                    continue
                if live != meeting.live_participants or meeting.seen_ms is None:
                    changed.append(
                        {
                            "pk": meeting.id,
                            "live": live,
                            "peak": max(meeting.peak_participants, live),
                            "seen": now_ms,
                        }
                    )
            if changed:
                conn.execute(
                    update(meetings)
                    .where(meetings.c.id == bindparam("pk"))
                    .values(
                        live_participants=bindparam("live"),
                        peak_participants=bindparam("peak"),
                        seen_ms=bindparam("seen"),
                    ),
                    changed,
                )
            if ended:
                conn.execute(delete(meetings).where(meetings.c.id.in_([m.id for m in ended])))
                for meeting in ended:
                    _remember_room(conn, meeting, now_ms)
                    _remember_hosting(conn, meeting, now_ms)
            placed = {(m.server_id, m.backend_meeting_id) for m in rows}
            stale = [
                (server_id, backend_id)
                for server_id, attendance in answered.items()
                for backend_id in attendance
                if BACKEND_ID.match(backend_id) and (server_id, backend_id) not in placed
            ]
            return PollOutcome(ended, stale)

        return await self.db.write(transaction)
