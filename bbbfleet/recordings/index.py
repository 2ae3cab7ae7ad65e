"""The recording index: what recordings each server holds, whose they are, in which state.

``RecordingIndex.refresh_server`` reads a server's getRecordings (``state=any``, paged with
``limit``/``offset``) and writes what it parsed into ``store.recordings``, translated to what the
tenant sees: the backend meetingID ``bf<tenant>-<meetingID>`` becomes the tenant's meetingID, in
``<meetingID>`` and in the ``meetingId`` metadata key bbb-web writes.  ``RecordingIndex.run`` does
this for every server every ``recordings_poll_interval`` seconds (with PostgreSQL only in the
process holding the recording poller's advisory lock).

A complete pass over a server that answered marks the recordings it no longer lists as gone;
a server that is down changes nothing.  Recordings of a server removed from bbbfleet stay in the
index with no server (``server_id`` NULL).

A backend meetingID the gateway had to hash (``bf<t>-h-<sha256>``, tenant meetingIDs longer than
BBB's 256 characters) is resolved through the meetings table while the meeting exists, then
through earlier recordings of the same meeting and the room history; if all of those are gone,
the tenant sees ``h-<sha256>`` as the recording's meetingID (its recordID still finds it).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from bbbfleet.fleet.poller import Leadership
from bbbfleet.gateway.backends import BackendClient, BackendFailure, BackendInvalidAnswer
from bbbfleet.protocol.params import RawQuery
from bbbfleet.protocol.recordings import MAX_LIMIT, RecordingSnapshot
from bbbfleet.protocol.recordings_read import UnreadableRecordings, parse_get_recordings
from bbbfleet.settings import Settings
from bbbfleet.storage.repository import RecordingEntry, Server, Store

log = logging.getLogger(__name__)

RECORDINGS_POLLER_LOCK: Final = 7_203_117
BACKEND_ID: Final = re.compile(r"bf(\d+)-(.*)", re.DOTALL)
HASHED: Final = re.compile(r"h-[0-9a-f]{64}")
METADATA_MEETING_ID: Final = "meetingId"  # the key bbb-web adds at create
_IDS_PER_CALL: Final = 50  # recordIDs per getRecordings (keeps the URL short)
_WRITE_BATCH: Final = 100  # recordings per index transaction
LIST_TIMEOUT: Final = 60.0  # seconds for one unpaginated list of a server's recordings


@dataclass(frozen=True, slots=True)
class Owner:
    tenant_id: int
    meeting_id: str


@dataclass
class RecordingsPollReport:
    servers: int = 0
    listed: int = 0  # recordings the servers that answered listed
    gone: int = 0
    failed: list[str] = field(default_factory=list)


def split_backend_id(backend_meeting_id: str) -> tuple[int, str] | None:
    """``bf<tenant id>-<rest>`` → (tenant id, rest); None for a meeting not made by bbbfleet."""
    match = BACKEND_ID.fullmatch(backend_meeting_id)
    return None if match is None else (int(match.group(1)), match.group(2))


MetadataValue = Callable[[str, str], str]  # (key, backend value) → what the tenant sees


def same_value(_key: str, value: str) -> str:
    return value


def to_tenant(
    snapshot: RecordingSnapshot,
    backend_id: str,
    meeting_id: str,
    translate: MetadataValue = same_value,
) -> RecordingSnapshot:
    """The recording as its tenant sees it: its own meetingID everywhere bbb-web wrote the
    backend's, other metadata values through ``translate`` (e.g. the gateway's relay URLs
    back to the tenant's own callback URLs)."""
    metadata = snapshot.metadata
    if metadata is not None:
        metadata = tuple(
            (k, meeting_id if k == METADATA_MEETING_ID and v == backend_id else translate(k, v))
            for k, v in metadata
        )
    return replace(snapshot, meeting_id=meeting_id, metadata=metadata)


