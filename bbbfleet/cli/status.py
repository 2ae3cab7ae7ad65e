"""``bbbfleet status``: the fleet at a glance."""

from __future__ import annotations

import time

import click

from bbbfleet.cli.context import print_table, with_store
from bbbfleet.storage.repository import Server, Store


def _age(polled_ms: int | None) -> str:
    if polled_ms is None:
        return "never"
    seconds = max(0, int(time.time() - polled_ms / 1000))
    return f"{seconds}s ago"


def _row(server: Server, reserved: int, meetings: int) -> list[str]:
    capacity = server.capacity * server.weight
    load = max(reserved, server.live_participants)
    return [
        server.name,
        server.state.value,
        server.health.value,
        f"{capacity:g}" if server.weight == 1 else f"{server.capacity}x{server.weight:g}",
        str(server.live_participants),
        str(reserved),
        f"{100 * load / capacity:.0f}%" if capacity else "-",
        str(meetings),
        ",".join(sorted(server.tags)) or "-",
        _age(server.polled_ms),
        server.last_error or "",
    ]


def print_servers(ctx: click.Context) -> None:
    async def action(store: Store) -> list[list[str]]:
        reserved = await store.meetings.reserved_by_server()
        counts = await store.meetings.counts_by_server()
        return [
            _row(s, reserved.get(s.id, 0), counts.get(s.id, 0)) for s in await store.servers.list()
        ]

    print_table(
        [
            "NAME",
            "STATE",
            "HEALTH",
            "CAPACITY",
            "LIVE",
            "RESERVED",
            "LOAD",
            "MEETINGS",
            "TAGS",
            "POLLED",
            "LAST ERROR",
        ],
        with_store(ctx, action),
    )


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Servers with state, health, live and reserved participants and meetings.

    LIVE is what the server reports, RESERVED the sum over its meetings of the larger of
    reservation and live attendance; LOAD is the larger of both over capacity x weight."""
    print_servers(ctx)
