"""``SimulatorHost``: one ``SimulatedServer`` reachable over HTTP on its own loopback port.

The state lives in the ``SimulatedServer`` and outlives the socket: ``go_down`` closes the port
(connections are refused), ``come_up`` opens the same port again with every meeting intact.
"""

from __future__ import annotations

from typing import Any

from bbbfleet.simulator.app import create_app
from bbbfleet.simulator.listener import LoopbackListener
from bbbfleet.simulator.model import Faults
from bbbfleet.simulator.server import SimulatedServer
from bbbfleet.simulator.webhooks import close_sender


class SimulatorHost:
    def __init__(self, state: SimulatedServer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.listener = LoopbackListener(create_app(state), host, port)

    @property
    def secret(self) -> str:
        return self.state.secret

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the server's serverURL."""
        return self.listener.base_url

    @property
    def url(self) -> str:
        """The API base URL a client (or the gateway) is configured with."""
        return f"{self.base_url}/bigbluebutton/api/"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_sim/"

    @property
    def is_up(self) -> bool:
        return self.listener.is_up

    async def start(self) -> None:
        await self.listener.start()
        self.state.server_url = self.base_url

    async def stop(self) -> None:
        await self.listener.stop()
        await close_sender(self.state)

    async def go_down(self) -> None:
        """Close the socket and cut open connections: clients get "connection refused"."""
        await self.listener.stop(grace=0)

    async def come_up(self) -> None:
        """Listen on the same port again; meetings, users and sessions are as they were."""
        await self.start()

    def set_fault(
        self, *, slow: int | None = None, error: bool | None = None, garbage: bool | None = None
    ) -> Faults:
        """Switch faults on or off (only those given): ``slow`` latency in ms on every API call,
        ``error`` HTTP 500, ``garbage`` a malformed XML body with HTTP 200."""
        return self.state.set_faults(slow_ms=slow, error=error, garbage=garbage)

    def clear_faults(self) -> Faults:
        return self.state.clear_faults()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.state.name,
            "url": self.url,
            "secret": self.secret,
            "port": self.port,
            "up": self.is_up,
            "faults": self.state.faults.to_json(),
        }
