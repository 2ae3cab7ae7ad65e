"""The database schema: SQLAlchemy 2 typed models.  Alembic migrations in ``migrations/`` must
produce exactly this schema (a test compares them)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TenantRow(Base):
    """A customer: its own secrets, optionally its own host name."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    hostname: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    default_participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    default_duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pool_participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    default_tags: Mapped[str | None] = mapped_column(String(255), nullable=True)
    predict_size: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    policy: Mapped[str] = mapped_column(Text, default="{}")  # bbbfleet.policy.TenantPolicy JSON
    # webhooks (docs/webhooks.md): hooks without meetingID allowed, callback checksum version,
    # personal data in events ("keep" | "hash" | "remove"; None: the platform setting)
    allow_tenant_hooks: Mapped[bool] = mapped_column(Boolean, default=False)
    hook_checksum_version: Mapped[str | None] = mapped_column(String(8), nullable=True)
    hook_personal_data: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # days after which centrally stored recordings are deleted; None: kept forever
    recording_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TenantSecretRow(Base):
    """One of a tenant's shared secrets (several during a rollover)."""

    __tablename__ = "tenant_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ServerRow(Base):
    """A backend BBB server."""

    __tablename__ = "servers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    api_url: Mapped[str] = mapped_column(String(512), unique=True)
    secret: Mapped[str] = mapped_column(String(255))
    capacity: Mapped[int] = mapped_column(Integer, default=100)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    tags: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="enabled")
    health: Mapped[str] = mapped_column(String(16), default="available")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    live_participants: Mapped[int] = mapped_column(Integer, default=0)
    live_meetings: Mapped[int] = mapped_column(Integer, default=0)
    polled_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(512), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MeetingRow(Base):
    """Where a tenant's meeting runs, and how it was created (to re-create it elsewhere)."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", name="uq_meetings_tenant_meeting"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(String(512))
    backend_meeting_id: Mapped[str] = mapped_column(String(512), index=True)
    server_id: Mapped[int | None] = mapped_column(
        ForeignKey("servers.id", ondelete="SET NULL"), index=True, nullable=True
    )
    internal_meeting_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    attendee_pw: Mapped[str | None] = mapped_column(String(128), nullable=True)
    moderator_pw: Mapped[str | None] = mapped_column(String(128), nullable=True)
    create_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    create_query: Mapped[str] = mapped_column(Text, default="")
    create_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    create_content_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reserved_participants: Mapped[int] = mapped_column(Integer, default=0)
    reserved_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    live_participants: Mapped[int] = mapped_column(Integer, default=0)
    peak_participants: Mapped[int] = mapped_column(Integer, default=0)
    created_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    seen_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # changes with every placement, so a late end callback of an earlier copy matches nothing
    nonce: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RoomRow(Base):
    """Attendance history of a tenant's meetingID, for predicting the size of its next run."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("tenant_id", "meeting_id", name="uq_rooms_tenant_meeting"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(String(512))
    recent_peak: Mapped[int] = mapped_column(Integer, default=0)
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class HostedMeetingRow(Base):
    """A meeting a server hosted, kept for a while after the meeting ended: the event ingress
    trusts a ``bf<tenant>-…`` meetingID from a server only when that server hosted it (events
    such as ``meeting-ended`` and the recording pipeline's arrive after the meeting row is
    gone)."""

    __tablename__ = "hosted_meetings"
    __table_args__ = (
        Index("ix_hosted_meetings_backend_server", "backend_meeting_id", "server_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"))
    backend_meeting_id: Mapped[str] = mapped_column(String(512))
    ended_ms: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class HookRow(Base):
    """A tenant's webhook (bbb-webhooks ``hooks/create``), scoped to one of its meetings or,
    when the operator allows it, to all of the tenant's meetings (``meeting_id`` NULL)."""

    __tablename__ = "hooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hook_id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    callback_url: Mapped[str] = mapped_column(Text)
    meeting_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    event_ids: Mapped[str | None] = mapped_column(Text, nullable=True)  # comma list, lowercase
    raw: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class HookDeliveryRow(Base):
    """One queued callback: an event for a hook (delivered in ``id`` order per hook), or a
    relay of one of BBB's own callbacks (``hook_id`` NULL, each independent)."""

    __tablename__ = "hook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hook_id: Mapped[int | None] = mapped_column(
        ForeignKey("hooks.id", ondelete="CASCADE"), index=True, nullable=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(8), default="POST")
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    headers: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(512), nullable=True)


