"""Plain records the storage layer hands out, and its errors.  No SQLAlchemy types leak out."""

from __future__ import annotations

from dataclasses import dataclass, field

from bbbfleet.placement import Health, ServerState
from bbbfleet.policy import TenantPolicy


class StorageError(Exception):
    """A storage operation could not be done; the message says why and what to do."""


class NotFound(StorageError):
    pass


class AlreadyExists(StorageError):
    pass


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    hostname: str | None
    secrets: tuple[str, ...]
    default_participants: int | None = None  # None: the platform default
    default_duration_minutes: int | None = None
    pool_participants: int | None = None  # None: no limit
    default_tags: str | None = None
    predict_size: bool | None = None
    recording_retention_days: int | None = None  # None: central recordings are kept forever
    policy: TenantPolicy = field(default_factory=TenantPolicy)
    allow_tenant_hooks: bool = False  # hooks without meetingID (all of the tenant's meetings)
    hook_checksum_version: str | None = None  # "3.3" | "3.4"; None: the platform setting
    hook_personal_data: str | None = None  # "keep" | "hash" | "remove"; None: the platform's


@dataclass(frozen=True, slots=True)
class Server:
    id: int
    name: str
    api_url: str
    secret: str
    capacity: int
    state: ServerState = ServerState.ENABLED
    weight: float = 1.0
    tags: frozenset[str] = frozenset()
    health: Health = Health.AVAILABLE
    failures: int = 0
    successes: int = 0
    live_participants: int = 0
    live_meetings: int = 0
    polled_ms: int | None = None
    last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.state is ServerState.ENABLED


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    tenant_id: int
    meeting_id: str
    backend_meeting_id: str
    server_id: int | None  # None: its server was panicked or removed; re-created on next use
    internal_meeting_id: str | None
    attendee_pw: str | None
    moderator_pw: str | None
    create_time: int | None
    create_query: str
    create_body: bytes | None
    create_content_type: str | None
    reserved_participants: int = 0
    reserved_until_ms: int = 0
    live_participants: int = 0
    peak_participants: int = 0
    created_ms: int = 0
    seen_ms: int | None = None
    nonce: str = ""


@dataclass(frozen=True, slots=True)
class NewMeeting:
    """What the gateway knows before the backend answers a create."""

    tenant_id: int
    meeting_id: str
    backend_meeting_id: str
    create_query: str
    create_body: bytes | None = None
    create_content_type: str | None = None
    reserved_participants: int = 0
    reserved_until_ms: int = 0
    created_ms: int = 0


@dataclass(frozen=True, slots=True)
class ServerPoll:
    """One poll of one server: its meetings with live attendance, or the error."""

    server_id: int
    ok: bool
    attendance: dict[str, int]  # backend meetingID -> participantCount
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Hook:
    """A tenant's webhook.  ``meeting_id`` None: every meeting of the tenant."""

    id: int
    hook_id: str
    tenant_id: int
    callback_url: str
    meeting_id: str | None
    event_ids: tuple[str, ...] | None
    raw: bool
    created_ms: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One queued callback request (an event for a hook, or a relay of a BBB callback)."""

    id: int
    hook_id: int | None
    tenant_id: int
    kind: str
    url: str
    method: str
    body: bytes
    headers: dict[str, str]
    attempts: int
    next_attempt_ms: int
    created_ms: int


@dataclass(frozen=True, slots=True)
class NewDelivery:
    hook_id: int | None
    tenant_id: int
    kind: str
    url: str
    method: str = "POST"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
