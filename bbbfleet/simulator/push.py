"""Sending the POSTs a simulated server has due (``outgoing``): the post-publish push, the
recording-ready and the analytics callbacks.

Each goes out in its own background task, never blocking an API answer, with a bounded number
of attempts (``SimulatedServer.delivery_attempts``) and exponential backoff starting at
``delivery_backoff_seconds``: connection errors and the answers ``OutgoingPost.retry`` names are
tried again.  A push's final answer goes back to the server (``push_answered``), which deletes
its local copy when configured to and the gateway confirms the import.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import httpx

from bbbfleet.protocol.recording_push import parse_push_answer
from bbbfleet.simulator.outgoing import OutgoingPost

if TYPE_CHECKING:
    from bbbfleet.simulator.server import SimulatedServer

log = logging.getLogger(__name__)
_pending: set[asyncio.Task[None]] = set()


def send_due_posts(server: SimulatedServer) -> None:
    for post in server.take_posts():
        task = asyncio.get_running_loop().create_task(_deliver(server, post))
        _pending.add(task)
        task.add_done_callback(_pending.discard)


async def drain() -> None:
    """Wait until every POST in flight is done (tests, shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


async def _deliver(server: SimulatedServer, post: OutgoingPost) -> None:
    attempts = max(server.delivery_attempts, 1)
    delay = server.delivery_backoff_seconds
    async with httpx.AsyncClient(timeout=server.delivery_timeout_seconds) as client:
        for attempt in range(1, attempts + 1):
            try:
                response = await client.post(post.url, content=post.body, headers=post.headers)
            except httpx.HTTPError as exc:
                log.info("%s %s attempt %d failed: %r", post.kind, post.url, attempt, exc)
                server.post_attempted(post, None)
            else:
                server.post_attempted(post, response.status_code)
                if not post.retry(response.status_code):
                    if post.kind == "push":
                        server.push_answered(post, parse_push_answer(response.content))
                    return
                log.info("%s %s answered %d", post.kind, post.url, response.status_code)
            if attempt < attempts:
                await asyncio.sleep(delay)
                delay *= 2
    if post.kind == "push":
        server.push_answered(post, None)
