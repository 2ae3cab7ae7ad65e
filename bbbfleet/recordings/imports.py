"""Importing pushed recording archives into central storage, with retries.

The push handler hands over an archive whose size and sha256 it already checked; ``Importer``
records it in the ``recording_imports`` queue and tries to store it at once.  An invalid archive
fails for good (retrying cannot make it valid); a storage failure (disk full, unwritable,
unreachable) is retried by the ``RecordingWorker`` with exponential backoff until
``recording_import_attempts`` attempts were made, then the import is ``failed``.  The staged
archive is removed once the import is done either way.

The worker runs in every gateway process but acts only in the leader (a PostgreSQL advisory lock,
as the poller); it also applies the tenants' recording retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bbbfleet.fleet.poller import Leadership
from bbbfleet.protocol.errors import ApiError
from bbbfleet.recordings.archive import (
    ArchiveError,
    Limits,
    Manifest,
    WriteFailure,
    check_digest,
    file_digest,
    invalid,
    remove_tree,
    unpack,
)
from bbbfleet.recordings.storage import RecordingStorage, StorageFailure
from bbbfleet.settings import Settings
from bbbfleet.storage.imports import ImportState, RecordingImport
from bbbfleet.storage.repository import Server, Store

log = logging.getLogger(__name__)
WORKER_LOCK = 7_203_118
MAX_BACKOFF_SECONDS = 3600.0
STUCK_AFTER_MS = 30 * 60 * 1000  # an import "importing" this long belonged to a dead process

Pushed = Callable[[Server, str], Awaitable[None]]
Imported = Callable[[str], Awaitable[None]]


async def _nothing_pushed(_server: Server, _record_id: str) -> None:
    return None


async def _nothing_imported(_record_id: str) -> None:
    return None


def backoff_ms(attempts: int, base_seconds: float) -> int:
    """Delay after the ``attempts``-th failed attempt: base, 2×base, 4×base … at most an hour."""
    delay = base_seconds * (2 ** max(attempts - 1, 0))
    return int(min(delay, MAX_BACKOFF_SECONDS) * 1000)


def limits_for(settings: Settings) -> Limits:
    # a gzip'ed recording (XML, SVG, JSON) may unpack to several times its size; media does not
    max_unpacked = max(settings.recording_archive_max_bytes * 4, 1024 * 1024)
    return Limits(settings.recording_archive_max_members, max_unpacked)


@dataclass(frozen=True, slots=True)
class Outcome:
    record_id: str
    imported: bool
    sha256: str
    state: ImportState
    error: str | None = None
    refusal: ApiError | None = None  # set when the archive itself was refused


class Importer:
    """Stores verified archives centrally and keeps the import queue."""

    def __init__(
        self,
        store: Store,
        storage: RecordingStorage,
        settings: Settings,
        clock: Callable[[], int],
        on_pushed: Pushed = _nothing_pushed,
        on_imported: Imported = _nothing_imported,
    ) -> None:
        self.store = store
        self.storage = storage
        self.settings = settings
        self.clock = clock
        self.limits = limits_for(settings)
        self.on_pushed = on_pushed
        self.on_imported = on_imported

    async def receive(
        self,
        server: Server | None,
        record_id: str,
        archive: Path,
        size: int,
        sha256: str,
        digest_checked: bool = False,
    ) -> Outcome:
        """An archive arrived (from a push or the CLI): queue it and try it now.
        ``digest_checked``: its size and sha256 were just computed from the file (the push
        handler does that while receiving), so the first attempt need not read it again."""
        earlier = await self.store.imports.get(record_id)
        now = self.clock()
        row = await self.store.imports.begin(
            record_id,
            server.id if server else None,
            server.name if server else "",
            size,
            sha256,
            str(archive),
            now,
        )
        superseded = (
            earlier is not None
            and earlier.state is not ImportState.IMPORTING  # an attempt still reads it
            and earlier.staged_path
            and earlier.staged_path != str(archive)
        )
        if superseded and earlier is not None and earlier.staged_path:
            _unlink(Path(earlier.staged_path))  # a newer push supersedes an archive still queued
        return await self.attempt(row, recheck=not digest_checked)

    async def attempt(self, row: RecordingImport, recheck: bool = True) -> Outcome:
        """One attempt at storing ``row``'s archive (the row is claimed: state importing)."""
        attempts = row.attempts + 1
        now = self.clock()
        archive = Path(row.staged_path) if row.staged_path else None
        try:
            if archive is None or not archive.is_file():
                raise invalid(f"the staged archive of {row.record_id} is gone; push it again")
            await self._store(row.record_id, archive, row.size, row.sha256, recheck)
        except ArchiveError as refused:
            message = refused.error.message
            log.warning("recording %s: archive refused: %s", row.record_id, message)
            await self.store.imports.failed(row.record_id, attempts, message, now)
            if archive is not None:
                _unlink(archive)
            return Outcome(
                row.record_id, False, row.sha256, ImportState.FAILED, message, refused.error
            )
        except (StorageFailure, WriteFailure, OSError) as exc:
            message = str(exc) or repr(exc)
            if attempts >= self.settings.recording_import_attempts:
                log.error(
                    "recording %s: import failed for good after %d attempts: %s",
                    row.record_id,
                    attempts,
                    message,
                )
                await self.store.imports.failed(row.record_id, attempts, message, now)
                if archive is not None:
                    _unlink(archive)
                return Outcome(row.record_id, False, row.sha256, ImportState.FAILED, message)
            delay = backoff_ms(attempts, self.settings.recording_import_backoff_seconds)
            log.warning(
                "recording %s: import attempt %d failed (%s); retrying in %.0f s",
                row.record_id,
                attempts,
                message,
                delay / 1000,
            )
            await self.store.imports.retry_later(row.record_id, attempts, message, now + delay, now)
            return Outcome(row.record_id, False, row.sha256, ImportState.PENDING, message)
        await self.store.imports.imported(row.record_id, attempts, self.clock())
        _unlink(archive)
        log.info("recording %s stored centrally", row.record_id)
        try:
            await self.on_imported(row.record_id)
        except Exception:  # the files are safe; the index catches up on its next refresh
            log.exception("recording %s: could not mark it central in the index", row.record_id)
        return Outcome(row.record_id, True, row.sha256, ImportState.IMPORTED)

    async def _store(
        self, record_id: str, archive: Path, size: int, sha256: str, recheck: bool = True
    ) -> Manifest:
        if recheck:  # the archive waited on disk: check it is still the one that was announced
            found_size, found_sha = await asyncio.to_thread(file_digest, archive)
            check_digest(found_size, found_sha, size, sha256)
        scratch = self.storage.scratch()
        try:
            manifest = await asyncio.to_thread(
                unpack, archive, record_id, scratch, self.limits, sha256
            )
            await self.storage.put(record_id, scratch, manifest)
        finally:
            await asyncio.to_thread(remove_tree, scratch)  # gone already when put moved it
        return manifest

    async def run_due(self) -> list[Outcome]:
        """Retry every pending import whose time has come."""
        now = self.clock()
        await self.store.imports.release_stuck(now - STUCK_AFTER_MS, now)
        outcomes = []
        for row in await self.store.imports.claim_due(now):
            outcomes.append(await self.attempt(row))
        return outcomes

    async def notify_pushed(self, server: Server, record_id: str) -> bool:
        """Refresh the index entry of a pushed recording from its server; False when that
        failed (the push handler then does not confirm the import: the server keeps its copy)."""
        try:
            await self.on_pushed(server, record_id)
        except Exception:  # the index refreshes later anyway
            log.exception("recording %s: index refresh after the push failed", record_id)
            return False
        return True


def _unlink(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


class RecordingWorker:
    """The background rounds: import retries and retention, in the leader only."""

    def __init__(
        self,
        importer: Importer,
        settings: Settings,
        extra: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.importer = importer
        self.settings = settings
        self.extra = extra
        self.leadership = Leadership(importer.store.db, WORKER_LOCK)

    async def run(self) -> None:
        await self.leadership.run_periodically(
            self.run_once, self.settings.recording_worker_interval, "recording worker round"
        )

    async def run_once(self) -> list[Outcome]:
        outcomes = await self.importer.run_due()
        for record_id in await self.importer.store.imports.not_yet_central():
            await self.importer.on_imported(record_id)  # the index learnt of it after the import
        if self.extra is not None:
            await self.extra()
        cleanup = getattr(self.importer.storage, "cleanup_scratch", None)
        if cleanup is not None:
            cleanup(24 * 3600.0, time.time())
        return outcomes