class RecordingIndex:
    def __init__(
        self,
        store: Store,
        backends: BackendClient,
        settings: Settings,
        clock: Callable[[], int],
        metadata_value: MetadataValue = same_value,
    ) -> None:
        self.store = store
        self.backends = backends
        self.settings = settings
        self.clock = clock
        self.metadata_value = metadata_value
        self.leadership = Leadership(store.db, RECORDINGS_POLLER_LOCK)
        self._analysed_count: int | None = None  # index size at the last planner statistics
        self._semaphore = asyncio.Semaphore(settings.poll_concurrency)

    # --- one server ----------------------------------------------------------------------------

    async def refresh_server(self, server: Server, record_ids: Sequence[str] | None = None) -> int:
        """Read the server's recordings (all of them, or just ``record_ids``) and write them into
        the index; returns how many recordings the server listed.  Indexed recordings of this
        server that it no longer lists are marked gone (after a complete, consistent pass, or
        among the ``record_ids`` asked for).

        Raises BackendFailure when the server cannot be read."""
        if record_ids is not None:
            ids = list(dict.fromkeys(record_ids))
            snapshots: list[RecordingSnapshot] = []
            for start in range(0, len(ids), _IDS_PER_CALL):
                query = RawQuery([]).replace("state", "any")
                query = query.replace("recordID", ",".join(ids[start : start + _IDS_PER_CALL]))
                # exact IDs only: recordID is a prefix filter
                wanted = set(ids[start : start + _IDS_PER_CALL])
                found, _total = await self._get_recordings(server, query)
                snapshots += [s for s in found if s.record_id in wanted]
            await self._write(server, snapshots)
            # asked by exact ID, so one the server did not list is not there (any more)
            listed = {s.record_id for s in snapshots}
            missing = [
                record_id
                for record_id in ids
                if record_id not in listed
                and (known := await self.store.recordings.get(record_id)) is not None
                and known.server_id == server.id
            ]
            if missing:
                await self.store.recordings.mark_gone(missing, self.clock())
            return len(snapshots)
        snapshots, consistent = await self._list_all(server)
        await self._write(server, snapshots)
        if consistent:
            listed = {s.record_id for s in snapshots}
            missing = sorted((await self.store.recordings.server_record_ids(server.id)) - listed)
            if missing:
                gone = await self.store.recordings.mark_gone(missing, self.clock())
                log.info("%d recordings vanished from %s", gone, server.name)
        return len(snapshots)

    async def _get_recordings(
        self, server: Server, query: RawQuery, timeout: float | None = None
    ) -> tuple[list[RecordingSnapshot], int | None]:
        text = await self.backends.call(server, "getRecordings", query, timeout=timeout)
        try:
            page = parse_get_recordings(text)
        except UnreadableRecordings as exc:
            raise BackendInvalidAnswer(server, f"getRecordings: {exc}") from exc
        return page.recordings, page.total

    async def _list_all(self, server: Server) -> tuple[list[RecordingSnapshot], bool]:
        """Every recording of the server, page by page.  bbb-web lists in hash order, so pages
        read while recordings come and go may overlap or skip one: the pass is consistent (safe
        for marking recordings gone) only if every page reported the same total and the pages
        held that many distinct recordings."""
        by_id: dict[str, RecordingSnapshot] = {}
        page_size = self.settings.recordings_page_size
        if page_size == 0:  # the whole list in one request
            everything = RawQuery([]).replace("state", "any")
            found, _total = await self._get_recordings(server, everything, LIST_TIMEOUT)
            return found, True
        totals: set[int] = set()
        offset = 0
        while True:
            query = (
                RawQuery([])
                .replace("state", "any")
                .replace("offset", str(offset))
                .replace("limit", str(min(page_size, MAX_LIMIT)))
            )
            found, total = await self._get_recordings(server, query)
            if total is None:  # noRecordings: nothing (left) to list
                if offset == 0:
                    totals.add(0)
                break
            totals.add(total)
            for snapshot in found:
                by_id[snapshot.record_id] = snapshot
            offset += len(found)
            if not found or offset >= total:
                break
        consistent = len(totals) == 1 and totals == {len(by_id)}
        return list(by_id.values()), consistent

    async def _write(self, server: Server, snapshots: Sequence[RecordingSnapshot]) -> None:
        tenant_ids = {t.id for t in await self.store.tenants.list()}
        entries: list[RecordingEntry] = []
        tenant_of: dict[str, int] = {}  # recordID → tenant, of this batch (breakout parents)
        owners: list[tuple[RecordingSnapshot, Owner | None]] = []
        for snapshot in snapshots:
            owner = await self.owner(snapshot.meeting_id, tenant_ids)
            if owner is not None:
                tenant_of[snapshot.record_id] = owner.tenant_id
            owners.append((snapshot, owner))
        for snapshot, owner in owners:
            if owner is None and snapshot.breakout is not None:
                owner = await self._breakout_owner(snapshot, tenant_of, tenant_ids, server)
            if owner is None:
                continue  # not a bbbfleet meeting, or its tenant was removed
            entries.append(
                RecordingEntry(
                    tenant_id=owner.tenant_id,
                    meeting_id=owner.meeting_id,
                    backend_meeting_id=snapshot.meeting_id,
                    server_id=server.id,
                    snapshot=to_tenant(
                        snapshot, snapshot.meeting_id, owner.meeting_id, self.metadata_value
                    ),
                )
            )
        # in small transactions: on SQLite a write runs on the event loop, and a first pass
        # over a big server must not stall the joins (about 0.3 ms per new recording)
        for start in range(0, len(entries), _WRITE_BATCH):
            await self.store.recordings.upsert(entries[start : start + _WRITE_BATCH], self.clock())
            await asyncio.sleep(0)

    async def _breakout_owner(
        self,
        snapshot: RecordingSnapshot,
        batch: dict[str, int],
        tenant_ids: set[int],
        server: Server,
    ) -> Owner | None:
        """A breakout room's recording: akka-apps makes its meetingID
        (``sha1hex(parentInternalId-timestamp-sequence)-timestamp``, REFERENCE.md §4), so it
        carries no tenant prefix.  It belongs to the tenant of its parent meeting, found by the
        parent's internal ID (``<breakout parentId>``), which is the recordID of the parent's
        recording: in the same listing or already indexed for the same server (breakout rooms
        run on their parent's server).  The tenant sees the breakout's meetingID as BBB shows
        it."""
        assert snapshot.breakout is not None
        parent_id = snapshot.breakout.parent_id
        tenant_id = batch.get(parent_id)
        if tenant_id is None:
            parent = await self.store.recordings.get(parent_id)
            if parent is not None and parent.server_id == server.id:
                tenant_id = parent.tenant_id
        if tenant_id is None or tenant_id not in tenant_ids:
            return None  # parent not recorded (or not a tenant's): not attributable
        return Owner(tenant_id, snapshot.meeting_id)

    async def owner(self, backend_meeting_id: str, tenant_ids: set[int]) -> Owner | None:
        """Whose recording this is, from the backend meetingID."""
        split = split_backend_id(backend_meeting_id)
        if split is None or split[0] not in tenant_ids:
            return None
        tenant_id, rest = split
        if HASHED.fullmatch(rest):
            # either a hashed long meetingID or, rarely, a tenant meetingID of exactly that form
            found = await self.store.recordings.tenant_meeting_id(tenant_id, backend_meeting_id)
            if found is not None:
                return Owner(tenant_id, found)
        return Owner(tenant_id, rest)

    # --- every server, periodically --------------------------------------------------------------

    async def poll_once(self) -> RecordingsPollReport:
        servers = await self.store.servers.list()
        results = await asyncio.gather(
            *(self._refresh_guarded(server) for server in servers), return_exceptions=False
        )
        report = RecordingsPollReport(servers=len(servers))
        for server, result in zip(servers, results, strict=True):
            if isinstance(result, str):
                report.failed.append(server.name)
            else:
                report.listed += result
        return report

    async def _refresh_guarded(self, server: Server) -> int | str:
        async with self._semaphore:
            try:
                return await self.refresh_server(server)
            except BackendFailure as failure:
                log.info("recordings of %s not read: %s", server.name, failure.reason)
                return failure.reason
            except Exception as exc:  # never let one server stop the cycle
                log.exception("recordings of %s not read", server.name)
                return repr(exc)

    async def keep_statistics(self) -> None:
        """Refresh the planner statistics when the index changed size by a tenth (and at the
        first cycle of the process)."""
        count = await self.store.recordings.count()
        last = self._analysed_count
        if last is None or abs(count - last) > max(100, last // 10):
            await self.store.recordings.optimize()
            self._analysed_count = count

    async def run(self) -> None:
        """Index forever (the gateway's lifespan runs this as a task)."""

        async def cycle() -> None:
            await self.poll_once()
            await self.keep_statistics()

        await self.leadership.run_periodically(
            cycle, self.settings.recordings_poll_interval, "recording index cycle"
        )
