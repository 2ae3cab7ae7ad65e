"""The storage interface the rest of bbbfleet uses: ``Store`` with one small store per concern.

Queries use SQLAlchemy Core on the ORM tables (no ORM sessions on the hot path): a join costs one
indexed SELECT.  Every method works unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

from bbbfleet.storage.database import Database
from bbbfleet.storage.hooks import HookStore
from bbbfleet.storage.imports import ImportStore
from bbbfleet.storage.meetings import MeetingStore, PlacementInputs, PollOutcome
from bbbfleet.storage.recordings import (
    IndexedRecording,
    RecordingEntry,
    RecordingFilter,
    RecordingStore,
)
from bbbfleet.storage.records import (
    AlreadyExists,
    Delivery,
    Hook,
    Meeting,
    NewDelivery,
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
    "Database",
    "Delivery",
    "Hook",
    "HookStore",
    "IndexedRecording",
    "Meeting",
    "MeetingStore",
    "NewDelivery",
    "NewMeeting",
    "NotFound",
    "PlacementInputs",
    "PollOutcome",
    "RecordingEntry",
    "RecordingFilter",
    "RecordingStore",
    "Server",
    "ServerPoll",
    "ServerStore",
    "StorageError",
    "Store",
    "Tenant",
    "TenantStore",
]


class Store:
    """All of bbbfleet's state: ``tenants``, ``servers``, ``meetings``, ``recordings`` and
    ``hooks`` (with the callback delivery queue)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tenants = TenantStore(db)
        self.servers = ServerStore(db)
        self.meetings = MeetingStore(db)
        self.hooks = HookStore(db)
        self.imports = ImportStore(db)
        self.recordings = RecordingStore(db)

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(Database(url))

    async def close(self) -> None:
        await self.db.dispose()
