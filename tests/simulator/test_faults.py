"""Fault injection: servers that go down (and come back with their meetings), answer slowly,
fail with HTTP 500, or send garbage."""

from __future__ import annotations

import asyncio
import time
from xml.etree import ElementTree

import httpx
import pytest

from bbbfleet.simulator import SimulatedFleet
from tests.simulator.conftest import Bbb


async def test_down_refuses_connections_and_up_keeps_the_state(bbb: Bbb) -> None:
    await bbb.create()
    token = await bbb.enter(role="moderator")
    port = bbb.host.port
    await bbb.host.go_down()
    assert not bbb.host.is_up
    with pytest.raises(httpx.ConnectError):
        await bbb.get("getMeetings")  # the pooled keep-alive connection was cut as well
    async with httpx.AsyncClient(verify=False) as fresh:
        with pytest.raises(httpx.ConnectError):
            await fresh.get(bbb.host.url)
    await bbb.host.come_up()
    assert bbb.host.port == port
    running = await bbb.call("isMeetingRunning", meetingID="test01")
    assert "<running>true</running>" in running.text
    assert bbb.host.state.sessions[token].internal_meeting_id.startswith("c25a79c5")


async def test_down_cuts_requests_in_flight(bbb: Bbb) -> None:
    bbb.host.set_fault(slow=2000)
    request = bbb.http.get(bbb.host.url)
    task = asyncio.create_task(request)
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await bbb.host.go_down()
    with pytest.raises(httpx.TransportError):
        await task
    assert time.perf_counter() - started < 1


async def test_slow(bbb: Bbb) -> None:
    bbb.host.set_fault(slow=250)
    started = time.perf_counter()
    response = await bbb.get("getMeetings")
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.25
    with pytest.raises(httpx.ReadTimeout):
        await bbb.http.get(bbb.url("getMeetings"), timeout=0.05)


async def test_error_and_garbage(bbb: Bbb) -> None:
    bbb.host.set_fault(error=True)
    assert (await bbb.get("getMeetings")).status_code == 500
    assert (await bbb.http.get(bbb.host.url)).status_code == 500
    bbb.host.set_fault(error=False, garbage=True)
    garbage = await bbb.get("getMeetings")
    assert garbage.status_code == 200
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(garbage.text)
    bbb.host.clear_faults()
    assert "<returncode>SUCCESS</returncode>" in (await bbb.get("getMeetings")).text


async def test_faults_through_the_control_api(bbb: Bbb) -> None:
    response = await bbb.control("POST", "faults", {"error": True, "slow": 10})
    assert response.json() == {"slow": 10, "error": True, "garbage": False}
    assert (await bbb.get("getMeetings")).status_code == 500
    # The control API and the client page are not affected by faults.
    assert (await bbb.control("GET", "faults")).status_code == 200
    assert (await bbb.control("POST", "faults", {"slow": -1})).status_code == 400
    assert (await bbb.control("DELETE", "faults")).json() == {
        "slow": 0,
        "error": False,
        "garbage": False,
    }
    assert (await bbb.get("getMeetings")).status_code == 200


async def test_faults_are_per_server(fleet: SimulatedFleet, http: httpx.AsyncClient) -> None:
    fleet.servers[1].set_fault(error=True)
    statuses = [(await http.get(server.url)).status_code for server in fleet.servers]
    assert statuses == [200, 500, 200]