# Prefix filters are index range scans, which need byte order: PostgreSQL's default collation
# ignores punctuation such as "-" at first level; SQLite's BINARY already is byte order.
BYTE_ORDERED_128 = String(128).with_variant(String(128, collation="C"), "postgresql")


class RecordingImportRow(Base):
    """A recording archive pushed by a server: its import into central storage, with retries."""

    __tablename__ = "recording_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(128), unique=True)
    server_id: Mapped[int | None] = mapped_column(
        ForeignKey("servers.id", ondelete="SET NULL"), nullable=True
    )
    server_name: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending|importing|imported|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(512), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    staged_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    imported_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RecordingRow(Base):
    """One recording of a tenant, as the index last saw it on its server (or stored centrally).

    ``snapshot`` is the parsed ``<recording>`` as the tenant sees it (JSON; IDs translated, URLs
    of the backend); ``state`` and ``meta`` are kept in their own columns because publish,
    delete and updateRecordings change them without a backend round trip."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_tenant_start", "tenant_id", "start_time", "id"),
        Index("ix_recordings_tenant_meeting", "tenant_id", "meeting_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(BYTE_ORDERED_128, unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(String(512))  # the tenant's meetingID
    backend_meeting_id: Mapped[str] = mapped_column(String(512))
    server_id: Mapped[int | None] = mapped_column(
        ForeignKey("servers.id", ondelete="SET NULL"), index=True, nullable=True
    )
    state: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger, default=0)
    meta: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON [[key, value], …]
    snapshot: Mapped[str] = mapped_column(Text)  # JSON of the RecordingSnapshot
    # the <recording> block as getRecordings shows it (kept current with state and metadata)
    block: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(16), default="backend")
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    gone_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # vanished from server
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecordingMetaRow(Base):
    """One metadata key of a recording, for indexed ``meta_*`` filters (``value_head`` is the
    first 128 characters: long values stay out of the B-tree), with copies of the recording's
    state, start time and listing so one filter is answered from this index alone."""

    __tablename__ = "recording_meta"
    __table_args__ = (
        # covering for one meta_* filter: match, state and listing, in start order
        Index(
            "ix_recording_meta_lookup",
            "tenant_id",
            "key",
            "value_head",
            "start_time",
            "recording_id",
            "state",
            "listed",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(255))
    value_head: Mapped[str] = mapped_column(BYTE_ORDERED_128)
    value: Mapped[str] = mapped_column(Text)
    # copies of the recording's columns, so one meta_* filter needs no recordings row
    state: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger, default=0)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)  # not gone, or stored centrally


# Core table handles for the query modules (typed as Table, not the declarative FromClause).
tenants = cast(Table, TenantRow.__table__)
tenant_secrets = cast(Table, TenantSecretRow.__table__)
servers = cast(Table, ServerRow.__table__)
meetings = cast(Table, MeetingRow.__table__)
rooms = cast(Table, RoomRow.__table__)
hosted_meetings = cast(Table, HostedMeetingRow.__table__)
hooks = cast(Table, HookRow.__table__)
hook_deliveries = cast(Table, HookDeliveryRow.__table__)
recording_imports = cast(Table, RecordingImportRow.__table__)
recordings = cast(Table, RecordingRow.__table__)
recording_meta = cast(Table, RecordingMetaRow.__table__)
