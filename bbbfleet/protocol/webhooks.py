"""bbb-webhooks on the wire (REFERENCE.md §11): its API answers and checksum, the mapped event
JSON it sends, and the callback request that carries it.

Everything here is pure: the simulator uses it to behave like bbb-webhooks v3.3.x on each
simulated server, the gateway to speak to (and receive from) real ones.  Facts come from
bbb-webhooks' source (tags v3.3.1 and v3.4.0):

* API answers are hand-built XML strings, squeezed onto one line by removing whitespace after
  every ``>`` (which also applies inside values), sent as ``text/xml; charset=utf-8``, always
  HTTP 200.  Values are not escaped; the callback URL sits in a CDATA section.
* The API checksum is ``hash(method + query + secret)`` with the checksum cut out of the raw
  query by three regular expressions and a **case-sensitive** comparison (§11.2).
* Events are JSON objects with keys in insertion order, serialised like ``JSON.stringify``
  (compact, non-ASCII kept); absent values are left out.  A callback POSTs them one at a time
  as a one-element JSON array in the form field ``event`` (§11.3).
* The callback checksum is ``hash(callbackURL + "{}" + secret)`` up to v3.3.x and
  ``hash(callbackURL + formBody + secret)`` from v3.4.0 (§11.4).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote, unquote_to_bytes

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.checksum import ALGORITHM_BY_LENGTH, ALL_ALGORITHMS
from bbbfleet.protocol.errors import ApiError

# --- the hooks API (§11.1) -------------------------------------------------------------------------

HOOKS_CREATE: Final = "hooks/create"
HOOKS_LIST: Final = "hooks/list"
HOOKS_DESTROY: Final = "hooks/destroy"
HOOKS_PING: Final = "hooks/ping"
# Express: ``res.setHeader("Content-Type", "text/xml")`` then ``res.send(string)`` adds the charset.
HOOKS_MEDIA_TYPE: Final = "text/xml; charset=utf-8"
HOOKS_PING_TEXT: Final = "bbb-webhooks API up!"

_AFTER_TAG = re.compile(r">\s*")


def compact_hooks_xml(markup: str) -> str:
    """bbb-webhooks' ``cleanupXML``: trim, then drop whitespace after every ``>``."""
    return _AFTER_TAG.sub(">", markup.strip())


def hooks_error_xml(error: ApiError) -> str:
    """A FAILED answer (checksumError, missingParamCallbackURL, destroyMissingHook …)."""
    return compact_hooks_xml(
        f"<response><returncode>FAILED</returncode><messageKey>{error.key}</messageKey>"
        f"<message>{error.message}</message></response>"
    )


def hooks_create_xml(hook_id: str, permanent: bool, get_raw: bool) -> str:
    """``hooks/create`` for a new hook."""
    return compact_hooks_xml(
        f"<response><returncode>SUCCESS</returncode><hookID>{hook_id}</hookID>"
        f"<permanentHook>{_js_bool(permanent)}</permanentHook>"
        f"<rawData>{_js_bool(get_raw)}</rawData></response>"
    )


def hooks_duplicate_xml(hook_id: str) -> str:
    """``hooks/create`` when a hook with that callback URL exists: SUCCESS with its ID and a
    ``duplicateWarning`` (the new parameters are ignored)."""
    warning = E.HOOKS_DUPLICATE_WARNING
    return compact_hooks_xml(
        f"<response><returncode>SUCCESS</returncode><hookID>{hook_id}</hookID>"
        f"<messageKey>{warning.key}</messageKey><message>{warning.message}</message></response>"
    )


@dataclass(frozen=True, slots=True)
class HookListing:
    """One hook as ``hooks/list`` shows it; ``meeting_id`` None is a global hook,
    ``event_ids`` None means every event."""

    hook_id: str
    callback_url: str
    meeting_id: str | None = None
    event_ids: tuple[str, ...] | None = None
    permanent: bool = False
    get_raw: bool = False


