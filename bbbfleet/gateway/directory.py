"""A short-lived in-process cache of tenants and servers.

Both change rarely (through the CLI) but are needed on every request; each gateway process keeps
a copy for ``cache_seconds`` so that scale-out processes sharing one database pick up changes
quickly without a query per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bbbfleet.storage.repository import Server, Store, Tenant


@dataclass(frozen=True)
class Snapshot:
    tenants: list[Tenant]
    servers: list[Server]
    tenant_by_name: dict[str, Tenant] = field(default_factory=dict)
    tenant_by_host: dict[str, Tenant] = field(default_factory=dict)
    tenant_by_secret: dict[str, Tenant] = field(default_factory=dict)
    server_by_id: dict[int, Server] = field(default_factory=dict)

    @classmethod
    def build(cls, tenants: list[Tenant], servers: list[Server]) -> Snapshot:
        return cls(
            tenants,
            servers,
            {t.name: t for t in tenants},
            {t.hostname.lower(): t for t in tenants if t.hostname},
            {secret: t for t in tenants for secret in t.secrets},
            {s.id: s for s in servers},
        )


class Directory:
    def __init__(
        self, store: Store, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._loaded_at < self._ttl:
            return snapshot
        async with self._lock:
            if self._snapshot is None or self._clock() - self._loaded_at >= self._ttl:
                self._snapshot = Snapshot.build(
                    await self._store.tenants.list(), await self._store.servers.list()
                )
                self._loaded_at = self._clock()
            return self._snapshot

    def invalidate(self) -> None:
        self._snapshot = None
