"""Deleting centrally stored recordings: on an operator's request and by tenant retention.

A recording is deleted everywhere at once, in this order: on its BBB server if that still has
it (``deleteRecordings``, otherwise the next index refresh would bring it back), then its central
files, then the index marks it ``deleted`` (getRecordings with ``state=deleted`` still lists it,
as BBB does).  If the server cannot be reached nothing is deleted and the next round tries again.

Retention (``bbbfleet tenant set --recording-retention-days N``, off by default) deletes a
tenant's centrally stored recordings whose start time is more than N days ago — whatever their
state, so the files of a recording deleted through the API (which, like BBB, only marks it
deleted) are purged too; the recording worker applies it every round.  A purged recording is no
longer ``central``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bbbfleet.gateway.backends import BackendClient, BackendFailure
from bbbfleet.protocol import documents
from bbbfleet.protocol.params import RawQuery
from bbbfleet.protocol.recordings import DELETED
from bbbfleet.recordings.storage import RecordingStorage
from bbbfleet.storage.recordings import BACKEND
from bbbfleet.storage.repository import Server, Store

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


class DeleteFailed(Exception):
    """The recording's server could not delete its copy; nothing was deleted."""


@dataclass
class RetentionReport:
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class RecordingRemover:
    def __init__(
        self,
        store: Store,
        storage: RecordingStorage,
        backends: BackendClient,
        clock: Callable[[], int],
    ) -> None:
        self.store = store
        self.storage = storage
        self.backends = backends
        self.clock = clock

    async def delete(self, record_id: str) -> bool:
        """Delete a recording on its server, centrally and in the index.  True when there was
        anything to delete; DeleteFailed when its server could not be asked."""
        recording = await self.store.recordings.get(record_id)
        on_server = (
            recording is not None
            and recording.server_id is not None
            and recording.gone_ms is None
            and recording.state != DELETED
        )
        if on_server and recording is not None and recording.server_id is not None:
            servers = {s.id: s for s in await self.store.servers.list()}
            server = servers.get(recording.server_id)
            if server is not None:
                await self._delete_on(server, record_id)
        removed = await self.storage.delete(record_id)
        if recording is not None:
            await self.store.recordings.set_state([record_id], DELETED, self.clock())
            # its files are gone: no longer "central" (and no longer listed once its server
            # forgets it too, as BBB forgets a purged recording)
            await self.store.recordings.set_location(record_id, BACKEND)
        await self.store.imports.forget(record_id)
        return removed or recording is not None

    async def _delete_on(self, server: Server, record_id: str) -> None:
        query = RawQuery([]).replace("recordID", record_id)
        try:
            _text, root = await self.backends.call_document(server, "deleteRecordings", query)
        except BackendFailure as failure:
            raise DeleteFailed(
                f"server {server.name} could not delete {record_id}: {failure.reason}"
            ) from failure
        returncode = documents.child_text(root, "returncode")
        key = documents.child_text(root, "messageKey")
        if returncode != "SUCCESS" and key != "notFound":  # notFound: it is gone there already
            raise DeleteFailed(f"server {server.name} refused to delete {record_id}: {key}")


class Retention:
    def __init__(self, remover: RecordingRemover) -> None:
        self.remover = remover

    async def run_once(self, limit: int = 100) -> RetentionReport:
        store = self.remover.store
        now = self.remover.clock()
        report = RetentionReport()
        for tenant in await store.tenants.list():
            days = tenant.recording_retention_days
            if not days:
                continue
            expired = await store.imports.expired_central(tenant.id, now - days * DAY_MS, limit)
            for record_id in expired:
                try:
                    await self.remover.delete(record_id)
                except DeleteFailed as exc:
                    log.warning("retention of %s: %s", tenant.name, exc)
                    report.failed.append(record_id)
                else:
                    log.info("retention: deleted recording %s of %s", record_id, tenant.name)
                    report.deleted.append(record_id)
        return report
