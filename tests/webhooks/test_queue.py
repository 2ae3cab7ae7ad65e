"""The persistent delivery queue: only each hook's oldest delivery is handed out, retries hold
the hook back, relays are independent; SQLite and PostgreSQL."""

from __future__ import annotations

from bbbfleet.storage.repository import NewDelivery, Store


async def test_heads_only_and_retries_hold_the_hook(database_url: str) -> None:
    store = Store.open(database_url)
    await store.db.upgrade()
    try:
        tenant = await store.tenants.add("t", "secret-0123456789abcdef")
        a, created = await store.hooks.create(tenant.id, "https://a/", "m", None, False, 0)
        b, _ = await store.hooks.create(tenant.id, "https://b/", "m", ("user-joined",), True, 0)
        assert created and b.event_ids == ("user-joined",) and b.raw
        again, created = await store.hooks.create(tenant.id, "https://a/", "other", None, False, 0)
        assert not created and again.hook_id == a.hook_id
        await store.hooks.enqueue(
            [
                NewDelivery(a.id, tenant.id, "event", a.callback_url, body=f"a{i}".encode())
                for i in range(3)
            ]
            + [NewDelivery(b.id, tenant.id, "event", b.callback_url, body=b"b0")]
            + [
                NewDelivery(None, tenant.id, "endCallbackUrl", "https://lms/", "GET")
                for _ in range(2)
            ],
            1000,
        )
        due = await store.hooks.due(1000, [], 100)
        assert sorted(d.body for d in due) == [b"", b"", b"a0", b"b0"]
        assert await store.hooks.due(999, [], 100) == []  # nothing due before its time
        assert [d.body for d in await store.hooks.due(1000, [a.id], 100) if d.hook_id] == [b"b0"]
        head = next(d for d in due if d.body == b"a0")
        await store.hooks.retry_later(head.id, 1, 5000, "HTTP 500")
        # a0 waits for its retry, and a1, a2 wait behind it
        assert [d.body for d in await store.hooks.due(2000, [], 100) if d.hook_id == a.id] == []
        retried = [d for d in await store.hooks.due(5000, [], 100) if d.hook_id == a.id]
        assert [(d.body, d.attempts) for d in retried] == [(b"a0", 1)]
        following = await store.hooks.delivered_then_head(head.id, a.id)
        assert following is not None and following.body == b"a1"
        assert await store.hooks.pending() == 5
        # destroying a hook drops its queue; another tenant cannot destroy it
        other = await store.tenants.add("u", "secret-abcdef0123456789")
        assert not await store.hooks.destroy(other.id, a.hook_id)
        assert await store.hooks.destroy(tenant.id, a.hook_id)
        assert await store.hooks.pending() == 3
        assert [h.hook_id for h in await store.hooks.list(tenant.id)] == [b.hook_id]
        # removing the tenant removes its hooks and deliveries
        await store.tenants.remove("t")
        assert await store.hooks.pending() == 0 and await store.hooks.list() == []
    finally:
        await store.close()
