"""A real HTTP receiver on loopback for callbacks: records every request, answers as told."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

from tests.gateway.conftest import free_port


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Receiver:
    """``status(path, n)`` decides the answer to the n-th request (from 1) on a path;
    ``delay`` seconds are waited before answering."""

    port: int = field(default_factory=free_port)
    status: Callable[[str, int], int] = lambda _path, _n: 200
    delay: Callable[[str], float] = lambda _path: 0.0
    received: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> status, Location
    attempt_times: dict[str, list[float]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        path = request.path
        self.attempts[path] = self.attempts.get(path, 0) + 1
        self.attempt_times.setdefault(path, []).append(time.monotonic())
        n = self.attempts[path]
        wait = self.delay(path)
        if wait:
            await asyncio.sleep(wait)
        if path in self.redirects:
            status, location = self.redirects[path]
            return web.Response(status=status, headers={"Location": location})
        code = self.status(path, n)
        if 200 <= code < 300 or code in (401, 404, 410):
            self.received.append(
                Received(
                    request.method,
                    path,
                    request.query_string,
                    dict(request.headers),
                    body,
                    time.monotonic(),
                )
            )
        return web.Response(status=code, text="ok")

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # a receiver that was told to hang must not hold up the test's teardown
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.on(path)
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.on(path))} of {count} callbacks arrived")
