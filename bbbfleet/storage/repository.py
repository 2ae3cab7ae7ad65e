"""The storage interface the rest of bbbfleet uses: small async methods returning plain records.

Queries use SQLAlchemy Core on the ORM tables (no ORM sessions on the hot path): a join costs one
indexed SELECT.  Every method works unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bbbfleet.storage.models import MeetingRow, ServerRow, TenantRow, TenantSecretRow

tenants = cast(Table, TenantRow.__table__)
tenant_secrets = cast(Table, TenantSecretRow.__table__)
servers = cast(Table, ServerRow.__table__)
meetings = cast(Table, MeetingRow.__table__)


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


@dataclass(frozen=True, slots=True)
class Server:
    id: int
    name: str
    api_url: str
    secret: str
    capacity: int
    enabled: bool


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    tenant_id: int
    meeting_id: str
    backend_meeting_id: str
    server_id: int
    internal_meeting_id: str | None
    attendee_pw: str | None
    moderator_pw: str | None
    create_time: int | None
    create_query: str
    create_body: bytes | None
    create_content_type: str | None


@dataclass(frozen=True, slots=True)
class NewMeeting:
    """What the gateway knows before the backend answers a create."""

    tenant_id: int
    meeting_id: str
    backend_meeting_id: str
    server_id: int
    create_query: str
    create_body: bytes | None = None
    create_content_type: str | None = None


_MEETING_COLUMNS = (
    meetings.c.id,
    meetings.c.tenant_id,
    meetings.c.meeting_id,
    meetings.c.backend_meeting_id,
    meetings.c.server_id,
    meetings.c.internal_meeting_id,
    meetings.c.attendee_pw,
    meetings.c.moderator_pw,
    meetings.c.create_time,
    meetings.c.create_query,
    meetings.c.create_body,
    meetings.c.create_content_type,
)
_SERVER_COLUMNS = (
    servers.c.id,
    servers.c.name,
    servers.c.api_url,
    servers.c.secret,
    servers.c.capacity,
    servers.c.enabled,
)


def _meeting(row: Row[*tuple[Any, ...]]) -> Meeting:
    return Meeting(**row._mapping)


def _server(row: Row[*tuple[Any, ...]]) -> Server:
    return Server(**row._mapping)


class Store:
    """All reads and writes of bbbfleet's state."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def close(self) -> None:
        await self.engine.dispose()

    # --- tenants --------------------------------------------------------------------------------

    async def list_tenants(self) -> list[Tenant]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(tenants).order_by(tenants.c.name))).all()
            secret_rows = (
                await conn.execute(
                    select(tenant_secrets.c.tenant_id, tenant_secrets.c.secret).order_by(
                        tenant_secrets.c.id
                    )
                )
            ).all()
        by_tenant: dict[int, list[str]] = {}
        for tenant_id, secret in secret_rows:
            by_tenant.setdefault(tenant_id, []).append(secret)
        return [
            Tenant(row.id, row.name, row.hostname, tuple(by_tenant.get(row.id, ()))) for row in rows
        ]

    async def get_tenant(self, name: str) -> Tenant:
        for tenant in await self.list_tenants():
            if tenant.name == name:
                return tenant
        raise NotFound(f"no tenant named {name!r}; see 'bbbfleet tenant list'")

    async def add_tenant(self, name: str, secret: str, hostname: str | None = None) -> Tenant:
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    tenants.insert().values(name=name, hostname=hostname).returning(tenants.c.id)
                )
                tenant_id = result.scalar_one()
                await conn.execute(
                    tenant_secrets.insert().values(tenant_id=tenant_id, secret=secret)
                )
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a tenant named {name!r}, with host {hostname!r} or with that secret exists already"
            ) from exc
        return Tenant(tenant_id, name, hostname, (secret,))

    async def remove_tenant(self, name: str) -> None:
        tenant = await self.get_tenant(name)
        async with self.engine.begin() as conn:
            await conn.execute(delete(tenants).where(tenants.c.id == tenant.id))

    async def add_tenant_secret(self, name: str, secret: str) -> None:
        tenant = await self.get_tenant(name)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    tenant_secrets.insert().values(tenant_id=tenant.id, secret=secret)
                )
        except IntegrityError as exc:
            raise AlreadyExists("that secret is already in use; generate a new one") from exc

    async def remove_tenant_secret(self, name: str, secret: str) -> None:
        tenant = await self.get_tenant(name)
        if secret not in tenant.secrets:
            raise NotFound(f"tenant {name!r} has no such secret; see 'bbbfleet tenant list'")
        if len(tenant.secrets) == 1:
            raise StorageError(
                f"that is the last secret of {name!r}; add the new one first "
                "('bbbfleet tenant add-secret'), then remove this one"
            )
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(tenant_secrets).where(
                    tenant_secrets.c.tenant_id == tenant.id, tenant_secrets.c.secret == secret
                )
            )

    # --- servers --------------------------------------------------------------------------------

    async def list_servers(self) -> list[Server]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(*_SERVER_COLUMNS).order_by(servers.c.name))).all()
        return [_server(row) for row in rows]

    async def get_server(self, name: str) -> Server:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(*_SERVER_COLUMNS).where(servers.c.name == name))
            ).first()
        if row is None:
            raise NotFound(f"no server named {name!r}; see 'bbbfleet server list'")
        return _server(row)

    async def add_server(
        self, name: str, api_url: str, secret: str, capacity: int, enabled: bool = True
    ) -> Server:
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    servers.insert()
                    .values(
                        name=name,
                        api_url=api_url,
                        secret=secret,
                        capacity=capacity,
                        enabled=enabled,
                    )
                    .returning(servers.c.id)
                )
                server_id = result.scalar_one()
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a server named {name!r} or with URL {api_url} exists already"
            ) from exc
        return Server(server_id, name, api_url, secret, capacity, enabled)

    async def remove_server(self, name: str, force: bool = False) -> None:
        server = await self.get_server(name)
        count = (await self.meeting_counts()).get(server.id, 0)
        if count and not force:
            raise StorageError(
                f"server {name!r} still hosts {count} meeting(s); disable it and wait until they "
                "end, or pass --force to forget them"
            )
        async with self.engine.begin() as conn:
            await conn.execute(delete(servers).where(servers.c.id == server.id))

    async def set_server_enabled(self, name: str, enabled: bool) -> None:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(servers).where(servers.c.name == name).values(enabled=enabled)
            )
        if result.rowcount == 0:
            raise NotFound(f"no server named {name!r}; see 'bbbfleet server list'")

    # --- meetings -------------------------------------------------------------------------------

    async def get_meeting(self, tenant_id: int, meeting_id: str) -> Meeting | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_MEETING_COLUMNS).where(
                        meetings.c.tenant_id == tenant_id, meetings.c.meeting_id == meeting_id
                    )
                )
            ).first()
        return None if row is None else _meeting(row)

    async def find_meeting_by_internal_id(self, tenant_id: int, internal_id: str) -> Meeting | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_MEETING_COLUMNS).where(
                        meetings.c.tenant_id == tenant_id,
                        meetings.c.internal_meeting_id == internal_id,
                    )
                )
            ).first()
        return None if row is None else _meeting(row)

    async def list_meetings(self, tenant_id: int | None = None) -> list[Meeting]:
        query = select(*_MEETING_COLUMNS).order_by(meetings.c.id)
        if tenant_id is not None:
            query = query.where(meetings.c.tenant_id == tenant_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_meeting(row) for row in rows]

    async def claim_meeting(self, new: NewMeeting) -> tuple[Meeting, bool]:
        """Insert the meeting's placement, or return the one that exists (True = ours is new).

        The unique (tenant, meetingID) constraint makes concurrent creates of one meeting agree
        on a single server."""
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    meetings.insert()
                    .values(
                        tenant_id=new.tenant_id,
                        meeting_id=new.meeting_id,
                        backend_meeting_id=new.backend_meeting_id,
                        server_id=new.server_id,
                        create_query=new.create_query,
                        create_body=new.create_body,
                        create_content_type=new.create_content_type,
                    )
                    .returning(meetings.c.id)
                )
                meeting_pk = result.scalar_one()
        except IntegrityError:
            existing = await self.get_meeting(new.tenant_id, new.meeting_id)
            if existing is None:  # removed between our insert and read: try once more
                return await self.claim_meeting(new)
            return existing, False
        meeting = Meeting(
            meeting_pk,
            new.tenant_id,
            new.meeting_id,
            new.backend_meeting_id,
            new.server_id,
            None,
            None,
            None,
            None,
            new.create_query,
            new.create_body,
            new.create_content_type,
        )
        return meeting, True

    async def record_backend_meeting(
        self,
        meeting_pk: int,
        internal_meeting_id: str,
        attendee_pw: str | None,
        moderator_pw: str | None,
        create_time: int | None,
    ) -> None:
        """Remember what the backend answered to create (for join checks and failover)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(meetings)
                .where(meetings.c.id == meeting_pk)
                .values(
                    internal_meeting_id=internal_meeting_id,
                    attendee_pw=attendee_pw,
                    moderator_pw=moderator_pw,
                    create_time=create_time,
                )
            )

    async def forget_meeting(self, meeting_pk: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(meetings).where(meetings.c.id == meeting_pk))

    async def meeting_counts(self) -> dict[int, int]:
        """Meetings per server id, by the gateway's own records."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(meetings.c.server_id, func.count()).group_by(meetings.c.server_id)
                )
            ).all()
        return {server_id: count for server_id, count in rows}

    async def servers_by_id(self, ids: Sequence[int]) -> dict[int, Server]:
        return {s.id: s for s in await self.list_servers() if s.id in set(ids)}
