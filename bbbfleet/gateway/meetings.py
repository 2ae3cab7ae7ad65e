"""The meeting calls as the gateway answers them: validate like BBB, reserve and place, route,
translate IDs, and re-create a meeting elsewhere when its server is gone.

A tenant's meetingID becomes a tenant-scoped ID towards the backend (two tenants may use the same
meetingID) and is translated back in every answer.  Bad input is answered here with BBB's own
keys, without a backend round trip; a backend that fails is reported with an honest answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bbbfleet import placement, policy
from bbbfleet.gateway.answers import Answer, Document, Failure, Redirect
from bbbfleet.gateway.backends import BackendClient, BackendFailure, BackendInvalidAnswer
from bbbfleet.gateway.callbacks import EndCallbacks, restore_callback_urls
from bbbfleet.gateway.directory import Directory
from bbbfleet.placement import (
    Health,
    NoPlacement,
    Placed,
    PlacementRequest,
    ServerLoad,
    TagRequest,
)
from bbbfleet.protocol import documents, responses, validation
from bbbfleet.protocol import errors as E
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.params import ApiParams, RawQuery
from bbbfleet.protocol.xml import escape
from bbbfleet.settings import Settings
from bbbfleet.storage.meetings import PlacementInputs
from bbbfleet.storage.repository import Meeting, NewMeeting, Server, Store, Tenant

log = logging.getLogger(__name__)

MAX_BACKEND_MEETING_ID = 256
SERVER_TAG_PARAM = "meta_server-tag"
MS_PER_MINUTE = 60_000
Clock = Callable[[], int]  # milliseconds


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def backend_meeting_id(tenant: Tenant, meeting_id: str) -> str:
    """The tenant-scoped meetingID sent to BBB; hashed when it would exceed BBB's 256 chars."""
    scoped = f"bf{tenant.id}-{meeting_id}"
    if len(scoped) <= MAX_BACKEND_MEETING_ID:
        return scoped
    return f"bf{tenant.id}-h-{hashlib.sha256(meeting_id.encode()).hexdigest()}"


@dataclass(frozen=True, slots=True)
class CreateRequest:
    params: ApiParams
    query: RawQuery  # the client's query string
    body: bytes | None
    content_type: str | None


@dataclass(frozen=True, slots=True)
class Reservation:
    seats: int
    until_ms: int
    tags: TagRequest


_REFUSALS: dict[NoPlacement, ApiError] = {
    NoPlacement.NO_SERVERS: E.NO_SERVER_AVAILABLE,
    NoPlacement.NO_TAGGED_SERVER: E.NO_TAGGED_SERVER,
    NoPlacement.NO_CAPACITY: E.NO_SERVER_CAPACITY,
}


def decider(
    seats: int,
    tags: TagRequest,
    pool: int | None,
    strategy: placement.Strategy,
    exclude: frozenset[int] = frozenset(),
) -> Callable[[PlacementInputs], int | ApiError]:
    """The placement decision for the store's placement transaction: pool first, then servers."""

    def decide(inputs: PlacementInputs) -> int | ApiError:
        if not placement.fits_pool(pool, inputs.tenant_load, seats):
            return E.ACCOUNT_CAPACITY_EXHAUSTED
        loads = [
            ServerLoad(
                id=s.id,
                capacity=s.capacity,
                weight=s.weight,
                state=s.state,
                health=s.health,
                tags=s.tags,
                reserved=inputs.reserved_by_server.get(s.id, 0),
                live=s.live_participants,
            )
            for s in inputs.servers
        ]
        chosen = placement.place(loads, PlacementRequest(seats, tags, exclude), strategy)
        return chosen.server_id if isinstance(chosen, Placed) else _REFUSALS[chosen.reason]

    return decide


