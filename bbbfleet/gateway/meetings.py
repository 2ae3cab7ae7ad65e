"""The meeting calls as the gateway answers them: validate like BBB, place, route, translate IDs.

A tenant's meetingID becomes a tenant-scoped ID towards the backend (two tenants may use the same
meetingID) and is translated back in every answer.  Bad input is answered here with BBB's own
keys, without a backend round trip; a backend that fails is reported with an honest FAILED answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from bbbfleet import placement
from bbbfleet.gateway.answers import Answer, Document, Failure, Redirect
from bbbfleet.gateway.backends import (
    BackendClient,
    BackendFailure,
    BackendInvalidAnswer,
)
from bbbfleet.gateway.directory import Directory
from bbbfleet.protocol import documents, responses, validation
from bbbfleet.protocol import errors as E
from bbbfleet.protocol.params import ApiParams, RawQuery
from bbbfleet.storage.repository import Meeting, NewMeeting, Server, Store, Tenant

log = logging.getLogger(__name__)

MAX_BACKEND_MEETING_ID = 256


def backend_meeting_id(tenant: Tenant, meeting_id: str) -> str:
    """The tenant-scoped meetingID sent to BBB; hashed when it would exceed BBB's 256 chars."""
    scoped = f"bf{tenant.id}-{meeting_id}"
    if len(scoped) <= MAX_BACKEND_MEETING_ID:
        return scoped
    return f"bf{tenant.id}-h-{hashlib.sha256(meeting_id.encode()).hexdigest()}"


@dataclass(frozen=True, slots=True)
class CreateRequest:
    params: ApiParams
    query: RawQuery  # the client's query string, checksum removed
    body: bytes | None
    content_type: str | None


