"""Response documents of the meeting calls, element for element as bbb-web's templates write them.

The simulator renders its state through these functions and the gateway uses the same functions
for the answers it composes itself (getMeetings across servers, errors, join redirects), so the two
cannot drift apart.  REFERENCE.md §5.0-5.6, §5.13, §5.18.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

from bbbfleet.protocol import errors as E
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.java_order import hashmap_order
from bbbfleet.protocol.xml import (
    EMPTY,
    Node,
    render_compact,
    render_pretty_json,
    render_template,
)

API_VERSION = "2.0"
NO_PARENT = "bbb-none"


@dataclass
class AttendeeSnapshot:
    user_id: str
    full_name: str
    role: str  # MODERATOR | VIEWER
    is_presenter: bool = False
    is_listening_only: bool = False
    has_joined_voice: bool = False
    has_video: bool = False
    client_type: str = "HTML5"
    customdata: dict[str, str] = field(default_factory=dict)


@dataclass
class MeetingSnapshot:
    """Everything getMeetingInfo shows about one meeting."""

    name: str
    meeting_id: str
    internal_id: str
    create_time: int
    voice_bridge: str
    dial_number: str = "613-555-1234"
    attendee_pw: str = ""
    moderator_pw: str = ""
    running: bool = False
    duration: int = 0
    has_user_joined: bool = False
    recording: bool = False
    forcibly_ended: bool = False
    start_time: int = 0
    end_time: int = 0
    listener_count: int = 0
    voice_participant_count: int = 0
    video_count: int = 0
    max_users: int = 0
    attendees: list[AttendeeSnapshot] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    is_breakout: bool = False
    parent_meeting_id: str = NO_PARENT
    sequence: int = 0
    free_join: bool = False
    breakout_rooms: list[str] = field(default_factory=list)
    # getMeetings lists users who left but are not purged yet among the attendees while counting
    # only those online (REFERENCE.md §5.5); None means "the attendees listed".
    participant_count: int | None = None

    @property
    def create_date(self) -> str:
        return java_date(self.create_time)

    @property
    def moderator_count(self) -> int:
        return sum(1 for a in self.attendees if a.role == "MODERATOR")


def java_date(millis: int) -> str:
    """``new Date(millis).toString()`` in a UTC JVM: ``Thu May 09 13:35:28 UTC 2024``."""
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def version_nodes(server_url: str, bbb_version: str = "") -> list[Node]:
    return [
        ("returncode", "SUCCESS"),
        ("version", API_VERSION),
        ("apiVersion", API_VERSION),
        ("bbbVersion", bbb_version),
        ("graphqlWebsocketUrl", graphql_websocket_url(server_url)),
        ("graphqlApiUrl", f"{server_url}/api/rest"),
    ]


def graphql_websocket_url(server_url: str) -> str:
    url = f"{server_url}/graphql"
    return "wss://" + url[len("https://") :] if url.startswith("https://") else url


def version_xml(server_url: str, bbb_version: str = "") -> str:
    return render_template(version_nodes(server_url, bbb_version))


def version_json(server_url: str, bbb_version: str = "") -> str:
    return render_pretty_json({"response": dict(version_nodes(server_url, bbb_version))})


def create_xml(meeting: MeetingSnapshot, notice: ApiError | None = None) -> str:
    nodes: list[Node] = [
        ("returncode", "SUCCESS"),
        ("meetingID", meeting.meeting_id),
        ("internalMeetingID", meeting.internal_id),
        ("parentMeetingID", meeting.parent_meeting_id),
    ]
    nodes += _passwords(meeting)
    nodes += [
        ("createTime", meeting.create_time),
        ("voiceBridge", meeting.voice_bridge),
        ("dialNumber", meeting.dial_number),
        ("createDate", meeting.create_date),
        ("hasUserJoined", meeting.has_user_joined),
        ("duration", meeting.duration),
        ("hasBeenForciblyEnded", meeting.forcibly_ended),
        ("messageKey", notice.key if notice else ""),
        ("message", notice.message if notice else ""),
    ]
    return render_template(nodes)


def _passwords(meeting: MeetingSnapshot) -> list[Node]:
    nodes: list[Node] = []
    if meeting.attendee_pw:
        nodes.append(("attendeePW", meeting.attendee_pw))
    if meeting.moderator_pw:
        nodes.append(("moderatorPW", meeting.moderator_pw))
    return nodes


def _attendee_node(attendee: AttendeeSnapshot) -> Node:
    custom: list[Node] = [(k, attendee.customdata[k]) for k in hashmap_order(attendee.customdata)]
    return (
        "attendee",
        [
            ("userID", attendee.user_id),
            ("fullName", attendee.full_name),
            ("role", attendee.role),
            ("isPresenter", attendee.is_presenter),
            ("isListeningOnly", attendee.is_listening_only),
            ("hasJoinedVoice", attendee.has_joined_voice),
            ("hasVideo", attendee.has_video),
            ("clientType", attendee.client_type),
            ("customdata", custom),
        ],
    )


def meeting_nodes(meeting: MeetingSnapshot) -> list[Node]:
    """The block shared by getMeetingInfo and each ``<meeting>`` of getMeetings."""
    nodes: list[Node] = [
        ("meetingName", meeting.name),
        ("meetingID", meeting.meeting_id),
        ("internalMeetingID", meeting.internal_id),
        ("createTime", meeting.create_time),
        ("createDate", meeting.create_date),
        ("voiceBridge", meeting.voice_bridge),
        ("dialNumber", meeting.dial_number),
    ]
    nodes += _passwords(meeting)
    metadata: list[Node] = [(k, meeting.metadata[k]) for k in hashmap_order(meeting.metadata)]
    nodes += [
        ("running", meeting.running),
        ("duration", meeting.duration),
        ("hasUserJoined", meeting.has_user_joined),
        ("recording", meeting.recording),
        ("hasBeenForciblyEnded", meeting.forcibly_ended),
        ("startTime", meeting.start_time),
        ("endTime", meeting.end_time),
        ("participantCount", _participant_count(meeting)),
        ("listenerCount", meeting.listener_count),
        ("voiceParticipantCount", meeting.voice_participant_count),
        ("videoCount", meeting.video_count),
        ("maxUsers", meeting.max_users),
        ("moderatorCount", meeting.moderator_count),
        ("attendees", [_attendee_node(a) for a in meeting.attendees]),
        ("metadata", metadata),
        ("isBreakout", meeting.is_breakout),
    ]
    if meeting.is_breakout:
        nodes += [
            ("parentMeetingID", meeting.parent_meeting_id),
            ("sequence", meeting.sequence),
            ("freeJoin", meeting.free_join),
        ]
    if meeting.breakout_rooms:
        nodes.append(("breakoutRooms", [("breakout", b) for b in meeting.breakout_rooms]))
    return nodes


def _participant_count(meeting: MeetingSnapshot) -> int:
    if meeting.participant_count is not None:
        return meeting.participant_count
    return len(meeting.attendees)


def get_meeting_info_xml(meeting: MeetingSnapshot) -> str:
    return render_template([("returncode", "SUCCESS"), *meeting_nodes(meeting)])


def get_meetings_xml(meeting_blocks: list[str]) -> str:
    """getMeetings from already rendered ``<meeting>…</meeting>`` blocks (possibly from several
    servers), or the ``noMeetings`` answer when there are none."""
    if not meeting_blocks:
        return render_template(
            [
                ("returncode", "SUCCESS"),
                ("meetings", EMPTY),
                ("messageKey", E.NO_MEETINGS.key),
                ("message", E.NO_MEETINGS.message),
            ]
        )
    return "\n".join(
        [
            "<response>",
            "<returncode>SUCCESS</returncode>",
            "<meetings>",
            *meeting_blocks,
            "</meetings>",
            "</response>",
        ]
    )


def meeting_block(meeting: MeetingSnapshot) -> str:
    return render_template(meeting_nodes(meeting), root="meeting")


def is_meeting_running_xml(running: bool) -> str:
    return render_template([("returncode", "SUCCESS"), ("running", running)])


def end_xml() -> str:
    return render_template(
        [
            ("returncode", "SUCCESS"),
            ("messageKey", E.END_REQUEST_SENT.key),
            ("message", E.END_REQUEST_SENT.message),
        ]
    )


def join_xml(
    internal_meeting_id: str,
    user_id: str,
    auth_token: str,
    session_token: str,
    guest_status: str,
    url: str,
) -> str:
    return render_template(
        [
            ("returncode", "SUCCESS"),
            ("messageKey", E.JOINED.key),
            ("message", E.JOINED.message),
            ("meeting_id", internal_meeting_id),
            ("user_id", user_id),
            ("auth_token", auth_token),
            ("session_token", session_token),
            ("guestStatus", guest_status),
            ("url", url),
        ]
    )


def get_sessions_xml(sessions: list[tuple[str, str, str]]) -> str:
    """getSessions (§5.18) from (internal meeting ID, meeting name, user name) per session, or the
    ``noSessions`` answer (typo included) when there are none."""
    if not sessions:
        return render_template(
            [
                ("returncode", "SUCCESS"),
                ("sessions", EMPTY),
                ("messageKey", E.NO_SESSIONS.key),
                ("message", E.NO_SESSIONS.message),
            ]
        )
    items: list[Node] = [
        ("meeting", [("meetingID", meeting_id), ("meetingName", name), ("userName", user)])
        for meeting_id, name, user in sessions
    ]
    return render_template([("returncode", "SUCCESS"), ("sessions", items)])


def insert_document_xml(success: bool, message: str) -> str:
    """insertDocument's answers (§5.21): ``returncode`` and ``message``, no messageKey."""
    return render_template(
        [("returncode", "SUCCESS" if success else "FAILED"), ("message", message)]
    )


