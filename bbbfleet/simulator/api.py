"""The BBB HTTP API of a simulated server: ``/bigbluebutton/api/...`` and the client URL.

Each handler is parse → authorise (checksum, content type, validation; REFERENCE.md §2, §3) →
one ``SimulatedServer`` call → render with ``bbbfleet.protocol``.  Handlers receive the server
they act for, so the same routes serve one server per port or many under ``/<n>/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bbbfleet.protocol import errors as E
from bbbfleet.protocol import recordings, responses, sessions, text_tracks, validation
from bbbfleet.protocol.calls import (
    CALLS,
    FORM_TYPES,
    XML_TYPES,
    ApiCall,
    body_type_allowed,
    media_type,
)
from bbbfleet.protocol.checksum import ChecksumResult, verify
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.params import ApiParams, ParamsNotUtf8, encode_component, parse_pairs
from bbbfleet.protocol.xml import (
    JSON_MEDIA_TYPE,
    XML_MEDIA_TYPE,
    render_error,
    render_error_json,
    render_multi_error,
)
from bbbfleet.simulator.callbacks import send_due_callbacks
from bbbfleet.simulator.model import Faults, GuestStatus, Meeting, Role, User
from bbbfleet.simulator.server import CLIENT_PATH, Refused, SimulatedServer
from bbbfleet.simulator.specs import CreateSpec, JoinSpec
from bbbfleet.simulator.webhooks import send_due_events

API_PREFIX = "/bigbluebutton/api"
NO_CACHE = {"Cache-Control": "no-cache"}
# The HTTP session cookie (Tomcat's) the client page sets; getJoinUrl and learningDashboard want it.
HTTP_SESSION_COOKIE = "JSESSIONID"
GARBAGE = "<response><returncode>SUCCESS</returncode><meetings><meeting><meetingID>trunc"
ERROR_PAGE = "<html><body><h1>HTTP Status 500 – Internal Server Error</h1></body></html>"

ServerResolver = Callable[[Request], SimulatedServer | None]


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One parsed API request."""

    call: ApiCall
    params: ApiParams
    raw_query: bytes
    body: bytes
    content_type: str | None
    accept: str | None
    http_session: str | None = None  # the JSESSIONID cookie, if the client sent one
    # multipart file parts by field name: (file name, content type, bytes); the first wins
    files: tuple[tuple[str, UploadedPart], ...] = ()

    def file(self, name: str) -> UploadedPart | None:
        return next((part for field, part in self.files if field == name), None)


@dataclass(frozen=True, slots=True)
class UploadedPart:
    filename: str | None
    content_type: str | None
    data: bytes


ApiHandler = Callable[[SimulatedServer, ApiRequest], Response]


# --- rendering ----------------------------------------------------------------------------------


def xml(body: str) -> Response:
    return Response(body, 200, NO_CACHE, media_type=XML_MEDIA_TYPE)


def json_answer(body: str) -> Response:
    return Response(body, 200, NO_CACHE, media_type=JSON_MEDIA_TYPE)


def failure(request: ApiRequest, error: ApiError) -> Response:
    """An ``invalid()`` answer, XML unless the client prefers JSON (REFERENCE.md §1.2)."""
    if responses.error_wants_json(request.accept):
        body = render_error_json(error.key, error.message)
        return Response(body, 200, NO_CACHE, media_type=JSON_MEDIA_TYPE)
    return xml(render_error(error.key, error.message))


def redirect(location: str) -> Response:
    """A 302 with the Location exactly as given (RedirectResponse would re-quote it); a
    non-ASCII base URL from a join parameter goes out as its UTF-8 bytes."""
    raw = location if location.isascii() else location.encode("utf-8").decode("latin-1")
    return Response(status_code=302, headers={"Location": raw, **NO_CACHE})


# --- authorisation ------------------------------------------------------------------------------


def checksum_error(server: SimulatedServer, request: ApiRequest) -> ApiError | None:
    """The checksum group, validated before every other constraint (REFERENCE.md §2.3)."""
    # Missing and wrong checksums share the key; "Checksums do not match" is the canonical text.
    return None if checksum_valid(server, request) else E.CHECKSUM_MISMATCH


