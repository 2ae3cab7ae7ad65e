"""Placement policy: which server a new meeting goes to.  Pure functions over plain data, no I/O.

A server's free capacity is ``capacity × weight − load``, where its load is the larger of what is
reserved on it and what is live on it (each meeting counts with the larger of its reservation and
its live attendance; the server's own live total counts too, for meetings bbbfleet does not know).
Only servers that are enabled (not cordoned, not disabled) and healthy (not unstable, not offline)
take new meetings.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


class ServerState(enum.StrEnum):
    ENABLED = "enabled"  # takes new meetings
    CORDONED = "cordoned"  # no new meetings; running ones continue; disabled once empty
    DISABLED = "disabled"  # no new meetings


class Health(enum.StrEnum):
    AVAILABLE = "available"
    UNSTABLE = "unstable"  # failed recently: no new meetings, running ones still routed
    OFFLINE = "offline"  # failed repeatedly: its meetings are re-created elsewhere


class Strategy(enum.StrEnum):
    LEAST_LOADED = "least_loaded"  # the server with the most free capacity (spreads load)
    BEST_FIT = "best_fit"  # the server with the least free capacity that still fits (packs)


class NoPlacement(enum.StrEnum):
    NO_SERVERS = "no_servers"  # no enabled, healthy server at all
    NO_TAGGED_SERVER = "no_tagged_server"  # none with the required tag
    NO_CAPACITY = "no_capacity"  # candidates exist but none has room for the reservation


@dataclass(frozen=True, slots=True)
class ServerLoad:
    """What placement needs to know about one server."""

    id: int
    capacity: int
    weight: float = 1.0
    state: ServerState = ServerState.ENABLED
    health: Health = Health.AVAILABLE
    tags: frozenset[str] = frozenset()
    reserved: int = 0  # Σ over its meetings of max(reservation, live attendance)
    live: int = 0  # live attendance the server itself reports

    @property
    def load(self) -> int:
        return max(self.reserved, self.live)

    @property
    def effective_capacity(self) -> int:
        """capacity × weight in whole seats (the epsilon keeps 100 × 0.57 at 57, not 56)."""
        return int(self.capacity * self.weight + 1e-9)

    @property
    def free(self) -> int:
        return self.effective_capacity - self.load

    @property
    def usable(self) -> bool:
        return self.state is ServerState.ENABLED and self.health is Health.AVAILABLE


@dataclass(frozen=True, slots=True)
class TagRequest:
    """``meta_server-tag`` as Scalelite reads it: ``a,b`` prefers servers tagged a or b and falls
    back to any server; a trailing ``!`` (``a,b!``) makes the tag required."""

    tags: frozenset[str] = frozenset()
    required: bool = False

    @classmethod
    def parse(cls, text: str | None) -> TagRequest:
        if not text or not text.strip():
            return cls()
        value = text.strip()
        required = value.endswith("!")
        names = frozenset(t.strip().lower() for t in value.rstrip("!").split(",") if t.strip())
        return cls(names, required and bool(names))


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    seats: int
    tags: TagRequest = field(default_factory=TagRequest)
    exclude: frozenset[int] = frozenset()  # servers already tried for this create


@dataclass(frozen=True, slots=True)
class Placed:
    server_id: int


@dataclass(frozen=True, slots=True)
class NotPlaced:
    reason: NoPlacement


def candidates(
    servers: Iterable[ServerLoad], request: PlacementRequest, strategy: Strategy
) -> list[ServerLoad] | NoPlacement:
    """Servers that can take the meeting, best first; or why there are none."""
    usable = [s for s in servers if s.usable and s.id not in request.exclude and s.capacity > 0]
    if not usable:
        return NoPlacement.NO_SERVERS
    tagged = [s for s in usable if s.tags & request.tags.tags]
    if request.tags.required:
        if not tagged:
            return NoPlacement.NO_TAGGED_SERVER
        pools = [tagged]
    elif request.tags.tags:
        pools = [tagged, [s for s in usable if not s.tags & request.tags.tags]]
    else:
        pools = [usable]
    ranked: list[ServerLoad] = []
    for pool in pools:
        fitting = [s for s in pool if s.free >= request.seats]
        ranked += sorted(fitting, key=_order(strategy))
    return ranked or NoPlacement.NO_CAPACITY


def _order(strategy: Strategy):  # type: ignore[no-untyped-def]
    if strategy is Strategy.BEST_FIT:
        return lambda s: (s.free, -s.effective_capacity, s.id)
    # least loaded: most free room relative to size first, then absolute room, then stable by id
    return lambda s: (-(s.free / (s.effective_capacity or 1)), -s.free, s.id)


def place(
    servers: Sequence[ServerLoad], request: PlacementRequest, strategy: Strategy
) -> Placed | NotPlaced:
    ranked = candidates(servers, request, strategy)
    if isinstance(ranked, NoPlacement):
        return NotPlaced(ranked)
    return Placed(ranked[0].id)


def meeting_load(reserved: int, live: int) -> int:
    """A meeting counts with the larger of its reservation and its live attendance."""
    return max(reserved, live)


def fits_pool(pool: int | None, tenant_load: int, seats: int) -> bool:
    """Whether a tenant's pool of concurrent connections has room for ``seats`` more."""
    return pool is None or tenant_load + seats <= pool