PRESENTATION_MODULE = re.compile(r"<module\s+name\s*=\s*[\"']presentation[\"']")


def has_presentation_module(body: bytes) -> bool:
    """bbb-web renders nothing at all for an insertDocument body without this module."""
    return PRESENTATION_MODULE.search(body.decode("utf-8", errors="replace")) is not None


def send_chat_message_xml() -> str:
    return render_template([("returncode", "SUCCESS"), ("messageKey", ""), ("message", "")])


def sign_out_xml() -> str:
    return render_compact([("returncode", "SUCCESS")])


# --- join error redirects (§5.2) ------------------------------------------------------------------

_URI_LITERAL = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "-_.!~*'()"  # unreserved marks
    ";/?:@&=+$,"  # reserved
    "[]"
)


def java_uri_quote(text: str) -> str:
    """Quote a query the way ``java.net.URI``'s multi-argument constructor does."""
    out: list[str] = []
    for ch in text:
        if ch in _URI_LITERAL:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def join_error_location(base_url: str, error: ApiError) -> str:
    """``<base>?errors=[{"message":…,"key":…}]`` as bbb-web builds its join error redirects.

    bbb-web rebuilds the URL with ``new URI(scheme, authority, path, query, fragment)`` from the
    base's *decoded* query and fragment: ``errors=`` is appended to an existing query with ``&``,
    the whole query is re-quoted, and a ``#fragment`` stays at the very end.
    """
    payload = json.dumps(
        [{"message": error.message, "key": error.key}], separators=(",", ":"), ensure_ascii=False
    )
    before_fragment, has_fragment, fragment = base_url.partition("#")
    prefix, has_query, old_query = before_fragment.partition("?")
    query = f"{unquote(old_query)}&errors=" if has_query else "errors="
    location = f"{prefix}?{java_uri_quote(query + payload)}"
    if has_fragment:
        location += "#" + java_uri_quote(unquote(fragment))
    return location