class MeetingService:
    def __init__(
        self,
        store: Store,
        backends: BackendClient,
        directory: Directory,
        settings: Settings,
        callbacks: EndCallbacks,
        clock: Clock = wall_clock_ms,
    ) -> None:
        self.store = store
        self.backends = backends
        self.directory = directory
        self.settings = settings
        self.callbacks = callbacks
        self.clock = clock
        self.platform_texts = {
            name: text
            for name, text in zip(
                policy.TEXT_PARAMS,
                (settings.welcome_text, settings.moderator_only_text, settings.banner_text),
                strict=True,
            )
            if text
        }
        self._error_redirect_part = (
            RawQuery([]).replace("errorRedirectUrl", settings.public_url).parts[0]
        )

    # --- lookups ---------------------------------------------------------------------------------

    async def find(self, tenant: Tenant, params: ApiParams) -> Meeting | None:
        """The tenant's meeting named by ``meetingID``: by its ID, else by BBB internal ID."""
        meeting_id = params.get("meetingID")
        if meeting_id is None:
            return None
        meeting = await self.store.meetings.get(tenant.id, meeting_id)
        if meeting is None and "-" in meeting_id:
            meeting = await self.store.meetings.find_by_internal_id(tenant.id, meeting_id)
        return meeting

    async def _server(self, meeting: Meeting) -> Server | None:
        if meeting.server_id is None:
            return None
        snapshot = await self.directory.get()
        server = snapshot.server_by_id.get(meeting.server_id)
        if server is None:  # added after the cached snapshot was taken
            self.directory.invalidate()
            server = (await self.directory.get()).server_by_id.get(meeting.server_id)
        return server

    def _backend_query(self, query: RawQuery, meeting: Meeting) -> RawQuery:
        return query.without("checksum").replace("meetingID", meeting.backend_meeting_id)

    def _to_tenant(self, body: str, meeting: Meeting) -> str:
        body = documents.replace_element_text(
            body, "meetingID", meeting.backend_meeting_id, meeting.meeting_id
        )
        # metadata shows the tenant's own callback URLs, not the gateway's relay URLs
        return restore_callback_urls(body, self.settings.public_url, xml=True)

    async def _failed(self, server: Server, failure: BackendFailure) -> None:
        """A call to ``server`` failed: it takes no new meetings until polls succeed again."""
        log.warning("%s", failure)
        await self.store.servers.record_failure(server.id, failure.reason)
        self.directory.invalidate()

    # --- create ----------------------------------------------------------------------------------

    async def create(self, tenant: Tenant, request: CreateRequest) -> Answer:
        params = request.params
        error = validation.first_violation(validation.create_violations(params))
        error = error or validation.create_controller_error(params)
        if error is not None:
            return Failure(error)
        meeting = await self.store.meetings.get(tenant.id, params["meetingID"])
        if meeting is not None:
            return await self._create_existing(tenant, meeting, request)
        reservation = await self.reservation(tenant, params)
        new = NewMeeting(
            tenant_id=tenant.id,
            meeting_id=params["meetingID"],
            backend_meeting_id=backend_meeting_id(tenant, params["meetingID"]),
            create_query=request.query.without("checksum").encode(),
            create_body=request.body or None,
            create_content_type=request.content_type if request.body else None,
            reserved_participants=reservation.seats,
            reserved_until_ms=reservation.until_ms,
            created_ms=self.clock(),
        )
        tried: set[int] = set()
        last_error: ApiError = E.NO_SERVER_AVAILABLE
        for _attempt in range(self.settings.create_attempts):
            decide = decider(
                reservation.seats,
                reservation.tags,
                tenant.pool_participants,
                self.settings.placement_strategy,
                frozenset(tried),
            )
            outcome = await self.store.meetings.place(new, decide)
            if isinstance(outcome, ApiError):
                return Failure(outcome if not tried else last_error)
            meeting, created = outcome
            if not created:  # a concurrent create of the same meeting placed it first
                return await self._create_existing(tenant, meeting, request)
            answer = await self._forward_create(tenant, meeting, request.query, request)
            if not isinstance(answer, BackendFailure):
                return answer
            await self.store.meetings.release(meeting.id)
            tried.add(answer.server.id)
            last_error = _failure_error(answer)
        return Failure(last_error)

    async def reservation(self, tenant: Tenant, params: ApiParams) -> Reservation:
        """What a create reserves: maxParticipants (or the room's recent peak, or the default)
        seats, for duration (or the default) minutes, on servers with the requested tags."""
        seats = params.integer("maxParticipants", 0)
        if seats <= 0:
            seats = await self._predicted_size(tenant, params["meetingID"]) or (
                tenant.default_participants or self.settings.default_participants
            )
        minutes = params.integer("duration", 0)
        if minutes <= 0:
            minutes = tenant.default_duration_minutes or self.settings.default_duration_minutes
        tags = TagRequest.parse(params.get(SERVER_TAG_PARAM) or tenant.default_tags)
        return Reservation(seats, self.clock() + minutes * MS_PER_MINUTE, tags)

    async def _predicted_size(self, tenant: Tenant, meeting_id: str) -> int | None:
        enabled = tenant.predict_size
        if enabled is None:
            enabled = self.settings.predict_size
        if not enabled:
            return None
        window_ms = int(self.settings.prediction_window_days * 24 * 3600 * 1000)
        return await self.store.meetings.room_peak(tenant.id, meeting_id, self.clock() - window_ms)

    async def _create_existing(
        self, tenant: Tenant, meeting: Meeting, request: CreateRequest
    ) -> Answer:
        """A create of a meeting the gateway knows: forwarded to its server, which answers
        duplicateWarning or idNotUnique — unless that server is gone, then it is re-created."""
        server = await self._server(meeting)
        if server is not None and server.health is not Health.OFFLINE:
            answer = await self._forward_create(tenant, meeting, request.query, request)
            if not isinstance(answer, BackendFailure):
                return answer
        moved = await self.recreate_elsewhere(tenant, meeting)
        if isinstance(moved, ApiError):
            return Failure(moved)
        # answer the client's own create against the re-created meeting: a duplicateWarning
        answer = await self._forward_create(tenant, moved, request.query, request)
        return Failure(_failure_error(answer)) if isinstance(answer, BackendFailure) else answer

    async def recreate_elsewhere(self, tenant: Tenant, meeting: Meeting) -> Meeting | ApiError:
        """Failover: place the meeting on another healthy server and create it there with its
        stored create parameters and the passwords its users know."""
        failed = {meeting.server_id} if meeting.server_id is not None else set()
        stored = RawQuery.parse(meeting.create_query.encode("latin-1"))
        last_error: ApiError = E.NO_SERVER_AVAILABLE
        current = meeting
        for _attempt in range(self.settings.create_attempts):
            decide = decider(
                max(current.reserved_participants, 1),
                TagRequest.parse(
                    ApiParams.parse(meeting.create_query.encode()).get(SERVER_TAG_PARAM)
                ),
                None,  # a meeting that already holds its reservation is never refused by the pool
                self.settings.placement_strategy,
                frozenset(failed),
            )
            moved = await self.store.meetings.move(current, decide, self.clock())
            if moved is None:  # moved concurrently by another request: use that placement
                latest = await self.store.meetings.get_by_pk(meeting.id)
                if latest is None:
                    return E.NOT_FOUND
                server = await self._server(latest)
                if server is not None and server.health is Health.AVAILABLE:
                    return latest
                current = latest
                continue
            if isinstance(moved, ApiError):
                return last_error if failed - {meeting.server_id} else moved
            query = stored
            if meeting.attendee_pw:
                query = query.replace("attendeePW", meeting.attendee_pw)
            if meeting.moderator_pw:
                query = query.replace("moderatorPW", meeting.moderator_pw)
            body = meeting.create_body
            answer = await self._forward_create(
                tenant, moved, query, None, body, meeting.create_content_type
            )
            if isinstance(answer, BackendFailure):
                failed.add(answer.server.id)
                last_error = _failure_error(answer)
                current = moved
                continue
            log.info("meeting %s re-created on server %s", meeting.meeting_id, moved.server_id)
            refreshed = await self.store.meetings.get_by_pk(meeting.id)
            return refreshed or moved
        return last_error

    async def _forward_create(
        self,
        tenant: Tenant,
        meeting: Meeting,
        query: RawQuery,
        request: CreateRequest | None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Answer | BackendFailure:
        """Send create to the meeting's server; returns the answer, or the failure to act on."""
        server = await self._server(meeting)
        if server is None:
            raise LookupError(f"meeting {meeting.id} has no server")
        if request is not None:
            body, content_type = request.body, request.content_type
        params = request.params if request is not None else ApiParams.parse(query.encode().encode())
        with_policy = policy.apply_to_create(query, params, tenant.policy, self.platform_texts)
        backend_query = self.callbacks.relay_query(
            self._backend_query(with_policy, meeting)
            .without("duration")  # reserves capacity at the gateway; never a hard end in BBB
            .replace(
                "meetingEndedURL",
                self.callbacks.url_for(
                    meeting,
                    server,
                    ApiParams.parse(with_policy.encode().encode()).get("meetingEndedURL"),
                ),
            ),
            meeting,
            server,
        )
        try:
            text, root = await self.backends.call_document(
                server, "create", backend_query, body=body, content_type=content_type
            )
        except BackendFailure as failure:
            await self._failed(server, failure)
            return failure
        if documents.child_text(root, "returncode") == "SUCCESS":
            internal_id = documents.child_text(root, "internalMeetingID") or ""
            if internal_id != meeting.internal_meeting_id:
                create_time = documents.child_text(root, "createTime") or ""
                await self.store.meetings.record_backend_meeting(
                    meeting.id,
                    internal_id,
                    documents.child_text(root, "attendeePW"),
                    documents.child_text(root, "moderatorPW"),
                    int(create_time) if create_time.isdigit() else None,
                )
        elif meeting.internal_meeting_id is None and request is not None:
            await self.store.meetings.release(meeting.id)  # the backend refused a new meeting
        return Document(self._to_tenant(text, meeting))

    # --- join ------------------------------------------------------------------------------------

    def join_error(self, params: ApiParams, error: ApiError) -> Redirect:
        """A failed join, redirected where bbb-web would send it (the gateway's URL standing in
        for the server's own)."""
        base = responses.join_error_base(params, self.settings.public_url)
        return Redirect(responses.join_error_location(base, error))

    async def join(self, tenant: Tenant, params: ApiParams, query: RawQuery) -> Answer:
        meeting = await self.find(tenant, params)
        error = validation.first_violation(
            validation.join_violations(params, meeting is not None, meeting_ended=False)
        )
        if error is not None or meeting is None:
            return self.join_error(params, error or E.MEETING_FORCIBLY_ENDED)
        if "existingUserID" not in params:
            create_time = params.get("createTime")
            known = meeting.create_time
            if create_time is not None and known is not None and _java_long(create_time) != known:
                return self.join_error(params, E.MISMATCH_CREATE_TIME)
            role_error = _role_error(params, meeting)
            if role_error is not None:
                return Failure(role_error)
        reachable = await self._reachable_server(tenant, meeting)
        if isinstance(reachable, ApiError):
            return self.join_error(params, reachable)
        meeting, server = reachable
        backend_query = self._backend_query(
            policy.apply_to_join(query, params, tenant.policy), meeting
        )
        if not params.get("errorRedirectUrl") and not params.get("logoutURL"):
            # keep users away from the backend's own host when the join fails there
            backend_query = backend_query.with_part(self._error_redirect_part)
        if params.get("redirect", "true").strip().lower() != "false":
            return Redirect(self.backends.signed_url(server, "join", backend_query))
        try:
            body = await self.backends.call(server, "join", backend_query)
        except BackendFailure as failure:
            await self._failed(server, failure)
            return self.join_error(params, E.BACKEND_UNAVAILABLE)
        return Document(body)

    async def _reachable_server(
        self, tenant: Tenant, meeting: Meeting
    ) -> tuple[Meeting, Server] | ApiError:
        """The meeting's server if it can be used; otherwise the meeting is re-created on
        another server first.  A healthy server is trusted without a round trip (joins are the
        hot path); an unstable one is asked whether it still has the meeting."""
        server = await self._server(meeting)
        if server is not None and server.health is Health.AVAILABLE:
            return meeting, server
        if server is not None and server.health is Health.UNSTABLE:
            try:
                await self.backends.call_document(
                    server,
                    "isMeetingRunning",
                    RawQuery([]).replace("meetingID", meeting.backend_meeting_id),
                )
                return meeting, server
            except BackendFailure as failure:
                await self._failed(server, failure)
        moved = await self.recreate_elsewhere(tenant, meeting)
        if isinstance(moved, ApiError):
            return moved
        new_server = await self._server(moved)
        return (moved, new_server) if new_server is not None else E.NO_SERVER_AVAILABLE

    # --- end, getMeetingInfo, isMeetingRunning --------------------------------------------------

    async def end(self, tenant: Tenant, params: ApiParams, query: RawQuery) -> Answer:
        meeting = await self.find(tenant, params)
        error = validation.first_violation(validation.end_violations(params, meeting is not None))
        if error is not None or meeting is None:
            return Failure(error or E.NOT_FOUND)
        server = await self._server(meeting)
        if server is None or server.health is Health.OFFLINE:
            # nothing runs anywhere: ending it is forgetting it
            await self.store.meetings.forget(meeting, self.clock())
            return Document(responses.end_xml())
        answer = await self._routed(meeting, server, "end", query)
        if isinstance(answer, Document):
            # BBB removes an ended meeting at once; so does the gateway (reservation released)
            await self.store.meetings.forget(meeting, self.clock())
        return answer

    async def get_meeting_info(self, tenant: Tenant, params: ApiParams, query: RawQuery) -> Answer:
        meeting = await self.find(tenant, params)
        error = validation.first_violation(
            validation.get_meeting_info_violations(params, meeting is not None)
        )
        if error is not None or meeting is None:
            return Failure(error or E.NOT_FOUND)
        server = await self._server(meeting)
        if server is None or server.health is Health.OFFLINE:
            return Failure(E.NOT_FOUND)  # truthfully: it runs nowhere until re-created
        answer = await self._routed(meeting, server, "getMeetingInfo", query)
        if isinstance(answer, Failure) and answer.error in (
            E.BACKEND_UNAVAILABLE,
            E.BACKEND_INVALID_RESPONSE,
        ):
            return Failure(E.NOT_FOUND)
        return answer

    async def is_meeting_running(
        self, tenant: Tenant, params: ApiParams, query: RawQuery
    ) -> Answer:
        error = validation.first_violation(validation.is_meeting_running_violations(params))
        if error is not None:
            return Failure(error)
        meeting = await self.find(tenant, params)
        server = None if meeting is None else await self._server(meeting)
        if meeting is None or server is None or server.health is Health.OFFLINE:
            return Document(responses.is_meeting_running_xml(False))
        answer = await self._routed(meeting, server, "isMeetingRunning", query)
        if isinstance(answer, Failure):
            return Document(responses.is_meeting_running_xml(False))
        return answer

    async def _routed(self, meeting: Meeting, server: Server, call: str, query: RawQuery) -> Answer:
        """Forward a call to the meeting's server; a backend that no longer knows the meeting
        makes the gateway forget it too."""
        try:
            body, root = await self.backends.call_document(
                server, call, self._backend_query(query, meeting)
            )
        except BackendFailure as failure:
            await self._failed(server, failure)
            return Failure(_failure_error(failure))
        if documents.child_text(root, "messageKey") == E.NOT_FOUND.key:
            await self.store.meetings.forget(meeting, self.clock())
            return Failure(E.NOT_FOUND)
        return Document(self._to_tenant(body, meeting))

    # --- sendChatMessage, getSessions ---------------------------------------------------------

    async def send_chat_message(self, tenant: Tenant, params: ApiParams, query: RawQuery) -> Answer:
        """Post to a running meeting's public chat (§5.13); an unknown or unreachable meeting is
        ``meetingNotFound``, as BBB answers for a meeting that is not running."""
        error = validation.first_violation(validation.send_chat_message_violations(params))
        if error is not None:
            return Failure(error)
        meeting = await self.find(tenant, params)
        server = None if meeting is None else await self._server(meeting)
        if meeting is None or server is None or server.health is Health.OFFLINE:
            return Failure(E.CHAT_MEETING_NOT_FOUND)
        answer = await self._routed(meeting, server, "sendChatMessage", query)
        if isinstance(answer, Failure) and answer.error in (
            E.BACKEND_UNAVAILABLE,
            E.BACKEND_INVALID_RESPONSE,
            E.NOT_FOUND,
        ):
            return Failure(E.CHAT_MEETING_NOT_FOUND)
        return answer

    async def insert_document(
        self,
        tenant: Tenant,
        params: ApiParams,
        query: RawQuery,
        body: bytes,
        content_type: str | None,
    ) -> Answer:
        """Add presentations to a running meeting (§5.21): the XML body goes to the meeting's
        server unchanged."""
        error = validation.first_violation(validation.meeting_id_required(params))
        if error is not None:
            return Failure(error)
        meeting = await self.find(tenant, params)
        server = None if meeting is None else await self._server(meeting)
        if meeting is None or server is None or server.health is Health.OFFLINE:
            not_found = E.insert_document_not_found(params.get("meetingID", ""))
            return Document(responses.insert_document_xml(False, not_found))
        try:
            text = await self.backends.call(
                server,
                "insertDocument",
                self._backend_query(query, meeting),
                body=body,
                content_type=content_type,
            )
        except BackendFailure as failure:
            await self._failed(server, failure)
            return Failure(_failure_error(failure))
        # the only ID in these answers is in the not-found message
        backend_id, tenant_id = escape(meeting.backend_meeting_id), escape(meeting.meeting_id)
        return Document(text.replace(f"[{backend_id}]", f"[{tenant_id}]"))

    async def get_sessions(self, tenant: Tenant) -> Answer:
        """The user sessions of this tenant's meetings only (§5.18), from their servers."""
        mine = await self.store.meetings.all(tenant.id)
        internal_ids = {m.internal_meeting_id for m in mine if m.internal_meeting_id}
        snapshot = await self.directory.get()
        servers = [
            snapshot.server_by_id[i]
            for i in sorted({m.server_id for m in mine if m.server_id is not None})
            if i in snapshot.server_by_id
        ]
        results = await asyncio.gather(
            *(self.backends.call_document(s, "getSessions", RawQuery([])) for s in servers),
            return_exceptions=True,
        )
        sessions: list[tuple[str, str, str]] = []
        for server, result in zip(servers, results, strict=True):
            if isinstance(result, BackendFailure):
                await self._failed(server, result)
                continue
            if isinstance(result, BaseException):
                log.error("getSessions of %s failed: %r", server.name, result)
                continue
            _text, root = result
            for session in root.iterfind("sessions/meeting"):
                meeting_id = session.findtext("meetingID") or ""
                if meeting_id in internal_ids:
                    sessions.append(
                        (
                            meeting_id,
                            session.findtext("meetingName") or "",
                            session.findtext("userName") or "",
                        )
                    )
        return Document(responses.get_sessions_xml(sessions))

    # --- getMeetings -----------------------------------------------------------------------------

    async def get_meetings(self, tenant: Tenant) -> Answer:
        """This tenant's meetings only, gathered from their servers concurrently.  A server that
        is down or slow is left out rather than failing the whole call."""
        mine = await self.store.meetings.all(tenant.id)
        if not mine:
            return Document(responses.get_meetings_xml([]))
        snapshot = await self.directory.get()
        by_backend_id = {m.backend_meeting_id: m for m in mine}
        server_ids = sorted({m.server_id for m in mine if m.server_id is not None})
        servers = [
            snapshot.server_by_id[i]
            for i in server_ids
            if i in snapshot.server_by_id and snapshot.server_by_id[i].health is not Health.OFFLINE
        ]
        results = await asyncio.gather(
            *(self.backends.meeting_blocks(s) for s in servers), return_exceptions=True
        )
        blocks: list[str] = []
        for server, result in zip(servers, results, strict=True):
            if isinstance(result, BackendFailure):
                await self._failed(server, result)
                continue
            if isinstance(result, BaseException):
                log.error("getMeetings of %s failed: %r", server.name, result)
                continue
            for block in result:
                meeting = by_backend_id.get(documents.block_meeting_id(block) or "")
                if meeting is not None and meeting.server_id == server.id:
                    blocks.append(self._to_tenant(block, meeting))
        return Document(responses.get_meetings_xml(blocks))


def _failure_error(failure: BackendFailure) -> ApiError:
    if isinstance(failure, BackendInvalidAnswer):
        return E.BACKEND_INVALID_RESPONSE
    return E.BACKEND_UNAVAILABLE


def _java_long(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return -1


def _role_error(params: ApiParams, meeting: Meeting) -> ApiError | None:
    """bbb-web's role/password rule (§5.2 step 3), answered from the stored passwords."""
    if params.get("role", "").strip().lower() in {"moderator", "viewer"}:
        return None
    if meeting.attendee_pw is None and meeting.moderator_pw is None:
        return None  # passwords unknown to the gateway: let the backend decide
    password = params.get("password", "")
    has_passwords = bool(meeting.attendee_pw or meeting.moderator_pw)
    if password:
        if password in {meeting.moderator_pw, meeting.attendee_pw}:
            return None
        return E.WRONG_PASSWORD if has_passwords else E.ROLE_REQUIRED_NO_PASSWORDS
    return E.ROLE_OR_PASSWORD_REQUIRED if has_passwords else E.ROLE_REQUIRED_NO_PASSWORDS
