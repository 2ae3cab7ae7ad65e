"""The privacy filter: what a tenant's webhook may see of an event from a backend.

A pure function of the event and an ``EventScope``.  It guarantees that nothing in the event
reveals the fleet behind the gateway:

* the backend meetingID (``bf<tenant>-…``) becomes the tenant's own meetingID, everywhere;
* backend host names and origins (in metadata, texts …) become the gateway's public host/origin
  (the tenant's own host name when it has one);
* playback links of recording events are shown as getRecordings shows them: on the gateway for
  the formats it serves from central storage, else on the backend (playback hosts are public by
  nature: every viewer's browser loads them);
* the gateway's callback relay URLs in metadata become the tenant's original URLs;
* events only ever concern one meeting of one tenant, so no other tenant appears.

Personal data (user names, external user IDs, IP addresses, user agents, referers, session tokens,
chat message texts) is kept, removed, or replaced by a stable keyed hash (HMAC-SHA256 with a
platform key, first 32 hex digits) as configured per platform and tenant.  Without a key,
``hash`` falls back to ``remove`` (never to ``keep``).
"""

from __future__ import annotations

import copy
import enum
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class PersonalData(enum.StrEnum):
    KEEP = "keep"
    HASH = "hash"
    REMOVE = "remove"


# personal fields by the object they live in (bbb-webhooks v3.3–v3.5 mapped events); texts
# people write or say (chat, live transcripts, shared notes) count as personal content
USER_FIELDS = frozenset(
    {
        "external-user-id",
        "name",
        "ip-address",
        "user-agent",
        "referer",
        "session-token",
        "userdata",
    }
)
CHAT_FIELDS = frozenset({"message"})
SENDER_FIELDS = frozenset({"external-user-id", "name"})
TRANSCRIPT_FIELDS = frozenset({"transcript"})
PAD_FIELDS = frozenset({"text"})
# BBB's analytics callback (post_events_analytics_callback.rb): per attendee
ATTENDEE_FIELDS = frozenset({"name", "ext_user_id"})

# The attribute keys that pass, per object of bbb-webhooks' mapped events (v3.3–v3.5,
# src/process/event.js); anything else (a key a newer bbb-webhooks adds) is dropped until it is
# reviewed and listed here.  None: the value passes whole (scrubbed); a dict: an object whose
# keys are checked in turn.
Spec = dict[str, "Spec | None"]
_USER: Spec = dict.fromkeys(
    (
        "internal-user-id",
        "external-user-id",
        "name",
        "role",
        "presenter",
        "ip-address",
        "user-agent",
        "referer",
        "session-token",
        "userdata",
        "stream",
        "guest",
        "listening-only",
        "sharing-mic",
        "muted",
        "emoji",
        "raise-hand",
    )
)
_MEETING: Spec = dict.fromkeys(
    (
        "internal-meeting-id",
        "external-meeting-id",
        "name",
        "is-breakout",
        "parent-id",
        "duration",
        "create-time",
        "create-date",
        "moderator-pass",
        "viewer-pass",
        "record",
        "voice-conf",
        "dial-number",
        "max-users",
        "metadata",
        "presentation-id",
    )
)
_ATTRIBUTES: Spec = {
    "meeting": _MEETING,
    "user": _USER,
    "chat-message": {
        "id": None,
        "message": None,
        "sender": dict.fromkeys(("internal-user-id", "external-user-id", "name", "time")),
    },
    "chat-id": None,
    "record-id": None,
    "success": None,
    "step-time": None,
    "format": None,
    "link": None,
    "recorded": None,
    "duration": None,
    "workflow": None,
    "recording": dict.fromkeys(
        (
            "name",
            "is-breakout",
            "start-time",
            "end-time",
            "size",
            "raw-size",
            "metadata",
            "playback",
            "download",
        )
    ),
    "pad": dict.fromkeys(("id", "external-pad-id", "rev", "start", "end", "text")),
    "poll": dict.fromkeys(("id", "question", "answers", "answerIds")),
    "transcript": dict.fromkeys(("id", "transcript", "locale", "final")),
}
EVENT_SPEC: Spec = {
    "data": {"type": None, "id": None, "attributes": _ATTRIBUTES, "event": {"ts": None}}
}


def allowed_only(value: dict[str, Any], spec: Spec) -> dict[str, Any]:
    """``value`` with only the keys ``spec`` lists (recursively); an object where the spec
    expects one but something else (a list, a string) stands there is dropped."""
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key not in spec:
            continue
        sub = spec[key]
        if sub is None:
            result[key] = item
        elif isinstance(item, dict):
            result[key] = allowed_only(item, sub)
        elif item is None:
            result[key] = None
    return result


@dataclass(frozen=True)
class EventScope:
    """What the filter needs to know about where an event came from and who gets it."""

    backend_meeting_id: str
    tenant_meeting_id: str
    public_origin: str  # e.g. "https://bbb.example.org" (the gateway's public URL origin)
    backend_origins: tuple[str, ...] = ()  # e.g. ("https://bbb1.internal:8443", …)
    personal: PersonalData = PersonalData.KEEP
    hash_key: bytes | None = None
    restore_url: Callable[[str], str] = field(default=lambda text: text)
    # playback links as getRecordings shows them (backend URL → gateway URL) for a recording's
    # formats the gateway serves from central storage; every other playback link stays as the
    # backend published it, as getRecordings shows it
    playback_links: Mapping[str, str] = field(default_factory=dict)
    # (text to find, replacement): each backend origin, then its bare host name
    replacements: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        public_host = _host(self.public_origin)
        pairs: list[tuple[str, str]] = []
        for origin in self.backend_origins:
            pairs.append((origin, self.public_origin))
            if host := _host(origin):
                pairs.append((host, public_host))
        object.__setattr__(self, "replacements", tuple(pairs))

    @property
    def public_host(self) -> str:
        return _host(self.public_origin)


