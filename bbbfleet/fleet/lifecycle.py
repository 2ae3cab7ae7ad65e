"""Operator actions on a server's lifecycle: cordon, drain, panic.

States: *enabled* (takes new meetings), *cordoned* (no new meetings, running ones continue; the
poller disables it once it is empty), *disabled* (no new meetings).  *Panic* takes a server out at
once: its meetings are detached (each is re-created elsewhere on its next create or join) and ended
on the server if it can still be reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bbbfleet.gateway.backends import BackendClient, BackendFailure
from bbbfleet.placement import ServerState
from bbbfleet.protocol.params import RawQuery
from bbbfleet.storage.repository import Server, Store

log = logging.getLogger(__name__)


async def cordon(store: Store, name: str) -> Server:
    """No new meetings; an empty server is disabled at once, others when their meetings end."""
    server = await store.servers.set_state(name, ServerState.CORDONED)
    if await store.servers.disable_if_empty(server.id):
        server = await store.servers.get(name)
    return server


async def drain(
    store: Store,
    name: str,
    wait: bool,
    timeout: float,
    progress: Callable[[int], None] = lambda _count: None,
    interval: float = 2.0,
) -> Server:
    """Cordon, and with ``wait`` block until the poller has seen every meeting end (or until
    ``timeout`` seconds passed: then the server stays cordoned)."""
    server = await cordon(store, name)
    if not wait:
        return server
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = len(await store.meetings.all(server_id=server.id))
        progress(remaining)
        if remaining == 0:
            await store.servers.disable_if_empty(server.id)
            return await store.servers.get(name)
        if loop.time() >= deadline:
            return await store.servers.get(name)
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class PanicReport:
    detached: int
    ended: int


async def panic(store: Store, backends: BackendClient, name: str) -> PanicReport:
    """Disable the server now and move its meetings off it: detached at once (re-created
    elsewhere on next use), ended on the server where it still answers."""
    server = await store.servers.set_state(name, ServerState.DISABLED)
    detached = await store.meetings.orphan_server(server.id)
    results = await asyncio.gather(
        *(_end(backends, server, m.backend_meeting_id) for m in detached)
    )
    return PanicReport(len(detached), sum(results))


async def _end(backends: BackendClient, server: Server, backend_id: str) -> bool:
    try:
        await backends.call_document(server, "end", RawQuery([]).replace("meetingID", backend_id))
    except BackendFailure as failure:
        log.info("panic: could not end %s on %s: %s", backend_id, server.name, failure)
        return False
    return True
