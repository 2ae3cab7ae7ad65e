"""Servers fail, drain and disappear; meetings move on without the users noticing more than a
moment: the next create or join re-creates a meeting whose server is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bbbfleet.fleet import lifecycle
from bbbfleet.gateway.backends import BackendClient
from bbbfleet.placement import Health, ServerState
from tests.gateway.conftest import Gateway, free_port, q, start_gateway, stop_gateway

ROOM = {"moderatorPW": "mp", "attendeePW": "ap"}


def key_of(body: str) -> str:
    return body.split("<messageKey>")[1].split("</messageKey>")[0]


async def create_running(gw: Gateway, count: int) -> None:
    for index in range(count):
        await gw.get(gw.alpha("create", q(name=f"Room {index}", meetingID=f"m{index}", **ROOM)))
        await gw.http.get(
            gw.alpha("join", q(fullName=f"Teacher {index}", meetingID=f"m{index}", password="mp")),
            follow_redirects=True,
        )


async def hosted_on(gw: Gateway, sim_index: int) -> list[str]:
    server = await gw.store.servers.get(f"sim-{sim_index}")
    return sorted(m.meeting_id for m in await gw.store.meetings.all(server_id=server.id))


def running_here(gw: Gateway, sim_index: int) -> set[str]:
    return {m.meeting_id for m in gw.fleet.servers[sim_index].state.meetings.values()}


@pytest.mark.parametrize("polls_before_join", [1, 3], ids=["unstable", "offline"])
async def test_a_dead_servers_meetings_move_on_their_next_join(
    gateway: Gateway, polls_before_join: int
) -> None:
    gw = gateway
    await create_running(gw, 6)
    victims = await hosted_on(gw, 0)
    assert victims  # least-loaded placement spread the meetings
    await gw.fleet.servers[0].go_down()
    await gw.poll(times=polls_before_join)
    dead = await gw.store.servers.get("sim-0")
    assert dead.health is (Health.UNSTABLE if polls_before_join == 1 else Health.OFFLINE)
    if dead.health is Health.OFFLINE:  # truthful meanwhile: the meeting runs nowhere
        info = await gw.get(gw.alpha("getMeetingInfo", q(meetingID=victims[0])))
        assert key_of(info.text) == "notFound"
        running = await gw.get(gw.alpha("isMeetingRunning", q(meetingID=victims[0])))
        assert "<running>false</running>" in running.text
    for meeting_id in victims:
        join = gw.alpha("join", q(fullName="Student", meetingID=meeting_id, password="ap"))
        first = await gw.get(join)
        assert first.status_code == 302
        assert not first.headers["location"].startswith(gw.fleet.servers[0].url)
        final = await gw.http.get(join, follow_redirects=True)
        assert final.status_code == 200 and "sessionToken" in str(final.url)
        info = await gw.get(gw.alpha("getMeetingInfo", q(meetingID=meeting_id)))
        assert "<returncode>SUCCESS</returncode>" in info.text
        assert f"<meetingID>{meeting_id}</meetingID>" in info.text
        assert "<attendeePW>ap</attendeePW>" in info.text  # same passwords as the tenant knows
    assert await hosted_on(gw, 0) == []
    # the old server comes back with the stale copies still running: the gateway ends them
    await gw.fleet.servers[0].come_up()
    assert running_here(gw, 0)
    report = await gw.poll()
    assert sorted(report.stale_ended) == sorted(f"bf1-{m}" for m in victims)
    assert running_here(gw, 0) == set()
    for meeting_id in victims:  # and the moved meetings are untouched
        info = await gw.get(gw.alpha("getMeetingInfo", q(meetingID=meeting_id)))
        assert "<returncode>SUCCESS</returncode>" in info.text


async def test_create_of_a_known_meeting_on_a_dead_server_recreates_it(gateway: Gateway) -> None:
    gw = gateway
    await create_running(gw, 3)
    (victim,) = await hosted_on(gw, 1)
    await gw.fleet.servers[1].go_down()
    again = await gw.get(gw.alpha("create", q(name="Room", meetingID=victim, **ROOM)))
    assert "<returncode>SUCCESS</returncode>" in again.text
    assert "<messageKey>duplicateWarning</messageKey>" in again.text  # as if it never left
    assert victim not in await hosted_on(gw, 1)
    assert (await gw.store.servers.get("sim-1")).health is Health.UNSTABLE


@pytest.mark.parametrize(
    "fault",
    ["refused", "timeout", "http500", "garbage"],
)
async def test_create_tries_the_next_server_when_one_fails(database_url: str, fault: str) -> None:
    gw = await start_gateway(database_url, backend_timeout=0.3)
    try:
        first_choice = gw.fleet.servers[0]  # the first choice of an empty fleet
        if fault == "refused":
            await first_choice.go_down()
        elif fault == "timeout":
            first_choice.set_fault(slow=1000)
        elif fault == "http500":
            first_choice.set_fault(error=True)
        else:
            first_choice.set_fault(garbage=True)
        created = await gw.get(gw.alpha("create", q(name="Room", meetingID="room", **ROOM)))
        assert "<returncode>SUCCESS</returncode>" in created.text
        (meeting,) = await gw.store.meetings.all()
        assert meeting.server_id == (await gw.store.servers.get("sim-1")).id
        assert (await gw.store.servers.get("sim-0")).health is Health.UNSTABLE
        # the failed try's reservation was released: only the placed meeting reserves anything
        assert await gw.store.meetings.reserved_by_server() == {meeting.server_id: 5}
    finally:
        await stop_gateway(gw)


async def test_create_gives_up_after_the_bounded_number_of_tries(database_url: str) -> None:
    gw = await start_gateway(database_url, servers=4, create_attempts=2)
    try:
        for sim in gw.fleet.servers:
            sim.set_fault(error=True)
        failed = await gw.get(gw.alpha("create", q(name="Room", meetingID="room")))
        assert key_of(failed.text) == "serverError"
        assert await gw.store.meetings.all() == []
        unstable = [s for s in await gw.store.servers.list() if s.health is Health.UNSTABLE]
        assert len(unstable) == 2  # two tries, two servers marked; the other two never asked
    finally:
        await stop_gateway(gw)


async def test_panic_moves_every_meeting_now(gateway: Gateway) -> None:
    gw = gateway
    await create_running(gw, 6)
    victims = await hosted_on(gw, 2)
    backends = BackendClient(2.0, 10, "sha256")
    try:
        report = await lifecycle.panic(gw.store, backends, "sim-2")
    finally:
        await backends.close()
    assert (report.detached, report.ended) == (len(victims), len(victims))
    assert running_here(gw, 2) == set()
    assert (await gw.store.servers.get("sim-2")).state is ServerState.DISABLED
    for meeting_id in victims:
        join = await gw.get(gw.alpha("join", q(fullName="S", meetingID=meeting_id, password="ap")))
        assert join.status_code == 302
        assert not join.headers["location"].startswith(gw.fleet.servers[2].url)
    assert await hosted_on(gw, 2) == []


async def test_cordon_and_drain(gateway: Gateway) -> None:
    gw = gateway
    await create_running(gw, 3)
    (kept,) = await hosted_on(gw, 0)
    await lifecycle.cordon(gw.store, "sim-0")
    for index in range(4):
        await gw.get(gw.alpha("create", q(name=f"New {index}", meetingID=f"new{index}")))
    assert await hosted_on(gw, 0) == [kept]  # no new meetings, the running one continues
    join = await gw.get(gw.alpha("join", q(fullName="S", meetingID=kept, password="ap")))
    assert join.headers["location"].startswith(gw.fleet.servers[0].url)
    drained = asyncio.create_task(lifecycle.drain(gw.store, "sim-0", True, 10, interval=0.05))
    await asyncio.sleep(0.1)
    assert not drained.done()
    await gw.get(gw.alpha("end", q(meetingID=kept)))
    server = await asyncio.wait_for(drained, 5)
    assert server.state is ServerState.DISABLED


async def test_cordoned_server_is_disabled_by_the_poller_once_empty(gateway: Gateway) -> None:
    gw = gateway
    await create_running(gw, 3)
    (kept,) = await hosted_on(gw, 1)
    await lifecycle.cordon(gw.store, "sim-1")
    sim = gw.fleet.servers[1]
    (internal,) = list(sim.state.meetings)
    sim.state.end_from_client(sim.state.meetings[internal].meeting_id)  # ended on the server
    gw.settings.ended_grace_seconds = 0  # the meeting was created just now
    report = await gw.poll()
    assert kept in report.ended and "sim-1" in report.disabled


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[str]]]:
    calls: list[str] = []

    async def ended(request: Request) -> PlainTextResponse:
        calls.append(str(request.url))
        return PlainTextResponse("ok")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/ended", ended)]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/ended", calls
    finally:
        server.should_exit = True
        await task


async def test_meeting_ended_url_is_seen_at_once_and_relayed(
    gateway: Gateway, receiver: tuple[str, list[str]]
) -> None:
    gw = gateway
    url, calls = receiver
    await gw.get(
        gw.alpha("create", q(name="Room", meetingID="room", meetingEndedURL=url + "?x=1", **ROOM))
    )
    sim = next(s for s in gw.fleet.servers if s.state.meetings)
    (meeting,) = sim.state.meetings.values()
    assert meeting.meeting_ended_url is not None
    assert meeting.meeting_ended_url.startswith(gw.url)  # the gateway's, not the tenant's
    async with httpx.AsyncClient() as client:  # the meeting ends in the client (no API call)
        await client.post(f"{sim.base_url}/_sim/meetings/{meeting.meeting_id}/end")
    for _ in range(200):
        if calls and await gw.store.meetings.all() == []:
            break
        await asyncio.sleep(0.02)
    assert await gw.store.meetings.all() == []  # seen at once, without a poll
    assert calls == [url + "?x=1&recordingmarks=false"]
    forged = await gw.http.get(f"{gw.url}/bigbluebutton/fleet/ended/1/not-the-token")
    assert forged.status_code == 404