def hooks_list_xml(hooks: Iterable[HookListing]) -> str:
    """``hooks/list``: every hook given, in the order given."""
    parts = ["<response><returncode>SUCCESS</returncode><hooks>"]
    for hook in hooks:
        parts.append(f"<hook><hookID>{hook.hook_id}</hookID>")
        parts.append(f"<callbackURL><![CDATA[{hook.callback_url}]]></callbackURL>")
        if hook.meeting_id is not None:
            parts.append(f"<meetingID><![CDATA[{hook.meeting_id}]]></meetingID>")
        if hook.event_ids is not None:
            parts.append(f"<eventID>{','.join(hook.event_ids)}</eventID>")
        parts.append(f"<permanentHook>{_js_bool(hook.permanent)}</permanentHook>")
        parts.append(f"<rawData>{_js_bool(hook.get_raw)}</rawData></hook>")
    parts.append("</hooks></response>")
    return compact_hooks_xml("".join(parts))


def hooks_destroy_xml() -> str:
    return "<response><returncode>SUCCESS</returncode><removed>true</removed></response>"


def hooks_not_found_html(method: str, path: str) -> str:
    """Express's 404 page (finalhandler), what bbb-webhooks answers to any other path under
    ``/bigbluebutton/api/hooks`` or another method than GET/HEAD (with ``text/html;
    charset=utf-8``)."""
    resource = html.escape(quote(path, safe="/!#$&'()*+,:;=?@[]~-._%"), quote=True)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Error</title>\n</head>\n<body>\n"
        f"<pre>Cannot {html.escape(method)} {resource}</pre>\n</body>\n</html>\n"
    )


def _js_bool(value: bool) -> str:
    return "true" if value else "false"


def hooks_query_params(raw_query: bytes | str) -> dict[str, str]:
    """The query as Node's ``url.parse(url, true)`` reads it (``+`` is a space, percent escapes
    decoded as UTF-8), keeping the first value of a repeated name."""
    raw = raw_query.encode() if isinstance(raw_query, str) else raw_query
    params: dict[str, str] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _sep, value = part.partition(b"=")
        key = _decode_component(name)
        if key not in params:
            params[key] = _decode_component(value)
    return params


