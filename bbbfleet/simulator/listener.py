"""An ASGI app served by uvicorn on one address, in the caller's event loop, that can be taken
down and brought back on the same port.

``uvicorn.Server.serve()`` is not used: it installs process-wide signal handlers (which several
servers in one process would restore in the wrong order) and spends at least 0.1 s shutting down.
Instead the listening socket is bound here, uvicorn's ``startup`` serves it, and ``stop`` closes
it and every connection at once, so a stopped listener really refuses connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import uvicorn
from starlette.types import ASGIApp

BACKLOG = 2048


class LoopbackListener:
    """Serves ``app`` on ``host:port`` (port 0 picks a free one, kept across restarts)."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (the requested one before the first start)."""
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        sock = self._bind()
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._port,
            loop="asyncio",
            lifespan="off",
            access_log=False,
            log_level="warning",
            log_config=None,  # leave logging to the embedding program
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)  # what Server._serve() would set up
        try:
            await server.startup(sockets=[sock])
        except BaseException:
            sock.close()
            raise
        # main_loop keeps the Date header current until should_exit is set.
        self._ticker = asyncio.create_task(server.main_loop())
        self._server = server

    async def stop(self, grace: float = 1.0) -> None:
        """Close the listening socket at once, let requests in flight finish for up to
        ``grace`` seconds, then cut every remaining connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.should_exit = True
        for listening in server.servers:
            listening.close()
        state = server.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle keep-alive connections close now
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while state.connections and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for connection in list(state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        for task in list(state.tasks):
            task.cancel()
        for listening in server.servers:
            await listening.wait_closed()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only for that proto,
        # and without it every keep-alive answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        return sock