def checksum_valid(server: SimulatedServer, request: ApiRequest) -> bool:
    if not server.secret:  # an empty securitySalt accepts every checksum
        return True
    # bbb-web takes the checksum value from the merged parameters (a POST body may carry it) but
    # hashes only the raw query string.
    supplied = request.params.get("checksum")
    form_body = None if supplied is None else f"checksum={encode_component(supplied)}".encode()
    result, _secret = verify(
        request.call.name,
        request.raw_query,
        [server.secret],
        server.properties.supported_checksum_algorithms,
        form_body=form_body,
    )
    return result is ChecksumResult.VALID


def content_type_violations(request: ApiRequest) -> list[ApiError]:
    if request.body and not body_type_allowed(request.call, request.content_type):
        return [E.UNSUPPORTED_CONTENT_TYPE]
    return []


def refusal(
    server: SimulatedServer, request: ApiRequest, violations: Callable[[], list[ApiError]]
) -> ApiError | None:
    """The error bbb-web's ValidationService answers with, or None when the request passes."""
    error = checksum_error(server, request)
    if error is not None:
        return error
    return validation.first_violation([*content_type_violations(request), *violations()])


# --- the API calls ------------------------------------------------------------------------------


def version(server: SimulatedServer, request: Request) -> Response:
    if request.headers.get("content-type") == "application/json":
        body = responses.version_json(server.server_url, server.properties.bbb_version)
        return Response(body, 200, NO_CACHE, media_type=JSON_MEDIA_TYPE)
    return xml(responses.version_xml(server.server_url, server.properties.bbb_version))


