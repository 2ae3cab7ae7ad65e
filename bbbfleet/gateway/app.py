"""Assembles the gateway's Starlette application from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from bbbfleet.fleet.poller import Poller
from bbbfleet.gateway.backends import BackendClient
from bbbfleet.gateway.callbacks import ENDED_PATH, RELAY_PATH, EndCallbacks
from bbbfleet.gateway.directory import Directory
from bbbfleet.gateway.hooks import EVENTS_PATH, HooksService
from bbbfleet.gateway.meetings import Clock, MeetingService, wall_clock_ms
from bbbfleet.gateway.sessions import SessionRouter
from bbbfleet.gateway.web import Gateway
from bbbfleet.settings import Settings
from bbbfleet.storage.repository import Store
from bbbfleet.webhooks.delivery import Deliverer

log = logging.getLogger(__name__)
API_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


def create_app(settings: Settings, clock: Clock = wall_clock_ms) -> Starlette:
    """The gateway as an ASGI app; storage, HTTP pools and the poller live in its lifespan."""
    store = Store.open(settings.database_url)
    directory = Directory(store, settings.cache_seconds)
    backends = BackendClient(
        settings.backend_timeout, settings.backend_connections, settings.backend_checksum_algorithm
    )
    deliverer = Deliverer(store, directory, settings)
    callbacks = EndCallbacks(
        store, settings.public_url, clock, settings.backend_timeout, directory, deliverer
    )
    meetings = MeetingService(store, backends, directory, settings, callbacks, clock)
    poller = Poller(store, backends, settings, clock, on_change=directory.invalidate)
    hooks = HooksService(store, directory, backends, deliverer, settings, clock)
    gateway = Gateway(settings, directory, meetings, SessionRouter(backends, directory), hooks)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await store.db.upgrade()
        tasks = []
        if settings.poller:
            tasks.append(asyncio.create_task(poller.run()))
        if settings.webhooks:
            tasks.append(asyncio.create_task(deliverer.run()))
            tasks.append(asyncio.create_task(hooks.run_registrar()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await deliverer.close()
            await callbacks.close()
            await backends.close()
            await store.close()

    routes: list[BaseRoute] = [
        Route(f"{ENDED_PATH}/{{meeting}}/{{token}}", callbacks.handle, methods=["GET", "POST"]),
        Route(f"{RELAY_PATH}/{{payload}}/{{token}}", callbacks.relay, methods=["GET", "POST"]),
        Route(f"{EVENTS_PATH}/{{server}}/{{token}}", hooks.ingress, methods=["POST"]),
    ]
    for prefix in ("", "/t/{tenant}"):
        routes += [
            Route(f"{prefix}/bigbluebutton/api/hooks/ping", hooks.ping, methods=["GET"]),
            Route(f"{prefix}/bigbluebutton/api", gateway.version, methods=["GET", "POST"]),
            Route(f"{prefix}/bigbluebutton/api/", gateway.version, methods=["GET", "POST"]),
            Route(f"{prefix}/bigbluebutton/", gateway.version, methods=["GET", "POST"]),
            Route(f"{prefix}/bigbluebutton/api/{{call:path}}", gateway.api, methods=API_METHODS),
        ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.store = store
    app.state.directory = directory
    app.state.meetings = meetings
    app.state.poller = poller
    app.state.hooks = hooks
    app.state.deliverer = deliverer
    return app
