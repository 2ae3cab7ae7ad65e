"""Backend BBB servers: registration, lifecycle state, health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from bbbfleet.placement import Health, ServerState
from bbbfleet.storage.database import Database
from bbbfleet.storage.models import meetings, servers
from bbbfleet.storage.records import AlreadyExists, NotFound, Server, StorageError

SERVER_COLUMNS = (
    servers.c.id,
    servers.c.name,
    servers.c.api_url,
    servers.c.secret,
    servers.c.capacity,
    servers.c.state,
    servers.c.weight,
    servers.c.tags,
    servers.c.health,
    servers.c.failures,
    servers.c.successes,
    servers.c.live_participants,
    servers.c.live_meetings,
    servers.c.polled_ms,
    servers.c.last_error,
)


@dataclass(frozen=True, slots=True)
class HealthUpdate:
    server_id: int
    health: Health
    failures: int
    successes: int
    now_ms: int
    error: str | None
    live_participants: int
    live_meetings: int


def parse_tags(text: str) -> frozenset[str]:
    return frozenset(t.strip().lower() for t in text.split(",") if t.strip())


def server_from_row(row: Row[*tuple[Any, ...]]) -> Server:
    values = dict(row._mapping)
    values["state"] = ServerState(values["state"])
    values["health"] = Health(values["health"])
    values["tags"] = parse_tags(values["tags"])
    return Server(**values)


_ALL_SERVERS = select(*SERVER_COLUMNS).order_by(servers.c.name)


def list_servers(conn: Connection) -> list[Server]:
    rows = conn.execute(_ALL_SERVERS).all()
    return [server_from_row(row) for row in rows]


class ServerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self) -> list[Server]:
        return await self.db.read(list_servers)

    async def get(self, name: str) -> Server:
        row = await self.db.read(
            lambda conn: conn.execute(select(*SERVER_COLUMNS).where(servers.c.name == name)).first()
        )
        if row is None:
            raise NotFound(f"no server named {name!r}; see 'bbbfleet server list'")
        return server_from_row(row)

    async def add(
        self,
        name: str,
        api_url: str,
        secret: str,
        capacity: int,
        state: ServerState = ServerState.ENABLED,
        weight: float = 1.0,
        tags: frozenset[str] = frozenset(),
    ) -> Server:
        statement = (
            servers.insert()
            .values(
                name=name,
                api_url=api_url,
                secret=secret,
                capacity=capacity,
                state=state.value,
                weight=weight,
                tags=",".join(sorted(tags)),
            )
            .returning(servers.c.id)
        )
        try:
            server_id: int = await self.db.write(lambda conn: conn.execute(statement).scalar_one())
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a server named {name!r} or with URL {api_url} exists already"
            ) from exc
        return Server(server_id, name, api_url, secret, capacity, state, weight, tags)

    async def remove(self, name: str, force: bool = False) -> None:
        server = await self.get(name)
        count: int = await self.db.read(
            lambda conn: conn.execute(
                select(func.count()).select_from(meetings).where(meetings.c.server_id == server.id)
            ).scalar_one()
        )
        if count and not force:
            raise StorageError(
                f"server {name!r} still hosts {count} meeting(s); drain it first "
                f"('bbbfleet server drain {name} --wait'), or pass --force to move them elsewhere "
                "on their next create or join"
            )
        await self.db.write(
            lambda conn: conn.execute(delete(servers).where(servers.c.id == server.id))
        )

    async def _set(self, name: str, **values: Any) -> Server:
        rowcount: int = await self.db.write(
            lambda conn: (
                conn.execute(
                    update(servers).where(servers.c.name == name).values(**values)
                ).rowcount
            )
        )
        if rowcount == 0:
            raise NotFound(f"no server named {name!r}; see 'bbbfleet server list'")
        return await self.get(name)

    async def set_state(self, name: str, state: ServerState) -> Server:
        return await self._set(name, state=state.value)

    async def set_capacity(self, name: str, capacity: int) -> Server:
        return await self._set(name, capacity=capacity)

    async def set_weight(self, name: str, weight: float) -> Server:
        return await self._set(name, weight=weight)

    async def set_tags(self, name: str, tags: frozenset[str]) -> Server:
        return await self._set(name, tags=",".join(sorted(tags)))

    async def record_health(self, updates: Sequence[HealthUpdate]) -> None:
        """Store the outcome of polls or calls for many servers in one statement."""
        if not updates:
            return
        statement = (
            update(servers)
            .where(servers.c.id == bindparam("sid"))
            .values(
                health=bindparam("health"),
                failures=bindparam("failures"),
                successes=bindparam("successes"),
                polled_ms=bindparam("polled"),
                last_error=bindparam("error"),
                live_participants=bindparam("live_participants"),
                live_meetings=bindparam("live_meetings"),
            )
        )
        rows = [
            {
                "sid": u.server_id,
                "health": u.health.value,
                "failures": u.failures,
                "successes": u.successes,
                "polled": u.now_ms,
                "error": u.error[:500] if u.error else None,
                "live_participants": u.live_participants,
                "live_meetings": u.live_meetings,
            }
            for u in updates
        ]
        await self.db.write(lambda conn: conn.execute(statement, rows))

    async def record_failure(self, server_id: int, error: str) -> None:
        """A call to the server failed: it takes no new meetings (available → unstable) until
        polls succeed again.  Only the poller's consecutive failures make a server offline, so a
        burst of failed requests during a short glitch never moves all its meetings away."""
        statement = (
            update(servers)
            .where(servers.c.id == server_id)
            .values(
                successes=0,
                last_error=error[:500],
                health=case(
                    (servers.c.health == Health.AVAILABLE.value, Health.UNSTABLE.value),
                    else_=servers.c.health,
                ),
            )
        )
        await self.db.write(lambda conn: conn.execute(statement))

    async def disable_if_empty(self, server_id: int) -> bool:
        """A cordoned server with no meetings left becomes disabled (True when it did)."""
        statement = (
            update(servers)
            .where(
                servers.c.id == server_id,
                servers.c.state == ServerState.CORDONED.value,
                ~select(meetings.c.id).where(meetings.c.server_id == server_id).exists(),
            )
            .values(state=ServerState.DISABLED.value)
        )
        rowcount: int = await self.db.write(lambda conn: conn.execute(statement).rowcount)
        return bool(rowcount)
