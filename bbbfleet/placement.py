"""Placement policy: which server a new meeting goes to.  Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bbbfleet.storage.repository import Server


def rank_servers(servers: Sequence[Server], meeting_counts: Mapping[int, int]) -> list[Server]:
    """Enabled servers with capacity, least loaded first (meetings per unit of capacity).

    Ties go to the server with fewer meetings, then to the lower id, so the choice is stable."""
    usable = [s for s in servers if s.enabled and s.capacity > 0]
    return sorted(
        usable,
        key=lambda s: (meeting_counts.get(s.id, 0) / s.capacity, meeting_counts.get(s.id, 0), s.id),
    )


def choose_server(servers: Sequence[Server], meeting_counts: Mapping[int, int]) -> Server | None:
    ranked = rank_servers(servers, meeting_counts)
    return ranked[0] if ranked else None
