"""What a simulated server's nginx serves besides the API: recording playback and text tracks.

    GET /playback/presentation/2.3/<recordID>          the presentation player (a small page)
    GET /presentation/<recordID>/<path>                the presentation format's files
    GET /playback/video/<recordID>/                    the video format's index.html
    GET /playback/video/<recordID>/<path>              the video format's files
    GET /bigbluebutton/textTrack/<token>/<recordID>/<kind>_<lang>.vtt   a text track

Only published recordings whose files are still there are served (unpublished, deleted,
processing, pushed-and-deleted ones answer 404, as nginx finds no file).  A text track needs a
token from getRecordingTextTracks that is used once (401 otherwise, nginx's ``auth_request``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bbbfleet.protocol.recordings import escape
from bbbfleet.protocol.text_tracks import TRACK_PATH
from bbbfleet.simulator.callbacks import send_due_callbacks
from bbbfleet.simulator.recording_files import PRESENTATION, VIDEO, content_type
from bbbfleet.simulator.server import SimulatedServer

ServerResolver = Callable[[Request], SimulatedServer | None]
NOT_FOUND = "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1>"
NOT_FOUND += "</center><hr><center>nginx</center></body></html>\n"
PLAYER = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>Recording Playback</title></head>\n"
    '<body><div id="root" data-record-id="{record_id}">'
    '<script src="/presentation/{record_id}/metadata.xml" type="text/plain"></script>'
    "</div></body></html>\n"
)


def _not_found() -> Response:
    return HTMLResponse(NOT_FOUND, status_code=404)


def _file(data: bytes | None, path: str) -> Response:
    if data is None:
        return _not_found()
    return Response(data, 200, media_type=content_type(path))


def _endpoint(
    resolve: ServerResolver, handler: Callable[[SimulatedServer, Request], Response]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server = resolve(request)
        if server is None:
            return PlainTextResponse("Not Found", status_code=404)
        response = handler(server, request)
        send_due_callbacks(server)  # looking may have published a recording
        return response

    return endpoint


def player(server: SimulatedServer, request: Request) -> Response:
    record_id: str = request.path_params["record_id"]
    if not server.is_published_here(record_id):
        return _not_found()
    return HTMLResponse(PLAYER.format(record_id=escape(record_id)))


def presentation_file(server: SimulatedServer, request: Request) -> Response:
    path: str = request.path_params["path"]
    return _file(server.published_file(PRESENTATION, request.path_params["record_id"], path), path)


def video_file(server: SimulatedServer, request: Request) -> Response:
    path: str = request.path_params.get("path") or "index.html"
    return _file(server.published_file(VIDEO, request.path_params["record_id"], path), path)


def text_track(server: SimulatedServer, request: Request) -> Response:
    params = request.path_params
    valid, data = server.text_track_file(params["token"], params["record_id"], params["track"])
    if not valid:
        return PlainTextResponse("unauthorized", status_code=401)
    if data is None:
        return _not_found()
    return Response(data, 200, media_type="text/vtt")


def playback_routes(resolve: ServerResolver) -> list[BaseRoute]:
    table: list[tuple[str, Callable[[SimulatedServer, Request], Response]]] = [
        ("/playback/presentation/2.3/{record_id}", player),
        ("/playback/presentation/2.3/{record_id}/", player),
        ("/presentation/{record_id}/{path:path}", presentation_file),
        ("/playback/video/{record_id}/", video_file),
        ("/playback/video/{record_id}/{path:path}", video_file),
        (f"{TRACK_PATH}/{{token}}/{{record_id}}/{{track}}", text_track),
    ]
    return [Route(path, _endpoint(resolve, h), methods=["GET"]) for path, h in table]
