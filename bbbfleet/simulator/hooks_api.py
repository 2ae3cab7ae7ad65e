"""The bbb-webhooks API of a simulated server: ``/bigbluebutton/api/hooks/{create,list,destroy}``
(checksum-protected, REFERENCE.md §11.1-§11.2) and ``hooks/ping``.

Answers are bbb-webhooks' own (``protocol.webhooks``): single-line XML, ``text/xml;
charset=utf-8``, HTTP 200 for failures too.  Where bbb-webhooks crashes (a checksum of an
unknown length, ``getRaw`` that is not JSON) the simulator answers checksumError or
createHookError instead of a 500 or no answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bbbfleet.protocol import errors as E
from bbbfleet.protocol import webhooks as wh
from bbbfleet.simulator.api import API_PREFIX, injected_fault
from bbbfleet.simulator.server import SimulatedServer
from bbbfleet.simulator.webhooks import send_due_events

ServerResolver = Callable[[Request], SimulatedServer | None]
HooksHandler = Callable[[SimulatedServer, dict[str, str]], str]


def hooks_answer(body: str) -> Response:
    return Response(body, 200, media_type=wh.HOOKS_MEDIA_TYPE)


def create(server: SimulatedServer, params: dict[str, str]) -> str:
    request = wh.parse_hooks_create(params)
    if isinstance(request, E.ApiError):
        return wh.hooks_error_xml(request)
    hook, duplicated = server.hooks.create(request)
    if duplicated:
        return wh.hooks_duplicate_xml(hook.hook_id)
    return wh.hooks_create_xml(hook.hook_id, hook.permanent, hook.get_raw)


def list_hooks(server: SimulatedServer, params: dict[str, str]) -> str:
    meeting_id = params.get("meetingID")
    if meeting_id is not None and not server.hooks.settings.scoped_hooks:
        # v3.3.x passes its hooks to a comparator factory instead of sorting them and fails.
        return wh.hooks_error_xml(E.HOOKS_LIST_ERROR)
    return wh.hooks_list_xml(server.hooks.listing(meeting_id))


def destroy(server: SimulatedServer, params: dict[str, str]) -> str:
    hook_id = params.get("hookID")
    if hook_id is None:
        return wh.hooks_error_xml(E.HOOKS_MISSING_HOOK_ID)
    if not server.hooks.destroy(hook_id):
        return wh.hooks_error_xml(E.HOOKS_DESTROY_MISSING)
    return wh.hooks_destroy_xml()


HOOKS_HANDLERS: dict[str, HooksHandler] = {
    wh.HOOKS_CREATE: create,
    wh.HOOKS_LIST: list_hooks,
    wh.HOOKS_DESTROY: destroy,
}


def _hooks_endpoint(
    method: str, handler: HooksHandler, resolve: ServerResolver
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server = resolve(request)
        if server is None:
            return PlainTextResponse("Not Found", status_code=404)
        fault = await injected_fault(server.faults)
        if fault is not None:
            return fault
        raw_query: bytes = request.scope["query_string"]
        settings = server.hooks.settings
        if not wh.hooks_checksum_valid(
            method, raw_query, server.secret, settings.supported_checksum_algorithms
        ):
            return hooks_answer(wh.hooks_error_xml(E.HOOKS_CHECKSUM))
        body = handler(server, wh.hooks_query_params(raw_query))
        send_due_events(server)
        return hooks_answer(body)

    return endpoint


def _ping(resolve: ServerResolver) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if resolve(request) is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(wh.HOOKS_PING_TEXT, 200)  # Express res.write: no Content-Type

    return endpoint


async def _not_found(request: Request) -> Response:
    body = wh.hooks_not_found_html(request.method, request.url.path)
    headers = {
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body, 404, headers, media_type="text/html; charset=utf-8")


ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def hooks_routes(resolve: ServerResolver) -> list[BaseRoute]:
    """GET (and HEAD) only, as bbb-webhooks' Express routes; everything else under
    ``/bigbluebutton/api/hooks`` (nginx sends it all to bbb-webhooks) is Express's 404."""
    routes: list[BaseRoute] = [
        Route(f"{API_PREFIX}/{method}", _hooks_endpoint(method, handler, resolve), methods=["GET"])
        for method, handler in HOOKS_HANDLERS.items()
    ]
    routes.append(Route(f"{API_PREFIX}/{wh.HOOKS_PING}", _ping(resolve), methods=["GET"]))
    routes.append(Route(f"{API_PREFIX}/hooks{{rest:path}}", _not_found, methods=ANY_METHOD))
    return routes
