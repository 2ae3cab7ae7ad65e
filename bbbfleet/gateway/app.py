"""Assembles the gateway's Starlette application from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bbbfleet.fleet.poller import Poller
from bbbfleet.gateway.backends import BackendClient
from bbbfleet.gateway.callbacks import (
    ENDED_PATH,
    RELAY_PATH,
    EndCallbacks,
    restore_callback_urls,
)
from bbbfleet.gateway.directory import Directory
from bbbfleet.gateway.hooks import EVENTS_PATH, HooksService
from bbbfleet.gateway.meetings import Clock, MeetingService, wall_clock_ms
from bbbfleet.gateway.push import PUSH_PATH, PushReceiver
from bbbfleet.gateway.recordings import RecordingService
from bbbfleet.gateway.sessions import SessionRouter
from bbbfleet.gateway.web import Gateway
from bbbfleet.protocol.recordings import PUBLISHED
from bbbfleet.recordings.imports import Importer, RecordingWorker
from bbbfleet.recordings.index import RecordingIndex
from bbbfleet.recordings.playback import PLAYER_PATH, PlaybackServer
from bbbfleet.recordings.retention import RecordingRemover, Retention
from bbbfleet.recordings.storage import DirectoryStorage
from bbbfleet.settings import Settings
from bbbfleet.storage.recordings import CENTRAL
from bbbfleet.storage.repository import Server, Store
from bbbfleet.webhooks.delivery import Deliverer

log = logging.getLogger(__name__)
API_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
READ = ["GET", "HEAD"]


async def _add_slash(request: Request) -> Response:
    """The video format's URL is its directory: relative links need the trailing slash."""
    return RedirectResponse(f"{request.url.path}/", status_code=301)


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
    recording_index = RecordingIndex(
        store,
        backends,
        settings,
        clock,
        # recordings' metadata shows the tenant's own callback URLs, not the relay URLs
        lambda _key, value: restore_callback_urls(value, settings.public_url),
    )
    recordings = DirectoryStorage(settings.recordings_dir)
    recording_service = RecordingService(
        store, backends, directory, settings, recording_index, clock, recordings.formats
    )
    gateway = Gateway(
        settings, directory, meetings, SessionRouter(backends, directory), recording_service, hooks
    )

    async def pushed(server: Server, record_id: str) -> None:
        await recording_index.refresh_server(server, [record_id])

    async def imported(record_id: str) -> None:
        await store.recordings.set_location(record_id, CENTRAL)

    importer = Importer(store, recordings, settings, clock, pushed, imported)

    async def playable(record_id: str) -> bool:
        found = await store.recordings.get(record_id)
        return found is not None and found.state == PUBLISHED and found.location == CENTRAL

    playback = PlaybackServer(recordings, playable, settings.playback_player_dir)
    remover = RecordingRemover(store, recordings, backends, clock)
    worker = RecordingWorker(importer, settings, Retention(remover).run_once)
    push = PushReceiver(settings, directory, importer, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await store.db.upgrade()
        tasks = []
        if settings.poller:
            tasks.append(asyncio.create_task(poller.run()))
            tasks.append(asyncio.create_task(recording_index.run()))
        if settings.recording_worker:
            tasks.append(asyncio.create_task(worker.run()))
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
        Route(PUSH_PATH, push.handle, methods=API_METHODS),
        Route("/presentation/{record_id}/{path:path}", playback.presentation_file, methods=READ),
        Route("/playback/video/{record_id}", _add_slash, methods=READ),
        Route("/playback/video/{record_id}/{path:path}", playback.video_file, methods=READ),
        Route(f"{PLAYER_PATH}/{{path:path}}", playback.player, methods=READ),
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
    app.state.recording_index = recording_index
    app.state.importer = importer
    app.state.recording_worker = worker
    app.state.recording_remover = remover
    return app
