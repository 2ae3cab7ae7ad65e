"""Webhooks at the gateway: the tenants' hooks API, the ingress of events from the backends'
bbb-webhooks, and the registration of the gateway's own hook on every backend.

* ``hooks/create|list|destroy`` answer exactly as bbb-webhooks (REFERENCE.md §11.1), per tenant:
  a tenant sees and removes only its own hooks, ``duplicateWarning`` is per tenant, and a hook
  needs one of the tenant's meetingIDs unless the operator allows tenant-wide hooks for it.
* Every enabled backend gets one hook of the gateway (``getRaw=false``) whose callback URL is
  ``<public_url>/bigbluebutton/fleet/events/<server id>/<token>`` (token: HMAC with the server's
  secret).  Events arriving there are checked (token, then bbb-webhooks' callback checksum with
  the server's secret, v3.3 or v3.4 form), mapped to the tenant's meeting, passed through the
  privacy filter and queued once per matching hook of that tenant.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exc as sa_exc
from starlette.requests import Request
from starlette.responses import Response

from bbbfleet.fleet.poller import Leadership
from bbbfleet.gateway.answers import Answer, Document
from bbbfleet.gateway.auth import candidate_tenants
from bbbfleet.gateway.backends import BackendClient, BackendFailure
from bbbfleet.gateway.callbacks import path_id, restore_callback_urls, tokens_equal
from bbbfleet.gateway.directory import Directory
from bbbfleet.gateway.recordings import GATEWAY_FORMATS, CentralFormats, public_snapshot
from bbbfleet.placement import ServerState
from bbbfleet.protocol import documents
from bbbfleet.protocol import errors as E
from bbbfleet.protocol.params import RawQuery
from bbbfleet.protocol.webhooks import (
    HOOKS_MEDIA_TYPE,
    HOOKS_PING_TEXT,
    HookListing,
    callback_checksum_version,
    event_id_of,
    event_json,
    hooks_checksum_valid,
    hooks_create_xml,
    hooks_destroy_xml,
    hooks_duplicate_xml,
    hooks_error_xml,
    hooks_list_xml,
    hooks_query_params,
    parse_callback_body,
    parse_hooks_create,
)
from bbbfleet.recordings.storage import DirectoryStorage
from bbbfleet.settings import Settings
from bbbfleet.storage.hooks import Located
from bbbfleet.storage.recordings import CENTRAL
from bbbfleet.storage.repository import Hook, Meeting, NewDelivery, Server, Store, Tenant
from bbbfleet.webhooks.delivery import EVENT, Deliverer
from bbbfleet.webhooks.mapping import parse_backend_meeting_id
from bbbfleet.webhooks.privacy import EventScope, PersonalData, filter_event
from bbbfleet.webhooks.targets import callback_url_problem

log = logging.getLogger(__name__)
# the database cannot be reached or answered with a server-side failure: worth a retry
STORAGE_OUTAGE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    ConnectionError,
    TimeoutError,
)


def _json_surrogate(error: UnicodeError) -> tuple[str, int]:
    """Encode-error handler: a lone surrogate becomes its JSON escape (``\\ud800``), as
    Node's well-formed ``JSON.stringify`` writes it; only ever used on JSON text, where
    surrogates can only stand inside strings."""
    assert isinstance(error, UnicodeEncodeError)
    bad = error.object[error.start : error.end]
    return "".join(f"\\u{ord(ch):04x}" for ch in bad), error.end


codecs.register_error("bbbfleet-json-surrogate", _json_surrogate)


def encode_event(event: dict[str, Any]) -> bytes:
    """The event JSON as UTF-8 bytes, lone surrogates (from ``\\udXXX`` escapes in the
    backend's JSON) escaped instead of failing."""
    return event_json(event).encode("utf-8", "bbbfleet-json-surrogate")


EVENTS_PATH = "/bigbluebutton/fleet/events"
REGISTRAR_LOCK = 7_203_132


def ingress_token(server: Server) -> str:
    message = f"events:{server.id}".encode()
    return hmac.new(server.secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _listing(hook: Hook) -> HookListing:
    return HookListing(
        hook.hook_id, hook.callback_url, hook.meeting_id, hook.event_ids, False, hook.raw
    )


class HooksService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        backends: BackendClient,
        deliverer: Deliverer,
        settings: Settings,
        clock: Callable[[], int],
    ) -> None:
        self.store = store
        self.directory = directory
        self.backends = backends
        self.deliverer = deliverer
        self.settings = settings
        self.clock = clock
        self.public_origin = origin(settings.public_url)
        self.leadership = Leadership(store.db, REGISTRAR_LOCK)
        self.dropped = 0  # events for meetings the gateway does not know (for tests)
        # what a central copy holds, as getRecordings asks it (the same manifest)
        self.central_formats: CentralFormats = DirectoryStorage(settings.recordings_dir).formats

    # --- the tenants' hooks API ------------------------------------------------------------

    async def ping(self, _request: Request) -> Response:
        # bbb-webhooks writes the text without a Content-Type
        return Response(HOOKS_PING_TEXT)

    async def api(self, request: Request, call: str) -> Answer:
        """``hooks/create|list|destroy`` from a tenant (after method checks)."""
        raw_query: bytes = request.scope["query_string"]
        snapshot = await self.directory.get()
        candidates = candidate_tenants(
            snapshot,
            request.path_params.get("tenant"),
            request.headers.get("host"),
            self.settings.tenant_by_secret,
        )
        tenant = self._authenticate(call, raw_query, candidates)
        if tenant is None:
            return _hooks(hooks_error_xml(E.HOOKS_CHECKSUM))
        params = hooks_query_params(raw_query)
        try:
            if call == "hooks/create":
                return await self._create(tenant, params)
            if call == "hooks/list":
                return await self._list(tenant, params)
            return await self._destroy(tenant, params)
        except Exception:  # bbb-webhooks answers its *HookError for any storage failure
            log.exception("%s failed", call)
            error = {
                "hooks/create": E.HOOKS_CREATE_ERROR,
                "hooks/list": E.HOOKS_LIST_ERROR,
            }.get(call, E.HOOKS_DESTROY_ERROR)
            return _hooks(hooks_error_xml(error))

    def _authenticate(
        self, call: str, raw_query: bytes, candidates: Sequence[Tenant]
    ) -> Tenant | None:
        algorithms = self.settings.checksum_algorithms
        for tenant in candidates:
            for secret in tenant.secrets:
                if hooks_checksum_valid(call, raw_query, secret, algorithms):
                    return tenant
        return None

    async def _create(self, tenant: Tenant, params: dict[str, str]) -> Answer:
        request = parse_hooks_create(params)
        if isinstance(request, E.ApiError):
            return _hooks(hooks_error_xml(request))
        meeting_id = request.meeting_id or None
        if meeting_id is None and not tenant.allow_tenant_hooks:
            return _hooks(hooks_error_xml(E.HOOK_MEETING_ID_REQUIRED))
        problem = callback_url_problem(
            request.callback_url, self.settings.webhook_allow_private_targets
        )
        if problem is not None:
            log.info(
                "tenant %s: callbackURL %r refused: %s", tenant.name, request.callback_url, problem
            )
            return _hooks(hooks_error_xml(E.HOOK_INVALID_CALLBACK_URL))
        result = await self.store.hooks.create_within_limit(
            tenant.id,
            request.callback_url,
            meeting_id,
            request.event_ids,
            request.get_raw,
            self.clock(),
            self.settings.webhook_max_hooks,
        )
        if result is None:
            return _hooks(hooks_error_xml(E.HOOK_LIMIT_REACHED))
        hook, created = result
        if not created:
            return _hooks(hooks_duplicate_xml(hook.hook_id))
        return _hooks(hooks_create_xml(hook.hook_id, False, hook.raw))

    async def _list(self, tenant: Tenant, params: dict[str, str]) -> Answer:
        hooks = await self.store.hooks.list(tenant.id, params.get("meetingID"))
        return _hooks(hooks_list_xml(_listing(h) for h in hooks))

    async def _destroy(self, tenant: Tenant, params: dict[str, str]) -> Answer:
        hook_id = params.get("hookID")
        if hook_id is None:
            return _hooks(hooks_error_xml(E.HOOKS_MISSING_HOOK_ID))
        if not await self.store.hooks.destroy(tenant.id, hook_id):
            return _hooks(hooks_error_xml(E.HOOKS_DESTROY_MISSING))
        return _hooks(hooks_destroy_xml())

    # --- ingress of the backends' events ---------------------------------------------------

    def ingress_url(self, server: Server) -> str:
        return f"{self.settings.public_url}{EVENTS_PATH}/{server.id}/{ingress_token(server)}"

    async def _server(self, server_id: int) -> Server | None:
        server = (await self.directory.get()).server_by_id.get(server_id)
        if server is None:
            self.directory.invalidate()
            server = (await self.directory.get()).server_by_id.get(server_id)
        return server

    async def ingress(self, request: Request) -> Response:
        """A backend's bbb-webhooks POSTs events here.  503 only when the storage cannot be
        reached (bbb-webhooks retries the event); any other failure drops the event."""
        try:
            return await self._ingress(request)
        except STORAGE_OUTAGE:
            log.exception("event not stored: storage unavailable (answered 503)")
            return Response(status_code=503)

    async def _ingress(self, request: Request) -> Response:
        server_id = path_id(request.path_params["server"])
        server = await self._server(server_id) if server_id is not None else None
        if server is None or not tokens_equal(request.path_params["token"], ingress_token(server)):
            return Response(status_code=404)
        body = await request.body()
        if len(body) > self.settings.max_body_bytes:
            return Response(status_code=413)
        text = body.decode("latin-1")
        url = self.ingress_url(server)
        query = request.scope["query_string"].decode("latin-1")
        received = f"{url}?{query}" if query else url
        if not self._signed(request, received, text, server, self.settings.webhook_ingress_auth):
            log.warning("event from %s with a wrong checksum: ignored", server.name)
            return Response(status_code=401)
        try:
            form = parse_callback_body(text)
        except ValueError as exc:  # dropped, not refused: a non-2xx would stall the stream
            log.warning("unreadable event body from %s dropped: %s", server.name, exc)
            self.dropped += 1
            return Response(status_code=200)
        if self._too_old(form.timestamp, form.events):
            # 200, not an error: a permanent hook of bbb-webhooks would retry an error forever
            log.warning("event from %s older than webhook_ingress_max_age dropped", server.name)
            self.dropped += 1
            return Response(status_code=200)
        # Any non-2xx makes bbb-webhooks retry the same event for minutes, holding back every
        # later event, and then delete the gateway's hook: an event the gateway cannot use is
        # dropped and logged, and only a storage outage (worth retrying) answers 503.
        queued = 0
        for event in form.events:
            if not isinstance(event, dict):
                log.info("event from %s that is not a JSON object dropped", server.name)
                self.dropped += 1
                continue
            try:
                queued += await self.route_event(server, event)
            except STORAGE_OUTAGE:
                raise
            except Exception:
                log.exception("event from %s dropped: it could not be routed", server.name)
                self.dropped += 1
        if queued:
            self.deliverer.wake()
        return Response(status_code=200)

    @staticmethod
    def _signed(request: Request, received: str, body: str, server: Server, auth: str) -> bool:
        """bbb-webhooks' checksum with the server's secret (v3.0–3.3 or v3.4+ form; only v3.4+
        with ``auth == "body"``), or, from a bbb-webhooks with ``auth2_0: true``,
        ``Authorization: Bearer <secret>``."""
        bearer = request.headers.get("authorization", "")
        if bearer:
            return hmac.compare_digest(
                bearer.encode("utf-8", "surrogatepass"),
                f"Bearer {server.secret}".encode("utf-8", "surrogatepass"),
            )
        version = callback_checksum_version(received, body, server.secret)
        return version == "3.4" if auth == "body" else version is not None

    def _too_old(self, form_timestamp: int | None, events: Sequence[Any]) -> bool:
        """A replay: the POST's ``timestamp`` (else its events' ``data.event.ts``) is older than
        ``webhook_ingress_max_age``.  Without any timestamp the event passes."""
        max_age = self.settings.webhook_ingress_max_age
        if not max_age:
            return False
        stamp = form_timestamp
        if stamp is None:
            stamps = [
                ts
                for e in events
                if isinstance(e, dict)
                and isinstance(data := e.get("data"), dict)
                and isinstance(info := data.get("event"), dict)
                and isinstance(ts := info.get("ts"), int)
            ]
            stamp = min(stamps) if stamps else None
        return stamp is not None and stamp < self.deliverer.clock() - max_age * 1000

    async def route_event(self, server: Server, event: dict[str, Any]) -> int:
        """Queue one mapped event for the matching hooks of its tenant; returns how many."""
        event_id = event_id_of(event)
        data = event.get("data")
        attributes = data.get("attributes") if isinstance(data, dict) else None
        meeting = attributes.get("meeting") if isinstance(attributes, dict) else None
        backend_id = meeting.get("external-meeting-id") if isinstance(meeting, dict) else None
        if event_id is None or not isinstance(backend_id, str):
            log.info("event without meeting from %s dropped", server.name)
            self.dropped += 1
            return 0
        snapshot = await self.directory.get()
        tenants = {t.id: t for t in snapshot.tenants}
        links, playback_origins = await self._playback(event_id, attributes)
        parent = await self._breakout_parent(server, backend_id, meeting)
        extra_origins = tuple(o for u in self.settings.webhook_backend_origins if (o := origin(u)))

        hosted: list[bool] = []  # known after the first pass: whether the server hosted it
        unverified: list[bool] = []

        def locate(row: Meeting | None) -> Located | None:
            tenant_meeting = _tenant_meeting(server, backend_id, row)
            if tenant_meeting is None and row is None and parent is not None:
                # a breakout room of a tenant's meeting: BBB's own ID, the parent's tenant
                tenant_meeting = parent.tenant_id, backend_id
            elif tenant_meeting is not None and row is None and not hosted:
                # a meetingID read from the ID alone is trusted only from a server that
                # hosted that meeting (checked outside this transaction, then tried again)
                unverified.append(True)
                return None
            tenant = tenants.get(tenant_meeting[0]) if tenant_meeting else None
            if tenant is None or tenant_meeting is None:
                return None
            return tenant.id, tenant_meeting[1], tenant.allow_tenant_hooks

        def build(located: Located, hooks: Sequence[Hook]) -> list[NewDelivery]:
            wanted = [h for h in hooks if h.event_ids is None or event_id in h.event_ids]
            if not wanted:
                return []
            tenant = tenants[located[0]]
            api_origins = (o for s in snapshot.servers if (o := origin(s.api_url)))
            scope = EventScope(
                backend_meeting_id=backend_id,
                tenant_meeting_id=located[1],
                public_origin=self._origin_for(tenant),
                backend_origins=tuple(
                    dict.fromkeys((*api_origins, *extra_origins, *playback_origins))
                ),
                playback_links=links,
                personal=PersonalData(
                    tenant.hook_personal_data or self.settings.webhook_personal_data
                ),
                hash_key=(self.settings.webhook_hash_key or "").encode() or None,
                restore_url=lambda text: restore_callback_urls(text, self.settings.public_url),
            )
            body = encode_event(filter_event(event, scope))
            return [NewDelivery(h.id, tenant.id, EVENT, h.callback_url, body=body) for h in wanted]

        queued = await self.store.hooks.route_event(
            backend_id, locate, build, self.deliverer.clock()
        )
        if queued is None and unverified:
            if not await self.store.meetings.hosted(server.id, backend_id):
                log.warning(
                    "%s event for %r from %s, which never hosted that meeting, dropped",
                    event_id,
                    backend_id,
                    server.name,
                )
                self.dropped += 1
                return 0
            hosted.append(True)
            queued = await self.store.hooks.route_event(
                backend_id, locate, build, self.deliverer.clock()
            )
        if queued is None:
            log.info(
                "%s event for unknown meeting %r from %s dropped", event_id, backend_id, server.name
            )
            self.dropped += 1
            return 0
        return queued

    async def _breakout_parent(
        self, server: Server, backend_id: str, meeting: Any
    ) -> Meeting | None:
        """The tenant meeting a breakout room belongs to, when ``backend_id`` is one: akka-apps
        names breakout rooms ``sha1hex(parentInternalId-timestamp-sequence)-timestamp``
        (REFERENCE.md §4), without the tenant prefix; they run on their parent's server, so the
        parent is one of that server's meetings (by ``parent-id`` in ``meeting-created``, else
        by recomputing the name).  None: not a breakout of a meeting the gateway knows."""
        match = _BREAKOUT_ID.fullmatch(backend_id)
        if match is None or parse_backend_meeting_id(backend_id) is not None:
            return None
        parent_id = meeting.get("parent-id") if isinstance(meeting, dict) else None
        for candidate in await self.store.meetings.all(server_id=server.id):
            internal = candidate.internal_meeting_id
            if not internal:
                continue
            if isinstance(parent_id, str) and parent_id != "bbb-none":
                if internal == parent_id:
                    return candidate
            elif breakout_of(internal, match.group(1), match.group(2)):
                return candidate
        return None

    def _origin_for(self, tenant: Tenant) -> str:
        """The origin a tenant knows the gateway by: its own host name (white label), else
        the gateway's public URL."""
        if tenant.hostname:
            return f"{urlsplit(self.settings.public_url).scheme}://{tenant.hostname}"
        return self.public_origin

    async def _playback(
        self, event_id: str | None, attributes: Any
    ) -> tuple[dict[str, str], tuple[str, ...]]:
        """For a recording event: its playback links as getRecordings shows them (backend URL →
        gateway URL, only for formats the gateway serves from central storage), and the origins
        of the recording's playback URLs (backend playback hosts can differ from API hosts)."""
        if not (event_id or "").startswith("rap-") or not isinstance(attributes, dict):
            return {}, ()
        record_id = attributes.get("record-id")
        if not isinstance(record_id, str) or not record_id:
            return {}, ()
        indexed = await self.store.recordings.get(record_id)
        if indexed is None:
            return {}, ()  # not indexed yet: getRecordings will show the backend's links
        backend = indexed.snapshot
        central = GATEWAY_FORMATS
        if indexed.location == CENTRAL:
            central = await self.central_formats(record_id)
        shown = public_snapshot(indexed, self.settings.public_url, central)
        links: dict[str, str] = {}
        for mine, theirs in zip(backend.playback, shown.playback, strict=True):
            links[mine.url] = theirs.url
            for image, public_image in zip(mine.preview, theirs.preview, strict=True):
                links[image.url] = public_image.url
        for (_kind, url), (_same, public) in zip(backend.data, shown.data, strict=True):
            links[url] = public
        origins = tuple(dict.fromkeys(o for f in backend.playback if (o := origin(f.url))))
        return {k: v for k, v in links.items() if k != v}, origins

    # --- the gateway's own hook on every backend -------------------------------------------

    async def register(self, server: Server) -> bool:
        """Make sure ``server``'s bbb-webhooks has the gateway's hook (idempotent: hooks/list
        first).  False when the server's hooks API could not be used."""
        url = self.ingress_url(server)
        try:
            _text, root = await self.backends.call_document(server, "hooks/list", RawQuery([]))
            known = [h.findtext("callbackURL") for h in root.iterfind("hooks/hook")]
            if url in known:
                return True
            query = RawQuery([]).replace("callbackURL", url).replace("getRaw", "false")
            _text, root = await self.backends.call_document(server, "hooks/create", query)
        except BackendFailure as failure:
            log.warning("could not register the gateway's hook on %s: %s", server.name, failure)
            return False
        if documents.child_text(root, "returncode") != "SUCCESS":
            log.warning(
                "%s refused the gateway's hook: %s",
                server.name,
                documents.child_text(root, "messageKey"),
            )
            return False
        log.info("registered the gateway's hook on %s", server.name)
        return True

    async def register_all(self) -> dict[str, bool]:
        servers = [
            s for s in await self.store.servers.list() if s.state is not ServerState.DISABLED
        ]
        results = await asyncio.gather(*(self.register(s) for s in servers))
        return {s.name: ok for s, ok in zip(servers, results, strict=True)}

    async def run_registrar(self) -> None:
        """Check every backend's hook now and every ``webhook_register_interval`` (one process
        at a time with PostgreSQL)."""
        await self.leadership.run_periodically(
            self.register_all, self.settings.webhook_register_interval, "webhook registration"
        )


_BREAKOUT_ID = re.compile(r"([0-9a-f]{40})-([0-9]{1,20})")
MAX_BREAKOUT_ROOMS = 16  # BBB offers up to 16 breakout rooms


def breakout_of(parent_internal_id: str, digest: str, timestamp: str) -> bool:
    """Whether ``<digest>-<timestamp>`` is a breakout room name akka-apps derives from the
    parent's internal ID (the timestamp is the breakout's, or the parent's internal one)."""
    stamps = dict.fromkeys((timestamp, parent_internal_id.rsplit("-", 1)[-1]))
    return any(
        hashlib.sha1(f"{parent_internal_id}-{stamp}-{seq}".encode()).hexdigest() == digest
        for stamp in stamps
        for seq in range(1, MAX_BREAKOUT_ROOMS + 1)
    )


def _tenant_meeting(server: Server, backend_id: str, row: Meeting | None) -> tuple[int, str] | None:
    """(tenant id, tenant meetingID) of an event's meeting: from the meetings table when the
    gateway knows the meeting, else read from the backend meetingID (not for hashed ones)."""
    if row is not None:
        if row.server_id is not None and row.server_id != server.id:
            return None  # a stale copy of a meeting that was re-created elsewhere
        return row.tenant_id, row.meeting_id
    parsed = parse_backend_meeting_id(backend_id)
    if parsed is None or parsed.meeting_id is None:
        return None
    return parsed.tenant_id, parsed.meeting_id


def _hooks(body: str) -> Document:
    return Document(body, media_type=HOOKS_MEDIA_TYPE)