def join_error_base(params: Mapping[str, str], server_url: str) -> str:
    """Where bbb-web sends a failed join (§5.2): ``errorRedirectUrl`` > ``logoutURL`` > the
    server's default logout URL (``default`` means its serverURL).

    bbb-web reads each candidate with ``URI.create`` and silently skips one that does not parse
    (an unencoded space, ``"``, ``{`` …), so such a URL never ends up in the Location header.
    """
    for name in ("errorRedirectUrl", "logoutURL"):
        candidate = params.get(name)
        if candidate and java_uri_parses(candidate):
            return candidate
    return server_url


_URI_NEVER_LEGAL = frozenset(' "<>\\^`{|}')
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def java_uri_parses(text: str) -> bool:
    """Whether ``java.net.URI.create(text)`` accepts ``text`` (the checks that matter for URLs
    sent by LMSs: illegal characters, malformed escapes, ``[ ]`` outside host and query)."""
    for ch in text:
        code = ord(ch)
        if ch in _URI_NEVER_LEGAL or code < 0x20 or 0x7F <= code <= 0x9F:
            return False
        if code > 0x7F and unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            return False
    if _MALFORMED_ESCAPE.search(text) or text.count("#") > 1:
        return False
    before_query = text.split("#", 1)[0].split("?", 1)[0]
    scheme_and_authority = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://[^/]*", before_query)
    path = before_query[scheme_and_authority.end() :] if scheme_and_authority else before_query
    return "[" not in path and "]" not in path


def join_error_is_redirect(error: ApiError) -> bool:
    """join answers every failure with a redirect except the role/password ones (``Params
    required``), which stay plain XML documents even when the client asked to be redirected."""
    return error.key != E.ROLE_OR_PASSWORD_REQUIRED.key


def error_wants_json(accept: str | None) -> bool:
    """Grails content negotiation for ``invalid()`` answers (§1.2): JSON only when it is the
    client's preferred type; ``*/*`` and everything else get XML."""
    first = (accept or "").split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "application/json"
