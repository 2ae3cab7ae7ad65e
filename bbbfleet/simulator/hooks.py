"""bbb-webhooks on a simulated server, the state half: the registered hooks, their settings, and
the events waiting for delivery.  No I/O here: ``simulator.webhooks`` sends what is queued.

``SimulatedServer`` reports what happens (a meeting created, a user entering …) to its
``WebhookRecorder``, which turns it into bbb-webhooks' mapped events (``protocol.webhooks``) plus
a raw message for ``getRaw`` hooks, and queues each on every hook that should receive it, as
bbb-webhooks' ``onEvent`` picks the hooks when the event arrives.  With no hook registered
nothing is built at all.

Which version is emulated: bbb-webhooks v3.3.x (what BBB 3.0 ships, REFERENCE.md §11) with the
two v3.4.0 fixes for scoped hooks (``HookSettings.scoped_hooks``): ``meetingID`` on create is
kept, and ``hooks/list?meetingID=`` lists the global hooks plus that meeting's, sorted by ID.
The callback checksum follows ``HookSettings.checksum_version``.
"""

from __future__ import annotations

import random
import string
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bbbfleet.protocol import webhooks as wh
from bbbfleet.protocol.checksum import ALL_ALGORITHMS
from bbbfleet.protocol.recordings import PlaybackFormat
from bbbfleet.protocol.responses import java_date
from bbbfleet.simulator.model import Meeting, Recording, User

# bbb-webhooks' shipped config (config/default.example.yml ``retryIntervals``), in ms.
SHIPPED_RETRY_INTERVALS_MS: tuple[int, ...] = (
    100,
    500,
    1000,
    2000,
    4000,
    8000,
    10000,
    30000,
    60000,
    60000,
    60000,
    60000,
)
LOWER_ALPHANUMERIC = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class PermanentHook:
    """A ``permanentURLs`` entry: a hook that exists from the start, cannot be destroyed and
    is never dropped after failed deliveries."""

    url: str
    get_raw: bool = False


@dataclass(frozen=True, slots=True)
class HookSettings:
    """bbb-webhooks' configuration on one simulated server."""

    # bbb.serverDomain, sent as ``domain``; None: the host of the server's URL.
    domain: str | None = None
    # "3.3": sha1(callbackURL + "{}" + secret) (bbb-webhooks v3.0-v3.3.x); "3.4": over the body.
    checksum_version: wh.CallbackChecksumVersion = "3.3"
    checksum_algorithm: str = "sha1"  # hookChecksumAlgorithm
    # bbb.auth2_0: no checksum, ``Authorization: Bearer <secret>`` instead.
    auth2_0: bool = False
    retry_intervals_ms: tuple[int, ...] = SHIPPED_RETRY_INTERVALS_MS
    permanent_interval_reset_ms: int = 60_000
    request_timeout_ms: int = 5_000
    permanent_hooks: tuple[PermanentHook, ...] = ()
    include_events: tuple[str, ...] = ()  # includeEvents: only these mapped events, if any
    exclude_events: tuple[str, ...] = ()  # excludeEvents
    supported_checksum_algorithms: tuple[str, ...] = ALL_ALGORITHMS
    # The v3.4.0 fixes for scoped hooks (see the module docstring); False is v3.3.x exactly:
    # meetingID dropped on create, and hooks/list with meetingID answers listHookError.
    scoped_hooks: bool = True
    # How often the sender lets time pass on the server (meeting expiry, recordings becoming
    # published) while hooks exist, so time-driven events go out without an API call.
    tick_ms: int = 1_000


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """One event waiting for delivery to one hook (mapped, or raw for getRaw hooks)."""

    payload: dict[str, Any]
    queued_at: int

    @property
    def event_id(self) -> str:
        return wh.event_id_of(self.payload) or _raw_name(self.payload)


def _raw_name(payload: Mapping[str, Any]) -> str:
    for key in ("envelope", "header"):
        part = payload.get(key)
        if isinstance(part, Mapping) and isinstance(part.get("name"), str):
            return str(part["name"])
    return "unknownEvent"


