"""Capacity reservation end to end: what a create reserves, pools, defaults, prediction, tags."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.gateway.conftest import Gateway, ManualClock, q, start_gateway, stop_gateway

MINUTE_MS = 60_000


def key_of(body: str) -> str:
    return body.split("<messageKey>")[1].split("</messageKey>")[0]


@pytest.fixture
async def clocked(database_url: str) -> AsyncIterator[tuple[Gateway, ManualClock]]:
    clock = ManualClock()
    gw = await start_gateway(database_url, capacity=20, clock=clock)
    try:
        yield gw, clock
    finally:
        await stop_gateway(gw)


async def reservation(gw: Gateway, meeting_id: str) -> tuple[int, int]:
    tenant = await gw.store.tenants.get("alpha")
    meeting = await gw.store.meetings.get(tenant.id, meeting_id)
    assert meeting is not None
    return meeting.reserved_participants, meeting.reserved_until_ms


async def test_create_reserves_max_participants_for_duration(
    clocked: tuple[Gateway, ManualClock],
) -> None:
    gw, clock = clocked
    created = await gw.get(
        gw.alpha("create", q(name="Big", meetingID="big", maxParticipants="12", duration="90"))
    )
    assert "<returncode>SUCCESS</returncode>" in created.text
    assert await reservation(gw, "big") == (12, clock.now_ms + 90 * MINUTE_MS)
    sim = next(s for s in gw.fleet.servers if s.state.meetings)
    (meeting,) = sim.state.meetings.values()
    assert meeting.max_participants == 12  # still BBB's limit
    assert meeting.duration == 0  # never a hard end in BBB
    assert "<duration>0</duration>" in created.text


async def test_defaults_platform_then_tenant(clocked: tuple[Gateway, ManualClock]) -> None:
    gw, clock = clocked
    await gw.get(gw.alpha("create", q(name="Plain", meetingID="plain")))
    assert await reservation(gw, "plain") == (5, clock.now_ms + 60 * MINUTE_MS)
    await gw.store.tenants.configure("alpha", default_participants=8, default_duration_minutes=45)
    await gw.get(gw.alpha("create", q(name="Plain 2", meetingID="plain2")))
    assert await reservation(gw, "plain2") == (8, clock.now_ms + 45 * MINUTE_MS)


async def test_tenant_pool_is_enforced_and_failed_creates_reserve_nothing(
    clocked: tuple[Gateway, ManualClock],
) -> None:
    gw, _clock = clocked
    await gw.store.tenants.configure("alpha", pool_participants=20)
    ok = await gw.get(
        gw.alpha("create", q(name="A room", meetingID="room-a", maxParticipants="15"))
    )
    assert "<returncode>SUCCESS</returncode>" in ok.text
    refused = await gw.get(
        gw.alpha("create", q(name="B room", meetingID="room-b", maxParticipants="6"))
    )
    assert key_of(refused.text) == "accountCapacityExhausted"
    assert "capacity of this account is exhausted" in refused.text
    tenant = await gw.store.tenants.get("alpha")
    assert await gw.store.meetings.tenant_load(tenant.id) == 15  # the refusal reserved nothing
    fits = await gw.get(
        gw.alpha("create", q(name="C room", meetingID="room-c", maxParticipants="5"))
    )
    assert "<returncode>SUCCESS</returncode>" in fits.text
    other_tenant = await gw.get(
        gw.beta("create", q(name="Beta", meetingID="room-b", maxParticipants="6"))
    )
    assert "<returncode>SUCCESS</returncode>" in other_tenant.text  # pools are per tenant
    await gw.get(gw.alpha("end", q(meetingID="room-a")))
    after_end = await gw.get(
        gw.alpha("create", q(name="B room", meetingID="room-b", maxParticipants="6"))
    )
    assert "<returncode>SUCCESS</returncode>" in after_end.text  # the reservation ended with it


async def test_no_server_fits_is_a_different_key(clocked: tuple[Gateway, ManualClock]) -> None:
    gw, _clock = clocked
    too_big = await gw.get(
        gw.alpha("create", q(name="Huge", meetingID="huge", maxParticipants="21"))
    )
    assert key_of(too_big.text) == "noServerCapacity"
    assert await gw.store.meetings.all() == []
    for index in range(3):  # fill every server (capacity 20 each)
        await gw.get(
            gw.alpha("create", q(name=f"R{index}", meetingID=f"r{index}", maxParticipants="18"))
        )
    full = await gw.get(
        gw.alpha("create", q(name="One more", meetingID="more", maxParticipants="3"))
    )
    assert key_of(full.text) == "noServerCapacity"


async def test_live_attendance_above_the_reservation_counts(
    clocked: tuple[Gateway, ManualClock],
) -> None:
    gw, _clock = clocked
    await gw.store.tenants.configure("alpha", default_participants=2, predict_size=False)
    await gw.get(gw.alpha("create", q(name="Small", meetingID="small", moderatorPW="mp")))
    for index in range(4):
        await gw.http.get(
            gw.alpha(
                "join",
                q(fullName=f"U{index}", meetingID="small", password="mp", userID=f"u{index}"),
            ),
            follow_redirects=True,
        )
    await gw.poll()
    tenant = await gw.store.tenants.get("alpha")
    assert await gw.store.meetings.tenant_load(tenant.id) == 4  # live 4 > reserved 2
    meeting = await gw.store.meetings.get(tenant.id, "small")
    assert meeting is not None and (meeting.live_participants, meeting.peak_participants) == (4, 4)
    (host,) = [s for s in await gw.store.servers.list() if s.id == meeting.server_id]
    assert host.live_participants == 4


async def test_size_prediction_from_the_rooms_last_run(
    clocked: tuple[Gateway, ManualClock],
) -> None:
    gw, clock = clocked
    await gw.get(gw.alpha("create", q(name="Lecture", meetingID="lecture", moderatorPW="mp")))
    for index in range(9):
        await gw.http.get(
            gw.alpha(
                "join",
                q(fullName=f"S{index}", meetingID="lecture", password="mp", userID=f"s{index}"),
            ),
            follow_redirects=True,
        )
    await gw.poll()
    await gw.get(gw.alpha("end", q(meetingID="lecture")))
    clock.advance(24 * 3600)
    again = await gw.get(gw.alpha("create", q(name="Lecture", meetingID="lecture")))
    assert "<returncode>SUCCESS</returncode>" in again.text, again.text
    assert (await reservation(gw, "lecture"))[0] == 9  # the room's recent peak, not 5
    await gw.get(gw.alpha("end", q(meetingID="lecture")))
    explicit = await gw.get(
        gw.alpha("create", q(name="Lecture", meetingID="lecture", maxParticipants="3"))
    )
    assert "<returncode>SUCCESS</returncode>" in explicit.text, explicit.text
    assert (await reservation(gw, "lecture"))[0] == 3
    await gw.get(gw.alpha("end", q(meetingID="lecture")))
    await gw.store.tenants.configure("alpha", predict_size=False)
    await gw.get(gw.alpha("create", q(name="Lecture", meetingID="lecture")))
    assert (await reservation(gw, "lecture"))[0] == 5  # switched off: the default again
    await gw.get(gw.alpha("end", q(meetingID="lecture")))
    await gw.store.tenants.configure("alpha", predict_size=None)
    clock.advance(31 * 24 * 3600)  # older than the prediction window
    await gw.get(gw.alpha("create", q(name="Lecture", meetingID="lecture")))
    assert (await reservation(gw, "lecture"))[0] == 5


async def test_server_tags(clocked: tuple[Gateway, ManualClock]) -> None:
    gw, _clock = clocked
    await gw.store.servers.set_tags("sim-2", frozenset({"gpu"}))
    gpu = next(s for s in await gw.store.servers.list() if s.name == "sim-2")
    for index in range(3):
        await gw.get(
            gw.alpha(
                "create", q(name=f"G{index}", meetingID=f"g{index}", **{"meta_server-tag": "gpu"})
            )
        )
    tenant = await gw.store.tenants.get("alpha")
    placed = {m.server_id for m in await gw.store.meetings.all(tenant.id)}
    assert placed == {gpu.id}  # preferred while it has room
    missing = await gw.get(
        gw.alpha("create", q(name="Xx", meetingID="room-x", **{"meta_server-tag": "eu!"}))
    )
    assert key_of(missing.text) == "noServerAvailable" and "tag" in missing.text
    fallback = await gw.get(
        gw.alpha("create", q(name="Yy", meetingID="room-y", **{"meta_server-tag": "eu"}))
    )
    assert "<returncode>SUCCESS</returncode>" in fallback.text  # not required: any server
    await gw.store.tenants.configure("alpha", default_tags="gpu!")
    await gw.get(gw.alpha("create", q(name="Zz", meetingID="room-z")))
    z = await gw.store.meetings.get(tenant.id, "room-z")
    assert z is not None and z.server_id == gpu.id
