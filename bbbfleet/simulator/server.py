"""``SimulatedServer``: the state and behaviour of one BBB 3.0 server, without any HTTP.

The HTTP layer (``api``) parses and authorises a request, then calls one method here and renders
what comes back; the control API and tests call the same methods in-process.  Nothing here knows
about sockets, so one process can hold many servers.

Time-driven rules (REFERENCE.md §8) are applied lazily: every public method first ends the
meetings whose time is up according to the server's clock.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import string
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from bbbfleet.protocol import errors as E
from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.errors import ApiError
from bbbfleet.protocol.recording_push import PushAnswer
from bbbfleet.protocol.recordings import (
    BreakoutOf,
    PlaybackFormat,
    PreviewImage,
    RecordingQuery,
)
from bbbfleet.protocol.responses import MeetingSnapshot
from bbbfleet.protocol.sessions import TurnServer, compact_json, turn_credentials
from bbbfleet.protocol.text_tracks import TRACK_PATH, TextTrack
from bbbfleet.protocol.webhooks import CHECKSUM_VERSIONS, CallbackChecksumVersion
from bbbfleet.simulator import outgoing
from bbbfleet.simulator import recording_files as files
from bbbfleet.simulator.clock import Clock, millis, system_clock
from bbbfleet.simulator.hooks import HookRegistry, HookSettings, WebhookRecorder, media_state
from bbbfleet.simulator.model import (
    BbbProperties,
    ChatMessage,
    EndedMeeting,
    Faults,
    GuestStatus,
    Meeting,
    Presence,
    Recording,
    Role,
    Session,
    User,
)
from bbbfleet.simulator.outgoing import OutgoingPost
from bbbfleet.simulator.recording_files import Slide
from bbbfleet.simulator.specs import CreateSpec, JoinSpec
from bbbfleet.simulator.text_tracks import TextTrackStore

ALPHANUMERIC = string.ascii_letters + string.digits
LOWER_ALPHANUMERIC = string.ascii_lowercase + string.digits
UPPER_HEX = "0123456789ABCDEF"  # Tomcat's JSESSIONID alphabet
VOICE_BRIDGE_ATTEMPTS = 10
CLIENT_PATH = "/html5client/join"
# The slides of bbb-web's default presentation (default.pdf), as its thumbnails are titled.
DEFAULT_SLIDES = (
    "Welcome to",
    "(this slide left blank for use as a whiteboard)",
    "(this slide left blank for use as a whiteboard)",
)


class Refused(Exception):
    """bbb-web refuses the request with one of its errors."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(f"{error.key}: {error.message}")
        self.error = error


class UnknownMeeting(LookupError):
    """The control API named a meeting this server does not hold."""


class UnknownUser(LookupError):
    """The control API named a user who is not in that meeting."""


