"""HTTP handlers: parse → authorise → call a service → render.  Nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from bbbfleet.gateway.answers import Answer, Document, Failure, to_response
from bbbfleet.gateway.auth import Unauthorised, authenticate, candidate_tenants
from bbbfleet.gateway.directory import Directory
from bbbfleet.gateway.hooks import HooksService
from bbbfleet.gateway.meetings import CreateRequest, MeetingService
from bbbfleet.gateway.recordings import RecordingService
from bbbfleet.gateway.sessions import SessionRouter
from bbbfleet.gateway.upload_guard import RecordIdGuard
from bbbfleet.protocol import errors as E
from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol import responses, text_tracks
from bbbfleet.protocol.calls import (
    CALLS,
    FORM_TYPES,
    ApiCall,
    ChecksumFamily,
    body_type_allowed,
    media_type,
)
from bbbfleet.protocol.params import ApiParams, ParamsNotUtf8, RawQuery, ascii_digits, parse_pairs
from bbbfleet.protocol.xml import JSON_MEDIA_TYPE
from bbbfleet.settings import Settings
from bbbfleet.storage.repository import Tenant

log = logging.getLogger(__name__)


URLENCODED = "application/x-www-form-urlencoded"


class BodyTooLarge(Exception):
    pass


class BoundedStream:
    """A request body passed on chunk by chunk; raises BodyTooLarge past ``limit`` bytes."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self.limit = limit
        self.size = 0
        self.exceeded = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._chunks.__anext__()
        self.size += len(chunk)
        if self.size > self.limit:
            self.exceeded = True
            raise BodyTooLarge
        return chunk


@dataclass(slots=True)
class ApiRequest:
    """One authenticated API call, ready for a service."""

    call: ApiCall
    tenant: Tenant
    params: ApiParams
    query: RawQuery
    body: bytes
    content_type: str | None


Handler = Callable[[ApiRequest], Awaitable[Answer]]


