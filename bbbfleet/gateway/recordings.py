"""The recording calls as the gateway answers them (REFERENCE.md §5.7-5.12), from the index.

* getRecordings is answered from ``store.recordings`` alone: no backend call, whatever the
  size of the fleet.
* publish/delete/updateRecordings check like bbb-web, then go to the server that holds each
  recording (signed with its secret, record IDs unchanged) and update the index from the
  result.  A recording whose server was removed from bbbfleet — or one stored centrally whose
  server is unreachable — is changed in the index alone.
* getRecordingTextTracks / putRecordingTextTrack go to the recording's server, answer passed
  through.

A tenant only ever sees its own recordings: another tenant's record ID behaves exactly like an
unknown one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterable, Callable, Sequence
from dataclasses import replace
from enum import Enum
from urllib.parse import urlencode, urlsplit, urlunsplit

from bbbfleet.gateway.answers import Answer, Document, Failure
from bbbfleet.gateway.backends import BackendClient, BackendFailure
from bbbfleet.gateway.directory import Directory
from bbbfleet.placement import Health
from bbbfleet.protocol import errors as E
from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol import text_tracks
from bbbfleet.protocol.params import META_NAME, ApiParams, RawQuery
from bbbfleet.protocol.recordings import RecordingQuery, RecordingSnapshot
from bbbfleet.protocol.recordings_read import paginated_block
from bbbfleet.protocol.xml import JSON_MEDIA_TYPE
from bbbfleet.recordings.index import RecordingIndex
from bbbfleet.settings import Settings
from bbbfleet.storage.recordings import CENTRAL, IndexedRecording, RecordingFilter
from bbbfleet.storage.repository import Server, Store, Tenant

log = logging.getLogger(__name__)


class Action(Enum):
    PUBLISH = "publishRecordings"
    DELETE = "deleteRecordings"
    UPDATE = "updateRecordings"


def public_snapshot(recording: IndexedRecording, public_url: str) -> RecordingSnapshot:
    """What getRecordings shows: a centrally stored recording is played from the gateway's
    host (same paths as on the BBB server); otherwise from its server."""
    if recording.location != CENTRAL:
        return recording.snapshot
    return with_host(recording.snapshot, public_url)


def public_block(recording: IndexedRecording, public_url: str, paginated: bool) -> str:
    """The ``<recording>`` getRecordings shows: the stored block (rendered when the index
    wrote it), or rendered now for a centrally stored recording (URLs on the gateway)."""
    if recording.location == CENTRAL:
        return rec.recording_block(public_snapshot(recording, public_url), paginated=paginated)
    return paginated_block(recording.block) if paginated else recording.block


def with_host(snapshot: RecordingSnapshot, base_url: str) -> RecordingSnapshot:
    """Every playback, preview and data URL moved to ``base_url``'s scheme and host."""
    target = urlsplit(base_url)

    def move(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))

    return replace(
        snapshot,
        playback=tuple(
            replace(
                f, url=move(f.url), preview=tuple(replace(i, url=move(i.url)) for i in f.preview)
            )
            for f in snapshot.playback
        ),
        data=tuple((kind, move(url)) for kind, url in snapshot.data),
    )


