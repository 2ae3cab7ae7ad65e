"""A fleet of simulated BBB servers on consecutive loopback ports, and its control endpoint.

In-process (async tests, ``bbbfleet demo``)::

    fleet = SimulatedFleet(3, base_port=0)        # 0: free ports chosen by the OS
    await fleet.start()
    fleet.servers[0].url, fleet.servers[0].secret
    await fleet.servers[1].go_down(); await fleet.servers[1].come_up()
    await fleet.stop()

Blocking (``bbbfleet sim``): ``run_simulated_fleet(3, 9001)`` serves servers on 9001-9003 and the
fleet control endpoint on 9000 until interrupted::

    GET  /_fleet/servers              every server: url, secret, port, up, faults
    POST /_fleet/servers/{i}/down     close server i's port (its state is kept)
    POST /_fleet/servers/{i}/up       open it again
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Sequence
from types import TracebackType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bbbfleet.protocol.webhooks import CallbackChecksumVersion
from bbbfleet.simulator.clock import Clock, system_clock
from bbbfleet.simulator.hooks import HookSettings
from bbbfleet.simulator.host import SimulatorHost
from bbbfleet.simulator.listener import LoopbackListener
from bbbfleet.simulator.model import BbbProperties
from bbbfleet.simulator.server import SimulatedServer

log = logging.getLogger(__name__)


def default_secret(index: int) -> str:
    return f"sim-secret-{index}"


def _secrets(count: int, secrets: str | Sequence[str] | None) -> list[str]:
    if secrets is None:
        return [default_secret(i) for i in range(count)]
    if isinstance(secrets, str):
        return [secrets] * count
    if len(secrets) != count:
        raise ValueError(f"{len(secrets)} secrets given for {count} simulated servers")
    return list(secrets)


class SimulatedFleet:
    """``count`` simulated servers on ``base_port``, ``base_port + 1``, … (all on free ports
    when ``base_port`` is 0), optionally with the fleet control endpoint on ``control_port``."""

    def __init__(
        self,
        count: int,
        base_port: int,
        host: str = "127.0.0.1",
        secrets: str | Sequence[str] | None = None,
        *,
        clock: Clock = system_clock,
        seed: int | None = None,
        properties: BbbProperties | None = None,
        control_port: int | None = None,
        hooks: HookSettings | None = None,
        hook_checksum_version: CallbackChecksumVersion | None = None,
        post_publish_url: str | None = None,
        server_names: Sequence[str] | None = None,
        delete_after_import: bool = False,
    ) -> None:
        if count < 1:
            raise ValueError("a fleet needs at least one server")
        rng = random.Random(seed)
        if server_names is not None and len(server_names) != count:
            raise ValueError(f"{len(server_names)} server names given for {count} servers")
        self.host = host
        self.servers: list[SimulatorHost] = [
            SimulatorHost(
                SimulatedServer(
                    secret,
                    name=f"sim-{index}",
                    clock=clock,
                    rng=random.Random(rng.getrandbits(64)),
                    properties=properties,
                    hooks=hooks,
                    hook_checksum_version=hook_checksum_version,
                    # the post-publish push (contract C2): gateway push URL, the name the
                    # gateway knows the server by (default sim-<i>), delete after import
                    post_publish_url=post_publish_url,
                    server_name=None if server_names is None else server_names[index],
                    delete_after_import=delete_after_import,
                ),
                host,
                base_port + index if base_port else 0,
            )
            for index, secret in enumerate(_secrets(count, secrets))
        ]
        self.control: LoopbackListener | None = None
        if control_port is not None:
            self.control = LoopbackListener(create_fleet_control_app(self), host, control_port)

    @property
    def control_url(self) -> str | None:
        return None if self.control is None else f"{self.control.base_url}/_fleet/servers"

    async def start(self) -> None:
        """Open every server's port (and the control endpoint); on failure none stays open."""
        try:
            await asyncio.gather(*(server.start() for server in self.servers))
            if self.control is not None:
                await self.control.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        listeners = [server.stop() for server in self.servers]
        if self.control is not None:
            listeners.append(self.control.stop())
        await asyncio.gather(*listeners)

    async def __aenter__(self) -> SimulatedFleet:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def create_fleet_control_app(fleet: SimulatedFleet) -> Starlette:
    """``/_fleet/servers``: what runs where, and taking servers down and up again."""

    def server_at(request: Request) -> SimulatorHost | None:
        index: int = request.path_params["index"]
        return fleet.servers[index] if 0 <= index < len(fleet.servers) else None

    async def list_servers(_request: Request) -> JSONResponse:
        return JSONResponse(
            {"servers": [{"index": i, **s.to_json()} for i, s in enumerate(fleet.servers)]}
        )

    async def down(request: Request) -> JSONResponse:
        server = server_at(request)
        if server is None:
            return JSONResponse({"error": "no such server"}, status_code=404)
        await server.go_down()
        return JSONResponse(server.to_json())

    async def up(request: Request) -> JSONResponse:
        server = server_at(request)
        if server is None:
            return JSONResponse({"error": "no such server"}, status_code=404)
        await server.come_up()
        return JSONResponse(server.to_json())

    return Starlette(
        routes=[
            Route("/_fleet/servers", list_servers, methods=["GET"]),
            Route("/_fleet/servers/{index:int}/down", down, methods=["POST"]),
            Route("/_fleet/servers/{index:int}/up", up, methods=["POST"]),
        ]
    )


def run_simulated_fleet(
    count: int = 3,
    base_port: int = 9001,
    host: str = "127.0.0.1",
    secret: str | None = None,
    control_port: int | None = None,
    *,
    post_publish_url: str | None = None,
    delete_after_import: bool = False,
) -> None:
    """Serve ``count`` simulated servers (and the fleet control endpoint, by default on
    ``base_port - 1``) until Ctrl-C or SIGTERM; then stop them and return.  With
    ``post_publish_url`` every server pushes its published recordings there."""
    if control_port is None:
        control_port = base_port - 1 if base_port > 0 else 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _serve_until_interrupted(
                SimulatedFleet(
                    count,
                    base_port,
                    host,
                    secret,
                    control_port=control_port,
                    post_publish_url=post_publish_url,
                    delete_after_import=delete_after_import,
                )
            )
        )


async def _serve_until_interrupted(fleet: SimulatedFleet) -> None:
    await fleet.start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopped.set)
            handled.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no Unix signals
            pass
    try:
        for index, server in enumerate(fleet.servers):
            log.info("simulated server %d: %s (secret %s)", index, server.url, server.secret)
        log.info("fleet control: %s", fleet.control_url)
        await stopped.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await fleet.stop()
