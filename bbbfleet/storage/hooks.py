"""Tenants' webhooks and the persistent queue of callback deliveries.

The queue is the ``hook_deliveries`` table: a delivery stays there until it was delivered, given
up, or its hook removed, so queued callbacks survive a gateway restart.  Events of one hook are
delivered in ``id`` order: only the oldest delivery of a hook (its *head*) is ever handed out.
Relays of BBB's own callbacks (``hook_id`` NULL) are independent of each other.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, case, delete, func, or_, select, update

from bbbfleet.storage.database import Database
from bbbfleet.storage.meetings import _one
from bbbfleet.storage.models import hook_deliveries, hooks, meetings, tenants
from bbbfleet.storage.records import Delivery, Hook, Meeting, NewDelivery

# where an event goes: (tenant id, tenant meetingID, tenant-wide hooks allowed), None: dropped
Located = tuple[int, str, bool]


def _hook(row: Row[Any]) -> Hook:
    return Hook(
        row.id,
        row.hook_id,
        row.tenant_id,
        row.callback_url,
        row.meeting_id,
        tuple(row.event_ids.split(",")) if row.event_ids else None,
        bool(row.raw),
        row.created_ms,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        row.id,
        row.hook_id,
        row.tenant_id,
        row.kind,
        row.url,
        row.method,
        bytes(row.body),
        json.loads(row.headers or "{}"),
        row.attempts,
        row.next_attempt_ms,
        row.created_ms,
    )


def _matching(tenant_id: int, meeting_id: str, tenant_wide: bool) -> Any:
    scope = hooks.c.meeting_id == meeting_id
    if tenant_wide:
        scope = or_(scope, hooks.c.meeting_id.is_(None))
    return select(hooks).where(hooks.c.tenant_id == tenant_id, scope).order_by(hooks.c.id)


def _heads_or_relays(busy_hooks: Sequence[int], busy_relays: Sequence[int]) -> list[Any]:
    """Conditions: a hook's queue head (its oldest row) or a relay, not being worked on."""
    d = hook_deliveries
    heads = (
        select(func.min(d.c.id)).where(d.c.hook_id.is_not(None)).group_by(d.c.hook_id)
    ).scalar_subquery()
    conditions: list[Any] = [or_(d.c.hook_id.is_(None), d.c.id.in_(heads))]
    if busy_hooks:
        conditions.append(or_(d.c.hook_id.is_(None), d.c.hook_id.not_in(list(busy_hooks))))
    if busy_relays:
        conditions.append(d.c.id.not_in(list(busy_relays)))
    return conditions


def _row(d: NewDelivery, now_ms: int) -> dict[str, Any]:
    return {
        "hook_id": d.hook_id,
        "tenant_id": d.tenant_id,
        "kind": d.kind,
        "url": d.url,
        "method": d.method,
        "body": d.body,
        "headers": json.dumps(d.headers, sort_keys=True),
        "attempts": 0,
        "next_attempt_ms": now_ms,
        "created_ms": now_ms,
    }


class HookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- hooks -------------------------------------------------------------------------------

    async def create(
        self,
        tenant_id: int,
        callback_url: str,
        meeting_id: str | None,
        event_ids: Sequence[str] | None,
        raw: bool,
        now_ms: int,
    ) -> tuple[Hook, bool]:
        """The new hook and True, or the tenant's existing hook for that callback URL and False
        (bbb-webhooks' duplicateWarning: one hook per callback URL, whatever its meetingID)."""
        created = await self.create_within_limit(
            tenant_id, callback_url, meeting_id, event_ids, raw, now_ms, limit=None
        )
        assert created is not None  # only a limit refuses
        return created

    async def list(
        self, tenant_id: int | None = None, meeting_id: str | None = None
    ) -> builtins.list[Hook]:
        """A tenant's hooks (all tenants' when None); with ``meeting_id``: its tenant-wide
        hooks and the hooks of that meeting (bbb-webhooks' ``hooks/list?meetingID=``)."""
        query = select(hooks).order_by(hooks.c.id)
        if tenant_id is not None:
            query = query.where(hooks.c.tenant_id == tenant_id)
        if meeting_id is not None:
            query = query.where(or_(hooks.c.meeting_id.is_(None), hooks.c.meeting_id == meeting_id))
        return await self.db.read(lambda conn: [_hook(r) for r in conn.execute(query)])

    async def matching(
        self, tenant_id: int, meeting_id: str, tenant_wide: bool
    ) -> builtins.list[Hook]:
        """The hooks an event of this meeting goes to (tenant-wide ones only when allowed)."""
        query = _matching(tenant_id, meeting_id, tenant_wide)
        return await self.db.read(lambda conn: [_hook(r) for r in conn.execute(query)])

    async def route_event(
        self,
        backend_meeting_id: str,
        locate: Callable[[Meeting | None], Located | None],
        build: Callable[[Located, Sequence[Hook]], Sequence[NewDelivery]],
        now_ms: int,
    ) -> int | None:
        """An event's whole ingress in one transaction (one round trip to PostgreSQL): the
        meeting sent to BBB as ``backend_meeting_id`` (if the gateway still knows it) →
        ``locate`` → the matching hooks → ``build`` → queued.  Returns how many deliveries were
        queued, None when ``locate`` dropped the event."""

        def transaction(conn: Connection) -> int | None:
            located = locate(_one(conn, meetings.c.backend_meeting_id == backend_meeting_id))
            if located is None:
                return None
            matched = [_hook(r) for r in conn.execute(_matching(*located))]
            deliveries = build(located, matched) if matched else []
            if deliveries:
                conn.execute(hook_deliveries.insert(), [_row(d, now_ms) for d in deliveries])
            return len(deliveries)

        return await self.db.write(transaction)

    async def destroy(self, tenant_id: int, hook_id: str) -> bool:
        """Remove one of the tenant's hooks (and its queued deliveries); False if it has none
        with that ID."""

        def transaction(conn: Connection) -> bool:
            pk = conn.execute(
                select(hooks.c.id).where(hooks.c.tenant_id == tenant_id, hooks.c.hook_id == hook_id)
            ).scalar()
            if pk is None:
                return False
            conn.execute(delete(hook_deliveries).where(hook_deliveries.c.hook_id == pk))
            conn.execute(delete(hooks).where(hooks.c.id == pk))
            return True

        return await self.db.write(transaction)

    async def remove_by_pk(self, pk: int) -> None:
        def transaction(conn: Connection) -> None:
            conn.execute(delete(hook_deliveries).where(hook_deliveries.c.hook_id == pk))
            conn.execute(delete(hooks).where(hooks.c.id == pk))

        await self.db.write(transaction)

    async def get_by_pk(self, pk: int) -> Hook | None:
        row = await self.db.read(
            lambda conn: conn.execute(select(hooks).where(hooks.c.id == pk)).first()
        )
        return None if row is None else _hook(row)

    # --- the delivery queue ----------------------------------------------------------------

    async def enqueue(self, deliveries: Sequence[NewDelivery], now_ms: int) -> int:
        """Queue callbacks, due at once; returns how many."""
        if not deliveries:
            return 0
        rows = [_row(d, now_ms) for d in deliveries]
        await self.db.write(lambda conn: conn.execute(hook_deliveries.insert(), rows))
        return len(rows)

    async def due(
        self,
        now_ms: int,
        busy_hooks: Sequence[int],
        limit: int,
        busy_relays: Sequence[int] = (),
        tenant_busy: Mapping[int, int] | None = None,
        tenant_cap: int | None = None,
    ) -> builtins.list[Delivery]:
        """The deliveries to attempt now: the head of each hook's queue when it is due (a hook
        whose head waits for a retry holds back its later events), and due relays.  Hooks in
        ``busy_hooks`` and relays in ``busy_relays`` are being worked on already.

        Fair between tenants: the answer takes each tenant's most overdue delivery first, then
        each tenant's second, … (round robin), and with ``tenant_cap`` at most ``tenant_cap``
        minus the tenant's ``tenant_busy`` in-flight count per tenant."""
        d = hook_deliveries
        conditions = [d.c.next_attempt_ms <= now_ms, *_heads_or_relays(busy_hooks, busy_relays)]
        rank = (
            func.row_number()
            .over(partition_by=d.c.tenant_id, order_by=(d.c.next_attempt_ms, d.c.id))
            .label("tenant_rank")
        )
        ranked = select(d, rank).where(*conditions).subquery()
        query = select(ranked)
        if tenant_cap is not None:
            busy = {t: n for t, n in (tenant_busy or {}).items() if n}
            room: Any = (
                case(
                    {t: tenant_cap - n for t, n in busy.items()},
                    value=ranked.c.tenant_id,
                    else_=tenant_cap,
                )
                if busy
                else tenant_cap
            )
            query = query.where(ranked.c.tenant_rank <= room)
        query = query.order_by(ranked.c.tenant_rank, ranked.c.next_attempt_ms, ranked.c.id).limit(
            limit
        )
        return await self.db.read(lambda conn: [_delivery(r) for r in conn.execute(query)])

    async def head(self, hook_pk: int) -> Delivery | None:
        """The oldest queued delivery of a hook."""
        query = (
            select(hook_deliveries)
            .where(hook_deliveries.c.hook_id == hook_pk)
            .order_by(hook_deliveries.c.id)
            .limit(1)
        )
        row = await self.db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _delivery(row)

    async def delivered_then_head(self, delivery_id: int, hook_pk: int) -> Delivery | None:
        """Take a delivered event off its hook's queue and return the hook's next one (one
        transaction)."""

        def transaction(conn: Connection) -> Delivery | None:
            conn.execute(delete(hook_deliveries).where(hook_deliveries.c.id == delivery_id))
            row = conn.execute(
                select(hook_deliveries)
                .where(hook_deliveries.c.hook_id == hook_pk)
                .order_by(hook_deliveries.c.id)
                .limit(1)
            ).first()
            return None if row is None else _delivery(row)

        return await self.db.write(transaction)

    async def delivered(self, delivery_id: int) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                delete(hook_deliveries).where(hook_deliveries.c.id == delivery_id)
            )
        )

    async def retry_later(self, delivery_id: int, attempts: int, at_ms: int, error: str) -> None:
        await self.db.write(
            lambda conn: conn.execute(
                update(hook_deliveries)
                .where(hook_deliveries.c.id == delivery_id)
                .values(attempts=attempts, next_attempt_ms=at_ms, last_error=error[:500])
            )
        )

    async def pending(self, tenant_id: int | None = None) -> int:
        query = select(func.count()).select_from(hook_deliveries)
        if tenant_id is not None:
            query = query.where(hook_deliveries.c.tenant_id == tenant_id)
        return int(await self.db.read(lambda conn: conn.execute(query).scalar_one()))

    async def next_due_ms(
        self,
        busy_hooks: Sequence[int] = (),
        busy_relays: Sequence[int] = (),
        skip_tenants: Sequence[int] = (),
    ) -> int | None:
        """When the earliest queue head or relay not being worked on is due (None: there is
        none).  Events queued behind a head do not count: they are not due before it is."""
        d = hook_deliveries
        query = select(func.min(d.c.next_attempt_ms)).where(
            *_heads_or_relays(busy_hooks, busy_relays)
        )
        if skip_tenants:
            query = query.where(d.c.tenant_id.not_in(list(skip_tenants)))
        value = await self.db.read(lambda conn: conn.execute(query).scalar())
        return None if value is None else int(value)

    async def trim(
        self, max_per_hook: int, max_relays_per_tenant: int
    ) -> builtins.list[tuple[str, int, int]]:
        """Drop the oldest queued deliveries of every hook holding more than ``max_per_hook``,
        and the oldest relays of every tenant holding more than ``max_relays_per_tenant``.
        Returns what was dropped: ("hook", hook pk, count) and ("relays", tenant id, count)."""
        d = hook_deliveries

        def drop_oldest(
            conn: Connection, kind: str, group: Any, queued: Any, cap: int
        ) -> builtins.list[tuple[str, int, int]]:
            """Per ``group`` value over the ``queued`` rows: delete the oldest beyond ``cap``."""
            overfull = conn.execute(
                select(group, func.count()).where(queued).group_by(group).having(func.count() > cap)
            ).all()
            for key, count in overfull:
                oldest = (
                    select(d.c.id)
                    .where(queued, group == key)
                    .order_by(d.c.id)
                    .limit(count - cap)
                    .scalar_subquery()
                )
                conn.execute(delete(d).where(d.c.id.in_(oldest)))
            return [(kind, int(key), count - cap) for key, count in overfull]

        def transaction(conn: Connection) -> builtins.list[tuple[str, int, int]]:
            return [
                *drop_oldest(conn, "hook", d.c.hook_id, d.c.hook_id.is_not(None), max_per_hook),
                *drop_oldest(
                    conn, "relays", d.c.tenant_id, d.c.hook_id.is_(None), max_relays_per_tenant
                ),
            ]

        return await self.db.write(transaction)

    async def create_within_limit(
        self,
        tenant_id: int,
        callback_url: str,
        meeting_id: str | None,
        event_ids: Sequence[str] | None,
        raw: bool,
        now_ms: int,
        limit: int | None,
    ) -> tuple[Hook, bool] | None:
        """``create``, atomically with the tenant's hook limit: None when the tenant already
        has ``limit`` hooks (and none for that callback URL).  Concurrent creates of one tenant
        are serialised on its tenants row (PostgreSQL ``FOR UPDATE``; SQLite runs one write at
        a time), so neither the limit nor the one-hook-per-URL rule can be raced past."""

        def transaction(conn: Connection) -> tuple[Hook, bool] | None:
            conn.execute(select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update())
            existing = conn.execute(
                select(hooks)
                .where(hooks.c.tenant_id == tenant_id, hooks.c.callback_url == callback_url)
                .order_by(hooks.c.id)
                .limit(1)
            ).first()
            if existing is not None:
                return _hook(existing), False
            if limit is not None:
                count = conn.execute(
                    select(func.count()).select_from(hooks).where(hooks.c.tenant_id == tenant_id)
                ).scalar_one()
                if count >= limit:
                    return None
            values = {
                "hook_id": str(uuid.uuid4()),
                "tenant_id": tenant_id,
                "callback_url": callback_url,
                "meeting_id": meeting_id,
                "event_ids": ",".join(event_ids) if event_ids else None,
                "raw": raw,
                "created_ms": now_ms,
            }
            pk = conn.execute(hooks.insert().values(**values).returning(hooks.c.id)).scalar_one()
            row = conn.execute(select(hooks).where(hooks.c.id == pk)).one()
            return _hook(row), True

        return await self.db.write(transaction)
