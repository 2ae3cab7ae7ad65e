"""What one simulated BBB server holds: meetings, their users, the users' sessions, and the
bbb-web properties that shape its answers.

Plain data with the small rules that belong to one object (who counts as an attendee, which
guest status a user gets, when a meeting expires).  ``server.SimulatedServer`` owns these objects
and applies the rules that span several of them.  Times are Java milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.recordings import BreakoutOf, PlaybackFormat, RecordingSnapshot
from bbbfleet.protocol.responses import AttendeeSnapshot, MeetingSnapshot
from bbbfleet.protocol.sessions import DEFAULT_USERDATA_BLOCKLIST
from bbbfleet.simulator.recording_files import FileSpec, with_sizes

MINUTE_MS = 60_000


class Role(enum.StrEnum):
    MODERATOR = "MODERATOR"
    VIEWER = "VIEWER"


class GuestStatus(enum.StrEnum):
    ALLOW = "ALLOW"
    WAIT = "WAIT"
    DENY = "DENY"


class GuestPolicy(enum.StrEnum):
    ALWAYS_ACCEPT = "ALWAYS_ACCEPT"
    ALWAYS_DENY = "ALWAYS_DENY"
    ASK_MODERATOR = "ASK_MODERATOR"
    ALWAYS_ACCEPT_AUTH = "ALWAYS_ACCEPT_AUTH"


class Presence(enum.StrEnum):
    """Where a user is: registered by ``join`` but the client not opened yet, waiting in the
    guest lobby, in the meeting, or gone."""

    REGISTERED = "registered"
    WAITING = "waiting"
    ONLINE = "online"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class BbbProperties:
    """The bbb-web properties a simulated server runs with (REFERENCE.md §9 defaults)."""

    dial_number: str = "613-555-1234"
    voice_bridge_digits: int = 5
    max_participants: int = 0
    meeting_duration: int = 0
    guest_policy: str = GuestPolicy.ALWAYS_ACCEPT
    authenticated_guest: bool = True
    expire_if_no_user_joined_minutes: int = 5
    expire_when_last_user_left_minutes: int = 1
    users_timeout_ms: int = 60_000
    # ``bbbVersion`` is only revealed with allowRevealOfBBBVersion=true; stock servers send "".
    bbb_version: str = ""
    supported_checksum_algorithms: str = "sha1,sha256,sha384,sha512"
    # bigbluebutton.web.logoutURL; "default" means the server's own URL.
    logout_url: str = "default"
    # How long a recording stays "processing" after its meeting ended before it is published.
    recording_delay_seconds: float = 5.0
    # allowFetchAllRecordings: getRecordings without meetingID, recordID or limit lists all.
    allow_fetch_all_recordings: bool = True
    # allowRequestsWithoutSession: the default of the create parameter of the same name; when
    # false, getJoinUrl and learningDashboard need the HTTP session cookie of the client page.
    allow_requests_without_session: bool = False
    # getJoinUrlUserdataBlocklist: userdata-* a viewer's getJoinUrl does not pass on.
    get_join_url_userdata_blocklist: frozenset[str] = DEFAULT_USERDATA_BLOCKLIST
    # What ``stuns`` hands out (turn-stun-servers.xml); TURN credentials follow coturn's REST
    # scheme with ``turn_secret``.
    stun_urls: tuple[str, ...] = ("stun:stun.l.google.com:19302",)
    turn_urls: tuple[str, ...] = ("turns:turn.example.com:443?transport=tcp",)
    turn_secret: str = "sim-turn-secret"
    turn_ttl_seconds: int = 86400
    remote_ice_candidates: tuple[str, ...] = ("192.0.2.10",)
    # keepEvents: events.xml (and so the analytics callback) also for meetings without record=true
    keep_events: bool = False
    # How long rap-caption-inbox takes to turn an uploaded text track into a published one.
    text_track_delay_seconds: float = 1.0
    # The largest putRecordingTextTrack upload accepted (the simulator's own limit).
    text_track_max_bytes: int = 1024 * 1024


@dataclass
class Faults:
    """Misbehaviour switched on for a server's API calls (the control API's ``faults``)."""

    slow_ms: int = 0  # added latency on every API call
    error: bool = False  # HTTP 500 instead of an answer
    garbage: bool = False  # HTTP 200 with a malformed XML body

    def to_json(self) -> dict[str, Any]:
        return {"slow": self.slow_ms, "error": self.error, "garbage": self.garbage}


@dataclass
class User:
    """One ``join``: a registered user, with a session token, who may then open the client."""

    internal_id: str
    external_id: str
    full_name: str
    role: Role
    guest_status: GuestStatus
    auth_token: str
    session_token: str
    registered_at: int
    customdata: dict[str, str] = field(default_factory=dict)
    guest: bool = False
    bot: bool = False
    presence: Presence = Presence.REGISTERED
    joined_at: int | None = None
    left_at: int | None = None
    is_presenter: bool = False
    is_listening_only: bool = False
    has_joined_voice: bool = False
    has_video: bool = False
    # Only webhooks report these (user-audio-muted/unmuted, user-cam-broadcast-* streams).
    is_muted: bool = False
    camera_stream: str | None = None

    @property
    def online(self) -> bool:
        return self.presence is Presence.ONLINE

    def in_user_list(self, now: int, users_timeout_ms: int) -> bool:
        """bbb-web's user list: users in the meeting, and those who left less than
        ``usersTimeout`` ago (it purges them only then)."""
        if self.presence is Presence.ONLINE:
            return True
        return (
            self.presence is Presence.LEFT
            and self.joined_at is not None
            and self.left_at is not None
            and now < self.left_at + users_timeout_ms
        )

    def holds_seat(self, now: int, users_timeout_ms: int) -> bool:
        """Counted against maxParticipants: in the user list, or registered recently and
        still on the way into the meeting."""
        if self.in_user_list(now, users_timeout_ms):
            return True
        on_the_way = self.presence in (Presence.REGISTERED, Presence.WAITING)
        return on_the_way and now < self.registered_at + users_timeout_ms

    def attendee(self) -> AttendeeSnapshot:
        return AttendeeSnapshot(
            user_id=self.external_id,
            full_name=self.full_name,
            role=self.role.value,
            is_presenter=self.is_presenter,
            is_listening_only=self.is_listening_only,
            has_joined_voice=self.has_joined_voice,
            has_video=self.has_video,
            customdata=dict(self.customdata),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "userID": self.external_id,
            "internalUserID": self.internal_id,
            "fullName": self.full_name,
            "role": self.role.value,
            "guest": self.guest,
            "guestStatus": self.guest_status.value,
            "presence": self.presence.value,
            "sessionToken": self.session_token,
            "authToken": self.auth_token,
            "bot": self.bot,
            "registeredAt": self.registered_at,
            "joinedAt": self.joined_at,
            "leftAt": self.left_at,
            "isPresenter": self.is_presenter,
            "isListeningOnly": self.is_listening_only,
            "hasJoinedVoice": self.has_joined_voice,
            "hasVideo": self.has_video,
            "customdata": dict(self.customdata),
        }


@dataclass(frozen=True, slots=True)
class ChatMessage:
    sender: str
    text: str
    at: int


@dataclass
class Meeting:
    """A meeting bbb-web holds: from ``create`` until it ends (then it is removed at once)."""

    meeting_id: str
    internal_id: str
    name: str
    create_time: int
    attendee_pw: str
    moderator_pw: str
    voice_bridge: str
    web_voice: str
    dial_number: str
    duration: int = 0
    max_participants: int = 0
    record: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    logout_url: str = ""
    meeting_ended_url: str | None = None
    guest_policy: str = GuestPolicy.ALWAYS_ACCEPT
    authenticated_guest: bool = True
    expire_if_no_user_joined_minutes: int = 5
    expire_when_last_user_left_minutes: int = 1
    is_breakout: bool = False
    parent_meeting_id: str = "bbb-none"
    sequence: int = 0
    free_join: bool = False
    disabled_features: frozenset[str] = frozenset()
    chat_texts: dict[str, str] = field(default_factory=dict)  # as given on create
    allow_requests_without_session: bool = False
    documents: list[bytes] = field(default_factory=list)  # insertDocument bodies received
    create_modules: bytes | None = None  # create's XML body (presentation, clientSettingsOverride)
    breakout_rooms: list[str] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)  # by internal user ID, join order
    has_user_joined: bool = False
    last_user_left_at: int | None = None
    chat: list[ChatMessage] = field(default_factory=list)

    @property
    def start_time(self) -> int:
        # akka-apps reports the start a few ms after create; the simulator starts it at once.
        return self.create_time

    def online_users(self) -> list[User]:
        return [user for user in self.users.values() if user.online]

    def user_list(self, now: int, users_timeout_ms: int) -> list[User]:
        return [u for u in self.users.values() if u.in_user_list(now, users_timeout_ms)]

    def is_running(self, now: int, users_timeout_ms: int) -> bool:
        """``Meeting.isRunning()``: someone is in the user list (left users count until purged)."""
        return any(u.in_user_list(now, users_timeout_ms) for u in self.users.values())

    def guest_status_for(
        self, role: Role, guest: bool, authenticated: bool, guest_given: bool
    ) -> GuestStatus:
        """``Meeting.calcGuestStatus``: moderators always in; the others by the guest policy."""
        policy = self.guest_policy
        if not self.authenticated_guest:
            if not guest:
                return GuestStatus.ALLOW
            if policy in (GuestPolicy.ALWAYS_ACCEPT, GuestPolicy.ALWAYS_ACCEPT_AUTH):
                return GuestStatus.ALLOW
            return GuestStatus.WAIT if policy == GuestPolicy.ASK_MODERATOR else GuestStatus.DENY
        if role is Role.MODERATOR or (guest_given and not guest):
            return GuestStatus.ALLOW
        if policy == GuestPolicy.ALWAYS_ACCEPT:
            return GuestStatus.ALLOW
        if policy == GuestPolicy.ALWAYS_DENY:
            return GuestStatus.DENY
        if policy == GuestPolicy.ASK_MODERATOR:
            return GuestStatus.WAIT if guest or authenticated else GuestStatus.ALLOW
        if policy == GuestPolicy.ALWAYS_ACCEPT_AUTH:
            return GuestStatus.WAIT if guest else GuestStatus.ALLOW
        return GuestStatus.DENY  # an unknown policy string denies, as in bbb-web

    def expiry_reason(self, now: int) -> str | None:
        """Why the meeting has ended by itself at ``now`` (REFERENCE.md §8), or None."""
        if self.duration > 0 and now >= self.start_time + self.duration * MINUTE_MS:
            return "duration"
        if not self.has_user_joined:
            if now >= self.create_time + self.expire_if_no_user_joined_minutes * MINUTE_MS:
                return "noUserJoined"
            return None
        last_left = self.last_user_left_at
        if last_left is None or self.online_users():
            return None
        if now >= last_left + self.expire_when_last_user_left_minutes * MINUTE_MS:
            return "lastUserLeft"
        return None

    def expired_at(self, reason: str) -> int:
        """When the meeting ended by itself for ``reason`` (the clock is only read lazily)."""
        if reason == "duration":
            return self.start_time + self.duration * MINUTE_MS
        if reason == "noUserJoined":
            return self.create_time + self.expire_if_no_user_joined_minutes * MINUTE_MS
        last_left = self.last_user_left_at or self.create_time
        return last_left + self.expire_when_last_user_left_minutes * MINUTE_MS

    def snapshot(
        self, now: int, users_timeout_ms: int, *, listing: bool = False
    ) -> MeetingSnapshot:
        """What getMeetingInfo shows; with ``listing`` what getMeetings shows (it lists users who
        left but are not purged yet among the attendees, REFERENCE.md §5.5)."""
        online = self.online_users()
        listed = self.user_list(now, users_timeout_ms) if listing else online
        return MeetingSnapshot(
            name=self.name,
            meeting_id=self.meeting_id,
            internal_id=self.internal_id,
            create_time=self.create_time,
            voice_bridge=self.voice_bridge,
            dial_number=self.dial_number,
            attendee_pw=self.attendee_pw,
            moderator_pw=self.moderator_pw,
            running=self.is_running(now, users_timeout_ms),
            duration=self.duration,
            has_user_joined=self.has_user_joined,
            recording=self.record,
            start_time=self.start_time,
            listener_count=sum(1 for u in online if u.is_listening_only),
            voice_participant_count=sum(1 for u in online if u.has_joined_voice),
            video_count=sum(1 for u in online if u.has_video),
            max_users=self.max_participants,
            attendees=[u.attendee() for u in listed],
            metadata=dict(self.metadata),
            is_breakout=self.is_breakout,
            parent_meeting_id=self.parent_meeting_id,
            sequence=self.sequence,
            free_join=self.free_join,
            breakout_rooms=list(self.breakout_rooms),
            participant_count=len(online),
        )

    def to_json(self, now: int, users_timeout_ms: int) -> dict[str, Any]:
        return {
            "meetingID": self.meeting_id,
            "internalMeetingID": self.internal_id,
            "name": self.name,
            "createTime": self.create_time,
            "running": self.is_running(now, users_timeout_ms),
            "hasUserJoined": self.has_user_joined,
            "participantCount": len(self.online_users()),
            "voiceBridge": self.voice_bridge,
            "attendeePW": self.attendee_pw,
            "moderatorPW": self.moderator_pw,
            "record": self.record,
            "duration": self.duration,
            "maxParticipants": self.max_participants,
            "guestPolicy": self.guest_policy,
            "metadata": dict(self.metadata),
            "isBreakout": self.is_breakout,
            "lastUserLeftAt": self.last_user_left_at,
            "users": [user.to_json() for user in self.users.values()],
            "chat": [{"sender": m.sender, "message": m.text, "at": m.at} for m in self.chat],
            "createModules": (
                None
                if self.create_modules is None
                else self.create_modules.decode(errors="replace")
            ),
        }


@dataclass(frozen=True, slots=True)
class Session:
    """A user session created by a successful ``join`` (what getSessions lists)."""

    token: str
    internal_meeting_id: str
    internal_user_id: str


@dataclass(frozen=True, slots=True)
class EndedMeeting:
    """A meeting that is gone, and why: ``end``, ``client`` (ended from the client),
    ``noUserJoined``, ``lastUserLeft`` or ``duration``."""

    meeting_id: str
    internal_id: str
    reason: str
    at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "meetingID": self.meeting_id,
            "internalMeetingID": self.internal_id,
            "reason": self.reason,
            "at": self.at,
        }


@dataclass
class Recording:
    """The recording of a meeting that had ``record=true`` and attendees, from the moment the
    meeting ended.  ``state`` is one of ``bbbfleet.protocol.recordings``' states; a recording
    stays ``processing`` until ``ready_at``, then it is published (``SimulatedServer`` moves it
    lazily, like the meeting expiries)."""

    record_id: str  # the meeting's internal ID
    meeting_id: str  # external
    name: str
    start_time: int
    end_time: int
    ready_at: int
    participants: int
    raw_size: int
    metadata: dict[str, str]  # in metadata.xml order
    playback: list[PlaybackFormat]
    state: str = rec.PROCESSING
    is_breakout: bool = False
    breakout: BreakoutOf | None = None
    breakout_rooms: list[str] = field(default_factory=list)
    # what its published files are made from (recording_files), and their sizes per format
    # without metadata.xml
    files: FileSpec | None = field(default=None, repr=False)
    static_sizes: dict[str, int] = field(default_factory=dict, repr=False)
    # False once the post-publish push imported it and the local copy was deleted
    local_files: bool = True
    push_status: str | None = None  # what the last post-publish push achieved (control API)

    def snapshot(self) -> RecordingSnapshot:
        # Until processing is over there is no published format to show.
        processing = self.state in (rec.PROCESSING, rec.PROCESSED)
        snapshot = RecordingSnapshot(
            record_id=self.record_id,
            meeting_id=self.meeting_id,
            name=self.name,
            state=self.state,
            start_time=self.start_time,
            end_time=self.end_time,
            participants=self.participants,
            raw_size=self.raw_size,
            is_breakout=self.is_breakout,
            metadata=tuple(self.metadata.items()),
            breakout=self.breakout,
            breakout_rooms=tuple(self.breakout_rooms),
            playback=() if processing else tuple(self.playback),
        )
        # Each format's size is the byte count of the files it publishes (metadata.xml included).
        return with_sizes(snapshot, self.static_sizes)

    def static_files(self) -> dict[str, dict[str, bytes]]:
        """Every published file but the metadata.xml files (none once they were deleted)."""
        return {} if self.files is None or not self.local_files else self.files.static()

    def to_json(self) -> dict[str, Any]:
        return {
            "recordID": self.record_id,
            "meetingID": self.meeting_id,
            "name": self.name,
            "state": self.state,
            "startTime": self.start_time,
            "endTime": self.end_time,
            "readyAt": self.ready_at,
            "participants": self.participants,
            "rawSize": self.raw_size,
            "metadata": dict(self.metadata),
            "localFiles": self.local_files,
            "pushStatus": self.push_status,
        }
