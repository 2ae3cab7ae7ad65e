"""HTTP handlers: parse → authorise → call a service → render.  Nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from bbbfleet.gateway.answers import Answer, Document, Failure, to_response
from bbbfleet.gateway.auth import Unauthorised, authenticate, candidate_tenants
from bbbfleet.gateway.directory import Directory
from bbbfleet.gateway.hooks import HooksService
from bbbfleet.gateway.meetings import CreateRequest, MeetingService
from bbbfleet.gateway.sessions import SessionRouter
from bbbfleet.protocol import errors as E
from bbbfleet.protocol import responses
from bbbfleet.protocol.calls import (
    CALLS,
    FORM_TYPES,
    ApiCall,
    ChecksumFamily,
    body_type_allowed,
    media_type,
)
from bbbfleet.protocol.params import ApiParams, ParamsNotUtf8, RawQuery, parse_pairs
from bbbfleet.settings import Settings
from bbbfleet.storage.repository import Tenant

log = logging.getLogger(__name__)


URLENCODED = "application/x-www-form-urlencoded"


class BodyTooLarge(Exception):
    pass


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
        hooks: HooksService | None = None,
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.meetings = meetings
        self.sessions = sessions
        self.hooks = hooks
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
        try:
            body = await self._read_body(request)
        except BodyTooLarge:
            return to_response(Failure(E.BODY_TOO_LARGE), request)
        content_type = request.headers.get("content-type")
        try:
            params = await self._params(request, raw_query, body, content_type)
        except ParamsNotUtf8:
            return to_response(Failure(E.PARAMS_NOT_UTF8), request)
        if session_call:  # session-token calls: no tenant, no checksum (SessionRouter)
            cookie = request.headers.get("cookie")
            answer = await self.sessions.route(name, params, RawQuery.parse(raw_query), cookie)
            return to_response(answer, request)
        snapshot = await self.directory.get()
        candidates = candidate_tenants(
            snapshot,
            request.path_params.get("tenant"),
            request.headers.get("host"),
            self.settings.tenant_by_secret,
        )
        try:
            tenant = authenticate(
                call,
                raw_query,
                candidates,
                snapshot,
                self.settings.checksum_algorithms,
                body if media_type(content_type) == URLENCODED else None,
            )
        except Unauthorised as refused:
            return self._refuse(call, params, refused.error, request)
        if body and not body_type_allowed(call, content_type):  # after the checksum, as bbb-web
            return self._refuse(call, params, E.UNSUPPORTED_CONTENT_TYPE, request)
        api_request = ApiRequest(
            call, tenant, params, RawQuery.parse(raw_query), body, content_type
        )
        return to_response(await self.handlers[name](api_request), request)

    def _refuse(
        self, call: ApiCall, params: ApiParams, error: E.ApiError, request: Request
    ) -> Response:
        """join reports every failure as a redirect; the other calls as FAILED documents."""
        if call.name == "join":
            return to_response(self.meetings.join_error(params, error), request)
        return to_response(Failure(error), request)

    async def _read_body(self, request: Request) -> bytes:
        headers = request.headers
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            return b""  # no body (every GET of an LMS): nothing to wait for
        limit = self.settings.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
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