@dataclass
class Hook:
    """A registered hook and its delivery queue (delivered strictly in order)."""

    hook_id: str
    callback_url: str
    meeting_id: str | None
    event_ids: tuple[str, ...] | None
    permanent: bool
    get_raw: bool
    queue: deque[QueuedEvent] = field(default_factory=deque)
    delivered: int = 0
    failed_attempts: int = 0

    def listing(self) -> wh.HookListing:
        return wh.HookListing(
            self.hook_id,
            self.callback_url,
            self.meeting_id,
            self.event_ids,
            self.permanent,
            self.get_raw,
        )

    def wants(self, payload: Mapping[str, Any]) -> bool:
        """The per-hook ``eventID`` filter: raw messages have no mapped ID and never match."""
        if self.event_ids is None:
            return True
        event_id = wh.event_id_of(payload)
        return event_id is not None and event_id.lower() in self.event_ids

    def to_json(self) -> dict[str, Any]:
        return {
            "hookID": self.hook_id,
            "callbackURL": self.callback_url,
            "meetingID": self.meeting_id,
            "eventID": None if self.event_ids is None else list(self.event_ids),
            "permanentHook": self.permanent,
            "rawData": self.get_raw,
            "queued": [q.event_id for q in self.queue],
            "delivered": self.delivered,
            "failedAttempts": self.failed_attempts,
        }


class HookRegistry:
    """The hooks of one server (bbb-webhooks' hook storage) and the events queued on them."""

    def __init__(self, settings: HookSettings, rng: random.Random) -> None:
        self.settings = settings
        self.rng = rng
        self.hooks: dict[str, Hook] = {}  # by hook ID, in creation order
        self.install_permanent()

    def install_permanent(self) -> None:
        for permanent in self.settings.permanent_hooks:
            request = wh.HookCreateRequest(permanent.url, None, None, permanent.get_raw)
            self.create(request, permanent=True)

    def configure(self, settings: HookSettings) -> None:
        self.settings = settings
        self.install_permanent()

    def is_permanent(self, callback_url: str) -> bool:
        return any(p.url == callback_url for p in self.settings.permanent_hooks)

    def create(
        self, request: wh.HookCreateRequest, *, permanent: bool | None = None
    ) -> tuple[Hook, bool]:
        """``addSubscription``: the new hook, or the one with that callback URL (duplicated)."""
        for hook in self.hooks.values():
            if hook.callback_url == request.callback_url:
                return hook, True
        permanent = self.is_permanent(request.callback_url) if permanent is None else permanent
        if permanent:
            hook_id = str(uuid.uuid5(uuid.NAMESPACE_URL, request.callback_url))
        else:
            hook_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        hook = Hook(
            hook_id=hook_id,
            callback_url=request.callback_url,
            meeting_id=request.meeting_id if self.settings.scoped_hooks else None,
            event_ids=request.event_ids,
            permanent=permanent,
            get_raw=request.get_raw,
        )
        self.hooks[hook_id] = hook
        return hook, False

    def destroy(self, hook_id: str) -> bool:
        """``removeSubscription``: permanent hooks cannot be removed."""
        hook = self.hooks.get(hook_id)
        if hook is None or hook.permanent:
            return False
        del self.hooks[hook_id]
        return True

    def drop(self, hook: Hook) -> None:
        """Deliveries to a normal hook failed too often: bbb-webhooks deletes it."""
        if self.hooks.get(hook.hook_id) is hook:
            del self.hooks[hook.hook_id]

    def listing(self, meeting_id: str | None = None) -> list[wh.HookListing]:
        """``hooks/list``: all hooks, or the global ones plus those of one meeting by ID."""
        if meeting_id is None:
            return [hook.listing() for hook in self.hooks.values()]
        chosen = [h for h in self.hooks.values() if h.meeting_id in (None, meeting_id)]
        return [hook.listing() for hook in sorted(chosen, key=lambda h: h.hook_id)]

    def enqueue(self, mapped: dict[str, Any], raw: dict[str, Any] | None, now: int) -> None:
        """bbb-webhooks' ``onEvent``: global filters, then every global hook and every hook of
        the event's meeting gets the mapped event (getRaw hooks: the raw message), subject to
        its own eventID list."""
        event_id = wh.event_id_of(mapped)
        settings = self.settings
        if settings.include_events and event_id not in settings.include_events:
            return
        if event_id in settings.exclude_events:
            return
        meeting = mapped["data"]["attributes"].get("meeting", {})
        external = meeting.get("external-meeting-id")
        for hook in self.hooks.values():
            if hook.meeting_id is not None and hook.meeting_id != external:
                continue
            payload = (raw if raw is not None else mapped) if hook.get_raw else mapped
            if hook.wants(payload):
                hook.queue.append(QueuedEvent(payload, now))

    def pending(self) -> list[Hook]:
        return [hook for hook in self.hooks.values() if hook.queue]

    def reset(self) -> None:
        self.hooks.clear()
        self.install_permanent()

    def to_json(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "checksumVersion": settings.checksum_version,
            "checksumAlgorithm": settings.checksum_algorithm,
            "auth2_0": settings.auth2_0,
            "domain": settings.domain,
            "retryIntervals": list(settings.retry_intervals_ms),
            "permanentIntervalReset": settings.permanent_interval_reset_ms,
            "requestTimeout": settings.request_timeout_ms,
            "scopedHooks": settings.scoped_hooks,
            "hooks": [hook.to_json() for hook in self.hooks.values()],
        }


