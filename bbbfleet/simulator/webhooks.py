"""Sending the webhook callbacks a simulated server has queued, as bbb-webhooks does.

One worker task per hook delivers that hook's events strictly in order: POST form
(``domain``, ``event``, ``timestamp``) to the callback URL with ``checksum=`` appended
(REFERENCE.md §11.3-§11.4).  A 2xx or 401 answer counts as delivered; anything else (or no
answer within ``request_timeout_ms``) is retried after each of ``retry_intervals_ms``; when they
are used up a normal hook is deleted, a permanent one keeps trying every
``permanent_interval_reset_ms`` (§11.5).  Hooks never wait for each other, so a slow receiver
only delays its own events.

While hooks exist a ticker lets time pass on the server every ``tick_ms`` so that meetings
expiring and recordings becoming published are reported without an API call.

The HTTP layer calls ``send_due_events(server)`` after each request it handles, as it does for
the end callbacks; ``close_sender(server)`` stops everything (``SimulatorHost.stop``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

import httpx

from bbbfleet.protocol import webhooks as wh
from bbbfleet.simulator.callbacks import send_due_callbacks
from bbbfleet.simulator.hooks import Hook, QueuedEvent
from bbbfleet.simulator.server import SimulatedServer

log = logging.getLogger(__name__)
# node-fetch v3 (what bbb-webhooks uses) sends these.
CALLBACK_HEADERS = {
    "Accept": "*/*",
    "User-Agent": "node-fetch",
}
MAX_REDIRECTS = 10


class WebhookSender:
    """The delivery side of one server's hooks."""

    def __init__(self, server: SimulatedServer) -> None:
        self.server = server
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.ticker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def domain(self) -> str:
        configured = self.server.hooks.settings.domain
        return configured or urlsplit(self.server.server_url).hostname or "localhost"

    def wake(self) -> None:
        """Start a worker for every hook with queued events that has none running."""
        for hook in self.server.hooks.pending():
            worker = self.workers.get(hook.hook_id)
            if worker is None or worker.done():
                task = asyncio.get_running_loop().create_task(self._work(hook))
                self.workers[hook.hook_id] = task
        if self.server.hooks.hooks and (self.ticker is None or self.ticker.done()):
            self.ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while self.server.hooks.hooks:
            await asyncio.sleep(self.server.hooks.settings.tick_ms / 1000)
            self.server.expire()
            send_due_callbacks(self.server)  # the end callbacks of meetings that expired
            self.wake()

    def _registered(self, hook: Hook) -> bool:
        return self.server.hooks.hooks.get(hook.hook_id) is hook

    async def _work(self, hook: Hook) -> None:
        while self._registered(hook) and hook.queue:
            item = hook.queue[0]
            if await self._deliver(hook, item):
                hook.delivered += 1
                if hook.queue and hook.queue[0] is item:
                    hook.queue.popleft()
            else:
                if self._registered(hook):
                    log.info("webhook %s: giving up, removing the hook", hook.callback_url)
                    self.server.hooks.drop(hook)
                return

    async def _deliver(self, hook: Hook, item: QueuedEvent) -> bool:
        """One event to one hook, with bbb-webhooks' retries; False when given up (never for a
        permanent hook, unless it is gone)."""
        settings = self.server.hooks.settings
        request = wh.build_callback_request(
            hook.callback_url,
            item.payload,
            domain=self.domain,
            timestamp=self.server.now(),  # when this dispatch started, fixed for its retries
            secret=self.server.secret,
            version=settings.checksum_version,
            algorithm=settings.checksum_algorithm,
            bearer_auth=settings.auth2_0,
        )
        attempt = 0
        while self._registered(hook):
            if await self._post(request, settings.request_timeout_ms):
                return True
            hook.failed_attempts += 1
            intervals = self.server.hooks.settings.retry_intervals_ms
            if attempt < len(intervals):
                delay = intervals[attempt]
            elif hook.permanent:
                delay = self.server.hooks.settings.permanent_interval_reset_ms
            else:
                return False
            attempt += 1
            await asyncio.sleep(delay / 1000)
        return False

    async def _post(self, request: wh.CallbackRequest, timeout_ms: int) -> bool:
        client = self._http()
        try:
            response = await client.post(
                request.url,
                content=request.body.encode(),
                headers={**CALLBACK_HEADERS, **request.headers},
                timeout=timeout_ms / 1000,
            )
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # A URL that is no URL fails like an unreachable one (node-fetch throws too).
            log.info("webhook %s failed: %r", request.url, exc)
            return False
        return response.is_success or response.status_code == 401

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=True, max_redirects=MAX_REDIRECTS, verify=False
            )
        return self._client

    async def aclose(self) -> None:
        tasks = [*self.workers.values(), *([self.ticker] if self.ticker else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.workers.clear()
        self.ticker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None


_senders: dict[int, WebhookSender] = {}


def sender_of(server: SimulatedServer) -> WebhookSender:
    sender = _senders.get(id(server))
    if sender is None or sender.server is not server:
        sender = _senders[id(server)] = WebhookSender(server)
    return sender


def send_due_events(server: SimulatedServer) -> None:
    """Deliver what the server queued (in the background); a no-op without hooks."""
    if server.hooks.hooks:
        sender_of(server).wake()


async def close_sender(server: SimulatedServer) -> None:
    sender = _senders.pop(id(server), None)
    if sender is not None:
        await sender.aclose()
