"""BBB's callbacks, received by the gateway: its own ``meetingEndedURL``, and relays of the
tenant's ``meta_endCallbackUrl``, ``meta_bbb-recording-ready-url`` and
``meta_analytics-callback-url``.

The gateway's own ``meetingEndedURL``: BBB tells the gateway at once when a meeting ends.

Every create sent to a backend carries ``meetingEndedURL=<public_url>/bigbluebutton/fleet/ended/
<meeting>/<token>``; the token is an HMAC with the hosting server's secret over the placement's
nonce, so only that server can end that placement (a stale copy on an old server, or a late
callback of an earlier run of the same meeting, cannot end the current one).  The
tenant's own ``meetingEndedURL``, if it gave one, is called afterwards like BBB would call it
(GET, ``recordingmarks`` appended), from the persistent delivery queue (retried).

Relays (docs/webhooks.md, "Callbacks"): on create the three meta URLs are replaced by *relay URLs*
``<public_url>/bigbluebutton/fleet/callback/<payload>/<token>``.  The payload (base64url JSON)
carries the callback kind, the server, the tenant, the tenant's meetingID and the tenant's own URL,
so a relay works long after the meeting row is gone (recordings are ready hours later) and
``original_callback_url`` maps a relay URL back to the tenant's URL without any lookup.  The token
is an HMAC with the hosting server's secret, so only that server (and the gateway) can use it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from jwt.warnings import InsecureKeyLengthWarning
from starlette.requests import Request
from starlette.responses import Response

from bbbfleet.gateway.directory import Directory
from bbbfleet.protocol.params import RawQuery, encode_component, parse_pairs
from bbbfleet.protocol.xml import escape
from bbbfleet.storage.repository import Meeting, NewDelivery, Server, Store, Tenant
from bbbfleet.webhooks.delivery import Deliverer
from bbbfleet.webhooks.privacy import (
    EventScope,
    PersonalData,
    filter_analytics_personal,
    scrub,
)

log = logging.getLogger(__name__)
# BBB's shared secrets are what they are (often shorter than RFC 7518 recommends for HS512):
# the callbacks must be signed with them all the same, without a warning per callback.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
ENDED_PATH = "/bigbluebutton/fleet/ended"
RELAY_PATH = "/bigbluebutton/fleet/callback"

# the create parameters relayed, by BBB's lowercased metadata name (BBB lowercases meta keys, so
# meta_endCallbackUrl and meta_endcallbackurl are the same)
END_CALLBACK = "endcallbackurl"
RECORDING_READY = "bbb-recording-ready-url"
# BBB 3.0's post_publish_recording_ready_callback.rb falls back to these two (Canvas uses the
# latter) when bbb-recording-ready-url is absent
RECORDING_READY_FALLBACKS = ("bn-recording-ready-url", "canvas-recording-ready-url")
RECORDING_READY_KINDS = (RECORDING_READY, *RECORDING_READY_FALLBACKS)
ANALYTICS = "analytics-callback-url"
RELAYED_META = (END_CALLBACK, *RECORDING_READY_KINDS, ANALYTICS)
MEETING_ENDED = "meetingendedurl"  # the tenant's meetingEndedURL (a create parameter, not meta)


@dataclass(frozen=True, slots=True)
class RelayTarget:
    """What a relay URL stands for."""

    kind: str  # one of RELAYED_META
    server_id: int
    tenant_id: int
    meeting_id: str  # the tenant's meetingID
    url: str  # the tenant's own callback URL


def tokens_equal(received: str, expected: str) -> bool:
    """Constant-time comparison of a token from a URL with the expected one.

    ``hmac.compare_digest`` refuses ``str`` with non-ASCII characters (TypeError), and URL path
    segments are whatever a client sent, so both sides are compared as UTF-8 bytes (lone
    surrogates are escaped rather than raising)."""
    return hmac.compare_digest(
        received.encode("utf-8", "surrogatepass"),
        expected.encode("utf-8", "surrogatepass"),
    )


def path_id(segment: str) -> int | None:
    """A database ID from a URL path segment: ASCII digits that fit a BIGINT, else None
    (``int()`` also takes "٣" or 10**30, which the database refuses)."""
    if not (segment.isascii() and segment.isdigit()) or len(segment) > 18:
        return None
    return int(segment)


def relay_token(payload: str, server_secret: str) -> str:
    return hmac.new(server_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def relay_url(public_url: str, target: RelayTarget, server_secret: str) -> str:
    """The gateway URL that stands for ``target`` in the create sent to the backend."""
    data = [target.kind, target.server_id, target.tenant_id, target.meeting_id, target.url]
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{public_url}{RELAY_PATH}/{payload}/{relay_token(payload, server_secret)}"


def decode_relay_payload(payload: str) -> RelayTarget | None:
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        kind, server_id, tenant_id, meeting_id, url = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        return None
    if kind not in (*RELAYED_META, MEETING_ENDED) or not all(
        isinstance(v, int) for v in (server_id, tenant_id)
    ):
        return None
    if not isinstance(meeting_id, str) or not isinstance(url, str):
        return None
    return RelayTarget(kind, server_id, tenant_id, meeting_id, url)


_RELAY_TAIL = r"/([A-Za-z0-9_-]+)/[0-9a-f]{32}"


def original_callback_url(url: str, public_url: str) -> str | None:
    """The tenant's own callback URL behind a relay URL of this gateway (None if ``url`` is
    not one).  Pure: no token check, no lookup — for translating metadata back (getMeetingInfo,
    getMeetings, events, the recordings index)."""
    match = re.fullmatch(re.escape(public_url + RELAY_PATH) + _RELAY_TAIL, url)
    target = decode_relay_payload(match.group(1)) if match else None
    return target.url if target else None


def restore_callback_urls(text: str, public_url: str, *, xml: bool = False) -> str:
    """Every relay URL of this gateway in ``text`` replaced by the tenant's original URL
    (``xml``: the text is an XML document, URLs in it are escaped)."""
    prefix = public_url + RELAY_PATH
    if xml:
        prefix = escape(prefix)
    if prefix not in text:
        return text
    pattern = re.compile(re.escape(prefix) + _RELAY_TAIL)

    def replace(match: re.Match[str]) -> str:
        target = decode_relay_payload(match.group(1))
        if target is None:
            return match.group(0)
        return escape(target.url) if xml else target.url

    return pattern.sub(replace, text)


def _token(meeting: Meeting, server: Server) -> str:
    message = f"{meeting.id}:{meeting.nonce}:{server.id}".encode()
    return hmac.new(server.secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def relay_query(
    query: RawQuery, public_url: str, tenant_id: int, meeting_id: str, server: Server
) -> RawQuery:
    """The create query with the tenant's relayed meta callback URLs replaced by relay URLs
    (every spelling of the name: BBB lowercases meta names, the first value wins)."""
    parts: list[bytes] = []
    done: set[str] = set()
    for part in query.parts:
        pairs = parse_pairs(part)
        name, value = pairs[0] if pairs else ("", "")
        kind = name[5:].lower() if name[:5].lower() == "meta_" else ""
        if kind not in RELAYED_META or not value:
            parts.append(part)
            continue
        if kind in done:
            continue  # a later duplicate: BBB would have used the first
        done.add(kind)
        target = RelayTarget(kind, server.id, tenant_id, meeting_id, value)
        url = relay_url(public_url, target, server.secret)
        parts.append(name.encode() + b"=" + encode_component(url).encode())
    return RawQuery(parts)


def jwt_secret_first(tenant: Tenant) -> str:
    """The secret callbacks to a tenant are signed with: its oldest (the one its LMS has until
    a rollover is finished)."""
    return tenant.secrets[0] if tenant.secrets else ""


class EndCallbacks:
    def __init__(
        self,
        store: Store,
        public_url: str,
        clock: Callable[[], int],
        timeout: float = 5.0,
        directory: Directory | None = None,
        deliverer: Deliverer | None = None,
    ) -> None:
        self.store = store
        self.public_url = public_url
        self.clock = clock
        self.directory = directory or Directory(store, 2.0)
        self.deliverer = deliverer
        self.relayed = 0  # callbacks accepted for relaying (for tests)
        # the personal-data rules of webhooks apply to the analytics relay too
        settings = deliverer.settings if deliverer is not None else None
        self.personal_data = settings.webhook_personal_data if settings else "keep"
        key = settings.webhook_hash_key if settings else None
        self.hash_key = key.encode() if key else None
        self.extra_origins = tuple(settings.webhook_backend_origins) if settings else ()

    async def close(self) -> None:
        return None

    def url_for(self, meeting: Meeting, server: Server, tenant_url: str | None = None) -> str:
        """The gateway's ``meetingEndedURL`` for this placement; when the tenant gave its own,
        it travels along (``relay``/``relay_token``) so it is called even after the gateway
        forgot the meeting (an ``end`` call forgets it before BBB calls back)."""
        url = f"{self.public_url}{ENDED_PATH}/{meeting.id}/{_token(meeting, server)}"
        if not tenant_url:
            return url
        target = RelayTarget(
            MEETING_ENDED, server.id, meeting.tenant_id, meeting.meeting_id, tenant_url
        )
        payload = relay_url("", target, server.secret)[len(RELAY_PATH) + 1 :]
        relay, token = payload.split("/")
        return f"{url}?relay={relay}&relay_token={token}"

    def relay_query(self, query: RawQuery, meeting: Meeting, server: Server) -> RawQuery:
        return relay_query(query, self.public_url, meeting.tenant_id, meeting.meeting_id, server)

    async def handle(self, request: Request) -> Response:
        """BBB calls this (GET) when the meeting ended."""
        meeting_pk = path_id(request.path_params["meeting"])
        if meeting_pk is None:
            return Response(status_code=404)
        snapshot = await self.directory.get()
        meeting = await self.store.meetings.get_by_pk(meeting_pk)
        server = (
            snapshot.server_by_id.get(meeting.server_id) if meeting and meeting.server_id else None
        )
        current = (
            meeting is not None
            and server is not None
            and tokens_equal(request.path_params["token"], _token(meeting, server))
        )
        if current and meeting is not None:
            await self.store.meetings.forget(meeting, self.clock())
        relay = request.query_params.get("relay", "")
        target = decode_relay_payload(relay)
        relay_server = snapshot.server_by_id.get(target.server_id) if target else None
        relayed = (
            target is not None
            and target.kind == MEETING_ENDED
            and relay_server is not None
            and tokens_equal(
                request.query_params.get("relay_token", ""), relay_token(relay, relay_server.secret)
            )
            and (current or await self._not_running_elsewhere(target))
        )
        if relayed and target is not None:
            marks = request.query_params.get("recordingmarks", "false")
            await self._enqueue(
                NewDelivery(
                    None, target.tenant_id, "meetingEndedURL", _with_marks(target.url, marks), "GET"
                )
            )
        return Response(status_code=200 if current or relayed else 404)

    async def _not_running_elsewhere(self, target: RelayTarget) -> bool:
        """A callback of a copy on another server than the meeting's current one (a stale copy
        after failover) must not tell the tenant that its meeting ended."""
        meeting = await self.store.meetings.get(target.tenant_id, target.meeting_id)
        return meeting is None or meeting.server_id in (None, target.server_id)

    async def _enqueue(self, delivery: NewDelivery) -> None:
        await self.store.hooks.enqueue([delivery], wall_ms())
        self.relayed += 1
        if self.deliverer is not None:
            self.deliverer.wake()

    async def relay(self, request: Request) -> Response:
        """A relay URL called by a backend: check it, re-sign for the tenant, queue the relay."""
        payload = request.path_params["payload"]
        target = decode_relay_payload(payload)
        snapshot = await self.directory.get()
        server = snapshot.server_by_id.get(target.server_id) if target else None
        if target is None or server is None:
            return Response(status_code=404)
        if not tokens_equal(request.path_params["token"], relay_token(payload, server.secret)):
            return Response(status_code=404)
        tenant = next((t for t in snapshot.tenants if t.id == target.tenant_id), None)
        if tenant is None:
            return Response(status_code=410)  # BBB's scripts take 410 as "gone, stop"
        if target.kind == MEETING_ENDED:
            return Response(status_code=404)  # only ever sent along with the gateway's own URL
        if target.kind == END_CALLBACK:
            if not await self._not_running_elsewhere(target):
                return Response(status_code=200)
            marks = request.query_params.get("recordingmarks", "false")
            delivery = NewDelivery(
                None, tenant.id, "endCallbackUrl", _with_marks(target.url, marks), "GET"
            )
        elif target.kind in RECORDING_READY_KINDS:
            relayed = await self._recording_ready(request, target, server, tenant)
            if relayed is None:
                return Response(status_code=401)
            delivery = relayed
        else:
            relayed = await self._analytics(request, target, server, tenant)
            if relayed is None:
                return Response(status_code=401)
            delivery = relayed
        await self._enqueue(delivery)
        return Response(status_code=200)

    async def _recording_ready(
        self, request: Request, target: RelayTarget, server: Server, tenant: Tenant
    ) -> NewDelivery | None:
        """``signed_parameters``: an HS256 JWT with the server's secret, claims ``meeting_id``
        (the backend's external ID) and ``record_id`` → the same with the tenant's meetingID,
        signed with the tenant's secret (post_publish_recording_ready_callback.rb)."""
        body = await request.body()
        try:
            token = dict(parse_pairs(body)).get("signed_parameters") or request.query_params.get(
                "signed_parameters"
            )
            claims = jwt.decode(token or "", server.secret, algorithms=["HS256"])
        except (jwt.PyJWTError, ValueError) as exc:  # ValueError: body not UTF-8
            log.warning("recording-ready callback from %s refused: %s", server.name, exc)
            return None
        signed = jwt.encode(
            {"meeting_id": target.meeting_id, "record_id": claims.get("record_id")},
            jwt_secret_first(tenant),
            algorithm="HS256",
            headers={"typ": None},  # ruby-jwt's header is {"alg":"HS256"} only
        )
        form = "signed_parameters=" + encode_component(signed)
        return NewDelivery(
            None,
            tenant.id,
            target.kind,
            target.url,
            "POST",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    async def _analytics(
        self, request: Request, target: RelayTarget, server: Server, tenant: Tenant
    ) -> NewDelivery | None:
        """BBB 3.0's post_events_analytics_callback.rb: POST, JSON body ``{version, meeting_id,
        internal_meeting_id, data}``, ``Authorization: Bearer <HS512 JWT {exp: now + 24 h}>``
        with the server's secret → the same, meeting_id the tenant's, backend facts scrubbed,
        token signed with the tenant's secret."""
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        try:
            jwt.decode(token, server.secret, algorithms=["HS512", "HS384", "HS256"])
            payload = json.loads(await request.body())
        except (jwt.PyJWTError, ValueError) as exc:
            log.warning("analytics callback from %s refused: %s", server.name, exc)
            return None
        if not isinstance(payload, dict):
            return None
        backend_id = payload.get("meeting_id")
        scope = EventScope(
            backend_meeting_id=backend_id if isinstance(backend_id, str) and backend_id else "\0",
            tenant_meeting_id=target.meeting_id,
            public_origin=_origin(self.public_url),
            backend_origins=tuple(
                o
                for u in (
                    *(s.api_url for s in (await self.directory.get()).servers),
                    *self.extra_origins,
                )
                if (o := _origin(u))
            ),
            personal=PersonalData(tenant.hook_personal_data or self.personal_data),
            hash_key=self.hash_key,
            restore_url=lambda text: restore_callback_urls(text, self.public_url),
        )
        relayed = scrub(payload, scope)
        filter_analytics_personal(relayed, scope)
        relayed["meeting_id"] = target.meeting_id
        exp = int(time.time()) + 24 * 3600
        signed = jwt.encode(
            {"exp": exp}, jwt_secret_first(tenant), algorithm="HS512", headers={"typ": "JWT"}
        )
        return NewDelivery(
            None,
            tenant.id,
            "analytics-callback-url",
            target.url,
            "POST",
            json.dumps(relayed, separators=(",", ":"), ensure_ascii=False).encode(),
            {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {signed}",
                "User-Agent": "BigBlueButton Analytics Callback",
            },
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _with_marks(url: str, recording_marks: str) -> str:
    marks = "true" if recording_marks == "true" else "false"
    return f"{url}{'&' if '?' in url else '?'}recordingmarks={marks}"


def wall_ms() -> int:
    return int(time.time() * 1000)