def _decode_component(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", errors="replace")


def hooks_checksum_valid(
    method: str,
    raw_query: bytes | str,
    secret: str,
    supported_algorithms: Iterable[str] = ALL_ALGORITHMS,
) -> bool:
    """bbb-webhooks' ``isUrlChecksumValid`` (§11.2).

    ``method`` is the path after ``/bigbluebutton/api/`` (``hooks/create`` …).  A missing or
    empty checksum fails; so does a length that is not 40/64/96/128 (bbb-webhooks throws there
    and answers HTTP 500, a simulator answers checksumError instead).  Case-sensitive."""
    raw = raw_query.encode() if isinstance(raw_query, str) else raw_query
    supplied = hooks_query_params(raw).get("checksum")
    if not supplied:
        return False
    algorithm = ALGORITHM_BY_LENGTH.get(len(supplied))
    if algorithm is None or algorithm not in set(supported_algorithms):
        return False
    data = method.encode() + hooks_query_without_checksum(raw) + secret.encode()
    expected = hashlib.new(algorithm, data).hexdigest()
    return hmac.compare_digest(expected.encode(), supplied.encode())


_CHECKSUM_PATTERNS: Final = (
    re.compile(rb"&checksum=[^&]*"),
    re.compile(rb"checksum=[^&]*&"),
    re.compile(rb"checksum=[^&]*\Z"),  # JavaScript's ``$`` without the m flag
)


def hooks_query_without_checksum(raw_query: bytes) -> bytes:
    """The three replacements of bbb-webhooks' ``queryFromUrl``, each on its first match."""
    for pattern in _CHECKSUM_PATTERNS:
        raw_query = pattern.sub(b"", raw_query, count=1)
    return raw_query


def sign_hooks_query(method: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """``query`` with ``checksum=`` appended, as a client of the hooks API sends it."""
    checksum = hashlib.new(algorithm, (method + query + secret).encode()).hexdigest()
    return f"{query}&checksum={checksum}" if query else f"checksum={checksum}"


@dataclass(frozen=True, slots=True)
class HookCreateRequest:
    """The parameters of a valid ``hooks/create``."""

    callback_url: str
    meeting_id: str | None
    event_ids: tuple[str, ...] | None
    get_raw: bool


def parse_hooks_create(params: Mapping[str, str]) -> HookCreateRequest | ApiError:
    """``hooks/create``'s parameters, or the FAILED answer's error.

    ``getRaw`` is lowercased and read as JSON by bbb-webhooks; a value other than true/false
    makes it crash (no answer at all), here it is a ``createHookError``."""
    callback_url = params.get("callbackURL")
    if callback_url is None:
        return E.HOOKS_MISSING_CALLBACK_URL
    raw = params.get("getRaw")
    get_raw = False
    if raw:
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            return E.HOOKS_CREATE_ERROR
        get_raw = lowered == "true"
    return HookCreateRequest(
        callback_url=callback_url,
        meeting_id=params.get("meetingID"),
        event_ids=parse_event_ids(params.get("eventID")),
        get_raw=get_raw,
    )


def parse_event_ids(value: str | None) -> tuple[str, ...] | None:
    """``eventID``: lowercased and split on commas (an empty value is one empty ID, which
    matches nothing)."""
    if value is None:
        return None
    return tuple(value.lower().split(","))


# --- mapped events (§11.7) --------------------------------------------------------------------------

Event = dict[str, Any]

OUTPUT_EVENT_IDS: Final = frozenset(
    {
        "meeting-created",
        "meeting-ended",
        "meeting-recording-started",
        "meeting-recording-stopped",
        "meeting-recording-unhandled",
        "meeting-screenshare-started",
        "meeting-screenshare-stopped",
        "meeting-presentation-changed",
        "user-joined",
        "user-left",
        "user-audio-voice-enabled",
        "user-audio-voice-disabled",
        "user-audio-muted",
        "user-audio-unmuted",
        "user-audio-unhandled",
        "user-cam-broadcast-start",
        "user-cam-broadcast-end",
        "user-presenter-assigned",
        "user-presenter-unassigned",
        "user-emoji-changed",
        "user-raise-hand-changed",
        "chat-group-message-sent",
        "rap-published",
        "rap-unpublished",
        "rap-deleted",
        "pad-content",
        *(
            f"rap-{step}-{edge}"
            for step in (
                "archive",
                "sanity",
                "post-archive",
                "process",
                "post-process",
                "publish",
                "post-publish",
            )
            for edge in ("started", "ended")
        ),
        "poll-started",
        "poll-responded",
    }
)
PUBLIC_CHAT_ID: Final = "MAIN-PUBLIC-GROUP-CHAT"
# akka-apps posts API chat messages (sendChatMessage) as its system user.
SYSTEM_USER_ID: Final = "SYSTEM"


def event_envelope(event_id: str, attributes: Event, ts: int) -> Event:
    """``{"data":{"type":"event","id":…,"attributes":…,"event":{"ts":…}}}``."""
    return {
        "data": {"type": "event", "id": event_id, "attributes": attributes, "event": {"ts": ts}}
    }


def event_id_of(event: Mapping[str, Any]) -> str | None:
    """The mapped event ID (``data.id``), None for a raw message."""
    data = event.get("data")
    event_id = data.get("id") if isinstance(data, Mapping) else None
    return event_id if isinstance(event_id, str) else None


def meeting_attributes(internal_meeting_id: str, external_meeting_id: str | None) -> Event:
    return _present(
        {"internal-meeting-id": internal_meeting_id, "external-meeting-id": external_meeting_id}
    )


def meeting_created_event(
    *,
    internal_meeting_id: str,
    external_meeting_id: str,
    name: str,
    is_breakout: bool,
    parent_id: str,
    duration: int,
    create_time: int,
    create_date: str,
    moderator_pass: str,
    viewer_pass: str,
    record: bool,
    voice_conf: str,
    dial_number: str,
    max_users: int,
    metadata: Mapping[str, str],
    ts: int,
) -> Event:
    """``meeting-created`` (from ``MeetingCreatedEvtMsg``)."""
    meeting = {
        "internal-meeting-id": internal_meeting_id,
        "external-meeting-id": external_meeting_id,
        "name": name,
        "is-breakout": is_breakout,
        "parent-id": parent_id,
        "duration": duration,
        "create-time": create_time,
        "create-date": create_date,
        "moderator-pass": moderator_pass,
        "viewer-pass": viewer_pass,
        "record": record,
        "voice-conf": voice_conf,
        "dial-number": dial_number,
        "max-users": max_users,
        "metadata": dict(metadata),
    }
    return event_envelope("meeting-created", {"meeting": meeting}, ts)


def meeting_ended_event(internal_meeting_id: str, external_meeting_id: str, ts: int) -> Event:
    """``meeting-ended``: only the two IDs."""
    attributes = {"meeting": meeting_attributes(internal_meeting_id, external_meeting_id)}
    return event_envelope("meeting-ended", attributes, ts)


def meeting_recording_event(
    internal_meeting_id: str, external_meeting_id: str, recording: bool, ts: int
) -> Event:
    """``meeting-recording-started`` / ``-stopped`` (``RecordingStatusChangedEvtMsg``)."""
    event_id = "meeting-recording-started" if recording else "meeting-recording-stopped"
    attributes = {"meeting": meeting_attributes(internal_meeting_id, external_meeting_id)}
    return event_envelope(event_id, attributes, ts)


def user_attributes(
    internal_user_id: str,
    external_user_id: str,
    *,
    name: str | None = None,
    role: str | None = None,
    presenter: bool | None = None,
    userdata: Mapping[str, str] | None = None,
    stream: str | None = None,
    guest: bool | None = None,
) -> Event:
    """The ``user`` object of user events, in bbb-webhooks' key order; absent values are left
    out as ``JSON.stringify`` leaves out ``undefined``."""
    return _present(
        {
            "internal-user-id": internal_user_id,
            "external-user-id": external_user_id,
            "name": name,
            "role": role,
            "presenter": presenter,
            "userdata": None if userdata is None else dict(userdata),
            "stream": stream,
            "guest": guest,
        }
    )


def user_joined_event(
    internal_meeting_id: str, external_meeting_id: str, user: Event, ts: int
) -> Event:
    """``user-joined``; ``user`` from ``user_attributes`` with name, role, presenter, userdata
    and guest (``UserJoinedMeetingEvtMsg`` carries them all)."""
    return _user_event("user-joined", internal_meeting_id, external_meeting_id, user, ts)


def user_left_event(
    internal_meeting_id: str, external_meeting_id: str, user: Event, ts: int
) -> Event:
    """``user-left``.  A user leaving carries the IDs and ``guest`` only; the ``user-left``
    bbb-webhooks makes up for each user still in an ending meeting carries the user as it
    joined (presenter updated)."""
    return _user_event("user-left", internal_meeting_id, external_meeting_id, user, ts)


def user_audio_voice_enabled_event(
    internal_meeting_id: str,
    external_meeting_id: str,
    user: Event,
    *,
    listening_only: bool,
    muted: bool,
    ts: int,
) -> Event:
    """``user-audio-voice-enabled``: ``sharing-mic`` is the opposite of ``listening-only``."""
    audio = {**user, "listening-only": listening_only, "sharing-mic": not listening_only}
    audio["muted"] = muted
    return _user_event(
        "user-audio-voice-enabled", internal_meeting_id, external_meeting_id, audio, ts
    )


def user_audio_voice_disabled_event(
    internal_meeting_id: str, external_meeting_id: str, user: Event, ts: int
) -> Event:
    """``user-audio-voice-disabled``: always not listening, no mic, muted."""
    audio = {**user, "listening-only": False, "sharing-mic": False, "muted": True}
    return _user_event(
        "user-audio-voice-disabled", internal_meeting_id, external_meeting_id, audio, ts
    )


def user_audio_muted_event(
    internal_meeting_id: str, external_meeting_id: str, user: Event, muted: bool, ts: int
) -> Event:
    """``user-audio-muted`` / ``user-audio-unmuted`` with ``muted``."""
    event_id = "user-audio-muted" if muted else "user-audio-unmuted"
    return _user_event(
        event_id, internal_meeting_id, external_meeting_id, {**user, "muted": muted}, ts
    )


def user_cam_event(
    internal_meeting_id: str, external_meeting_id: str, user: Event, started: bool, ts: int
) -> Event:
    """``user-cam-broadcast-start`` / ``-end``; give ``stream`` in ``user``."""
    event_id = "user-cam-broadcast-start" if started else "user-cam-broadcast-end"
    return _user_event(event_id, internal_meeting_id, external_meeting_id, user, ts)


def user_presenter_event(
    internal_meeting_id: str, external_meeting_id: str, user: Event, assigned: bool, ts: int
) -> Event:
    """``user-presenter-assigned`` / ``-unassigned``."""
    event_id = "user-presenter-assigned" if assigned else "user-presenter-unassigned"
    return _user_event(event_id, internal_meeting_id, external_meeting_id, user, ts)


def _user_event(
    event_id: str, internal_meeting_id: str, external_meeting_id: str, user: Event, ts: int
) -> Event:
    attributes = {
        "meeting": meeting_attributes(internal_meeting_id, external_meeting_id),
        "user": user,
    }
    return event_envelope(event_id, attributes, ts)


def chat_group_message_sent_event(
    internal_meeting_id: str,
    external_meeting_id: str,
    *,
    message_id: str,
    message: str,
    sender_id: str,
    sender_name: str,
    time: int,
    ts: int,
) -> Event:
    """``chat-group-message-sent`` (public chat only)."""
    attributes = {
        "meeting": meeting_attributes(internal_meeting_id, external_meeting_id),
        "chat-message": {
            "id": message_id,
            "message": message,
            "sender": {"internal-user-id": sender_id, "name": sender_name, "time": time},
        },
        "chat-id": PUBLIC_CHAT_ID,
    }
    return event_envelope("chat-group-message-sent", attributes, ts)


RapStateChange = Literal["published", "unpublished", "deleted"]


def rap_state_event(
    change: RapStateChange,
    internal_meeting_id: str,
    external_meeting_id: str | None,
    record_id: str,
    ts: int,
) -> Event:
    """``rap-published`` / ``rap-unpublished`` / ``rap-deleted`` (publishRecordings,
    deleteRecordings)."""
    attributes = {
        "meeting": meeting_attributes(internal_meeting_id, external_meeting_id),
        "record-id": record_id,
    }
    return event_envelope(f"rap-{change}", attributes, ts)


def rap_step_event(
    event_id: str,
    internal_meeting_id: str,
    external_meeting_id: str,
    *,
    record_id: str,
    success: bool,
    step_time: int,
    ts: int,
    workflow: str | None = None,
) -> Event:
    """A recording pipeline step (``rap-archive-started``, ``rap-process-ended`` …); ``ts`` is
    the script's ``current_time``."""
    attributes: Event = {
        "meeting": meeting_attributes(internal_meeting_id, external_meeting_id),
        "record-id": record_id,
        "success": success,
        "step-time": step_time,
    }
    if workflow:
        attributes["workflow"] = workflow
    return event_envelope(event_id, attributes, ts)


def rap_archive_ended_event(
    internal_meeting_id: str,
    external_meeting_id: str,
    *,
    record_id: str,
    success: bool,
    step_time: int,
    recorded: bool,
    duration: int,
    ts: int,
) -> Event:
    """``rap-archive-ended`` adds ``recorded`` and ``duration`` (ms)."""
    event = rap_step_event(
        "rap-archive-ended",
        internal_meeting_id,
        external_meeting_id,
        record_id=record_id,
        success=success,
        step_time=step_time,
        ts=ts,
    )
    attributes = event["data"]["attributes"]
    attributes["recorded"] = recorded
    attributes["duration"] = duration
    return event


def rap_playback(
    format_name: str, link: str, processing_time: int, duration: int, size: int
) -> Event:
    """The ``playback`` object a publish script reports for one format."""
    return {
        "format": format_name,
        "link": link,
        "processing_time": processing_time,
        "duration": duration,
        "size": size,
    }


def rap_publish_ended_event(
    internal_meeting_id: str,
    external_meeting_id: str,
    *,
    record_id: str,
    success: bool,
    step_time: int,
    workflow: str,
    start_time: int,
    end_time: int,
    raw_size: int,
    metadata: Mapping[str, str],
    playback: Event,
    download: Event | None = None,
    ts: int,
) -> Event:
    """``rap-publish-ended`` with ``recording``: name and is-breakout come from the recording's
    metadata (``meetingName``, ``isBreakout`` as text), size from the playback."""
    event = rap_step_event(
        "rap-publish-ended",
        internal_meeting_id,
        external_meeting_id,
        record_id=record_id,
        success=success,
        step_time=step_time,
        ts=ts,
        workflow=workflow,
    )
    event["data"]["attributes"]["recording"] = _present(
        {
            "name": metadata.get("meetingName"),
            "is-breakout": metadata.get("isBreakout"),
            "start-time": start_time,
            "end-time": end_time,
            "size": playback.get("size"),
            "raw-size": raw_size,
            "metadata": dict(metadata),
            "playback": playback,
            "download": {} if download is None else download,
        }
    )
    return event


def _present(values: dict[str, Any]) -> Event:
    return {key: value for key, value in values.items() if value is not None}


def event_json(event: Mapping[str, Any]) -> str:
    """``JSON.stringify(event)``: compact, keys in insertion order, non-ASCII kept."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def event_array_json(events: Sequence[Mapping[str, Any]]) -> str:
    """The ``event`` form field: ``"[" + JSON + "]"`` (bbb-webhooks sends one event per POST)."""
    return "[" + ",".join(event_json(event) for event in events) + "]"


# --- callbacks (§11.3, §11.4) ---------------------------------------------------------------------

CallbackChecksumVersion = Literal["3.3", "3.4"]
CHECKSUM_VERSIONS: Final[tuple[CallbackChecksumVersion, ...]] = ("3.3", "3.4")
# node-fetch's Content-Type for a URLSearchParams body.
CALLBACK_CONTENT_TYPE: Final = "application/x-www-form-urlencoded;charset=UTF-8"
_FORM_SAFE: Final = frozenset((string.ascii_letters + string.digits + "*-._").encode())


def form_urlencode(value: str) -> str:
    """The WHATWG ``application/x-www-form-urlencoded`` byte serializer (URLSearchParams):
    alphanumerics and ``*-._`` kept, space as ``+``, everything else ``%XX`` of its UTF-8."""
    out = []
    for byte in value.encode("utf-8", errors="surrogatepass"):
        if byte in _FORM_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def callback_form_body(domain: str, event_field: str, timestamp: int) -> str:
    """The POST body: ``domain``, ``event`` (the JSON array text), ``timestamp`` (ms when the
    dispatch of this event started), in that order."""
    return (
        f"domain={form_urlencode(domain)}&event={form_urlencode(event_field)}"
        f"&timestamp={form_urlencode(str(timestamp))}"
    )


def callback_checksum(
    callback_url: str,
    body: str,
    secret: str,
    version: CallbackChecksumVersion = "3.3",
    algorithm: str = "sha1",
) -> str:
    """The ``checksum`` appended to a callback URL: v3.0–3.3 hash ``callbackURL + "{}" + secret``
    (``JSON.stringify`` of a URLSearchParams object is ``{}``), v3.4+ hash the form body."""
    hashed = "{}" if version == "3.3" else body
    return hashlib.new(algorithm, f"{callback_url}{hashed}{secret}".encode()).hexdigest()


def callback_url_with_checksum(callback_url: str, checksum: str) -> str:
    """``?checksum=`` when the callback URL has no query, else ``&checksum=`` (appended to the
    URL as given, as bbb-webhooks does)."""
    has_query = "?" in callback_url.split("#", 1)[0]
    return f"{callback_url}{'&' if has_query else '?'}checksum={checksum}"


def split_callback_checksum(url: str) -> tuple[str, str | None]:
    """A received callback URL back into the registered callbackURL and the checksum (the last
    ``checksum=`` parameter appended by bbb-webhooks), or ``(url, None)``."""
    match = _APPENDED_CHECKSUM.search(url)
    if match is None:
        return url, None
    return url[: match.start()], match.group(2)


_APPENDED_CHECKSUM: Final = re.compile(r"([?&])checksum=([0-9a-fA-F]*)\Z")


def callback_checksum_valid(
    url: str,
    body: str,
    secret: str,
    version: CallbackChecksumVersion = "3.3",
    algorithms: Iterable[str] = ALL_ALGORITHMS,
) -> bool:
    """Whether a received callback (full URL with ``checksum=``, raw form body) was signed with
    ``secret``; the algorithm follows the checksum's length (``hookChecksumAlgorithm``)."""
    callback_url, checksum = split_callback_checksum(url)
    if not checksum:
        return False
    algorithm = ALGORITHM_BY_LENGTH.get(len(checksum))
    if algorithm is None or algorithm not in set(algorithms):
        return False
    expected = callback_checksum(callback_url, body, secret, version, algorithm)
    return hmac.compare_digest(expected, checksum.lower())


def callback_checksum_version(
    url: str, body: str, secret: str, algorithms: Iterable[str] = ALL_ALGORITHMS
) -> CallbackChecksumVersion | None:
    """Which bbb-webhooks version signed a received callback ("3.4" tried first: its checksum
    covers the body), or None when neither matches.  ``url`` is the request target exactly as
    received (scheme and host as registered), not a re-encoded one."""
    for version in ("3.4", "3.3"):
        if callback_checksum_valid(url, body, secret, version, algorithms):
            return version
    return None


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One callback POST: where to, and what."""

    url: str
    body: str
    content_type: str = CALLBACK_CONTENT_TYPE
    authorization: str | None = None  # ``Bearer <secret>`` with ``auth2_0``

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.content_type}
        if self.authorization is not None:
            headers["Authorization"] = self.authorization
        return headers


def build_callback_request(
    callback_url: str,
    event: Mapping[str, Any],
    *,
    domain: str,
    timestamp: int,
    secret: str,
    version: CallbackChecksumVersion = "3.3",
    algorithm: str = "sha1",
    bearer_auth: bool = False,
) -> CallbackRequest:
    """The request bbb-webhooks sends to deliver one (mapped or raw) event to one hook.  With
    ``bearer_auth`` (bbb-webhooks' ``auth2_0``) the URL stays as registered and the secret goes
    in an ``Authorization: Bearer`` header instead of a checksum."""
    body = callback_form_body(domain, event_array_json([event]), timestamp)
    if bearer_auth:
        return CallbackRequest(callback_url, body, authorization=f"Bearer {secret}")
    checksum = callback_checksum(callback_url, body, secret, version, algorithm)
    return CallbackRequest(callback_url_with_checksum(callback_url, checksum), body)


@dataclass(frozen=True, slots=True)
class CallbackForm:
    """A received callback body, parsed."""

    domain: str
    events: list[Any]
    timestamp: int | None


def parse_callback_body(body: bytes | str) -> CallbackForm:
    """The fields of a callback body; raises ValueError when ``event`` is not a JSON array."""
    params = hooks_query_params(body)
    events = json.loads(params.get("event", ""))
    if not isinstance(events, list):
        raise ValueError("the event field is not a JSON array")
    stamp = params.get("timestamp", "")
    return CallbackForm(params.get("domain", ""), events, int(stamp) if stamp.isdigit() else None)
