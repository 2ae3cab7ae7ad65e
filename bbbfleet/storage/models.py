"""The database schema: SQLAlchemy 2 typed models.  Alembic migrations in ``migrations/`` must
produce exactly this schema (a test compares them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
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
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
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
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), index=True)
    internal_meeting_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    attendee_pw: Mapped[str | None] = mapped_column(String(128), nullable=True)
    moderator_pw: Mapped[str | None] = mapped_column(String(128), nullable=True)
    create_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    create_query: Mapped[str] = mapped_column(Text, default="")
    create_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    create_content_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
