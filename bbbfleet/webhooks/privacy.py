"""The privacy filter: what a tenant's webhook may see of an event from a backend.

A pure function of the event and an ``EventScope``.  It guarantees that nothing in the event
reveals the fleet behind the gateway:

* the backend meetingID (``bf<tenant>-…``) becomes the tenant's own meetingID, everywhere;
* backend host names and origins (in playback links, metadata …) become the gateway's public
  host/origin;
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


# personal fields by the object they live in (bbb-webhooks v3.3–v3.5 mapped events)
USER_FIELDS = frozenset(
    {"external-user-id", "name", "ip-address", "user-agent", "referer", "session-token"}
)
CHAT_FIELDS = frozenset({"message"})
SENDER_FIELDS = frozenset({"external-user-id", "name"})


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
            obj[name] = pseudonym(str(value), scope.hash_key)


def filter_event(event: Mapping[str, Any], scope: EventScope) -> dict[str, Any]:
    """The event as the tenant's hooks receive it (the input is not modified)."""
    result: dict[str, Any] = _scrub(copy.deepcopy(dict(event)), scope)
    data = result.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if isinstance(attributes, dict) and scope.personal is not PersonalData.KEEP:
        _personal(attributes.get("user"), USER_FIELDS, scope)
        chat = attributes.get("chat-message")
        _personal(chat, CHAT_FIELDS, scope)
        if isinstance(chat, dict):
            _personal(chat.get("sender"), SENDER_FIELDS, scope)
    return result
