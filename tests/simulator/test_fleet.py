"""Fleets: ports, secrets, the fleet control endpoint, many servers in one app, and the blocking
entry point used by ``bbbfleet sim``."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
import pytest

from bbbfleet.protocol.checksum import compute
from bbbfleet.simulator import (
    LoopbackListener,
    ManualClock,
    SimulatedFleet,
    SimulatedServer,
    create_multi_app,
)
from tests.simulator.conftest import Bbb


@dataclass
class VirtualHost:
    """One server of a multi-server app, as ``Bbb`` needs it."""

    url: str
    secret: str
    base_url: str


def free_base_port(count: int) -> int:
    """A port ``p`` with ``p - 1`` … ``p + count - 1`` all free (the control port included)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1] + 1
        if base + count >= 65535:
            continue
        sockets: list[socket.socket] = []
        try:
            for port in range(base - 1, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise RuntimeError("no free port range")


def test_secrets() -> None:
    assert [s.secret for s in SimulatedFleet(3, 0).servers] == [
        "sim-secret-0",
        "sim-secret-1",
        "sim-secret-2",
    ]
    assert {s.secret for s in SimulatedFleet(2, 0, secrets="shared").servers} == {"shared"}
    assert [s.secret for s in SimulatedFleet(2, 0, secrets=["a", "b"]).servers] == ["a", "b"]
    with pytest.raises(ValueError, match="2 secrets given for 3"):
        SimulatedFleet(3, 0, secrets=["a", "b"])
    with pytest.raises(ValueError):
        SimulatedFleet(0, 0)


async def test_consecutive_ports_and_urls(http: httpx.AsyncClient) -> None:
    base = free_base_port(3)
    async with SimulatedFleet(3, base) as fleet:
        assert [s.port for s in fleet.servers] == [base, base + 1, base + 2]
        assert fleet.servers[2].url == f"http://127.0.0.1:{base + 2}/bigbluebutton/api/"
        for server in fleet.servers:
            assert (await http.get(server.url)).status_code == 200
    with pytest.raises(httpx.ConnectError):
        await http.get(fleet.servers[0].url)


async def test_a_taken_port_fails_the_start_and_leaves_nothing_open() -> None:
    base = free_base_port(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 1))
        taken.listen()
        fleet = SimulatedFleet(2, base)
        with pytest.raises(OSError):
            await fleet.start()
    assert not any(server.is_up for server in fleet.servers)


async def test_fleet_control_endpoint(http: httpx.AsyncClient) -> None:
    async with SimulatedFleet(2, 0, control_port=0) as fleet:
        assert fleet.control_url is not None
        listing = (await http.get(fleet.control_url)).json()["servers"]
        assert [(s["index"], s["secret"], s["up"]) for s in listing] == [
            (0, "sim-secret-0", True),
            (1, "sim-secret-1", True),
        ]
        down = await http.post(f"{fleet.control_url}/1/down")
        assert down.json()["up"] is False
        with pytest.raises(httpx.ConnectError):
            await http.get(fleet.servers[1].url)
        assert (await http.post(f"{fleet.control_url}/1/up")).json()["up"] is True
        assert (await http.get(fleet.servers[1].url)).status_code == 200
        assert (await http.post(f"{fleet.control_url}/5/down")).status_code == 404


async def test_many_servers_in_one_app(http: httpx.AsyncClient) -> None:
    clock = ManualClock()
    servers = [SimulatedServer(f"secret-{n}", clock=clock) for n in range(3)]
    listener = LoopbackListener(create_multi_app(servers))
    await listener.start()
    try:
        for n, server in enumerate(servers):
            server.server_url = f"{listener.base_url}/{n}"
        prefix = VirtualHost(
            url=f"{listener.base_url}/1/bigbluebutton/api/",
            secret="secret-1",
            base_url=servers[1].server_url,
        )
        one = Bbb(prefix, http)  # type: ignore[arg-type]  # only url, secret, base_url are used
        await one.create()
        token = await one.enter(role="moderator")
        assert servers[1].sessions[token].internal_meeting_id.startswith("c25a79c5")
        assert servers[0].meetings == {} and servers[2].meetings == {}
        state = await http.get(f"{listener.base_url}/1/_sim/state")
        assert state.json()["meetings"][0]["meetingID"] == "test01"
        assert (await http.get(f"{listener.base_url}/3/bigbluebutton/api")).status_code == 404
        servers[2].set_faults(error=True)
        assert (await http.get(f"{listener.base_url}/2/bigbluebutton/api")).status_code == 500
    finally:
        await listener.stop()


def test_run_simulated_fleet_until_interrupted() -> None:
    base = free_base_port(2)
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
        "from bbbfleet.simulator import run_simulated_fleet\n"
        f"run_simulated_fleet(2, {base}, '127.0.0.1', 'one-secret',\n"
        "    post_publish_url='http://127.0.0.1:1/push', delete_after_import=True)\n"
        "print('returned')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        listing = None
        deadline = time.monotonic() + 15
        while listing is None and time.monotonic() < deadline:
            try:
                listing = httpx.get(f"http://127.0.0.1:{base - 1}/_fleet/servers").json()
            except httpx.TransportError:
                time.sleep(0.05)
        assert listing is not None, "the fleet did not come up"
        assert [s["port"] for s in listing["servers"]] == [base, base + 1]
        assert {s["secret"] for s in listing["servers"]} == {"one-secret"}
        checksum = compute("getMeetings", "", "one-secret")
        signed = f"http://127.0.0.1:{base}/bigbluebutton/api/getMeetings?checksum={checksum}"
        assert "<messageKey>noMeetings</messageKey>" in httpx.get(signed).text
        push = httpx.get(f"http://127.0.0.1:{base + 1}/_sim/post-publish").json()
        assert push == {
            "url": "http://127.0.0.1:1/push",
            "serverName": "sim-1",
            "deleteAfterImport": True,
        }
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert output.rstrip().endswith("returned")
    assert f"http://127.0.0.1:{base}/bigbluebutton/api/" in output


async def test_stop_is_idempotent_and_restart_works() -> None:
    fleet = SimulatedFleet(1, 0)
    await fleet.start()
    await fleet.stop()
    await fleet.stop()
    await fleet.start()
    await asyncio.sleep(0)
    assert fleet.servers[0].is_up
    await fleet.stop()