def create(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    if "presentationUploadExternalUrl" in params:
        # bbb-web then skips every other check, the checksum included (REFERENCE.md §5.1).
        error = validation.first_violation(validation.presentation_upload_url_violations(params))
    else:
        error = refusal(server, request, lambda: validation.create_violations(params))
    error = error or validation.create_controller_error(params)
    if error is not None:
        return failure(request, error)
    try:
        outcome = server.create_meeting(CreateSpec.from_params(params, server.properties))
    except Refused as refused:
        if refused.error is E.NON_UNIQUE_VOICE_BRIDGE:
            return xml(render_multi_error([(refused.error.key, refused.error.message)]))
        return failure(request, refused.error)
    if not outcome.duplicate and request.body and media_type(request.content_type) in XML_TYPES:
        outcome.meeting.create_modules = request.body  # bbb-web keeps the modules document
    notice = E.DUPLICATE_WARNING if outcome.duplicate else None
    return xml(responses.create_xml(server.snapshot(outcome.meeting), notice))


def join(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    error_base = responses.join_error_base(params, server.server_url)
    meeting = server.find_meeting(params.sanitised("meetingID"))
    error = refusal(
        server, request, lambda: validation.join_violations(params, meeting is not None, False)
    )
    if error is not None or meeting is None:
        error = error or E.MEETING_FORCIBLY_ENDED
        return redirect(responses.join_error_location(error_base, error))
    spec = JoinSpec.from_params(params)
    duplicated = None
    if spec.existing_user_id is not None:  # a URL from getJoinUrl (REFERENCE.md §5.2 step 1)
        duplicated = server.duplicate_session(
            meeting, spec.existing_user_id, spec.replace_session_token
        )
    if duplicated is not None:
        user, token = duplicated
    else:
        try:
            user = server.join(meeting, spec)
        except Refused as refused:
            if responses.join_error_is_redirect(refused.error):
                return redirect(responses.join_error_location(error_base, refused.error))
            return failure(request, refused.error)
        token = user.session_token
    client_url = server.client_url(token)
    if spec.redirect:
        return redirect(client_url)
    return xml(
        responses.join_xml(
            meeting.internal_id,
            user.internal_id,
            user.auth_token,
            token,
            user.guest_status.value,
            client_url,
        )
    )


def end(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    meeting = server.find_meeting(params.sanitised("meetingID"))
    error = refusal(server, request, lambda: validation.end_violations(params, meeting is not None))
    if error is not None or meeting is None:
        return failure(request, error or E.NOT_FOUND)
    server.end_meeting(meeting)
    return xml(responses.end_xml())


def is_meeting_running(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    error = refusal(server, request, lambda: validation.is_meeting_running_violations(params))
    if error is not None:
        return failure(request, error)
    meeting = server.find_meeting(params.sanitised("meetingID"))
    running = meeting is not None and server.is_running(meeting)
    return xml(responses.is_meeting_running_xml(running))


def get_meeting_info(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    meeting = server.find_meeting(params.sanitised("meetingID"))
    error = refusal(
        server, request, lambda: validation.get_meeting_info_violations(params, meeting is not None)
    )
    if error is not None or meeting is None:
        return failure(request, error or E.NOT_FOUND)
    return xml(responses.get_meeting_info_xml(server.snapshot(meeting)))


def get_meetings(server: SimulatedServer, request: ApiRequest) -> Response:
    error = refusal(server, request, list)
    if error is not None:
        return failure(request, error)
    blocks = [
        responses.meeting_block(server.snapshot(meeting, listing=True))
        for meeting in server.live_meetings()
    ]
    return xml(responses.get_meetings_xml(blocks))


def get_sessions(server: SimulatedServer, request: ApiRequest) -> Response:
    error = refusal(server, request, list)
    if error is not None:
        return failure(request, error)
    sessions = [
        (meeting.internal_id, meeting.name, user.full_name)
        for meeting, user in server.session_users()
    ]
    return xml(responses.get_sessions_xml(sessions))


def send_chat_message(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    error = refusal(server, request, lambda: validation.send_chat_message_violations(params))
    if error is not None:
        return failure(request, error)
    meeting = server.find_meeting(params.sanitised("meetingID"))
    if meeting is None or not server.is_running(meeting):
        return failure(request, E.CHAT_MEETING_NOT_FOUND)
    server.send_chat_message(meeting, params.get("message", ""), params.get("userName"))
    return xml(responses.send_chat_message_xml())


def insert_document(server: SimulatedServer, request: ApiRequest) -> Response:
    """REFERENCE.md §5.21: POST with an XML body of presentation modules."""
    params = request.params
    error = refusal(server, request, lambda: validation.meeting_id_required(params))
    if error is not None:
        return failure(request, error)
    meeting = server.find_meeting(params.sanitised("meetingID"))
    if meeting is None:
        message = E.insert_document_not_found(params.get("meetingID", ""))
        return xml(responses.insert_document_xml(False, message))
    if "presentation" in meeting.disabled_features:
        return xml(responses.insert_document_xml(False, E.PRESENTATION_DISABLED))
    if not responses.has_presentation_module(request.body):
        return Response(b"", 200, NO_CACHE)  # bbb-web renders nothing here
    meeting.documents.append(request.body)
    return xml(responses.insert_document_xml(True, E.DOCUMENT_UPLOADING))


def get_recordings(server: SimulatedServer, request: ApiRequest) -> Response:
    """REFERENCE.md §5.7: only the checksum is checked; the filters are never refused."""
    if not checksum_valid(server, request):
        return failure(request, E.RECORDING_CHECKSUM)
    query = recordings.RecordingQuery.from_params(request.params)
    if query.fetches_all and not server.properties.allow_fetch_all_recordings:
        return xml(recordings.fetch_all_disabled_xml())
    found = server.find_recordings(query)
    if not found:
        return xml(recordings.get_recordings_xml([]))
    try:
        page, pagination = query.page(found)
    except recordings.OffsetBeyondResults:
        return HTMLResponse(ERROR_PAGE, status_code=500)
    paginated = pagination is not None
    blocks = [recordings.recording_block(r.snapshot(), paginated=paginated) for r in page]
    return xml(recordings.get_recordings_xml(blocks, pagination))


def _recording_action_error(
    server: SimulatedServer, request: ApiRequest, *, needs_publish: bool = False
) -> ApiError | None:
    """publish/delete/updateRecordings: parameters are checked before the checksum (§5.8)."""
    error = recordings.recording_action_error(request.params, needs_publish=needs_publish)
    if error is None and not checksum_valid(server, request):
        error = E.RECORDING_CHECKSUM
    return error


def publish_recordings(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    error = _recording_action_error(server, request, needs_publish=True)
    if error is not None:
        return failure(request, error)
    record_ids = recordings.split_ids(params["recordID"])
    publish = recordings.groovy_to_boolean(params["publish"])
    if not server.publish_recordings(record_ids, publish):
        return failure(request, E.RECORDINGS_NOT_FOUND)
    return xml(recordings.publish_recordings_xml(params["publish"]))


def delete_recordings(server: SimulatedServer, request: ApiRequest) -> Response:
    error = _recording_action_error(server, request)
    if error is not None:
        return failure(request, error)
    if not server.delete_recordings(recordings.split_ids(request.params["recordID"])):
        return failure(request, E.RECORDINGS_NOT_FOUND)
    return xml(recordings.delete_recordings_xml())


def update_recordings(server: SimulatedServer, request: ApiRequest) -> Response:
    params = request.params
    error = _recording_action_error(server, request)
    if error is not None:
        return failure(request, error)
    record_ids = recordings.split_ids(params["recordID"])
    if not server.update_recordings(record_ids, recordings.metadata_updates(params)):
        return failure(request, E.RECORDINGS_NOT_FOUND)
    return xml(recordings.update_recordings_xml())


def get_recording_text_tracks(server: SimulatedServer, request: ApiRequest) -> Response:
    """REFERENCE.md §5.11: XML errors from ``invalid()``, then Gson JSON."""
    params = request.params
    if not params.get("checksum"):
        return failure(request, E.RECORDING_CHECKSUM)
    if not params.get("recordID"):
        return failure(request, E.MISSING_PARAM_RECORD_ID)
    if not checksum_valid(server, request):
        return failure(request, E.RECORDING_CHECKSUM)
    record_id = params["recordID"].strip()
    listed = server.text_track_list(record_id)
    if listed is None:
        return json_answer(text_tracks.text_tracks_failed_json("noRecordings", record_id))
    return json_answer(text_tracks.text_tracks_json(listed))


def put_recording_text_track(server: SimulatedServer, request: ApiRequest) -> Response:
    """REFERENCE.md §5.12: multipart POST with ``file``, checks in RecordingController's
    order; the track appears after the caption inbox processed it."""
    params = request.params

    def error(found: tuple[str, str]) -> Response:
        return json_answer(text_tracks.put_error_json(*found))

    if not params.get("checksum"):
        return error(text_tracks.MISSING_CHECKSUM)
    if not params.get("recordID"):
        return error(text_tracks.MISSING_RECORD_ID)
    record_id = params["recordID"].strip()
    if not checksum_valid(server, request):
        return failure(request, E.RECORDING_CHECKSUM)
    if not server.recording_exists(record_id):
        return error(text_tracks.no_recording(record_id))
    if not params.get("kind"):
        return error(text_tracks.MISSING_KIND)
    kind = params["kind"].strip()
    if kind not in text_tracks.KINDS:
        return error(text_tracks.invalid_kind(kind))
    if not params.get("lang"):
        return error(text_tracks.MISSING_LANG)
    lang = params["lang"].strip()
    try:
        locale = text_tracks.to_locale(lang)
    except text_tracks.MalformedLocale:
        return error(text_tracks.invalid_lang(lang))
    label = params["label"].strip() if params.get("label") else locale.display_language()
    upload = request.file("file")
    if upload is None or not upload.data:
        return error(text_tracks.EMPTY_TRACK)
    if len(upload.data) > server.properties.text_track_max_bytes:
        return error((E.BODY_TOO_LARGE.key, E.BODY_TOO_LARGE.message))
    track = text_tracks.TextTrack(kind, label, locale.language_tag(), text_tracks.SOURCE_UPLOAD)
    server.put_text_track(record_id, track, upload.data)
    return json_answer(text_tracks.put_result_json(record_id, True))


def sign_out(server: SimulatedServer, request: ApiRequest) -> Response:
    server.sign_out(request.params.get("sessionToken"))
    return xml(responses.sign_out_xml())


# --- session-token calls (REFERENCE.md §5.14-5.16) ------------------------------------------------


def _user_session(
    server: SimulatedServer, request: ApiRequest
) -> tuple[str, Meeting, User] | ApiError:
    """The caller's token, meeting and user, or the validation error (UserSessionConstraint)."""
    token = request.params.sanitised("sessionToken")
    found = server.user_session(token)
    violations = sessions.session_token_violations(token, found is not None)
    error = validation.first_violation([*content_type_violations(request), *violations])
    if error is not None or found is None or token is None:
        return error or E.SESSION_TOKEN_INVALID
    return (token, *found)


def get_join_url(server: SimulatedServer, request: ApiRequest) -> Response:
    found = _user_session(server, request)
    if isinstance(found, ApiError):
        return json_answer(sessions.session_failure_json(found.message))
    token, meeting, user = found
    if not server.has_http_session(request.http_session, token):
        return json_answer(sessions.session_failure_json(E.NO_HTTP_SESSION))
    if not server.is_running(meeting):
        return json_answer(sessions.session_failure_json(E.SESSION_MEETING_NOT_FOUND))
    params = request.params
    join_request = sessions.JoinUrlRequest(
        full_name=user.full_name,
        meeting_id=meeting.meeting_id,
        moderator=user.role is Role.MODERATOR,
        internal_user_id=user.internal_id,
        session_token=token,
        replace_session=params.flag("replaceSession"),
        session_name=params.get("sessionName") or None,
        enforce_layout=params.get("enforceLayout") or None,
        userdata=sessions.userdata_of(params),
    )
    blocklist = server.properties.get_join_url_userdata_blocklist
    query = sessions.join_url_query(join_request, blocklist)
    url = sessions.join_url(server.server_url, query, server.secret)
    return json_answer(sessions.join_url_json(url))


def learning_dashboard(server: SimulatedServer, request: ApiRequest) -> Response:
    found = _user_session(server, request)
    if isinstance(found, ApiError):
        return json_answer(sessions.session_failure_json(found.message))
    token, meeting, user = found
    message = None
    if not server.has_http_session(request.http_session, token):
        message = E.NO_HTTP_SESSION
    elif user.role is not Role.MODERATOR:
        message = E.ACCESS_DENIED
    elif not server.is_running(meeting):
        message = E.SESSION_MEETING_NOT_FOUND
    elif "learningDashboard" in meeting.disabled_features:
        message = E.LEARNING_DASHBOARD_DISABLED
    if message is not None:
        return json_answer(sessions.session_failure_json(message))
    data = server.learning_dashboard_data(meeting)
    return json_answer(sessions.learning_dashboard_json(data))


def stuns(server: SimulatedServer, request: ApiRequest) -> Response:
    found = _user_session(server, request)
    if isinstance(found, ApiError):
        return json_answer(sessions.stuns_failure_json(server.default_logout_url()))
    _token, _meeting, user = found
    props = server.properties
    body = sessions.stuns_json(
        props.stun_urls, server.turn_servers(user), props.remote_ice_candidates
    )
    return json_answer(body)


HANDLERS: dict[str, ApiHandler] = {
    "create": create,
    "join": join,
    "end": end,
    "isMeetingRunning": is_meeting_running,
    "getMeetingInfo": get_meeting_info,
    "getMeetings": get_meetings,
    "getSessions": get_sessions,
    "sendChatMessage": send_chat_message,
    "insertDocument": insert_document,
    "signOut": sign_out,
    "getJoinUrl": get_join_url,
    "learningDashboard": learning_dashboard,
    "stuns": stuns,
    "getRecordings": get_recordings,
    "publishRecordings": publish_recordings,
    "deleteRecordings": delete_recordings,
    "updateRecordings": update_recordings,
    "getRecordingTextTracks": get_recording_text_tracks,
    "putRecordingTextTrack": put_recording_text_track,
}


# --- the HTML5 client ---------------------------------------------------------------------------

_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>BigBlueButton</title></head><body><p>{}</p></body></html>"
)


def client_join(server: SimulatedServer, request: Request) -> Response:
    """Opening the join URL in a browser: the user becomes an attendee (or waits as a guest),
    and the browser's HTTP session (cookie) now vouches for the token."""
    token = request.query_params.get("sessionToken", "")
    user = server.attend(token)
    if user is None:
        return HTMLResponse(_PAGE.format("Invalid session token."), status_code=404)
    if user.guest_status is GuestStatus.WAIT:
        response = HTMLResponse(_PAGE.format("Please wait for a moderator to approve you joining."))
    else:
        response = HTMLResponse(_PAGE.format("You are in the meeting."))
    cookie = server.open_http_session(request.cookies.get(HTTP_SESSION_COOKIE), token)
    response.set_cookie(HTTP_SESSION_COOKIE, cookie, path="/", httponly=True)
    return response


# --- routing ------------------------------------------------------------------------------------


async def read_request(request: Request, call: ApiCall) -> ApiRequest:
    """Query and body parameters merged as bbb-web merges them (first value wins)."""
    raw_query: bytes = request.scope["query_string"]
    body = await request.body()
    content_type = request.headers.get("content-type")
    pairs = parse_pairs(raw_query)
    files: list[tuple[str, UploadedPart]] = []
    kind = media_type(content_type)
    if body and kind == "application/x-www-form-urlencoded":
        pairs += parse_pairs(body)
    elif body and kind in FORM_TYPES:
        try:
            form = await request.form()
        except (HTTPException, MultiPartException):
            form = None  # a broken multipart body: only the query's parameters count
        if form is not None:
            pairs += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    files.append((name, UploadedPart(value.filename, value.content_type, data)))
    return ApiRequest(
        call,
        ApiParams.from_pairs(pairs),
        raw_query,
        body,
        content_type,
        request.headers.get("accept"),
        request.cookies.get(HTTP_SESSION_COOKIE),
        tuple(files),
    )


async def injected_fault(faults: Faults) -> Response | None:
    """The fault switches of a server: latency first, then a 500 or a garbled answer."""
    if faults.slow_ms > 0:
        await asyncio.sleep(faults.slow_ms / 1000)
    if faults.error:
        return HTMLResponse(ERROR_PAGE, status_code=500)
    if faults.garbage:
        return Response(GARBAGE, 200, NO_CACHE, media_type=XML_MEDIA_TYPE)
    return None


def _api_endpoint(
    call: ApiCall, handler: ApiHandler, resolve: ServerResolver
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server = resolve(request)
        if server is None:
            return PlainTextResponse("Not Found", status_code=404)
        fault = await injected_fault(server.faults)
        if fault is not None:
            return fault
        try:
            api_request = await read_request(request, call)
        except ParamsNotUtf8:
            return xml(render_error(E.PARAMS_NOT_UTF8.key, E.PARAMS_NOT_UTF8.message))
        response = handler(server, api_request)
        send_due_callbacks(server)
        send_due_events(server)
        return response

    return endpoint


def _version_endpoint(resolve: ServerResolver) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server = resolve(request)
        if server is None:
            return PlainTextResponse("Not Found", status_code=404)
        fault = await injected_fault(server.faults)
        return fault or version(server, request)

    return endpoint


def _client_endpoint(resolve: ServerResolver) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server = resolve(request)
        if server is None:
            return PlainTextResponse("Not Found", status_code=404)
        response = client_join(server, request)
        send_due_callbacks(server)
        send_due_events(server)
        return response

    return endpoint


def api_routes(resolve: ServerResolver) -> list[BaseRoute]:
    """The BBB API and client routes; methods not listed for a call get Starlette's 405, unknown
    calls its 404 (neither is a BBB document, as on a real server)."""
    version_endpoint = _version_endpoint(resolve)
    version_methods = ["GET", "POST"]
    routes: list[BaseRoute] = [
        Route(API_PREFIX, version_endpoint, methods=version_methods),
        Route(f"{API_PREFIX}/", version_endpoint, methods=version_methods),
        Route("/bigbluebutton/", version_endpoint, methods=version_methods),
    ]
    for name, handler in HANDLERS.items():
        call = CALLS[name]
        routes.append(
            Route(
                f"{API_PREFIX}/{name}",
                _api_endpoint(call, handler, resolve),
                methods=sorted(call.methods),
            )
        )
    routes.append(Route(CLIENT_PATH, _client_endpoint(resolve), methods=["GET"]))
    return routes
