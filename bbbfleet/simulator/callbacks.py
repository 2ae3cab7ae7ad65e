"""Sending the end callbacks a simulated server has due (``meetingEndedURL``,
``meta_endCallbackUrl``): HTTP GET in the background, like bbb-web, never blocking the answer.
The POSTs it has due (post-publish push, recording-ready and analytics callbacks) go out with
them through ``push``."""

from __future__ import annotations

import asyncio
import logging

import httpx

from bbbfleet.simulator.push import send_due_posts
from bbbfleet.simulator.server import SimulatedServer

log = logging.getLogger(__name__)
_pending: set[asyncio.Task[None]] = set()


def send_due_callbacks(server: SimulatedServer) -> None:
    for url in server.take_callbacks():
        task = asyncio.get_running_loop().create_task(_get(url))
        _pending.add(task)
        task.add_done_callback(_pending.discard)
    send_due_posts(server)


async def _get(url: str) -> None:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.get(url)
    except httpx.HTTPError as exc:
        log.info("end callback %s failed: %r", url, exc)