class Gateway:
    """The web layer, bound to its services."""

    def __init__(
        self,
        settings: Settings,
        directory: Directory,
        meetings: MeetingService,
        sessions: SessionRouter,
        recordings: RecordingService,
        hooks: HooksService | None = None,
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.meetings = meetings
        self.sessions = sessions
        self.hooks = hooks
        self.recordings = recordings
        self.handlers: dict[str, Handler] = {
            "create": self._create,
            "join": self._join,
            "end": lambda r: meetings.end(r.tenant, r.params, r.query),
            "getMeetingInfo": lambda r: meetings.get_meeting_info(r.tenant, r.params, r.query),
            "isMeetingRunning": lambda r: meetings.is_meeting_running(r.tenant, r.params, r.query),
            "getMeetings": lambda r: meetings.get_meetings(r.tenant),
            "sendChatMessage": lambda r: meetings.send_chat_message(r.tenant, r.params, r.query),
            "getSessions": lambda r: meetings.get_sessions(r.tenant),
            "insertDocument": lambda r: meetings.insert_document(
                r.tenant, r.params, r.query, r.body, r.content_type
            ),
            "getRecordings": lambda r: recordings.get_recordings(r.tenant, r.params),
            "publishRecordings": lambda r: recordings.publish(r.tenant, r.params),
            "deleteRecordings": lambda r: recordings.delete(r.tenant, r.params),
            "updateRecordings": lambda r: recordings.update(r.tenant, r.params),
            "getRecordingTextTracks": lambda r: recordings.get_text_tracks(r.tenant, r.params),
            "putRecordingTextTrack": lambda r: recordings.put_text_track(
                r.tenant, r.params, r.query, r.body, r.content_type
            ),
        }

    async def version(self, request: Request) -> Response:
        if request.headers.get("content-type") == "application/json":
            body = responses.version_json(self.settings.public_url)
            return to_response(Document(body, media_type="application/json"), request)
        return to_response(Document(responses.version_xml(self.settings.public_url)), request)

    async def api(self, request: Request) -> Response:
        try:
            return await self._api(request)
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception:  # the last line of defence: never a 500, never a traceback
            log.exception("unexpected error on %s", request.url.path)
            return to_response(Failure(E.INTERNAL_ERROR), request)

    async def _api(self, request: Request) -> Response:
        name = request.path_params["call"]
        call = CALLS.get(name)
        session_call = call is not None and call.checksum is ChecksumFamily.NONE
        if call is not None and call.checksum is ChecksumFamily.HOOKS and self.hooks is not None:
            if not call.accepts(request.method):
                return to_response(Failure(E.METHOD_NOT_ALLOWED, status=405), request)
            # bbb-webhooks: its own checksum rules, answers and per-tenant storage
            return to_response(await self.hooks.api(request, name), request)
        if call is None or (name not in self.handlers and not session_call):
            return to_response(Failure(E.UNKNOWN_CALL, status=404), request)
        if not call.accepts(request.method):
            return to_response(Failure(E.METHOD_NOT_ALLOWED, status=405), request)
        raw_query: bytes = request.scope["query_string"]
        content_type = request.headers.get("content-type")
        limit = self.settings.max_body_bytes
        if name == "putRecordingTextTrack":
            limit = min(limit, self.settings.max_text_track_bytes)
            streamed = await self._stream_text_track(request, call, raw_query, content_type)
            if streamed is not None:
                return streamed
        try:
            body = await self._read_body(request, limit)
        except BodyTooLarge:
            return to_response(Failure(E.BODY_TOO_LARGE), request)
        try:
            params = await self._params(request, raw_query, body, content_type)
        except ParamsNotUtf8:
            return to_response(Failure(E.PARAMS_NOT_UTF8), request)
        if session_call:  # session-token calls: no tenant, no checksum (SessionRouter)
            cookie = request.headers.get("cookie")
            answer = await self.sessions.route(name, params, RawQuery.parse(raw_query), cookie)
            return to_response(answer, request)
        early = before_checksum(name, params)
        if early is not None:  # bbb-web checks these parameters before the checksum
            return to_response(early, request)
        tenant = await self._authenticate(
            request,
            call,
            params,
            raw_query,
            body if media_type(content_type) == URLENCODED else None,
        )
        if isinstance(tenant, Response):
            return tenant
        if body and not body_type_allowed(call, content_type):  # after the checksum, as bbb-web
            return self._refuse(call, params, E.UNSUPPORTED_CONTENT_TYPE, request)
        api_request = ApiRequest(
            call, tenant, params, RawQuery.parse(raw_query), body, content_type
        )
        return to_response(await self.handlers[name](api_request), request)

    async def _authenticate(
        self,
        request: Request,
        call: ApiCall,
        params: ApiParams,
        raw_query: bytes,
        form_body: bytes | None,
    ) -> Tenant | Response:
        """The calling tenant, or the refusal to send."""
        snapshot = await self.directory.get()
        candidates = candidate_tenants(
            snapshot,
            request.path_params.get("tenant"),
            request.headers.get("host"),
            self.settings.tenant_by_secret,
        )
        try:
            return authenticate(
                call, raw_query, candidates, snapshot, self.settings.checksum_algorithms, form_body
            )
        except Unauthorised as refused:
            return self._refuse(call, params, refused.error, request)

    async def _stream_text_track(
        self, request: Request, call: ApiCall, raw_query: bytes, content_type: str | None
    ) -> Response | None:
        """putRecordingTextTrack with checksum and recordID in the query (what clients send):
        checked before the body is read, then the upload is streamed to the recording's server,
        cut off past ``max_text_track_bytes``.  None: the body is needed to find the parameters
        (they came as form fields), so the call takes the buffered path."""
        if media_type(content_type) != "multipart/form-data":
            return None
        try:
            params = ApiParams.from_pairs(parse_pairs(raw_query))
        except ParamsNotUtf8:
            return None
        if not params.get("checksum") or not params.get("recordID"):
            return None
        tenant = await self._authenticate(request, call, params, raw_query, None)
        if isinstance(tenant, Response):
            return tenant
        limit = self.settings.max_text_track_bytes
        declared = request.headers.get("content-length")
        if declared is not None and ascii_digits(declared) and int(declared) > limit:
            return to_response(Failure(E.BODY_TOO_LARGE), request)
        # a recordID form field must not name another recording than the checked query's
        guard = RecordIdGuard(content_type or "", params["recordID"])
        upload = BoundedStream(guard.watch(request.stream()), limit)
        try:
            answer = await self.recordings.put_text_track(
                tenant, params, RawQuery.parse(raw_query), upload, content_type
            )
        except Exception:
            if upload.exceeded:
                return to_response(Failure(E.BODY_TOO_LARGE), request)
            if guard.refused is None:
                raise
        if upload.exceeded:
            return to_response(Failure(E.BODY_TOO_LARGE), request)
        if guard.refused is not None:
            log.info("putRecordingTextTrack refused: %s", guard.refused)
            body = text_tracks.put_error_json(*text_tracks.RECORD_ID_MISMATCH)
            return to_response(Document(body, media_type=JSON_MEDIA_TYPE), request)
        return to_response(answer, request)

    def _refuse(
        self, call: ApiCall, params: ApiParams, error: E.ApiError, request: Request
    ) -> Response:
        """join reports every failure as a redirect; the other calls as FAILED documents."""
        if call.name == "join":
            return to_response(self.meetings.join_error(params, error), request)
        return to_response(Failure(error), request)

    async def _read_body(self, request: Request, limit: int) -> bytes:
        headers = request.headers
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            return b""  # no body (every GET of an LMS): nothing to wait for
        if declared is not None and ascii_digits(declared) and int(declared) > limit:
            raise BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # let request.form() reuse what was read
        return body

    async def _params(
        self, request: Request, raw_query: bytes, body: bytes, content_type: str | None
    ) -> ApiParams:
        pairs = parse_pairs(raw_query)
        kind = media_type(content_type)
        if body and kind == URLENCODED:
            pairs += parse_pairs(body)
        elif body and kind in FORM_TYPES:
            try:
                form = await request.form()
            except Exception as exc:  # malformed multipart: treat as no body parameters
                log.info("unreadable multipart body: %s", exc)
            else:
                pairs += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        return ApiParams.from_pairs(pairs)

    async def _create(self, request: ApiRequest) -> Answer:
        return await self.meetings.create(
            request.tenant,
            CreateRequest(
                request.params, request.query, request.body or None, request.content_type
            ),
        )

    async def _join(self, request: ApiRequest) -> Answer:
        return await self.meetings.join(request.tenant, request.params, request.query)


def before_checksum(call: str, params: ApiParams) -> Answer | None:
    """What the recording calls answer before the checksum is verified (REFERENCE.md §5.8,
    §5.11, §5.12): a missing checksum, recordID or publish parameter."""
    if call in ("publishRecordings", "deleteRecordings", "updateRecordings"):
        error = rec.recording_action_error(params, needs_publish=call == "publishRecordings")
        return None if error is None else Failure(error)
    if call == "getRecordingTextTracks":
        if not params.get("checksum"):
            return Failure(E.RECORDING_CHECKSUM)
        if not params.get("recordID"):
            return Failure(E.MISSING_PARAM_RECORD_ID)
    if call == "putRecordingTextTrack":
        for name, (key, message) in (
            ("checksum", text_tracks.MISSING_CHECKSUM),
            ("recordID", text_tracks.MISSING_RECORD_ID),
        ):
            if not params.get(name):
                body = text_tracks.put_error_json(key, message)
                return Document(body, media_type=JSON_MEDIA_TYPE)
    return None