def _host(origin: str) -> str:
    rest = origin.split("://", 1)[-1]
    return rest.split("/", 1)[0]


def pseudonym(value: str, key: bytes) -> str:
    """A stable keyed hash of a personal value (the same input gives the same output)."""
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def scrub_text(text: str, scope: EventScope) -> str:
    """Backend meeting IDs, origins and host names in a string → the tenant's view of them."""
    text = scope.restore_url(text)
    if scope.backend_meeting_id in text:
        text = text.replace(scope.backend_meeting_id, scope.tenant_meeting_id)
    for found, replacement in scope.replacements:
        if found in text:
            text = text.replace(found, replacement)
    return text


def scrub(value: Any, scope: EventScope) -> Any:
    """Every string in ``value`` (a JSON value, not modified) through ``scrub_text``."""
    return _scrub(copy.deepcopy(value), scope)


def _scrub(value: Any, scope: EventScope) -> Any:
    if isinstance(value, str):
        return scrub_text(value, scope)
    if isinstance(value, list):
        return [_scrub(item, scope) for item in value]
    if isinstance(value, dict):
        return {scrub_text(k, scope): _scrub(v, scope) for k, v in value.items()}
    return value


def _personal(obj: Any, names: frozenset[str], scope: EventScope) -> None:
    if not isinstance(obj, dict):
        return
    mode = scope.personal
    if mode is PersonalData.HASH and not scope.hash_key:
        mode = PersonalData.REMOVE
    for name in names & obj.keys():
        value = obj[name]
        if mode is PersonalData.REMOVE or value is None:
            del obj[name]
        elif mode is PersonalData.HASH:
            assert scope.hash_key is not None
            obj[name] = _hashed(value, scope.hash_key)


def _hashed(value: Any, key: bytes) -> Any:
    """A pseudonym of a personal value; the values of an object (``userdata``) one by one."""
    if isinstance(value, dict):
        return {k: None if v is None else pseudonym(str(v), key) for k, v in value.items()}
    return pseudonym(str(value), key)


def filter_event(event: Mapping[str, Any], scope: EventScope) -> dict[str, Any]:
    """The event as the tenant's hooks receive it (the input is not modified): only the
    attributes of ``EVENT_SPEC``, scrubbed, personal data as configured."""
    allowed = allowed_only(copy.deepcopy(dict(event)), EVENT_SPEC)
    links = _detach_playback(allowed)
    result: dict[str, Any] = _scrub(allowed, scope)
    data = result.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if isinstance(attributes, dict):
        _attach_playback(attributes, links, scope)
    if isinstance(attributes, dict) and scope.personal is not PersonalData.KEEP:
        _personal(attributes.get("user"), USER_FIELDS, scope)
        chat = attributes.get("chat-message")
        _personal(chat, CHAT_FIELDS, scope)
        if isinstance(chat, dict):
            _personal(chat.get("sender"), SENDER_FIELDS, scope)
        _personal(attributes.get("transcript"), TRANSCRIPT_FIELDS, scope)
        _personal(attributes.get("pad"), PAD_FIELDS, scope)
    return result


def _detach_playback(event: dict[str, Any]) -> dict[str, Any]:
    """Take the playback links out of a recording event (``recording.playback``,
    ``recording.download``, ``link``) so the host rewriting leaves them alone."""
    data = event.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        return {}
    links: dict[str, Any] = {}
    if isinstance(attributes.get("link"), str):
        links["link"] = attributes.pop("link")
    recording = attributes.get("recording")
    if isinstance(recording, dict):
        for key in ("playback", "download"):
            if key in recording:
                links[key] = recording.pop(key)
    return links


def _playback_value(value: Any, scope: EventScope) -> Any:
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return scope.playback_links.get(value, value)
        return scrub_text(value, scope)
    if isinstance(value, list):
        return [_playback_value(item, scope) for item in value]
    if isinstance(value, dict):
        return {k: _playback_value(v, scope) for k, v in value.items()}
    return value


def _attach_playback(attributes: dict[str, Any], links: dict[str, Any], scope: EventScope) -> None:
    if "link" in links:
        attributes["link"] = _playback_value(links["link"], scope)
    recording = attributes.get("recording")
    if isinstance(recording, dict):
        for key in ("playback", "download"):
            if key in links:
                recording[key] = _playback_value(links[key], scope)


def filter_analytics_personal(payload: dict[str, Any], scope: EventScope) -> None:
    """Personal data in BBB's analytics callback JSON, in place: each attendee's ``name`` and
    ``ext_user_id``, and the user IDs that key the ``votes`` of each poll (hashed, or the
    votes left out)."""
    if scope.personal is PersonalData.KEEP:
        return
    data = payload.get("data")
    if not isinstance(data, dict):
        return
    attendees = data.get("attendees")
    for attendee in attendees if isinstance(attendees, list) else []:
        _personal(attendee, ATTENDEE_FIELDS, scope)
    polls = data.get("polls")
    for poll in polls if isinstance(polls, list) else []:
        if not isinstance(poll, dict) or not isinstance(poll.get("votes"), dict):
            continue
        if scope.personal is PersonalData.HASH and scope.hash_key:
            poll["votes"] = {pseudonym(k, scope.hash_key): v for k, v in poll["votes"].items()}
        else:
            del poll["votes"]
