"""End-to-end fixtures: the real gateway and 3 simulated BBB servers over HTTP on loopback,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from bbbfleet.fleet.poller import PollReport
from bbbfleet.gateway.app import create_app
from bbbfleet.gateway.http_server import server_config
from bbbfleet.gateway.meetings import wall_clock_ms
from bbbfleet.protocol.checksum import compute
from bbbfleet.settings import Settings
from bbbfleet.simulator import SimulatedFleet
from bbbfleet.storage.repository import Store

if TYPE_CHECKING:
    from tests.gateway.receiver import Receiver

ALPHA_SECRET = "alpha-secret-0123456789abcdef"
BETA_SECRET = "beta-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> int:
    """A base port with ``count`` consecutive free ports (the simulator wants a range)."""
    for _ in range(50):
        base = free_port()
        if base + count >= 65535:
            continue
        try:
            socks = []
            for offset in range(count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", base + offset))
                socks.append(sock)
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise RuntimeError("no free port range")


def signed(base: str, call: str, query: str, secret: str, algorithm: str = "sha1") -> str:
    """A request URL signed the way a client library signs it (over the exact query text)."""
    checksum = compute(call, query, secret, algorithm)
    joiner = "&" if query else ""
    return f"{base}{call}?{query}{joiner}checksum={checksum}"


def q(**params: str) -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


@dataclass
class Gateway:
    """A running gateway with two tenants (alpha, beta) in front of a simulated fleet."""

    url: str
    fleet: SimulatedFleet
    store: Store
    settings: Settings
    clock: Callable[[], int] = field(default_factory=lambda: wall_clock_ms)
    app: Starlette | None = None
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))

    @property
    def api(self) -> str:
        return f"{self.url}/bigbluebutton/api/"

    def alpha(self, call: str, query: str = "") -> str:
        return signed(self.api, call, query, ALPHA_SECRET)

    def beta(self, call: str, query: str = "") -> str:
        return signed(self.api, call, query, BETA_SECRET)

    def direct(self, index: int, call: str, query: str = "") -> str:
        sim = self.fleet.servers[index]
        return signed(sim.url, call, query, sim.secret)

    async def get(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.http.get(url, **kwargs)  # type: ignore[arg-type]

    async def poll(self, times: int = 1) -> PollReport:
        """Run the poller's cycle now (the fixture runs no background poller)."""
        assert self.app is not None
        report = PollReport()
        for _ in range(times):
            report = await self.app.state.poller.poll_once()
        return report

    async def start(self) -> None:
        app = create_app(self.settings, self.clock)
        self.app = app
        self.server = uvicorn.Server(server_config(app, "127.0.0.1", self.settings.port))
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(200):
            if self.server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("gateway did not start")

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            await self.task
            self.server = None
            self.task = None


class ManualClock:
    """Milliseconds that move only when a test says so."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.now_ms = start_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)


async def start_gateway(
    database_url: str,
    servers: int = 3,
    capacity: int = 100,
    clock: Callable[[], int] = wall_clock_ms,
    **settings: object,
) -> Gateway:
    base = free_ports(servers)
    fleet = SimulatedFleet(servers, base)
    await fleet.start()
    port = free_port()
    values: dict[str, object] = {
        "database_url": database_url,
        "public_url": f"http://127.0.0.1:{port}",
        "port": port,
        "cache_seconds": 0,
        "backend_timeout": 2.0,
        "poller": False,
        # test receivers listen on loopback; tests of the refusal switch it off again
        "webhook_allow_private_targets": True,
        "recording_worker": False,
        **settings,
    }
    config = Settings.model_validate(values)
    store = Store.open(database_url)
    await store.db.upgrade()
    await store.tenants.add("alpha", ALPHA_SECRET)
    await store.tenants.add("beta", BETA_SECRET, hostname="bbb.beta.example")
    for index, sim in enumerate(fleet.servers):
        await store.servers.add(f"sim-{index}", sim.url, sim.secret, capacity=capacity)
    gateway = Gateway(f"http://127.0.0.1:{port}", fleet, store, config, clock=clock)
    await gateway.start()
    return gateway


async def stop_gateway(gw: Gateway) -> None:
    await gw.stop()
    await gw.http.aclose()
    await gw.store.close()
    await gw.fleet.stop()


@pytest.fixture
async def gateway(database_url: str) -> AsyncIterator[Gateway]:
    gw = await start_gateway(database_url)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


@pytest.fixture
async def gw(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Gateway]:
    """A gateway started with the test module's ``FAST`` settings (the webhook tests')."""
    started = await start_gateway(database_url, **getattr(request.module, "FAST", {}))
    try:
        yield started
    finally:
        await stop_gateway(started)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP receiver on loopback for the gateway's callbacks."""
    from tests.gateway.receiver import Receiver  # receiver.py imports this module

    started = await Receiver().start()
    try:
        yield started
    finally:
        await started.stop()
