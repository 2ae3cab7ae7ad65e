"""The deliverer's loop against the real store and a real loopback receiver: no busy polling
while idle, fairness between tenants, in-flight relays, leadership lost between events, queue
caps, per-kind relay answers; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bbbfleet.gateway.directory import Directory
from bbbfleet.settings import Settings
from bbbfleet.storage.hooks import HookStore
from bbbfleet.storage.repository import Delivery, NewDelivery, Store
from bbbfleet.webhooks.delivery import Deliverer, relay_delivered
from tests.gateway.receiver import Receiver


class CountingHooks(HookStore):
    """The real hooks store, counting the queue look-ups the deliverer makes."""

    calls = 0

    async def due(self, *args: Any, **kwargs: Any) -> list[Delivery]:
        self.calls += 1
        return await super().due(*args, **kwargs)

    async def next_due_ms(self, *args: Any, **kwargs: Any) -> int | None:
        self.calls += 1
        return await super().next_due_ms(*args, **kwargs)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = Store.open(database_url)
    await s.db.upgrade()
    s.hooks = CountingHooks(s.db)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = await Receiver().start()
    try:
        yield rec
    finally:
        await rec.stop()


def deliverer(store: Store, database_url: str, **options: object) -> Deliverer:
    settings = Settings.model_validate(
        {
            "database_url": database_url,
            "webhook_allow_private_targets": True,
            "webhook_poll_interval": 0.5,
            **options,
        }
    )
    return Deliverer(store, Directory(store, 0), settings)


async def events(store: Store, tenant: int, url: str, bodies: Sequence[str]) -> int:
    hook, _ = await store.hooks.create(tenant, url, "m", None, False, 0)
    await store.hooks.enqueue(
        [NewDelivery(hook.id, tenant, "event", url, body=b.encode()) for b in bodies],
        int(time.time() * 1000),
    )
    return hook.id


async def test_idle_with_a_failing_hook_does_not_poll_busily(
    store: Store, receiver: Receiver, database_url: str
) -> None:
    """A hook's head waits 5 s for its retry with events queued behind it: the loop sleeps
    (before: the min over all rows was already due, pause 0, thousands of queries a second)."""
    tenant = await store.tenants.add("t", "secret-0123456789abcdef")
    receiver.status = lambda path, n: 500
    await events(store, tenant.id, f"{receiver.base}/fail", ["e0", "e1", "e2"])
    d = deliverer(store, database_url, webhook_retry_intervals=[5000])
    task = asyncio.create_task(d.run())
    try:
        deadline = time.monotonic() + 5
        while receiver.attempts.get("/fail", 0) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        hooks = store.hooks
        assert isinstance(hooks, CountingHooks)
        before = hooks.calls
        await asyncio.sleep(1.0)
        assert hooks.calls - before <= 10  # poll interval 0.5 s: ~2 looks (+ wake-ups)
        assert receiver.attempts["/fail"] == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_one_tenants_slow_receivers_do_not_delay_another(
    store: Store, receiver: Receiver, database_url: str
) -> None:
    """Beta queued first, 30 hooks whose receiver never answers in time; alpha's event still
    goes out long before beta's first timeout (before: beta filled every slot)."""
    alpha = await store.tenants.add("alpha", "secret-0123456789abcdef")
    beta = await store.tenants.add("beta", "secret-abcdef0123456789")
    receiver.delay = lambda path: 20.0 if path.startswith("/slow") else 0.0
    for i in range(30):
        await events(store, beta.id, f"{receiver.base}/slow{i}", ["b"])
    await events(store, alpha.id, f"{receiver.base}/fast", ["a"])
    d = deliverer(
        store,
        database_url,
        webhook_timeout=8.0,  # long, so a loaded machine cannot blur "before" and "after"
        webhook_concurrency=20,
        webhook_tenant_concurrency=5,
        webhook_retry_intervals=[60_000],
    )
    start = time.monotonic()
    task = asyncio.create_task(d.run())
    try:
        [got] = await receiver.wait_for("/fast", 1, timeout=10)
        assert got.at - start < 4.0  # half of the timeout (before the cap: a whole timeout)
        assert sum(1 for p in receiver.attempts if p.startswith("/slow")) <= 5
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_due_skips_relays_in_flight_and_serves_tenants_round_robin(store: Store) -> None:
    a = await store.tenants.add("a", "secret-0123456789abcdef")
    b = await store.tenants.add("b", "secret-abcdef0123456789")
    await store.hooks.enqueue(
        [NewDelivery(None, a.id, "endCallbackUrl", f"https://lms/{i}", "GET") for i in range(4)],
        1000,
    )
    await store.hooks.enqueue(
        [NewDelivery(None, b.id, "endCallbackUrl", "https://b/", "GET")], 2000
    )
    first = await store.hooks.due(5000, [], 10)
    in_flight = [d.id for d in first if d.tenant_id == a.id][:3]
    rest = await store.hooks.due(5000, [], 10, busy_relays=in_flight)
    assert len(rest) == 2 and not {d.id for d in rest} & set(in_flight)
    # round robin: b's single (newer) relay comes second, not after all of a's
    two = await store.hooks.due(5000, [], 2)
    assert {d.tenant_id for d in two} == {a.id, b.id}
    # a tenant's cap counts what it has in flight
    capped = await store.hooks.due(5000, [], 10, tenant_busy={a.id: 2}, tenant_cap=3)
    assert sorted(d.tenant_id for d in capped) == sorted([a.id, b.id])
    assert await store.hooks.next_due_ms([], [d.id for d in first]) is None
    assert await store.hooks.next_due_ms([], [], [a.id]) == 2000


