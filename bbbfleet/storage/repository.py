"""The storage interface the rest of bbbfleet uses: ``Store`` with one small store per concern.

Queries use SQLAlchemy Core on the ORM tables (no ORM sessions on the hot path): a join costs one
indexed SELECT.  Every method works unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bbbfleet.storage.meetings import MeetingStore, PlacementInputs, PollOutcome
from bbbfleet.storage.records import (
    AlreadyExists,
    Meeting,
    NewMeeting,
    NotFound,
    Server,
    ServerPoll,
    StorageError,
    Tenant,
)
from bbbfleet.storage.servers import ServerStore
from bbbfleet.storage.tenants import TenantStore

__all__ = [
    "AlreadyExists",
    "Meeting",
    "MeetingStore",
    "NewMeeting",
    "NotFound",
    "PlacementInputs",
    "PollOutcome",
    "Server",
    "ServerPoll",
    "ServerStore",
    "StorageError",
    "Store",
    "Tenant",
    "TenantStore",
]


class Store:
    """All of bbbfleet's state: ``tenants``, ``servers`` and ``meetings``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.tenants = TenantStore(engine)
        self.servers = ServerStore(engine)
        self.meetings = MeetingStore(engine)

    async def close(self) -> None:
        await self.engine.dispose()
