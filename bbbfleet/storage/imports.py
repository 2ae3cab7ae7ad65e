"""The recording import queue: one row per pushed recording, with its state and retries.

States: ``pending`` (waiting for its next attempt at ``next_try_ms``), ``importing`` (claimed by
the worker or the push handler), ``imported`` (stored centrally, verified) and ``failed`` (given
up after ``recording_import_attempts`` attempts, or refused as invalid).
"""

from __future__ import annotations

import builtins
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from bbbfleet.storage.database import Database
from bbbfleet.storage.models import recording_imports, recordings
from bbbfleet.storage.records import NotFound


class ImportState(enum.StrEnum):
    PENDING = "pending"
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RecordingImport:
    id: int
    record_id: str
    server_id: int | None
    server_name: str
    state: ImportState
    attempts: int
    next_try_ms: int
    last_error: str | None
    size: int
    sha256: str
    staged_path: str | None
    created_ms: int
    updated_ms: int
    imported_ms: int | None


def _from_row(row: Row[Any]) -> RecordingImport:
    values = dict(row._mapping)
    values["state"] = ImportState(values["state"])
    return RecordingImport(**values)


class ImportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, record_id: str) -> RecordingImport | None:
        statement = select(recording_imports).where(recording_imports.c.record_id == record_id)
        row = await self.db.read(lambda conn: conn.execute(statement).first())
        return None if row is None else _from_row(row)

    async def list(self, state: ImportState | None = None) -> list[RecordingImport]:
        statement = select(recording_imports).order_by(recording_imports.c.id)
        if state is not None:
            statement = statement.where(recording_imports.c.state == state.value)
        rows = await self.db.read(lambda conn: conn.execute(statement).all())
        return [_from_row(row) for row in rows]

    async def begin(
        self,
        record_id: str,
        server_id: int | None,
        server_name: str,
        size: int,
        sha256: str,
        staged_path: str,
        now_ms: int,
    ) -> RecordingImport:
        """A new archive for ``record_id`` arrived: (re)start its import, claimed as importing.
        A newer push replaces whatever an earlier one left (its staged file is returned in
        ``staged_path`` of the old row for the caller to remove)."""
        values = {
            "server_id": server_id,
            "server_name": server_name,
            "state": ImportState.IMPORTING.value,
            "attempts": 0,
            "next_try_ms": now_ms,
            "last_error": None,
            "size": size,
            "sha256": sha256,
            "staged_path": staged_path,
            "updated_ms": now_ms,
        }

        def upsert(conn: Connection) -> None:
            changed = conn.execute(
                update(recording_imports)
                .where(recording_imports.c.record_id == record_id)
                .values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(recording_imports).values(
                        record_id=record_id, created_ms=now_ms, **values
                    )
                )

        await self.db.write(upsert)
        row = await self.get(record_id)
        assert row is not None
        return row

    async def claim_due(self, now_ms: int, limit: int = 10) -> builtins.list[RecordingImport]:
        """Pending imports whose time has come, now marked importing (one claimer wins each)."""
        due = (
            select(recording_imports.c.id)
            .where(
                recording_imports.c.state == ImportState.PENDING.value,
                recording_imports.c.next_try_ms <= now_ms,
            )
            .order_by(recording_imports.c.next_try_ms)
            .limit(limit)
        )

        def claim(conn: Connection) -> builtins.list[int]:
            claimed = []
            for (row_id,) in conn.execute(due).all():
                won = conn.execute(
                    update(recording_imports)
                    .where(
                        recording_imports.c.id == row_id,
                        recording_imports.c.state == ImportState.PENDING.value,
                    )
                    .values(state=ImportState.IMPORTING.value, updated_ms=now_ms)
                ).rowcount
                if won:
                    claimed.append(row_id)
            return claimed

        ids = await self.db.write(claim)
        if not ids:
            return []
        rows = await self.db.read(
            lambda conn: conn.execute(
                select(recording_imports)
                .where(recording_imports.c.id.in_(ids))
                .order_by(recording_imports.c.next_try_ms)
            ).all()
        )
        return [_from_row(row) for row in rows]

    async def release_stuck(self, older_than_ms: int, now_ms: int) -> int:
        """Imports left ``importing`` by a process that died go back to pending."""
        statement = (
            update(recording_imports)
            .where(
                recording_imports.c.state == ImportState.IMPORTING.value,
                recording_imports.c.updated_ms < older_than_ms,
            )
            .values(state=ImportState.PENDING.value, next_try_ms=now_ms, updated_ms=now_ms)
        )
        count: int = await self.db.write(lambda conn: conn.execute(statement).rowcount)
        return count

    async def _set(self, record_id: str, **values: Any) -> None:
        statement = (
            update(recording_imports)
            .where(recording_imports.c.record_id == record_id)
            .values(**values)
        )
        count: int = await self.db.write(lambda conn: conn.execute(statement).rowcount)
        if not count:
            raise NotFound(
                f"no import of recording {record_id!r}; see 'bbbfleet recording imports'"
            )

    async def imported(self, record_id: str, attempts: int, now_ms: int) -> None:
        await self._set(
            record_id,
            state=ImportState.IMPORTED.value,
            attempts=attempts,
            last_error=None,
            staged_path=None,
            updated_ms=now_ms,
            imported_ms=now_ms,
        )

    async def retry_later(
        self, record_id: str, attempts: int, error: str, next_try_ms: int, now_ms: int
    ) -> None:
        await self._set(
            record_id,
            state=ImportState.PENDING.value,
            attempts=attempts,
            last_error=error[:500],
            next_try_ms=next_try_ms,
            updated_ms=now_ms,
        )

    async def failed(self, record_id: str, attempts: int, error: str, now_ms: int) -> None:
        await self._set(
            record_id,
            state=ImportState.FAILED.value,
            attempts=attempts,
            last_error=error[:500],
            staged_path=None,
            updated_ms=now_ms,
        )

    async def claim(self, record_id: str, now_ms: int) -> RecordingImport | None:
        """Take a pending or failed import for an attempt now, with a fresh attempt budget
        (None when there is none, or someone else is importing it)."""
        statement = (
            update(recording_imports)
            .where(
                recording_imports.c.record_id == record_id,
                recording_imports.c.state.in_(
                    [ImportState.PENDING.value, ImportState.FAILED.value]
                ),
            )
            .values(state=ImportState.IMPORTING.value, attempts=0, updated_ms=now_ms)
        )
        count: int = await self.db.write(lambda conn: conn.execute(statement).rowcount)
        return await self.get(record_id) if count else None

    async def requeue(self, record_id: str, now_ms: int) -> RecordingImport:
        """Try a pending or failed import again now, with a fresh attempt budget."""
        await self._set(
            record_id,
            state=ImportState.PENDING.value,
            attempts=0,
            next_try_ms=now_ms,
            updated_ms=now_ms,
        )
        row = await self.get(record_id)
        assert row is not None
        return row

    async def not_yet_central(self, limit: int = 500) -> builtins.list[str]:
        """Imported recordings the index still shows as ``backend`` (the index adds a recording
        it learns about after its import as ``backend``); the worker marks them central."""
        imported = select(recording_imports.c.record_id).where(
            recording_imports.c.state == ImportState.IMPORTED.value
        )
        statement = (
            select(recordings.c.record_id)
            .where(recordings.c.location == "backend", recordings.c.record_id.in_(imported))
            .limit(limit)
        )
        rows = await self.db.read(lambda conn: conn.execute(statement).all())
        return [row[0] for row in rows]

    async def expired_central(
        self, tenant_id: int, started_before_ms: int, limit: int
    ) -> builtins.list[str]:
        """A tenant's centrally stored recordings (any state) older than the cut-off."""
        statement = (
            select(recordings.c.record_id)
            .where(
                recordings.c.tenant_id == tenant_id,
                recordings.c.location == "central",
                recordings.c.start_time < started_before_ms,
            )
            .order_by(recordings.c.start_time)
            .limit(limit)
        )
        rows = await self.db.read(lambda conn: conn.execute(statement).all())
        return [row[0] for row in rows]

    async def forget(self, record_id: str) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                delete(recording_imports).where(recording_imports.c.record_id == record_id)
            )
        )