class LostLeadership:
    """A leadership that the process no longer holds (another process took over)."""

    async def acquire(self) -> bool:
        return False

    async def release(self) -> None:
        return None


async def test_work_stops_between_events_when_leadership_is_lost(
    store: Store, receiver: Receiver, database_url: str
) -> None:
    tenant = await store.tenants.add("t", "secret-0123456789abcdef")
    await events(store, tenant.id, f"{receiver.base}/h", ["e0", "e1", "e2"])
    d = deliverer(store, database_url)
    d.leadership = LostLeadership()  # type: ignore[assignment]
    try:
        assert await d.dispatch_once() == 1  # handed out the head while this process still led
        await asyncio.wait(list(d._busy.values()), timeout=2)
        await d.drain(1)  # and it does not start again
        assert len(receiver.on("/h")) == 1
        assert await store.hooks.pending() == 2  # left for the new leader, in order
    finally:
        await d.close()


async def test_queue_caps_drop_the_oldest(
    store: Store, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await store.tenants.add("t", "secret-0123456789abcdef")
    hook = await events(store, tenant.id, "https://lms.example/h", [f"e{i}" for i in range(10)])
    await store.hooks.enqueue(
        [
            NewDelivery(None, tenant.id, "endCallbackUrl", f"https://lms/{i}", "GET")
            for i in range(5)
        ],
        1000,
    )
    d = deliverer(
        store, database_url, webhook_max_queue_per_hook=3, webhook_max_relays_per_tenant=2
    )
    with caplog.at_level(logging.WARNING, "bbbfleet.webhooks.delivery"):
        assert await d.trim() == 7 + 3
    assert "dropped its 7 oldest events" in caplog.text
    head = await store.hooks.head(hook)
    assert head is not None and head.body == b"e7"
    assert await store.hooks.pending() == 3 + 2
    relays = [r.url for r in await store.hooks.due(10**13, [hook], 10)]
    assert sorted(relays) == ["https://lms/3", "https://lms/4"]
    assert await d.trim() == 0


def test_relay_answers_per_kind() -> None:
    for kind in ("bbb-recording-ready-url", "canvas-recording-ready-url", "analytics-callback-url"):
        assert relay_delivered(kind, 200) and relay_delivered(kind, 204)
        assert relay_delivered(kind, 404) and relay_delivered(kind, 410)  # BBB's final answers
        for status in (400, 401, 403, 408, 429, 500, 503):
            assert not relay_delivered(kind, status)
    for kind in ("endCallbackUrl", "meetingEndedURL"):
        assert relay_delivered(kind, 200) and relay_delivered(kind, 404)
        assert relay_delivered(kind, 401)
        for status in (408, 429, 500, 502):
            assert not relay_delivered(kind, status)


async def test_cancelling_the_loop_stops_it_even_when_woken_at_that_moment(
    store: Store, database_url: str
) -> None:
    """The gateway's shutdown cancels the delivery loop; a wake-up in the same instant must not
    swallow that cancellation (Python 3.11's wait_for did, and the shutdown hung)."""
    d = deliverer(store, database_url, webhook_poll_interval=30)
    task = asyncio.create_task(d.run())
    await asyncio.sleep(0.2)  # the loop now waits for a wake-up
    d.wake()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=3)
    assert task in done and task.cancelled()
