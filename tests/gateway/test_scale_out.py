"""Two gateway processes on one PostgreSQL database behave as one gateway (scale-out)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bbbfleet.settings import Settings
from tests.gateway.conftest import Gateway, free_port, q, start_gateway, stop_gateway


async def second_gateway(first: Gateway) -> Gateway:
    """Another gateway 'process': its own app, pools, caches and locks; the same database."""
    port = free_port()
    settings = Settings.model_validate(
        {**first.settings.model_dump(), "port": port, "public_url": f"http://127.0.0.1:{port}"}
    )
    other = Gateway(f"http://127.0.0.1:{port}", first.fleet, first.store, settings)
    await other.start()
    return other


@pytest.fixture
def postgres_only(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out is PostgreSQL's job")
    return database_url


async def test_two_processes_place_and_route_as_one(postgres_only: str) -> None:
    one = await start_gateway(postgres_only, servers=4, capacity=1000)
    two = await second_gateway(one)
    try:
        # the same meeting created through both at once lands once
        same = await asyncio.gather(
            *(
                gw.get(gw.alpha("create", q(name="Same", meetingID="same")))
                for gw in [one, two] * 10
            )
        )
        keys = Counter(r.text.split("<messageKey>")[1].split("<")[0] for r in same)
        assert keys == {"": 1, "duplicateWarning": 19}
        # a burst spread over both processes still spreads evenly
        burst = await asyncio.gather(
            *(
                (one if i % 2 else two).get(
                    (one if i % 2 else two).alpha("create", q(name=f"B{i}", meetingID=f"b{i}"))
                )
                for i in range(80)
            )
        )
        assert all("<returncode>SUCCESS</returncode>" in r.text for r in burst)
        spread = Counter(m.server_id for m in await one.store.meetings.all())
        assert sum(spread.values()) == 81 and max(spread.values()) - min(spread.values()) <= 2
        # a meeting created through one is joined through the other
        join = await two.get(two.alpha("join", q(fullName="A", meetingID="b3", role="VIEWER")))
        assert join.status_code == 302
        # only one process polls at a time
        assert one.app is not None and two.app is not None
        assert await one.app.state.poller.leadership.acquire()
        assert not await two.app.state.poller.leadership.acquire()
        await one.app.state.poller.leadership.release()
        assert await two.app.state.poller.leadership.acquire()
        await two.app.state.poller.leadership.release()
    finally:
        await two.stop()
        await two.http.aclose()
        await stop_gateway(one)
