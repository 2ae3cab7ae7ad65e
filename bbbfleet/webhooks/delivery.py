"""Delivery of queued callbacks: tenants' webhook events and relays of BBB's own callbacks.

* **At least once**: a delivery leaves the ``hook_deliveries`` table only after the receiver
  accepted it (or it was given up), so a gateway that stops with a queue delivers it when it (or
  another process on the same database) runs again.
* **In order per hook**: only the oldest queued event of a hook is ever attempted; while it
  waits for a retry, the hook's later events wait too (as bbb-webhooks' per-hook queue).
* **No stalls**: hooks are worked on concurrently (``webhook_concurrency``), each request has a
  timeout (``webhook_timeout``), so a slow or dead receiver only delays its own hook.
* **Fair between tenants**: at most ``webhook_tenant_concurrency`` callbacks of one tenant are in
  flight, and the queue is served round robin over tenants.
* **Bounded**: a hook keeps at most ``webhook_max_queue_per_hook`` queued events, a tenant at most
  ``webhook_max_relays_per_tenant`` relays; beyond, the oldest are dropped (logged).
* **Retries** after each of ``webhook_retry_intervals``; when they are exhausted the hook is
  removed (bbb-webhooks removes a non-permanent hook), a relay is dropped.  Both are logged.
* **One deliverer** at a time: with PostgreSQL the process holding an advisory lock delivers
  (the poller's leadership pattern), so order holds with several gateway processes.  Leadership
  is checked again between two events of a hook; when it is lost, work stops.  A request in flight
  at that moment may be sent again by the new leader (a duplicate, never a reordering of the
  events that follow).

Event callbacks are built at send time (bbb-webhooks' form body, ``timestamp`` = when this attempt
started, checksum with the tenant's current secret in the tenant's checksum version).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import aiohttp
from yarl import URL

from bbbfleet.fleet.poller import Leadership
from bbbfleet.gateway.directory import Directory
from bbbfleet.protocol.webhooks import (
    CALLBACK_CONTENT_TYPE,
    callback_checksum,
    callback_form_body,
    callback_url_with_checksum,
)
from bbbfleet.settings import Settings
from bbbfleet.storage.repository import Delivery, Store, Tenant
from bbbfleet.webhooks.targets import PublicResolver, callback_url_problem

log = logging.getLogger(__name__)
DELIVERY_LOCK = 7_203_131  # 7_203_115-118: placement, poller, recordings (main)
MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
EVENT = "event"
MIN_PAUSE = 0.02  # seconds: never look at the queue more often while nothing changes (wake())
TRIM_EVERY = 1.0  # seconds between checks of the queue caps
LEADERSHIP_RECHECK = 0.1  # seconds a leadership check is trusted between two events
# BBB's recording-ready and analytics scripts send once and log 404 and 410 as final answers
RELAYS_FINAL_404_410 = frozenset(
    {
        "bbb-recording-ready-url",
        "bn-recording-ready-url",
        "canvas-recording-ready-url",
        "analytics-callback-url",
    }
)


def now_ms() -> int:
    return int(time.time() * 1000)


def event_delivered(status: int) -> bool:
    """bbb-webhooks: a 2xx or a 401 answer ends the attempts."""
    return 200 <= status < 300 or status == 401


def relay_delivered(kind: str, status: int) -> bool:
    """Whether a relay of BBB's callback of this kind is done with this answer.

    BBB itself sends each of these callbacks once and never retries; the gateway, which adds a
    hop, retries what a receiver did not take.  Recording-ready and analytics callbacks
    (``post_publish_recording_ready_callback.rb``, ``post_events_analytics_callback.rb``): a 2xx
    is success, 404 and 410 are BBB's final answers ("unknown", "meeting deleted"); anything else
    is retried.  The end callbacks (``meetingEndedURL``, ``endCallbackUrl``: a GET whose answer
    BBB ignores) are done at any answer but a server error, 408 or 429."""
    if kind in RELAYS_FINAL_404_410:
        return 200 <= status < 300 or status in (404, 410)
    return status < 500 and status not in (408, 429)


class Deliverer:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        settings: Settings,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.directory = directory
        self.settings = settings
        self.clock = clock
        self.domain = urlsplit(settings.public_url).hostname or ""
        self.leadership = Leadership(store.db, DELIVERY_LOCK)
        self._wake = asyncio.Event()
        self._busy: dict[int, asyncio.Task[None]] = {}  # hook pk, or -delivery id for relays
        self._tenant_of: dict[int, int] = {}  # the same keys: whose work it is
        self._leading = False
        self._leading_checked = 0.0
        self._leadership_lock = asyncio.Lock()
        self._last_trim = 0.0
        self._session: aiohttp.ClientSession | None = None
        self.delivered = 0  # counters, for tests and the benchmark
        self.failed_attempts = 0

    def wake(self) -> None:
        """New deliveries were queued by this process: look at the queue now."""
        self._wake.set()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            private = self.settings.webhook_allow_private_targets
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.settings.webhook_concurrency,
                    resolver=None if private else PublicResolver(),
                ),
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout),
            )
        return self._session

    async def run(self) -> None:
        """Deliver forever (a task of the gateway's lifespan)."""
        try:
            while True:
                try:
                    if await self._still_leading(max_age=0.0):
                        await self.dispatch_once()
                        if time.monotonic() - self._last_trim >= TRIM_EVERY:
                            self._last_trim = time.monotonic()
                            await self.trim()
                    else:
                        self._stop_work()
                except Exception:
                    log.exception("webhook delivery cycle failed")
                pause = await self._pause()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the task's
                # own cancellation when the event is set at the same moment (the loop would
                # then never stop; seen as a hung shutdown)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            await self.close()

    def _busy_keys(self) -> tuple[list[int], list[int]]:
        """Hooks and relays (delivery ids) being worked on."""
        return [k for k in self._busy if k > 0], [-k for k in self._busy if k < 0]

    def _full_tenants(self) -> list[int]:
        cap = self.settings.webhook_tenant_concurrency
        return [t for t, n in Counter(self._tenant_of.values()).items() if n >= cap]

    async def _pause(self) -> float:
        """How long to wait for: the next queue head or relay that is not being worked on nor
        held back by its tenant's cap (a finished task wakes the loop), at least MIN_PAUSE."""
        interval = self.settings.webhook_poll_interval
        if not self._leading or len(self._busy) >= self.settings.webhook_concurrency:
            return interval  # a finished task wakes the loop
        busy_hooks, busy_relays = self._busy_keys()
        try:
            due = await self.store.hooks.next_due_ms(busy_hooks, busy_relays, self._full_tenants())
        except Exception:
            return interval
        if due is None:
            return interval
        return max(MIN_PAUSE, min(interval, (due - self.clock()) / 1000))

    def _stop_work(self) -> None:
        """Leadership was lost: another process delivers now."""
        for task in self._busy.values():
            task.cancel()

    async def _still_leading(self, max_age: float = LEADERSHIP_RECHECK) -> bool:
        """Whether this process delivers; a check younger than ``max_age`` seconds is trusted
        (between two events of a hook).  One check at a time: the lock's connection is shared."""
        async with self._leadership_lock:
            if max_age <= 0 or time.monotonic() - self._leading_checked >= max_age:
                try:
                    self._leading = await self.leadership.acquire()
                except Exception:
                    log.exception("webhook delivery: leadership check failed")
                    self._leading = False
                self._leading_checked = time.monotonic()
            return self._leading

    async def trim(self) -> int:
        """Enforce the queue caps; returns how many deliveries were dropped."""
        dropped = await self.store.hooks.trim(
            self.settings.webhook_max_queue_per_hook,
            self.settings.webhook_max_relays_per_tenant,
        )
        for what, pk, count in dropped:
            if what == "hook":
                log.warning(
                    "webhook queue of hook #%d over webhook_max_queue_per_hook (%d): dropped its "
                    "%d oldest events",
                    pk,
                    self.settings.webhook_max_queue_per_hook,
                    count,
                )
            else:
                log.warning(
                    "callback relays of tenant %d over webhook_max_relays_per_tenant (%d): "
                    "dropped the %d oldest",
                    pk,
                    self.settings.webhook_max_relays_per_tenant,
                    count,
                )
        return sum(count for _, _, count in dropped)

    async def close(self) -> None:
        tasks = list(self._busy.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._busy.clear()
        self._tenant_of.clear()
        await self.leadership.release()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def dispatch_once(self) -> int:
        """Start work on every due queue head not already in flight; returns how many."""
        # what was in flight when the query started: such a task may finish (and delete its
        # delivery) while the query runs, and the answer may still list what it deleted
        busy_before = set(self._busy)
        concurrency = self.settings.webhook_concurrency
        cap = self.settings.webhook_tenant_concurrency
        free = concurrency - len(busy_before)
        if free <= 0:
            return 0
        busy_hooks, busy_relays = self._busy_keys()
        tenant_busy = Counter(self._tenant_of.values())
        due = await self.store.hooks.due(
            self.clock(), busy_hooks, free, busy_relays, tenant_busy, cap
        )
        started = 0
        tenant_busy = Counter(self._tenant_of.values())  # tasks may have ended meanwhile
        for delivery in due:
            key = delivery.hook_id if delivery.hook_id is not None else -delivery.id
            if key in self._busy or key in busy_before:
                continue
            if len(self._busy) >= concurrency:
                break
            if tenant_busy[delivery.tenant_id] >= cap:
                continue
            tenant_busy[delivery.tenant_id] += 1
            task = asyncio.create_task(self._work(key, delivery))
            self._busy[key] = task
            self._tenant_of[key] = delivery.tenant_id
            task.add_done_callback(functools.partial(self._done, key))
            started += 1
        return started

    def _done(self, key: int, _task: asyncio.Task[None]) -> None:
        self._busy.pop(key, None)
        self._tenant_of.pop(key, None)
        self._wake.set()  # its hook may have more to send, or a retry to schedule

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver until nothing is due or in flight (for tests, the benchmark, the CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not await self._still_leading():
                return  # another process delivers
            started = await self.dispatch_once()
            if self._busy:
                await asyncio.wait(list(self._busy.values()), timeout=0.05)
            elif not started:
                return

    async def _work(self, key: int, delivery: Delivery | None) -> None:
        """Send a queue's head; for a hook, go on with its next event while they are due."""
        while delivery is not None:
            delivered, following = await self._attempt(delivery)
            if not delivered or following is None:
                return
            delivery = following
            if delivery.next_attempt_ms > self.clock():
                return
            if not await self._still_leading():
                return  # the new leader goes on with this hook's queue

    async def _attempt(self, delivery: Delivery) -> tuple[bool, Delivery | None]:
        """Send one delivery; returns whether it was delivered and, for a hook's event that was,
        the hook's next queued event."""
        tenants = {t.id: t for t in (await self.directory.get()).tenants}
        tenant = tenants.get(delivery.tenant_id)
        if tenant is None:  # removed meanwhile (its rows go with it; this is a late copy)
            await self.store.hooks.delivered(delivery.id)
            return True, None
        status, error = await self._send(delivery, tenant)
        if status is not None and (
            event_delivered(status)
            if delivery.kind == EVENT
            else relay_delivered(delivery.kind, status)
        ):
            self.delivered += 1
            if delivery.hook_id is None:
                await self.store.hooks.delivered(delivery.id)
                return True, None
            return True, await self.store.hooks.delivered_then_head(delivery.id, delivery.hook_id)
        self.failed_attempts += 1
        intervals = self.settings.webhook_retry_intervals
        attempts = delivery.attempts + 1
        if attempts > len(intervals):
            await self._give_up(delivery, error)
            return False, None
        log.info(
            "callback %s to %s failed (%s), attempt %d; retrying in %d ms",
            delivery.kind,
            delivery.url,
            error,
            attempts,
            intervals[attempts - 1],
        )
        await self.store.hooks.retry_later(
            delivery.id, attempts, self.clock() + intervals[attempts - 1], error
        )
        return False, None

    async def _give_up(self, delivery: Delivery, error: str) -> None:
        if delivery.hook_id is not None:
            hook = await self.store.hooks.get_by_pk(delivery.hook_id)
            log.warning(
                "webhook %s of tenant %d (%s) failed %d times (%s): hook removed, as bbb-webhooks "
                "does",
                hook.hook_id if hook else delivery.hook_id,
                delivery.tenant_id,
                delivery.url,
                delivery.attempts + 1,
                error,
            )
            await self.store.hooks.remove_by_pk(delivery.hook_id)
        else:
            log.warning(
                "gave up relaying %s to %s after %d attempts (%s)",
                delivery.kind,
                delivery.url,
                delivery.attempts + 1,
                error,
            )
            await self.store.hooks.delivered(delivery.id)

    async def _send(self, delivery: Delivery, tenant: Tenant) -> tuple[int | None, str]:
        if delivery.kind == EVENT:
            version = tenant.hook_checksum_version or self.settings.webhook_checksum_version
            secret = tenant.secrets[0] if tenant.secrets else ""
            event_field = "[" + delivery.body.decode("utf-8") + "]"
            body = callback_form_body(self.domain, event_field, self.clock())
            checksum = callback_checksum(
                delivery.url,
                body,
                secret,
                "3.4" if version == "3.4" else "3.3",
            )
            url = callback_url_with_checksum(delivery.url, checksum)
            data: bytes = body.encode()
            headers = {"Content-Type": CALLBACK_CONTENT_TYPE}
            method = "POST"
        else:
            url, data, headers, method = (
                delivery.url,
                delivery.body,
                delivery.headers,
                delivery.method,
            )
        try:
            async with asyncio.timeout(self.settings.webhook_timeout):
                return await self._request(method, url, data, headers)
        except TimeoutError:
            return None, "timed out"
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            return None, repr(exc)

    async def _request(
        self, method: str, url: str, data: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str]:
        """One request, following up to 10 redirects itself (as bbb-webhooks' node-fetch does),
        so that every redirect target is checked like a callback URL.  The first URL is checked
        too: relayed callback URLs come from create parameters, which nothing checked before."""
        allow_private = self.settings.webhook_allow_private_targets
        for hop in range(MAX_REDIRECTS + 1):
            # sent as given when it is a clean URL (the receiver checks the checksum over it);
            # otherwise percent-encoded as a URL library would (BBB's URIBuilder does)
            clean = url.isascii() and not any(ch.isspace() or ch in '"<>\\^`{|}' for ch in url)
            target = URL(url, encoded=clean)
            problem = callback_url_problem(str(target), allow_private)
            if problem is not None:
                return None, f"{'redirected to a ' if hop else ''}refused URL ({problem})"
            async with self._http().request(
                method,
                target,
                data=data if method != "GET" else None,
                headers=headers,
                allow_redirects=False,
            ) as response:
                await response.read()
                location = response.headers.get("Location")
                if response.status not in REDIRECTS or not location:
                    return response.status, f"HTTP {response.status}"
            url = urljoin(str(target), location)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, data = "GET", b""
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return None, "too many redirects"