# --- what happens on the server, as events -------------------------------------------------------

MediaState = tuple[bool, bool, bool, bool, bool]  # presenter, listen-only, voice, video, muted


def media_state(user: User) -> MediaState:
    return (
        user.is_presenter,
        user.is_listening_only,
        user.has_joined_voice,
        user.has_video,
        user.is_muted,
    )


class WebhookRecorder:
    """Turns what a simulated server does into bbb-webhooks events on its hooks."""

    def __init__(self, registry: HookRegistry, now: Callable[[], int], rng: random.Random) -> None:
        self.registry = registry
        self.now = now
        self.rng = rng

    @property
    def active(self) -> bool:
        return bool(self.registry.hooks)

    def _emit(self, mapped: dict[str, Any], raw: dict[str, Any] | None = None) -> None:
        self.registry.enqueue(mapped, raw, self.now())

    # meetings

    def meeting_created(self, meeting: Meeting) -> None:
        if not self.active:
            return
        now = self.now()
        mapped = wh.meeting_created_event(
            internal_meeting_id=meeting.internal_id,
            external_meeting_id=meeting.meeting_id,
            name=meeting.name,
            is_breakout=meeting.is_breakout,
            parent_id=meeting.parent_meeting_id,
            duration=meeting.duration,
            create_time=meeting.create_time,
            create_date=java_date(meeting.create_time),
            moderator_pass=meeting.moderator_pw,
            viewer_pass=meeting.attendee_pw,
            record=meeting.record,
            voice_conf=meeting.voice_bridge,
            dial_number=meeting.dial_number,
            max_users=meeting.max_participants,
            metadata=meeting.metadata,
            ts=now,
        )
        props = {
            "meetingProp": {
                "name": meeting.name,
                "extId": meeting.meeting_id,
                "intId": meeting.internal_id,
                "isBreakout": meeting.is_breakout,
            },
            "breakoutProps": {"parentId": meeting.parent_meeting_id},
            "durationProps": {
                "duration": meeting.duration,
                "createdTime": meeting.create_time,
                "createdDate": java_date(meeting.create_time),
            },
            "password": {
                "moderatorPass": meeting.moderator_pw,
                "viewerPass": meeting.attendee_pw,
            },
            "recordProp": {"record": meeting.record},
            "voiceProp": {"voiceConf": meeting.voice_bridge, "dialNumber": meeting.dial_number},
            "usersProp": {"maxUsers": meeting.max_participants},
            "metadataProp": {"metadata": dict(meeting.metadata)},
        }
        raw = _raw("MeetingCreatedEvtMsg", meeting.internal_id, None, {"props": props}, now)
        self._emit(mapped, raw)

    def meeting_ended(self, meeting: Meeting, now: int) -> None:
        """bbb-webhooks makes up a ``user-left`` for every user still in, then
        ``meeting-ended``."""
        if not self.active:
            return
        for user in meeting.online_users():
            attrs = self._joined_user(user)
            self._emit(wh.user_left_event(meeting.internal_id, meeting.meeting_id, attrs, now))
        mapped = wh.meeting_ended_event(meeting.internal_id, meeting.meeting_id, now)
        raw = _raw("MeetingDestroyedEvtMsg", meeting.internal_id, None, {}, now)
        self._emit(mapped, raw)

    # users

    def _joined_user(self, user: User) -> dict[str, Any]:
        return wh.user_attributes(
            user.internal_id,
            user.external_id,
            name=user.full_name,
            role=user.role.value,
            presenter=user.is_presenter,
            userdata=user.customdata,
            guest=user.guest,
        )

    def user_joined(self, meeting: Meeting, user: User) -> None:
        """The client was opened: ``user-joined`` (presenter false, as akka-apps adds users),
        then ``user-presenter-assigned`` if the user became presenter, then
        ``meeting-recording-started`` for the first user of a recorded meeting."""
        if not self.active:
            return
        now = self.now()
        attrs = {**self._joined_user(user), "presenter": False}
        body = {
            "intId": user.internal_id,
            "extId": user.external_id,
            "name": user.full_name,
            "role": user.role.value,
            "guest": user.guest,
            "presenter": False,
            "userCustomData": dict(user.customdata),
        }
        raw = _raw("UserJoinedMeetingEvtMsg", meeting.internal_id, user.internal_id, body, now)
        self._emit(wh.user_joined_event(meeting.internal_id, meeting.meeting_id, attrs, now), raw)
        if user.is_presenter:
            self._presenter(meeting, user, True, now)

    def recording_started(self, meeting: Meeting) -> None:
        if not self.active:
            return
        now = self.now()
        mapped = wh.meeting_recording_event(meeting.internal_id, meeting.meeting_id, True, now)
        body = {"recording": True, "setBy": "system"}
        self._emit(
            mapped, _raw("RecordingStatusChangedEvtMsg", meeting.internal_id, None, body, now)
        )

    def user_left(self, meeting: Meeting, user: User) -> None:
        if not self.active:
            return
        now = self.now()
        attrs = wh.user_attributes(user.internal_id, user.external_id, guest=user.guest)
        body = {"intId": user.internal_id, "eject": False, "ejectedBy": "", "reason": ""}
        raw = _raw("UserLeftMeetingEvtMsg", meeting.internal_id, user.internal_id, body, now)
        self._emit(wh.user_left_event(meeting.internal_id, meeting.meeting_id, attrs, now), raw)

    def _presenter(self, meeting: Meeting, user: User, assigned: bool, now: int) -> None:
        attrs = wh.user_attributes(user.internal_id, user.external_id)
        name = "PresenterAssignedEvtMsg" if assigned else "PresenterUnassignedEvtMsg"
        body = {"presenterId": user.internal_id, "presenterName": user.full_name}
        raw = _raw(name, meeting.internal_id, user.internal_id, body, now)
        mapped = wh.user_presenter_event(
            meeting.internal_id, meeting.meeting_id, attrs, assigned, now
        )
        self._emit(mapped, raw)

    def media_changed(self, meeting: Meeting, before: Mapping[str, MediaState]) -> None:
        """Events for what changed since ``before`` (by internal user ID) for users in the
        meeting: presenter, audio (joined, left, listen-only/mic switch, muted) and camera."""
        if not self.active:
            return
        now = self.now()
        # Unassignments first, as akka-apps takes the role away before handing it on.
        changed = [
            (u, before[u.internal_id]) for u in meeting.online_users() if u.internal_id in before
        ]
        for user, old in changed:
            if old[0] and not user.is_presenter:
                self._presenter(meeting, user, False, now)
        for user, old in changed:
            if not old[0] and user.is_presenter:
                self._presenter(meeting, user, True, now)
            self._audio(meeting, user, old, now)
            self._camera(meeting, user, old, now)

    def _audio(self, meeting: Meeting, user: User, old: MediaState, now: int) -> None:
        _p, old_listen, old_voice, _v, old_muted = old
        new_listen, new_voice, new_muted = (
            user.is_listening_only,
            user.has_joined_voice,
            user.is_muted,
        )
        was_in, is_in = old_listen or old_voice, new_listen or new_voice
        attrs = wh.user_attributes(user.internal_id, user.external_id)
        ids = (meeting.internal_id, meeting.meeting_id)
        switched = was_in and is_in and (old_listen, old_voice) != (new_listen, new_voice)
        if (was_in and not is_in) or switched:
            body: dict[str, Any] = {"intId": user.internal_id, "voiceUserId": user.internal_id}
            raw = _raw("UserLeftVoiceConfToClientEvtMsg", ids[0], user.internal_id, body, now)
            self._emit(wh.user_audio_voice_disabled_event(*ids, attrs, now), raw)
        if (is_in and not was_in) or switched:
            muted = new_muted or not new_voice
            body = {
                "intId": user.internal_id,
                "voiceUserId": user.internal_id,
                "callerName": user.full_name,
                "muted": muted,
                "listenOnly": new_listen and not new_voice,
            }
            raw = _raw("UserJoinedVoiceConfToClientEvtMsg", ids[0], user.internal_id, body, now)
            mapped = wh.user_audio_voice_enabled_event(
                *ids, attrs, listening_only=new_listen and not new_voice, muted=muted, ts=now
            )
            self._emit(mapped, raw)
        elif is_in and new_voice and old_voice and old_muted != new_muted:
            body = {
                "intId": user.internal_id,
                "voiceUserId": user.internal_id,
                "muted": new_muted,
            }
            raw = _raw("UserMutedVoiceEvtMsg", ids[0], user.internal_id, body, now)
            self._emit(wh.user_audio_muted_event(*ids, attrs, new_muted, now), raw)

    def _camera(self, meeting: Meeting, user: User, old: MediaState, now: int) -> None:
        if old[3] == user.has_video:
            return
        stream = f"{user.internal_id}_{self._random(LOWER_ALPHANUMERIC, 12)}"
        if user.has_video:
            user.camera_stream = stream
        else:
            stream = user.camera_stream or stream
            user.camera_stream = None
        attrs = wh.user_attributes(user.internal_id, user.external_id, stream=stream)
        name = (
            "UserBroadcastCamStartedEvtMsg" if user.has_video else "UserBroadcastCamStoppedEvtMsg"
        )
        raw = _raw(
            name,
            meeting.internal_id,
            user.internal_id,
            {"userId": user.internal_id, "stream": stream},
            now,
        )
        mapped = wh.user_cam_event(
            meeting.internal_id, meeting.meeting_id, attrs, user.has_video, now
        )
        self._emit(mapped, raw)

    # chat

    def chat_message(self, meeting: Meeting, sender_name: str, text: str, at: int) -> None:
        """sendChatMessage: akka-apps posts it to the public chat as its system user, with a
        message ID of the time and 8 random characters."""
        if not self.active:
            return
        message_id = f"{at}-{self._random(LOWER_ALPHANUMERIC, 8)}"
        mapped = wh.chat_group_message_sent_event(
            meeting.internal_id,
            meeting.meeting_id,
            message_id=message_id,
            message=text,
            sender_id=wh.SYSTEM_USER_ID,
            sender_name=sender_name,
            time=at,
            ts=self.now(),
        )
        body = {
            "chatId": wh.PUBLIC_CHAT_ID,
            "msg": {
                "id": message_id,
                "timestamp": at,
                "sender": {"id": wh.SYSTEM_USER_ID, "name": sender_name, "role": "VIEWER"},
                "message": text,
            },
        }
        raw = _raw(
            "GroupChatMessageBroadcastEvtMsg",
            meeting.internal_id,
            wh.SYSTEM_USER_ID,
            body,
            self.now(),
        )
        self._emit(mapped, raw)

    # recordings

    def recording_archived(self, recording: Recording, at: int) -> None:
        """The archive step after a recorded meeting ended."""
        if not self.active:
            return
        duration = max(recording.end_time - recording.start_time, 0)
        step_time = 1000 + duration // 1000
        mapped = wh.rap_archive_ended_event(
            recording.record_id,
            recording.meeting_id,
            record_id=recording.record_id,
            success=True,
            step_time=step_time,
            recorded=True,
            duration=duration,
            ts=at,
        )
        payload = {
            "success": True,
            "step_time": step_time,
            "recorded": True,
            "duration": duration,
        }
        self._emit(mapped, self._rap_raw("archive_ended", recording, payload, at))

    def recording_published(self, recording: Recording) -> None:
        """Processing is over: each format processed, then each format published."""
        if not self.active:
            return
        at = recording.ready_at
        ids = (recording.record_id, recording.meeting_id)
        for fmt in recording.playback:
            mapped = wh.rap_step_event(
                "rap-process-ended",
                *ids,
                record_id=recording.record_id,
                success=True,
                step_time=fmt.processing_time_ms,
                ts=at,
                workflow=fmt.type,
            )
            payload = {"success": True, "step_time": fmt.processing_time_ms, "workflow": fmt.type}
            self._emit(mapped, self._rap_raw("process_ended", recording, payload, at))
        for fmt in recording.playback:
            playback = _playback(fmt)
            mapped = wh.rap_publish_ended_event(
                *ids,
                record_id=recording.record_id,
                success=True,
                step_time=fmt.processing_time_ms // 4,
                workflow=fmt.type,
                start_time=recording.start_time,
                end_time=recording.end_time,
                raw_size=recording.raw_size,
                metadata=recording.metadata,
                playback=playback,
                ts=at,
            )
            payload = {
                "success": True,
                "step_time": fmt.processing_time_ms // 4,
                "workflow": fmt.type,
                "metadata": dict(recording.metadata),
                "playback": playback,
                "download": {},
                "raw_size": recording.raw_size,
                "start_time": recording.start_time,
                "end_time": recording.end_time,
            }
            self._emit(mapped, self._rap_raw("publish_ended", recording, payload, at))

    def recording_state(self, recording: Recording, change: wh.RapStateChange) -> None:
        """publishRecordings (published/unpublished) and deleteRecordings."""
        if not self.active:
            return
        now = self.now()
        mapped = wh.rap_state_event(
            change, recording.record_id, recording.meeting_id, recording.record_id, now
        )
        name = {
            "published": "PublishedRecordingSysMsg",
            "unpublished": "UnpublishedRecordingSysMsg",
            "deleted": "DeletedRecordingSysMsg",
        }[change]
        raw = _raw(name, recording.record_id, None, {"recordId": recording.record_id}, now)
        self._emit(mapped, raw)

    def _rap_raw(
        self, name: str, recording: Recording, payload: dict[str, Any], at: int
    ) -> dict[str, Any]:
        """A message of the recording scripts (``bigbluebutton:from-rap``)."""
        return {
            "header": {"timestamp": at, "name": name, "current_time": at, "version": "0.0.1"},
            "payload": {
                "meeting_id": recording.record_id,
                "record_id": recording.record_id,
                "external_meeting_id": recording.meeting_id,
                **payload,
            },
        }

    def _random(self, alphabet: str, length: int) -> str:
        return "".join(self.rng.choices(alphabet, k=length))


def _playback(fmt: PlaybackFormat) -> dict[str, Any]:
    return wh.rap_playback(fmt.type, fmt.url, fmt.processing_time_ms, fmt.duration_ms, fmt.size)


def _raw(
    name: str, meeting_id: str, user_id: str | None, body: dict[str, Any], now: int
) -> dict[str, Any]:
    """A raw akka-apps / bbb-web message as getRaw hooks see it (envelope + core), reduced to
    the fields the simulator knows."""
    routing: dict[str, Any] = {"meetingId": meeting_id}
    header: dict[str, Any] = {"name": name, "meetingId": meeting_id}
    if user_id is not None:
        routing["userId"] = user_id
        header["userId"] = user_id
    return {
        "envelope": {"name": name, "routing": routing, "timestamp": now},
        "core": {"header": header, "body": body},
    }


def settings_with(settings: HookSettings, changes: Mapping[str, Any]) -> HookSettings:
    """``settings`` with some fields replaced (the control API's partial updates)."""
    return replace(settings, **dict(changes))