class MeetingService:
    def __init__(
        self, store: Store, backends: BackendClient, directory: Directory, public_url: str
    ) -> None:
        self.store = store
        self.backends = backends
        self.directory = directory
        self.public_url = public_url

    # --- lookups ---------------------------------------------------------------------------------

    async def find(self, tenant: Tenant, params: ApiParams) -> Meeting | None:
        """The tenant's meeting named by ``meetingID``: by its ID, else by BBB internal ID."""
        meeting_id = params.get("meetingID")
        if meeting_id is None:
            return None
        meeting = await self.store.get_meeting(tenant.id, meeting_id)
        if meeting is None and "-" in meeting_id:
            meeting = await self.store.find_meeting_by_internal_id(tenant.id, meeting_id)
        return meeting

    async def _server(self, meeting: Meeting) -> Server | None:
        snapshot = await self.directory.get()
        server = snapshot.server_by_id.get(meeting.server_id)
        if server is None:  # added after the cached snapshot was taken
            self.directory.invalidate()
            server = (await self.directory.get()).server_by_id.get(meeting.server_id)
        return server

    def _backend_query(self, query: RawQuery, meeting: Meeting) -> RawQuery:
        return query.without("checksum").replace("meetingID", meeting.backend_meeting_id)

    def _to_tenant(self, body: str, meeting: Meeting) -> str:
        return documents.replace_element_text(
            body, "meetingID", meeting.backend_meeting_id, meeting.meeting_id
        )

    # --- create ----------------------------------------------------------------------------------

    async def create(self, tenant: Tenant, request: CreateRequest) -> Answer:
        params = request.params
        error = validation.first_violation(validation.create_violations(params))
        error = error or validation.create_controller_error(params)
        if error is not None:
            return Failure(error)
        meeting_id = params["meetingID"]
        meeting = await self.store.get_meeting(tenant.id, meeting_id)
        claimed = False
        if meeting is None:
            snapshot = await self.directory.get()
            server = placement.choose_server(snapshot.servers, await self.store.meeting_counts())
            if server is None:
                return Failure(E.NO_SERVER_AVAILABLE)
            meeting, claimed = await self.store.claim_meeting(
                NewMeeting(
                    tenant_id=tenant.id,
                    meeting_id=meeting_id,
                    backend_meeting_id=backend_meeting_id(tenant, meeting_id),
                    server_id=server.id,
                    create_query=request.query.without("checksum").encode(),
                    create_body=request.body or None,
                    create_content_type=request.content_type if request.body else None,
                )
            )
        return await self._forward_create(meeting, request, claimed)

    async def _forward_create(
        self, meeting: Meeting, request: CreateRequest, claimed: bool
    ) -> Answer:
        server = await self._server(meeting)
        if server is None:
            return await self._unavailable(meeting, claimed)
        try:
            body, root = await self.backends.call_document(
                server,
                "create",
                self._backend_query(request.query, meeting),
                body=request.body,
                content_type=request.content_type,
            )
        except BackendFailure as failure:
            log.warning("create of %s failed: %s", meeting.meeting_id, failure)
            if claimed:
                await self.store.forget_meeting(meeting.id)
            if isinstance(failure, BackendInvalidAnswer):
                return Failure(E.BACKEND_INVALID_RESPONSE)
            return Failure(E.BACKEND_UNAVAILABLE)
        if documents.child_text(root, "returncode") == "SUCCESS":
            internal_id = documents.child_text(root, "internalMeetingID") or ""
            if internal_id != meeting.internal_meeting_id:
                create_time = documents.child_text(root, "createTime") or ""
                await self.store.record_backend_meeting(
                    meeting.id,
                    internal_id,
                    documents.child_text(root, "attendeePW"),
                    documents.child_text(root, "moderatorPW"),
                    int(create_time) if create_time.isdigit() else None,
                )
        elif claimed:
            await self.store.forget_meeting(meeting.id)
        return Document(self._to_tenant(body, meeting))

    async def _unavailable(self, meeting: Meeting, claimed: bool) -> Answer:
        if claimed:
            await self.store.forget_meeting(meeting.id)
        return Failure(E.BACKEND_UNAVAILABLE)

    # --- join ------------------------------------------------------------------------------------

    def join_error(self, params: ApiParams, error: E.ApiError) -> Redirect:
        """A failed join, redirected where bbb-web would send it (the gateway's URL standing in
        for the server's own)."""
        base = responses.join_error_base(params, self.public_url)
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
        server = await self._server(meeting)
        if server is None:
            return self.join_error(params, E.BACKEND_UNAVAILABLE)
        backend_query = self._backend_query(query, meeting)
        if not params.get("errorRedirectUrl") and not params.get("logoutURL"):
            # keep users away from the backend's own host when the join fails there
            backend_query = backend_query.replace("errorRedirectUrl", self.public_url)
        if params.get("redirect", "true").strip().lower() != "false":
            return Redirect(self.backends.signed_url(server, "join", backend_query))
        try:
            body = await self.backends.call(server, "join", backend_query)
        except BackendFailure as failure:
            log.warning("join of %s failed: %s", meeting.meeting_id, failure)
            return self.join_error(params, E.BACKEND_UNAVAILABLE)
        return Document(body)

    # --- end, getMeetingInfo, isMeetingRunning --------------------------------------------------

    async def end(self, tenant: Tenant, params: ApiParams, query: RawQuery) -> Answer:
        meeting = await self.find(tenant, params)
        error = validation.first_violation(validation.end_violations(params, meeting is not None))
        if error is not None or meeting is None:
            return Failure(error or E.NOT_FOUND)
        answer = await self._routed(meeting, "end", query)
        if isinstance(answer, Document):
            # BBB removes an ended meeting at once; so does the gateway.  A meeting the backend no
            # longer knows is forgotten too (it expired there).
            await self.store.forget_meeting(meeting.id)
        return answer

    async def get_meeting_info(self, tenant: Tenant, params: ApiParams, query: RawQuery) -> Answer:
        meeting = await self.find(tenant, params)
        error = validation.first_violation(
            validation.get_meeting_info_violations(params, meeting is not None)
        )
        if error is not None or meeting is None:
            return Failure(error or E.NOT_FOUND)
        return await self._routed(meeting, "getMeetingInfo", query)

    async def is_meeting_running(
        self, tenant: Tenant, params: ApiParams, query: RawQuery
    ) -> Answer:
        error = validation.first_violation(validation.is_meeting_running_violations(params))
        if error is not None:
            return Failure(error)
        meeting = await self.find(tenant, params)
        if meeting is None:
            return Document(responses.is_meeting_running_xml(False))
        answer = await self._routed(meeting, "isMeetingRunning", query)
        if isinstance(answer, Failure) and answer.error == E.NOT_FOUND:
            return Document(responses.is_meeting_running_xml(False))
        return answer

    async def _routed(self, meeting: Meeting, call: str, query: RawQuery) -> Answer:
        """Forward a call to the meeting's server; a backend that no longer knows the meeting
        makes the gateway forget it too."""
        server = await self._server(meeting)
        if server is None:
            return Failure(E.BACKEND_UNAVAILABLE)
        try:
            body, root = await self.backends.call_document(
                server, call, self._backend_query(query, meeting)
            )
        except BackendFailure as failure:
            log.warning("%s of %s failed: %s", call, meeting.meeting_id, failure)
            if isinstance(failure, BackendInvalidAnswer):
                return Failure(E.BACKEND_INVALID_RESPONSE)
            return Failure(E.BACKEND_UNAVAILABLE)
        if documents.child_text(root, "messageKey") == E.NOT_FOUND.key:
            await self.store.forget_meeting(meeting.id)
            return Failure(E.NOT_FOUND)
        return Document(self._to_tenant(body, meeting))

    # --- getMeetings -----------------------------------------------------------------------------

    async def get_meetings(self, tenant: Tenant) -> Answer:
        """This tenant's meetings only, gathered from their servers concurrently.  A server that
        is down or slow is left out rather than failing the whole call."""
        mine = await self.store.list_meetings(tenant.id)
        if not mine:
            return Document(responses.get_meetings_xml([]))
        snapshot = await self.directory.get()
        by_backend_id = {m.backend_meeting_id: m for m in mine}
        server_ids = sorted({m.server_id for m in mine})
        servers = [snapshot.server_by_id[i] for i in server_ids if i in snapshot.server_by_id]
        results = await asyncio.gather(
            *(self.backends.meeting_blocks(s) for s in servers), return_exceptions=True
        )
        blocks: list[str] = []
        for server, result in zip(servers, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("getMeetings skipped %s: %s", server.name, result)
                continue
            for block in result:
                meeting = by_backend_id.get(documents.block_meeting_id(block) or "")
                if meeting is not None and meeting.server_id == server.id:
                    blocks.append(self._to_tenant(block, meeting))
        return Document(responses.get_meetings_xml(blocks))


def _java_long(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return -1


def _role_error(params: ApiParams, meeting: Meeting) -> E.ApiError | None:
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
