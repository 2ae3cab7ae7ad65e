"""Starlette applications that put ``SimulatedServer`` state on HTTP.

``create_app`` serves one server at the root (``/bigbluebutton/api/…``, ``/html5client/join``,
recording playback, ``/_sim/…``), the way a real BBB host looks.  ``create_multi_app`` serves
many servers from one app under ``/<n>/…``; set each server's ``server_url`` to ``<base>/<n>``
so its redirects and client URLs point back under its prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Router

from bbbfleet.simulator.api import api_routes
from bbbfleet.simulator.control import control_routes
from bbbfleet.simulator.hooks_api import hooks_routes
from bbbfleet.simulator.playback import playback_routes
from bbbfleet.simulator.server import SimulatedServer


def _app(routes: list[BaseRoute]) -> Starlette:
    app = Starlette(routes=routes)
    # bbb-web does not redirect ``/create/`` to ``/create``; an unknown path is a plain 404.
    app.router.redirect_slashes = False
    return app


def create_app(server: SimulatedServer) -> Starlette:
    """One simulated server on its own host."""

    def resolve(_request: Request) -> SimulatedServer:
        return server

    return _app(
        [
            *api_routes(resolve),
            *hooks_routes(resolve),
            *playback_routes(resolve),
            *control_routes(resolve),
        ]
    )


def create_multi_app(servers: Sequence[SimulatedServer]) -> Starlette:
    """Many simulated servers in one app: server ``n`` lives under ``/<n>/``."""

    def resolve(request: Request) -> SimulatedServer | None:
        index: int = request.path_params["server"]
        return servers[index] if 0 <= index < len(servers) else None

    routes = [
        *api_routes(resolve),
        *hooks_routes(resolve),
        *playback_routes(resolve),
        *control_routes(resolve),
    ]
    per_server = Router(routes, redirect_slashes=False)
    return _app([Mount("/{server:int}", app=per_server)])
