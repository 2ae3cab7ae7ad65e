"""Burst safety: reservations are taken atomically at placement time, so a burst of concurrent
creates spreads evenly instead of piling onto the server that looked emptiest."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.gateway.conftest import q, start_gateway, stop_gateway


async def test_200_concurrent_creates_spread_evenly_over_4_servers(database_url: str) -> None:
    gw = await start_gateway(database_url, servers=4, capacity=1000)
    try:
        responses = await asyncio.gather(
            *(
                gw.get(gw.alpha("create", q(name=f"Burst {i}", meetingID=f"burst-{i}")))
                for i in range(200)
            )
        )
        assert all("<returncode>SUCCESS</returncode>" in r.text for r in responses)
        per_server = Counter(m.server_id for m in await gw.store.meetings.all())
        assert sum(per_server.values()) == 200 and len(per_server) == 4
        assert all(45 <= count <= 55 for count in per_server.values()), per_server
        hosted = sorted(len(sim.state.meetings) for sim in gw.fleet.servers)
        assert hosted == sorted(per_server.values())  # the backends agree with the reservations
    finally:
        await stop_gateway(gw)


async def test_concurrent_creates_of_one_meeting_land_once(database_url: str) -> None:
    gw = await start_gateway(database_url, servers=4)
    try:
        responses = await asyncio.gather(
            *(gw.get(gw.alpha("create", q(name="Same", meetingID="same"))) for _ in range(20))
        )
        keys = Counter(r.text.split("<messageKey>")[1].split("<")[0] for r in responses)
        assert keys == {"": 1, "duplicateWarning": 19}
        assert sum(len(sim.state.meetings) for sim in gw.fleet.servers) == 1
    finally:
        await stop_gateway(gw)