class RecordingService:
    def __init__(
        self,
        store: Store,
        backends: BackendClient,
        directory: Directory,
        settings: Settings,
        index: RecordingIndex,
        clock: Callable[[], int],
    ) -> None:
        self.store = store
        self.backends = backends
        self.directory = directory
        self.settings = settings
        self.index = index
        self.clock = clock

    # --- getRecordings -------------------------------------------------------------------------

    async def get_recordings(self, tenant: Tenant, params: ApiParams) -> Answer:
        query = RecordingQuery.from_params(params)
        if query.fetches_all and not self.settings.allow_fetch_all_recordings:
            return Document(rec.fetch_all_disabled_xml())
        selection = RecordingFilter(
            tenant_id=tenant.id,
            record_prefixes=query.record_ids,
            meeting_ids=query.meeting_ids,
            states=None if query.states == rec.ALL_STATES else query.states,
            metadata=query.metadata,
        )
        if query.limit is None:
            found, _total = await self.store.recordings.search(selection)
            blocks = [public_block(r, self.settings.public_url, False) for r in found]
            return Document(rec.get_recordings_xml(blocks))
        found, total = await self.store.recordings.search(selection, query.offset, query.limit)
        if not found:
            # an offset past the end is what bbb-web answers with HTTP 500; the gateway gives
            # the answer bbb-web gives for the first offset past the last page: noRecordings
            return Document(rec.get_recordings_xml([]))
        blocks = [public_block(r, self.settings.public_url, True) for r in found]
        pagination = rec.Pagination(query.offset, query.limit, total, False)
        return Document(rec.get_recordings_xml(blocks, pagination))

    # --- publish / delete / update ------------------------------------------------------------

    async def publish(self, tenant: Tenant, params: ApiParams) -> Answer:
        publish = rec.groovy_to_boolean(params["publish"])
        state = rec.PUBLISHED if publish else rec.UNPUBLISHED
        answer = await self._act(tenant, params, Action.PUBLISH, state=state)
        return answer or Document(rec.publish_recordings_xml(params["publish"]))

    async def delete(self, tenant: Tenant, params: ApiParams) -> Answer:
        answer = await self._act(tenant, params, Action.DELETE, state=rec.DELETED)
        return answer or Document(rec.delete_recordings_xml())

    async def update(self, tenant: Tenant, params: ApiParams) -> Answer:
        answer = await self._act(
            tenant, params, Action.UPDATE, updates=rec.metadata_updates(params)
        )
        return answer or Document(rec.update_recordings_xml())

    async def _act(
        self,
        tenant: Tenant,
        params: ApiParams,
        action: Action,
        state: str | None = None,
        updates: dict[str, str] | None = None,
    ) -> Failure | None:
        """Apply the action to the tenant's named recordings; None when it succeeded (for at
        least one of them, as bbb-web), else the failure to answer."""
        ids = rec.split_ids(params["recordID"])
        mine = [r for r in await self.store.recordings.find(tenant.id, ids) if r.visible]
        if not any(r.state in rec.EXISTING_STATES for r in mine):
            return Failure(E.RECORDINGS_NOT_FOUND)
        # publish/delete act on published/unpublished ones; update on deleted ones too
        targets = [
            r
            for r in mine
            if r.state in rec.EXISTING_STATES
            or (action is Action.UPDATE and r.state == rec.DELETED)
        ]
        by_server: dict[int | None, list[IndexedRecording]] = defaultdict(list)
        for recording in targets:
            by_server[recording.server_id].append(recording)
        snapshot = await self.directory.get()
        done = 0
        unreachable = False
        for server_id, group in by_server.items():
            server = None if server_id is None else snapshot.server_by_id.get(server_id)
            if server_id is not None and server is None:  # added after the cached snapshot
                self.directory.invalidate()
                server = (await self.directory.get()).server_by_id.get(server_id)
            if server is None:  # its server was removed from bbbfleet: the index is all there is
                await self._apply(group, state, updates)
                done += len(group)
                continue
            outcome = await self._forward(server, group, action, params)
            if outcome is True:
                await self._apply(group, state, updates)
                await self._refresh(server, group)
                done += len(group)
            elif outcome is False:  # the server no longer has them: the index was stale
                # … unless the gateway stores them: the server deleted its copy after the
                # import (delete_after_import), the central copy is the recording now
                central = [r for r in group if r.location == CENTRAL]
                if central:
                    await self._apply(central, state, updates, detach=True)
                    done += len(central)
                await self._refresh(server, group)
            else:
                central = [r for r in group if r.location == CENTRAL]
                if central:
                    await self._apply(central, state, updates, detach=True)
                    done += len(central)
                unreachable = unreachable or len(central) < len(group)
        if done:
            return None
        return Failure(E.RECORDING_SERVER_UNAVAILABLE if unreachable else E.RECORDINGS_NOT_FOUND)

    async def _forward(
        self,
        server: Server,
        group: Sequence[IndexedRecording],
        action: Action,
        params: ApiParams,
    ) -> bool | None:
        """True: the server did it; False: it says it has none of them; None: unreachable."""
        if server.health is Health.OFFLINE:
            return None
        pairs = [("recordID", ",".join(r.record_id for r in group))]
        if action is Action.PUBLISH:
            pairs.append(("publish", params["publish"]))
        elif action is Action.UPDATE:
            pairs += [(name, value) for name, value in params.items() if META_NAME.fullmatch(name)]
        query = RawQuery.parse(urlencode(pairs).encode())
        try:
            _text, root = await self.backends.call_document(server, action.value, query)
        except BackendFailure as failure:
            log.warning("%s on %s failed: %s", action.value, server.name, failure.reason)
            return None
        if root.findtext("returncode") == "SUCCESS":
            return True
        log.info("%s on %s: %s", action.value, server.name, root.findtext("messageKey") or "FAILED")
        return False

    async def _apply(
        self,
        group: Sequence[IndexedRecording],
        state: str | None,
        updates: dict[str, str] | None,
        detach: bool = False,
    ) -> None:
        ids = [r.record_id for r in group]
        now = self.clock()
        if state is not None:
            await self.store.recordings.set_state(ids, state, now)
        if updates is not None:
            await self.store.recordings.update_meta(ids, updates, now)
        if detach:
            # the index now knows better than the unreachable server: its stale copy must not
            # overwrite this change when it comes back
            await self.store.recordings.detach(ids)

    async def _refresh(self, server: Server, group: Sequence[IndexedRecording]) -> None:
        try:
            await self.index.refresh_server(server, [r.record_id for r in group])
        except BackendFailure as failure:
            log.info("recordings of %s not re-read: %s", server.name, failure.reason)

    # --- text tracks ---------------------------------------------------------------------------

    async def _owned_server(
        self, tenant: Tenant, record_id: str
    ) -> tuple[IndexedRecording, Server | None] | None:
        found = [r for r in await self.store.recordings.find(tenant.id, [record_id]) if r.visible]
        if not found:
            return None
        recording = found[0]
        snapshot = await self.directory.get()
        server = (
            None if recording.server_id is None else snapshot.server_by_id.get(recording.server_id)
        )
        return recording, server

    async def get_text_tracks(self, tenant: Tenant, params: ApiParams) -> Answer:
        record_id = params["recordID"].strip()
        owned = await self._owned_server(tenant, record_id)
        if owned is None or owned[1] is None:
            return _json(text_tracks.text_tracks_failed_json("noRecordings", record_id))
        _recording, server = owned
        assert server is not None
        query = RawQuery([]).replace("recordID", record_id)
        try:
            text = await self.backends.call(server, "getRecordingTextTracks", query)
        except BackendFailure as failure:
            log.warning("getRecordingTextTracks on %s: %s", server.name, failure.reason)
            error = E.RECORDING_SERVER_UNAVAILABLE
            body = {"returncode": "FAILED", "messageKey": error.key, "message": error.message}
            return _json(text_tracks.gson({"response": body}))
        return Document(text, media_type=_media_type(text))

    async def put_text_track(
        self,
        tenant: Tenant,
        params: ApiParams,
        query: RawQuery,
        body: bytes | AsyncIterable[bytes],
        content_type: str | None,
    ) -> Answer:
        """The upload (bytes, or a stream read only once the recording is known to be the
        tenant's) goes to the recording's server unchanged."""
        record_id = params["recordID"].strip()
        owned = await self._owned_server(tenant, record_id)
        if owned is None or owned[1] is None:
            return _json(text_tracks.put_error_json(*text_tracks.no_recording(record_id)))
        _recording, server = owned
        assert server is not None
        try:
            text = await self.backends.call(
                server,
                "putRecordingTextTrack",
                query.without("checksum"),
                body=body,
                content_type=content_type,
                timeout=max(self.settings.backend_timeout, 60.0),
                post=True,
            )
        except BackendFailure as failure:
            log.warning("putRecordingTextTrack on %s: %s", server.name, failure.reason)
            error = E.RECORDING_SERVER_UNAVAILABLE
            return _json(text_tracks.put_error_json(error.key, error.message))
        return Document(text, media_type=_media_type(text))


def _json(body: str) -> Document:
    return Document(body, media_type=JSON_MEDIA_TYPE)


def _media_type(text: str) -> str:
    return JSON_MEDIA_TYPE if text.lstrip().startswith("{") else Document("").media_type
