"""A real HTTP receiver on loopback for what a simulated server (or the shipped script) sends:
it records every request and answers with the statuses and bodies a test queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbbfleet.simulator import LoopbackListener


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    raw_query: bytes
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    listener: LoopbackListener | None = None
    requests: list[Received] = field(default_factory=list)
    # (status, body, delay seconds) answered in turn; the last one repeats
    answers: list[tuple[int, str, float]] = field(default_factory=lambda: [(200, "ok", 0.0)])
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        assert self.listener is not None
        return self.listener.base_url

    def answer(self, *answers: tuple[int, str] | tuple[int, str, float]) -> None:
        self.answers = [(a[0], a[1], a[2] if len(a) > 2 else 0.0) for a in answers]  # type: ignore[misc]

    async def handle(self, request: Request) -> Response:
        self.requests.append(
            Received(
                request.method,
                request.url.path,
                request.scope["query_string"],
                {k.lower(): v for k, v in request.headers.items()},
                await request.body(),
            )
        )
        status, body, delay = self.answers[0] if len(self.answers) == 1 else self.answers.pop(0)
        self.arrived.set()
        if delay:
            await asyncio.sleep(delay)
        return Response(body, status, media_type="text/xml")

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests arrived (or fail)."""

        async def enough() -> None:
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.requests


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["GET", "POST"])])
    receiver.listener = LoopbackListener(app)
    await receiver.listener.start()
    try:
        yield receiver
    finally:
        await receiver.listener.stop()
