"""Serving centrally stored recordings on the gateway host, at the paths BBB's nginx uses (C1).

* ``/playback/presentation/2.3/<recordID>`` — the presentation player.  With
  ``playback_player_dir`` set it is BBB's own player (bbb-playback's build, served as its nginx
  rule does: the file if it exists, else ``index.html``); otherwise a minimal built-in page that
  lists the recording's media.
* ``/presentation/<recordID>/<path>`` — the presentation format's files (what the player loads).
* ``/playback/video/<recordID>/<path>`` — the video format's directory (its own ``index.html``).

Only recordings the index shows as ``published`` **and** stored centrally are served; anything
else (unpublished, deleted, unknown, still on its server) is a plain 404, so a recording's
existence is not revealed.  Paths are resolved and checked to stay inside the recording
(``DirectoryStorage.file``).  Files go out with their content type, ``ETag`` and
``Last-Modified`` (conditional requests answer 304) and with Range support, which video players
need for seeking.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
from collections.abc import Awaitable, Callable
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from bbbfleet.recordings.archive import valid_record_id
from bbbfleet.recordings.storage import RecordingStorage, StoredFile

PRESENTATION = "presentation"
VIDEO = "video"
PLAYER_PATH = "/playback/presentation/2.3"
CONTENT_TYPES = {
    ".xml": "text/xml; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".txt": "text/plain; charset=utf-8",
    ".webm": "video/webm",
    ".m4v": "video/mp4",
    ".mp4": "video/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "text/javascript",
    ".vtt": "text/vtt",
    ".woff2": "font/woff2",
}
MEDIA = (".webm", ".m4v", ".mp4")
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}

Playable = Callable[[str], Awaitable[bool]]


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def etag_of(stored: StoredFile) -> str:
    token = hashlib.md5(f"{stored.mtime}-{stored.size}".encode(), usedforsecurity=False)
    return f'"{token.hexdigest()}"'


def not_modified(request: Request, etag: str, mtime: float) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        return etag in {t.strip().removeprefix("W/") for t in tags.split(",")} or tags == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def send(request: Request, stored: StoredFile, name: str) -> Response:
    etag = etag_of(stored)
    headers = {**HEADERS, "ETag": etag, "Last-Modified": formatdate(stored.mtime, usegmt=True)}
    if not_modified(request, etag, stored.mtime):
        return Response(status_code=304, headers=headers)
    return FileResponse(stored.path, headers=headers, media_type=content_type(name))


def not_found() -> Response:
    return Response("Not Found", status_code=404, media_type="text/plain", headers=HEADERS)


class PlaybackServer:
    def __init__(
        self, storage: RecordingStorage, playable: Playable, player_dir: Path | None
    ) -> None:
        self.storage = storage
        self.playable = playable
        self.player_dir = player_dir.resolve() if player_dir else None

    async def _file(self, record_id: str, fmt: str, path: str) -> StoredFile | None:
        if not valid_record_id(record_id) or not await self.playable(record_id):
            return None
        return await self.storage.file(record_id, f"{fmt}/{path}")

    async def presentation_file(self, request: Request) -> Response:
        """``/presentation/<recordID>/<path>``"""
        record_id = request.path_params["record_id"]
        path = request.path_params["path"]
        stored = await self._file(record_id, PRESENTATION, path)
        return not_found() if stored is None else send(request, stored, path)

    async def video_file(self, request: Request) -> Response:
        """``/playback/video/<recordID>/<path>`` (the directory itself: its ``index.html``)."""
        record_id = request.path_params["record_id"]
        path = request.path_params.get("path") or "index.html"
        if path.endswith("/"):
            path += "index.html"
        stored = await self._file(record_id, VIDEO, path)
        return not_found() if stored is None else send(request, stored, path)

    async def player(self, request: Request) -> Response:
        """``/playback/presentation/2.3/<recordID>`` and, with bbb-playback, its static files."""
        path: str = request.path_params["path"]
        if self.player_dir is not None:
            asset = self._player_asset(path)
            if asset is not None:
                return send(request, asset, asset.path.name)
        record_id = path.strip("/").split("/", 1)[0]
        if not valid_record_id(record_id) or not await self.playable(record_id):
            return not_found()
        if self.player_dir is not None:
            index = self._player_asset("index.html")
            if index is None:
                return not_found()
            return send(request, index, "index.html")
        return await self._builtin_page(record_id)

    def _player_asset(self, path: str) -> StoredFile | None:
        assert self.player_dir is not None
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or "\x00" in path:
            return None
        try:
            resolved = self.player_dir.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.player_dir) or not resolved.is_file():
            return None
        stat = resolved.stat()
        return StoredFile(resolved, stat.st_size, stat.st_mtime)

    async def _builtin_page(self, record_id: str) -> Response:
        manifest = await self.storage.manifest(record_id)
        if manifest is None:
            return not_found()
        return HTMLResponse(
            builtin_page(record_id, [f.path for f in manifest.files]), headers=HEADERS
        )


def _url(record_id: str, path: str) -> str:
    fmt, _sep, rest = path.partition("/")
    if fmt == PRESENTATION:
        return f"/presentation/{record_id}/{rest}"
    if fmt == VIDEO:
        return f"/playback/video/{record_id}/{rest}"
    return ""


def builtin_page(record_id: str, paths: list[str]) -> str:
    """A plain page: the recording's videos to play, its slides, and every file as a link."""
    rid = html.escape(record_id)
    videos = [p for p in paths if p.endswith(MEDIA) and _url(record_id, p)]
    thumbs = [p for p in paths if "/thumbnails/" in p and p.endswith(".png")]
    links = [p for p in paths if _url(record_id, p)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Recording {rid}</title>",
        "<style>body{font-family:sans-serif;margin:2em}video{max-width:100%}"
        "img{margin:2px;border:1px solid #ccc}</style></head><body>",
        f"<h1>Recording {rid}</h1>",
        "<p>This gateway serves the recording's files; install BBB's player "
        "(bbb-playback) for the full playback.</p>",
    ]
    for path in videos:
        url = html.escape(_url(record_id, path), quote=True)
        parts.append(f'<h2>{html.escape(path)}</h2><video controls preload="metadata" src="{url}">')
        parts.append("</video>")
    if thumbs:
        parts.append("<h2>Slides</h2><div>")
        for path in thumbs:
            url = html.escape(_url(record_id, path), quote=True)
            parts.append(f'<img src="{url}" alt="{html.escape(Path(path).name)}" width="176">')
        parts.append("</div>")
    parts.append("<h2>Files</h2><ul>")
    for path in links:
        url = html.escape(_url(record_id, path), quote=True)
        parts.append(f'<li><a href="{url}">{html.escape(path)}</a></li>')
    parts.append("</ul></body></html>")
    return "\n".join(parts)
