"""Assembles the gateway's Starlette application from settings."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from bbbfleet.gateway.backends import BackendClient
from bbbfleet.gateway.directory import Directory
from bbbfleet.gateway.meetings import MeetingService
from bbbfleet.gateway.web import Gateway
from bbbfleet.settings import Settings
from bbbfleet.storage import database
from bbbfleet.storage.repository import Store

log = logging.getLogger(__name__)
API_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


def create_app(settings: Settings) -> Starlette:
    """The gateway as an ASGI app; storage and HTTP pools are opened by its lifespan."""
    store = Store(database.create_engine(settings.database_url))
    directory = Directory(store, settings.cache_seconds)
    backends = BackendClient(
        settings.backend_timeout, settings.backend_connections, settings.backend_checksum_algorithm
    )
    meetings = MeetingService(store, backends, directory, settings.public_url)
    gateway = Gateway(settings, directory, meetings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await database.upgrade(store.engine)
        try:
            yield
        finally:
            await backends.close()
            await store.close()

    routes = []
    for prefix in ("", "/t/{tenant}"):
        routes += [
            Route(f"{prefix}/bigbluebutton/api", gateway.version, methods=["GET", "POST"]),
            Route(f"{prefix}/bigbluebutton/api/", gateway.version, methods=["GET", "POST"]),
            Route(f"{prefix}/bigbluebutton/", gateway.version, methods=["GET", "POST"]),
            Route(f"{prefix}/bigbluebutton/api/{{call:path}}", gateway.api, methods=API_METHODS),
        ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.store = store
    app.state.directory = directory
    return app