@dataclass(frozen=True, slots=True)
class CreateOutcome:
    meeting: Meeting
    duplicate: bool  # the meeting already existed: answered with duplicateWarning


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class SimulatedServer:
    """One simulated BBB server: its secret, meetings, users and sessions."""

    def __init__(
        self,
        secret: str,
        *,
        name: str = "sim",
        server_url: str = "http://127.0.0.1",
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        properties: BbbProperties | None = None,
        hooks: HookSettings | None = None,
        hook_checksum_version: CallbackChecksumVersion | None = None,
        post_publish_url: str | None = None,
        server_name: str | None = None,
        delete_after_import: bool = False,
    ) -> None:
        self.secret = secret
        self.name = name
        # serverURL of bbb-web: client redirects, graphql URLs and the default join error page.
        self.server_url = server_url
        self.clock = clock
        self.rng = rng or random.Random()
        self.properties = properties or BbbProperties()
        self.faults = Faults()
        self.meetings: dict[str, Meeting] = {}  # by internal ID, in creation order
        self.sessions: dict[str, Session] = {}  # by session token, in join order
        # HTTP sessions (the JSESSIONID cookie of the client page) -> session tokens opened there
        self.http_sessions: dict[str, set[str]] = {}
        self.ended: deque[EndedMeeting] = deque(maxlen=1000)
        # end callbacks (meetingEndedURL, meta_endCallbackUrl) the HTTP layer still has to send
        self.outbox: list[str] = []
        self.recordings: dict[str, Recording] = {}  # by record ID, in the order meetings ended
        self._processing: list[tuple[int, str]] = []  # heap of (ready_at, record ID)
        # bbb-webhooks: registered hooks and the events queued on them (simulator.webhooks
        # sends them); ``events`` is what the server reports to it.
        self.hooks = HookRegistry(hooks or HookSettings(), self.rng)
        self.events = WebhookRecorder(self.hooks, self.now, self.rng)
        if hook_checksum_version is not None:
            self.hook_checksum_version = hook_checksum_version
        self.text_tracks = TextTrackStore()
        # The post-publish push (contract C2): where to, under which server name, and whether
        # to delete the local copy once the gateway confirms the import.
        self.post_publish_url = post_publish_url
        self.server_name = server_name or name
        self.delete_after_import = delete_after_import
        # POSTs the HTTP layer still has to send (push.py), and how it retries them
        self.posts: list[OutgoingPost] = []
        self.delivery_attempts = 4
        self.delivery_backoff_seconds = 0.5
        self.delivery_timeout_seconds = 10.0
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=1000)  # what was sent (control)

    @property
    def hook_checksum_version(self) -> CallbackChecksumVersion:
        """Which bbb-webhooks callback checksum the server sends: "3.3" or "3.4" (§11.4)."""
        return self.hooks.settings.checksum_version

    @hook_checksum_version.setter
    def hook_checksum_version(self, version: CallbackChecksumVersion) -> None:
        if version not in CHECKSUM_VERSIONS:
            raise ValueError(f"hook_checksum_version must be one of {CHECKSUM_VERSIONS}")
        self.hooks.settings = replace(self.hooks.settings, checksum_version=version)

    # --- time ---------------------------------------------------------------------------------

    def now(self) -> int:
        return millis(self.clock)

    def expire(self) -> None:
        """End every meeting whose time is up (no join within 5 min, 1 min after the last user
        left, duration reached)."""
        now = self.now()
        for meeting in list(self.meetings.values()):
            reason = meeting.expiry_reason(now)
            if reason is not None:
                self._remove(meeting, reason, now, ended_at=meeting.expired_at(reason))
        while self._processing and self._processing[0][0] <= now:
            _ready_at, record_id = heapq.heappop(self._processing)
            recording = self.recordings.get(record_id)
            if recording is not None and recording.state == rec.PROCESSING:
                recording.state = rec.PUBLISHED
                self.events.recording_published(recording)
                self._published(recording)
        self.text_tracks.process(now)

    # --- lookups ------------------------------------------------------------------------------

    def find_meeting(self, meeting_id: str | None) -> Meeting | None:
        """``ServiceUtils.findMeetingFromMeetingID``: an internal ID (or a prefix of one), else
        the meeting whose internal ID starts with ``sha1(meetingID)`` (REFERENCE.md §3.2)."""
        self.expire()
        if not meeting_id:
            return None
        for meeting in self.meetings.values():
            if meeting.internal_id.startswith(meeting_id):
                return meeting
        return self._with_external_id(meeting_id)

    def _with_external_id(self, meeting_id: str) -> Meeting | None:
        prefix = sha1_hex(meeting_id)
        for meeting in self.meetings.values():
            if meeting.internal_id.startswith(prefix):
                return meeting
        return None

    def live_meetings(self) -> list[Meeting]:
        self.expire()
        return list(self.meetings.values())

    def session_users(self) -> Iterator[tuple[Meeting, User]]:
        """Every user session, in the order they were created (getSessions)."""
        self.expire()
        for session in self.sessions.values():
            meeting = self.meetings[session.internal_meeting_id]
            yield meeting, meeting.users[session.internal_user_id]

    def is_running(self, meeting: Meeting) -> bool:
        return meeting.is_running(self.now(), self.properties.users_timeout_ms)

    def snapshot(self, meeting: Meeting, *, listing: bool = False) -> MeetingSnapshot:
        return meeting.snapshot(self.now(), self.properties.users_timeout_ms, listing=listing)

    def client_url(self, session_token: str) -> str:
        """``defaultHTML5ClientUrl?sessionToken=…``: where a successful join sends the browser."""
        return f"{self.server_url}{CLIENT_PATH}?sessionToken={session_token}"

    # --- API calls ----------------------------------------------------------------------------

    def create_meeting(self, spec: CreateSpec) -> CreateOutcome:
        """``create`` after validation (REFERENCE.md §5.1 steps 2-6)."""
        self.expire()
        parent: Meeting | None = None
        if spec.is_breakout:
            if spec.parent_meeting_id is None:
                raise Refused(E.PARENT_MEETING_ID_MISSING)
            parent = self.find_meeting(spec.parent_meeting_id)
            if parent is None:
                raise Refused(E.PARENT_MEETING_DOES_NOT_EXIST)
        existing = self._with_external_id(spec.meeting_id)
        voice_bridge = spec.voice_bridge or self._draw_voice_bridge()
        web_voice = spec.web_voice or voice_bridge
        if existing is None and not self._voice_in_use(voice_bridge, web_voice):
            meeting = self._new_meeting(spec, voice_bridge, web_voice, parent)
            self.meetings[meeting.internal_id] = meeting
            if parent is not None:
                parent.breakout_rooms.append(meeting.internal_id)
            self.events.meeting_created(meeting)
            return CreateOutcome(meeting, duplicate=False)
        if existing is not None:
            same_passwords = (
                spec.attendee_pw == existing.attendee_pw
                and spec.moderator_pw == existing.moderator_pw
            )
            if same_passwords or (spec.attendee_pw is None and spec.moderator_pw is None):
                return CreateOutcome(existing, duplicate=True)
            raise Refused(E.ID_NOT_UNIQUE)
        raise Refused(E.NON_UNIQUE_VOICE_BRIDGE)

    def _new_meeting(
        self, spec: CreateSpec, voice_bridge: str, web_voice: str, parent: Meeting | None
    ) -> Meeting:
        create_time = self.now()
        return Meeting(
            meeting_id=spec.meeting_id,
            internal_id=f"{sha1_hex(spec.meeting_id)}-{create_time}",
            name=spec.name,
            create_time=create_time,
            attendee_pw=spec.attendee_pw or self._random(ALPHANUMERIC, 8),
            moderator_pw=spec.moderator_pw or self._random(ALPHANUMERIC, 8),
            voice_bridge=voice_bridge,
            web_voice=web_voice,
            dial_number=spec.dial_number,
            duration=spec.duration,
            max_participants=spec.max_participants,
            record=spec.record,
            metadata=dict(spec.metadata),
            logout_url=spec.logout_url or self.default_logout_url(),
            meeting_ended_url=spec.meeting_ended_url,
            guest_policy=spec.guest_policy,
            authenticated_guest=self.properties.authenticated_guest,
            expire_if_no_user_joined_minutes=spec.expire_if_no_user_joined_minutes,
            expire_when_last_user_left_minutes=spec.expire_when_last_user_left_minutes,
            is_breakout=parent is not None,
            parent_meeting_id=parent.internal_id if parent is not None else "bbb-none",
            sequence=spec.sequence,
            free_join=spec.free_join,
            disabled_features=spec.disabled_features,
            chat_texts=dict(spec.chat_texts),
            allow_requests_without_session=spec.allow_requests_without_session,
        )

    def default_logout_url(self) -> str:
        configured = self.properties.logout_url
        return self.server_url if configured == "default" else configured

    def _draw_voice_bridge(self) -> str:
        """Up to 10 draws of ``randomNumeric(5)`` for a number no live meeting uses."""
        candidate = ""
        for _ in range(VOICE_BRIDGE_ATTEMPTS):
            candidate = self._random(string.digits, self.properties.voice_bridge_digits)
            if not self._voice_in_use(candidate, candidate):
                break
        return candidate

    def _voice_in_use(self, voice_bridge: str, web_voice: str) -> bool:
        return any(
            m.voice_bridge == voice_bridge or m.web_voice == web_voice
            for m in self.meetings.values()
        )

    def join(self, meeting: Meeting, spec: JoinSpec) -> User:
        """``join`` after validation (REFERENCE.md §5.2 steps 2-8): registers the user and
        opens a session; the user becomes an attendee only when the client is opened."""
        self.expire()
        if spec.create_time is not None and spec.create_time != meeting.create_time:
            raise Refused(E.MISMATCH_CREATE_TIME)
        role = self._role(meeting, spec)
        status = meeting.guest_status_for(role, spec.guest, spec.authenticated, spec.guest_given)
        internal_id = "w_" + self._random(LOWER_ALPHANUMERIC, 12)
        external_id = spec.user_id or internal_id
        if not spec.bot and self._is_full(meeting, external_id):
            raise Refused(E.MAX_PARTICIPANTS_REACHED)
        if status is GuestStatus.DENY:
            raise Refused(E.GUEST_DENIED)
        user = User(
            internal_id=internal_id,
            external_id=external_id,
            full_name=spec.full_name,
            role=role,
            guest_status=status,
            auth_token=self._random(LOWER_ALPHANUMERIC, 12),
            session_token=self._random(LOWER_ALPHANUMERIC, 16),
            registered_at=self.now(),
            customdata=dict(spec.userdata),
            guest=spec.guest,
            bot=spec.bot,
        )
        meeting.users[user.internal_id] = user
        self.sessions[user.session_token] = Session(
            user.session_token, meeting.internal_id, user.internal_id
        )
        return user

    @staticmethod
    def _role(meeting: Meeting, spec: JoinSpec) -> Role:
        if spec.role is not None:
            return spec.role
        if spec.password is not None:
            if spec.password == meeting.moderator_pw:
                return Role.MODERATOR
            if spec.password == meeting.attendee_pw:
                return Role.VIEWER
            raise Refused(E.WRONG_PASSWORD)
        if not meeting.moderator_pw and not meeting.attendee_pw:
            raise Refused(E.ROLE_REQUIRED_NO_PASSWORDS)
        raise Refused(E.ROLE_OR_PASSWORD_REQUIRED)

    def _is_full(self, meeting: Meeting, external_id: str) -> bool:
        """maxParticipants counts distinct external user IDs; someone already counted may come
        back (a re-join), bots are never counted."""
        if meeting.max_participants <= 0:
            return False
        now, timeout = self.now(), self.properties.users_timeout_ms
        seated = {
            u.external_id
            for u in meeting.users.values()
            if not u.bot and u.holds_seat(now, timeout)
        }
        return external_id not in seated and len(seated) >= meeting.max_participants

    def end_meeting(self, meeting: Meeting, reason: str = "end") -> None:
        """``end`` (or the end button in the client): bbb-web drops the meeting at once."""
        if meeting.internal_id in self.meetings:
            self._remove(meeting, reason, self.now())

    def find_recordings(self, query: RecordingQuery) -> list[Recording]:
        """getRecordings' selection (REFERENCE.md §5.7), in the order the meetings ended."""
        self.expire()
        return [
            r
            for r in self.recordings.values()
            if r.local_files and query.matches(r.record_id, r.state, r.metadata)
        ]

    def _existing_recordings(self, record_ids: list[str]) -> list[Recording]:
        """The recordings publish/delete/updateRecordings act on: exact IDs, published or
        unpublished ones (processing ones are not there yet, deleted ones are gone)."""
        self.expire()
        found = [self.recordings.get(record_id) for record_id in record_ids]
        return [
            r for r in found if r is not None and r.local_files and r.state in rec.EXISTING_STATES
        ]

    def publish_recordings(self, record_ids: list[str], publish: bool) -> bool:
        """``publishRecordings``; False when none of the IDs exists."""
        found = self._existing_recordings(record_ids)
        for recording in found:
            state = rec.PUBLISHED if publish else rec.UNPUBLISHED
            if recording.state != state:
                recording.state = state
                self.events.recording_state(recording, "published" if publish else "unpublished")
        return bool(found)

    def delete_recordings(self, record_ids: list[str]) -> bool:
        """``deleteRecordings``; False when none of the IDs exists."""
        found = self._existing_recordings(record_ids)
        for recording in found:
            recording.state = rec.DELETED
            self.events.recording_state(recording, "deleted")
        return bool(found)

    def update_recordings(self, record_ids: list[str], updates: dict[str, str]) -> bool:
        """``updateRecordings``: set (or, with an empty value, remove) metadata keys of the named
        recordings in every state but processing; False when none of the IDs exists."""
        if not self._existing_recordings(record_ids):
            return False
        for record_id in record_ids:
            recording = self.recordings.get(record_id)
            if recording is None or recording.state not in (*rec.EXISTING_STATES, rec.DELETED):
                continue
            for name, value in updates.items():
                if value:
                    recording.metadata[name] = value
                else:
                    recording.metadata.pop(name, None)
        return True

    def sign_out(self, session_token: str | None) -> bool:
        """``signOut``: forget the session; the user stays in the meeting until they leave."""
        if session_token is None or self.sessions.pop(session_token, None) is None:
            return False
        for tokens in self.http_sessions.values():
            tokens.discard(session_token)
        return True

    # --- user sessions (getJoinUrl, learningDashboard, stuns) ---------------------------------

    def user_session(self, session_token: str | None) -> tuple[Meeting, User] | None:
        """The meeting and user a session token belongs to (UserSessionConstraint), or None."""
        self.expire()
        session = self.sessions.get(session_token or "")
        if session is None:
            return None
        meeting = self.meetings[session.internal_meeting_id]
        return meeting, meeting.users[session.internal_user_id]

    def has_http_session(self, http_session: str | None, session_token: str) -> bool:
        """bbb-web's ``hasValidSession``: the caller's HTTP session holds the token (the client
        page put it there), or the token's meeting allows requests without a session."""
        if session_token in self.http_sessions.get(http_session or "", ()):
            return True
        found = self.user_session(session_token)
        return found is not None and found[0].allow_requests_without_session

    def open_http_session(self, http_session: str | None, session_token: str) -> str:
        """The client page records the token in the browser's HTTP session, creating one for a
        browser without; returns the session ID for the cookie."""
        key = http_session or self._random(UPPER_HEX, 32)
        self.http_sessions.setdefault(key, set()).add(session_token)
        return key

    def duplicate_session(
        self, meeting: Meeting, user_id: str, replaced: str | None
    ) -> tuple[User, str] | None:
        """``join`` with ``existingUserID`` (REFERENCE.md §5.2 step 1): a new session token for a
        user of the meeting, without role or password checks; ``replaced`` (a token of the same
        user) is dropped.  None when the meeting has no such user."""
        self.expire()
        user = meeting.users.get(user_id)
        if user is None:
            return None
        old = self.sessions.get(replaced or "")
        if old is not None and old.internal_user_id == user.internal_id:
            self.sign_out(replaced)
        token = self._random(LOWER_ALPHANUMERIC, 16)
        self.sessions[token] = Session(token, meeting.internal_id, user.internal_id)
        return user, token

    def learning_dashboard_data(self, meeting: Meeting) -> str:
        """The dashboard file akka-apps writes: the meeting and per-user activity, keyed by the
        external user ID (several joins with one ID are one dashboard user)."""
        users: dict[str, dict[str, Any]] = {}
        for user in meeting.users.values():
            if user.joined_at is None:
                continue
            entry = users.setdefault(
                user.external_id,
                {
                    "userKey": user.external_id,
                    "extId": user.external_id,
                    "intIds": {},
                    "name": user.full_name,
                    "isModerator": False,
                    "isDialIn": False,
                    "currentIntId": user.internal_id,
                    "talk": {"totalTime": 0, "lastTalkStartedOn": 0},
                    "webcams": [],
                    "totalOfMessages": 0,
                },
            )
            entry["isModerator"] = entry["isModerator"] or user.role is Role.MODERATOR
            entry["currentIntId"] = user.internal_id
            entry["intIds"][user.internal_id] = {
                "intId": user.internal_id,
                "registeredOn": user.joined_at,
                "leftOn": user.left_at or 0,
                "userLeftFlag": user.presence is Presence.LEFT,
            }
            if user.has_video:
                entry["webcams"].append({"startedOn": user.joined_at, "stoppedOn": 0})
        data = {
            "intId": meeting.internal_id,
            "extId": meeting.meeting_id,
            "name": meeting.name,
            "users": users,
        }
        return compact_json(data)

    def turn_servers(self, user: User) -> list[TurnServer]:
        """TURN servers with credentials for one user, valid ``turn_ttl_seconds`` from now."""
        props = self.properties
        username, password = turn_credentials(
            props.turn_secret, user.internal_id, self.now() // 1000, props.turn_ttl_seconds
        )
        return [
            TurnServer(username, password, url, props.turn_ttl_seconds) for url in props.turn_urls
        ]

    def send_chat_message(self, meeting: Meeting, message: str, user_name: str | None) -> None:
        chat = ChatMessage(user_name or "System", message, self.now())
        meeting.chat.append(chat)
        self.events.chat_message(meeting, chat.sender, chat.text, chat.at)

    # --- the HTML5 client ---------------------------------------------------------------------

    def attend(self, session_token: str) -> User | None:
        """The browser followed the join redirect: the user enters the meeting (or the guest
        lobby, while waiting for approval).  None for an unknown or ended session."""
        self.expire()
        session = self.sessions.get(session_token)
        if session is None:
            return None
        meeting = self.meetings[session.internal_meeting_id]
        user = meeting.users[session.internal_user_id]
        if user.guest_status is GuestStatus.WAIT:
            user.presence = Presence.WAITING
        elif user.guest_status is GuestStatus.ALLOW and not user.online:
            self._enter(meeting, user)
        return user

    def _enter(self, meeting: Meeting, user: User) -> None:
        user.presence = Presence.ONLINE
        user.joined_at = self.now()
        user.left_at = None
        first = not meeting.has_user_joined
        meeting.has_user_joined = True
        meeting.last_user_left_at = None
        # The first moderator in becomes presenter, as akka-apps assigns it.
        if user.role is Role.MODERATOR and not any(u.is_presenter for u in meeting.users.values()):
            user.is_presenter = True
        self.events.user_joined(meeting, user)
        if first and meeting.record:  # recording runs from the first attendee on
            self.events.recording_started(meeting)

    def _leave(self, meeting: Meeting, user: User) -> None:
        was_presenter, was_in = user.is_presenter, user.online
        user.presence = Presence.LEFT
        user.left_at = self.now()
        user.is_presenter = user.is_listening_only = False
        user.has_joined_voice = user.has_video = user.is_muted = False
        if was_in:  # a guest leaving the lobby never joined
            self.events.user_left(meeting, user)
        online = meeting.online_users()
        if not online:
            meeting.last_user_left_at = user.left_at
        elif was_presenter:
            successor = next((u for u in online if u.role is Role.MODERATOR), None)
            if successor is not None:
                before = {successor.internal_id: media_state(successor)}
                successor.is_presenter = True
                self.events.media_changed(meeting, before)

    # --- control (what happens in the client, or to the server) -------------------------------

    def meeting(self, meeting_id: str) -> Meeting:
        meeting = self.find_meeting(meeting_id)
        if meeting is None:
            raise UnknownMeeting(meeting_id)
        return meeting

    def users_of(self, meeting: Meeting, user_id: str) -> list[User]:
        """The users an ID names: by external user ID (all who joined with it) or internal."""
        found = [u for u in meeting.users.values() if user_id in (u.external_id, u.internal_id)]
        if not found:
            raise UnknownUser(user_id)
        return found

    def leave(self, meeting_id: str, user_id: str | None = None) -> list[User]:
        """Users close the client: one user (by external or internal ID), or everyone."""
        meeting = self.meeting(meeting_id)
        users = list(meeting.users.values()) if user_id is None else self.users_of(meeting, user_id)
        left = [u for u in users if u.presence in (Presence.ONLINE, Presence.WAITING)]
        for user in left:
            self._leave(meeting, user)
        return left

    def end_from_client(self, meeting_id: str) -> None:
        """A moderator ends the meeting in the client."""
        self.end_meeting(self.meeting(meeting_id), reason="client")

    def decide_guest(self, meeting_id: str, user_id: str, allow: bool) -> list[User]:
        """A moderator admits or denies waiting guests; admitted guests already in the lobby
        enter the meeting, denied ones lose their session."""
        meeting = self.meeting(meeting_id)
        users = [u for u in self.users_of(meeting, user_id) if u.guest_status is GuestStatus.WAIT]
        for user in users:
            if allow:
                user.guest_status = GuestStatus.ALLOW
                if user.presence is Presence.WAITING:
                    self._enter(meeting, user)
            else:
                user.guest_status = GuestStatus.DENY
                user.presence = Presence.LEFT
                self.sessions.pop(user.session_token, None)
        return users

    def set_media(
        self,
        meeting_id: str,
        user_id: str,
        *,
        is_presenter: bool | None = None,
        is_listening_only: bool | None = None,
        has_joined_voice: bool | None = None,
        has_video: bool | None = None,
        is_muted: bool | None = None,
    ) -> list[User]:
        """What users do in the client that getMeetingInfo reports (audio, camera, presenter;
        and muting, which only webhooks report)."""
        meeting = self.meeting(meeting_id)
        users = self.users_of(meeting, user_id)
        before = {u.internal_id: media_state(u) for u in meeting.users.values()}
        for user in users:
            if is_presenter is not None:
                if is_presenter:
                    for other in meeting.users.values():
                        other.is_presenter = False
                user.is_presenter = is_presenter
            if is_listening_only is not None:
                user.is_listening_only = is_listening_only
            if has_joined_voice is not None:
                user.has_joined_voice = has_joined_voice
            if has_video is not None:
                user.has_video = has_video
            if is_muted is not None:
                user.is_muted = is_muted
        self.events.media_changed(meeting, before)
        return users

    def set_faults(
        self, *, slow_ms: int | None = None, error: bool | None = None, garbage: bool | None = None
    ) -> Faults:
        if slow_ms is not None:
            self.faults.slow_ms = max(0, slow_ms)
        if error is not None:
            self.faults.error = error
        if garbage is not None:
            self.faults.garbage = garbage
        return self.faults

    def clear_faults(self) -> Faults:
        self.faults = Faults()
        return self.faults

    def reset(self) -> None:
        """Forget every meeting, session and fault (as a freshly installed server)."""
        self.meetings.clear()
        self.sessions.clear()
        self.http_sessions.clear()
        self.ended.clear()
        self.recordings.clear()
        self._processing.clear()
        self.text_tracks.clear()
        self.posts.clear()
        self.faults = Faults()
        self.hooks.reset()

    def to_json(self) -> dict[str, Any]:
        self.expire()
        now, timeout = self.now(), self.properties.users_timeout_ms
        return {
            "name": self.name,
            "serverURL": self.server_url,
            "secret": self.secret,
            "now": now,
            "faults": self.faults.to_json(),
            "meetings": [m.to_json(now, timeout) for m in self.meetings.values()],
            "sessions": [
                {
                    "sessionToken": s.token,
                    "internalMeetingID": s.internal_meeting_id,
                    "internalUserID": s.internal_user_id,
                }
                for s in self.sessions.values()
            ],
            "ended": [e.to_json() for e in self.ended],
            "recordings": [r.to_json() for r in self.recordings.values()],
        }

    # --- internals ----------------------------------------------------------------------------

    def _remove(
        self, meeting: Meeting, reason: str, now: int, *, ended_at: int | None = None
    ) -> None:
        """Drop an ended meeting; ``ended_at`` is when it expired if that was before ``now``."""
        internal_id = meeting.internal_id
        del self.meetings[internal_id]
        for token in [t for t, s in self.sessions.items() if s.internal_meeting_id == internal_id]:
            del self.sessions[token]
        self.ended.append(EndedMeeting(meeting.meeting_id, internal_id, reason, now))
        self.events.meeting_ended(meeting, now)
        if meeting.record and meeting.has_user_joined:
            end_time = now if ended_at is None else min(ended_at, now)
            recording = self._recording_of(meeting, end_time)
            self.recordings[internal_id] = recording
            heapq.heappush(self._processing, (recording.ready_at, internal_id))
            self.events.recording_archived(recording, now)
        for url in (meeting.meeting_ended_url, meeting.metadata.get("endcallbackurl")):
            if url:
                self.outbox.append(f"{url}{'&' if '?' in url else '?'}recordingmarks=false")
        self._analytics(meeting, ended_at if ended_at is not None and ended_at < now else now)

    def _recording_of(self, meeting: Meeting, end_time: int) -> Recording:
        """What the recording pipeline makes of an ended meeting: a presentation and a video
        format whose files (``recording_files``) grow with the length and the participants;
        each format's size is the bytes it publishes."""
        start, internal_id = meeting.start_time, meeting.internal_id
        duration_ms = max(end_time - start, 0)
        participants = len({u.external_id for u in meeting.users.values() if u.joined_at})
        delay_ms = round(self.properties.recording_delay_seconds * 1000)
        presentation_id = f"{sha1_hex(internal_id + '/default.pdf')}-{meeting.create_time + 10}"
        thumbnails = f"{self.server_url}/presentation/{internal_id}/presentation/{presentation_id}"
        previews = tuple(
            PreviewImage(alt, f"{thumbnails}/thumbnails/thumb-{n}.png")
            for n, alt in enumerate(DEFAULT_SLIDES, start=1)
        )
        slides = tuple(Slide(n, text) for n, text in enumerate(DEFAULT_SLIDES, start=1))
        spec = files.FileSpec(
            internal_id, meeting.name, presentation_id, slides, duration_ms, participants
        )
        static_sizes = spec.static_sizes()
        presentation = PlaybackFormat(
            type=files.PRESENTATION,
            url=f"{self.server_url}/playback/presentation/2.3/{internal_id}",
            processing_time_ms=delay_ms // 10,
            duration_ms=duration_ms,
            size=0,  # set from the files by Recording.snapshot
            preview=previews,
        )
        video = PlaybackFormat(
            type=files.VIDEO,
            url=f"{self.server_url}/playback/video/{internal_id}/",
            processing_time_ms=delay_ms,
            duration_ms=duration_ms,
            size=0,
        )
        published_bytes = sum(static_sizes.values())
        # metadata.xml lists the keys bbb-web adds around the meta_* ones (the reference
        # example's order); more than four keys come out in Scala hash order on a real server.
        metadata = {
            "isBreakout": "true" if meeting.is_breakout else "false",
            "meetingName": meeting.name,
            **meeting.metadata,
            "meetingId": meeting.meeting_id,
        }
        breakout = (
            BreakoutOf(meeting.parent_meeting_id, meeting.sequence, meeting.free_join)
            if meeting.is_breakout
            else None
        )
        return Recording(
            record_id=internal_id,
            meeting_id=meeting.meeting_id,
            name=meeting.name,
            start_time=start,
            end_time=end_time,
            ready_at=end_time + delay_ms,
            participants=participants,
            # the raw recording (events.xml, audio, webcams, slides) outweighs what is published
            raw_size=3 * published_bytes + 100_000,
            metadata=metadata,
            playback=[presentation, video],
            is_breakout=meeting.is_breakout,
            breakout=breakout,
            breakout_rooms=list(meeting.breakout_rooms),
            files=spec,
            static_sizes=static_sizes,
        )

    # --- recordings: published files, post-publish push, callbacks (recording_files, push) -----

    def _published(self, recording: Recording) -> None:
        """The publish step is over: the captions directory exists and the post_publish
        scripts run (the push to the gateway, then the recording-ready callback: BBB runs them
        in file name order, ``bbbfleet-post-publish.rb`` before ``post_publish_recording…``)."""
        self.text_tracks.open(recording.record_id)
        if self.post_publish_url:
            self.push_recording(recording.record_id)
        url = outgoing.ready_url(recording.metadata)
        if url:
            self.posts.append(
                outgoing.recording_ready(
                    url, recording.meeting_id, recording.record_id, self.secret
                )
            )

    def push_recording(self, record_id: str, *, index_only: bool = False) -> bool:
        """Queue the post-publish push of a published recording (False: nothing to push)."""
        recording = self.recordings.get(record_id)
        if self.post_publish_url is None or recording is None:
            return False
        archive = b"" if index_only else self.recording_archive(record_id)
        if archive is None:
            return False
        recording.push_status = "pending"
        self.posts.append(
            outgoing.push(self.post_publish_url, self.server_name, record_id, archive, self.secret)
        )
        return True

    def recording_archive(self, record_id: str, *, compress: bool = False) -> bytes | None:
        """The recording archive of contract C1 (its published directories as a tar), or None
        when the recording is not published here (or its files are gone)."""
        self.expire()
        recording = self.recordings.get(record_id)
        if recording is None or not recording.local_files or recording.state != rec.PUBLISHED:
            return None
        return files.recording_archive(
            recording.snapshot(), recording.static_files(), compress=compress
        )

    def published_file(self, fmt: str, record_id: str, path: str) -> bytes | None:
        """One file of a published recording's format, as nginx serves it; None (404) for
        anything else: unknown, not published, files deleted, or a path outside the tree."""
        self.expire()
        recording = self.recordings.get(record_id)
        if recording is None or not recording.local_files or recording.state != rec.PUBLISHED:
            return None
        parts = path.split("/")
        if any(part in ("", ".", "..") or "\\" in part for part in parts):
            return None
        tree = files.format_tree(recording.snapshot(), recording.static_files(), fmt)
        return None if tree is None else tree.get(path)

    def is_published_here(self, record_id: str) -> bool:
        self.expire()
        recording = self.recordings.get(record_id)
        return recording is not None and recording.local_files and recording.state == rec.PUBLISHED

    def push_answered(self, post: OutgoingPost, answer: PushAnswer | None) -> None:
        """The gateway's final answer to a push (None: no usable answer); the local copy goes
        only when configured to and the answer confirms the import of exactly this archive."""
        recording = self.recordings.get(post.record_id or "")
        if recording is None:
            return
        if answer is None:
            recording.push_status = "failed"
        elif not answer.success:
            recording.push_status = f"failed: {answer.message_key}"
        elif post.sha256 is not None and answer.confirms(post.sha256):
            recording.push_status = "imported"
            if self.delete_after_import:
                self.remove_local_files(recording.record_id)
        else:
            recording.push_status = "indexed"

    def remove_local_files(self, record_id: str) -> bool:
        """Delete the published directories: BBB then no longer lists the recording (its
        metadata.xml is gone), publish/delete/update answer notFound, playback answers 404.
        The captions directory stays, as it is not part of the published tree."""
        recording = self.recordings.get(record_id)
        if recording is None or not recording.local_files:
            return False
        recording.local_files = False
        return True

    def post_attempted(self, post: OutgoingPost, status: int | None) -> None:
        """Bookkeeping for the control API: one attempt at one POST."""
        self.deliveries.append(
            {"kind": post.kind, "url": post.url, "recordID": post.record_id, "status": status}
        )

    def _analytics(self, meeting: Meeting, finish: int) -> None:
        """post_events_analytics_callback.rb: after an ended meeting's events were archived
        (recorded meetings, or all with keepEvents), POST its summary to the analytics URL."""
        url = meeting.metadata.get(outgoing.ANALYTICS_KEY)
        if not url or not (meeting.record or self.properties.keep_events):
            return
        visits = [
            outgoing.AttendeeVisit(
                u.internal_id,
                u.external_id,
                u.full_name,
                u.role is Role.MODERATOR,
                u.joined_at,
                u.left_at if u.left_at is not None else finish,
            )
            for u in meeting.users.values()
            if u.joined_at is not None
        ]
        metadata = {
            "isBreakout": "true" if meeting.is_breakout else "false",
            "meetingName": meeting.name,
            **meeting.metadata,
            "meetingId": meeting.meeting_id,
        }
        payload = outgoing.analytics_payload(
            meeting.meeting_id,
            meeting.internal_id,
            metadata,
            meeting.start_time,
            finish,
            visits,
            ["default.pdf"],
        )
        # exp is checked against the receiver's clock: wall time, whatever this server's clock
        self.posts.append(outgoing.analytics(url, payload, self.secret, int(time.time())))

    def take_posts(self) -> list[OutgoingPost]:
        """POSTs due now; the caller sends them (push.py)."""
        due, self.posts = self.posts, []
        return due

    # --- text tracks (REFERENCE.md §5.11, §5.12) ------------------------------------------------

    def recording_exists(self, record_id: str) -> bool:
        """``isRecordingExist``: a published or unpublished recording with that exact ID."""
        return bool(self._existing_recordings([record_id]))

    def text_track_list(self, record_id: str) -> list[tuple[str, TextTrack]] | None:
        """getRecordingTextTracks: (href with a fresh single-use token, track), or None when
        the recording has no captions directory."""
        self.expire()
        tracks = self.text_tracks.tracks(record_id)
        if tracks is None:
            return None
        now, base = self.now(), f"{self.server_url}{TRACK_PATH}"
        listed = []
        for track in tracks:
            token = self.text_tracks.issue_token(record_id, track.filename, now, self.rng)
            listed.append((f"{base}/{token}/{record_id}/{track.filename}", track))
        return listed

    def put_text_track(self, record_id: str, track: TextTrack, data: bytes) -> None:
        """putRecordingTextTrack: into the caption inbox, processed after the delay."""
        delay_ms = round(self.properties.text_track_delay_seconds * 1000)
        self.text_tracks.upload(record_id, track, data, self.now() + delay_ms)
        self.expire()  # a zero delay processes it at once

    def text_track_file(
        self, token: str, record_id: str, filename: str
    ) -> tuple[bool, bytes | None]:
        self.expire()
        return self.text_tracks.take_file(token, record_id, filename, self.now())

    def take_callbacks(self) -> list[str]:
        """End callbacks due now; the caller sends them (HTTP GET, as bbb-web does)."""
        due, self.outbox = self.outbox, []
        return due

    def _random(self, alphabet: str, length: int) -> str:
        return "".join(self.rng.choices(alphabet, k=length))
