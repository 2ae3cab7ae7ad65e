"""The files a simulated recording publishes, as BBB 3.0's publish scripts lay them out.

A real server keeps each playback format of a recording in
``/var/bigbluebutton/published/<format>/<recordID>/`` and nginx serves them:

* ``presentation`` (``record-and-playback/presentation/scripts/publish/presentation.rb``):
  ``metadata.xml``, ``shapes.svg``, ``tldraw.json``, ``panzooms.xml``, ``cursor.xml``,
  ``deskshare.xml``, ``slides_new.xml`` (chat), ``captions.json``, ``presentation_text.json``,
  ``external_videos.json``, ``video/webcams.webm`` and ``presentation/<presentationId>/``
  (``slide-<n>.png``, ``thumbnails/thumb-<n>.png``, ``textfiles/slide-<n>.txt``).  nginx maps
  ``/presentation/`` onto the published root; the player is ``/playback/presentation/2.3/<id>``.
* ``video`` (``record-and-playback/video/scripts/publish/video.rb``, nginx ``playback-video``):
  ``index.html``, ``video.xml``, ``video-0.m4v`` (the default preset's one format),
  ``captions.json``, ``metadata.xml`` and the player's ``css/``, ``js/``, ``video-js/``; nginx
  aliases ``/playback/video/`` onto ``/var/bigbluebutton/published/video/``, so the format URL
  ``<server>/playback/video/<recordID>/`` is the directory itself.

Everything is generated deterministically from the recording (same recording, same bytes), and
small: media files are stand-ins of a few kilobytes, images are real PNGs.  A format's ``size``
is the byte count of its files *including* its own ``metadata.xml`` (BBB's ``du``-style count
also adds directory inodes and is taken before ``<size>`` is written; the simulator makes the
number exact instead, so a client can check it against what it downloads).

``recording_archive`` packs the published directories into the tar of contract C1 that the
post-publish push sends.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from bbbfleet.protocol.recordings import PlaybackFormat, RecordingSnapshot, escape

PRESENTATION: Final = "presentation"
VIDEO: Final = "video"
FORMATS: Final = (PRESENTATION, VIDEO)
METADATA_XML: Final = "metadata.xml"

CONTENT_TYPES: Final = {
    ".xml": "text/xml",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
    ".txt": "text/plain",
    ".webm": "video/webm",
    ".m4v": "video/mp4",
    ".mp4": "video/mp4",
    ".html": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".vtt": "text/vtt",
}


def content_type(path: str) -> str:
    """The media type nginx's ``mime.types`` gives a file of the recording."""
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


@dataclass(frozen=True, slots=True)
class Slide:
    """One page of the meeting's presentation: its thumbnail's alt text is the page's text."""

    number: int
    text: str


# --- small real files ---------------------------------------------------------------------------


def png(width: int, height: int, shade: int) -> bytes:
    """A valid grey PNG (8-bit greyscale), compressed: a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + bytes([shade & 0xFF]) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(row * height, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _media(kind: str, record_id: str, duration_ms: int, participants: int) -> bytes:
    """A stand-in for an encoded media file: a recognisable header and deterministic filler
    whose length grows with the meeting (1 KiB per minute and participant, at most 48 KiB)."""
    minutes = max(duration_ms // 60_000, 1)
    length = min(1024 * minutes * max(participants, 1), 48 * 1024)
    seed = hashlib.sha256(f"{kind}/{record_id}".encode()).digest()
    filler = (seed * (length // len(seed) + 1))[:length]
    magic = b"\x1a\x45\xdf\xa3" if kind.endswith("webm") else b"\x00\x00\x00\x18ftypM4V "
    return magic + f"bbbfleet simulated {kind} {record_id}\n".encode() + filler


# --- the files of each format -------------------------------------------------------------------


def presentation_files(
    record_id: str,
    presentation_id: str,
    slides: Sequence[Slide],
    duration_ms: int,
    participants: int,
) -> dict[str, bytes]:
    """Every file of the presentation format except ``metadata.xml``."""
    seconds = duration_ms / 1000
    per_slide = seconds / max(len(slides), 1)
    base = f"presentation/{presentation_id}"
    images = "".join(
        f'<image id="image{s.number}" class="slide" in="{(s.number - 1) * per_slide:.1f}" '
        f'out="{s.number * per_slide:.1f}" xlink:href="{base}/slide-{s.number}.png" '
        f'width="1600" height="1200" x="0" y="0" style="visibility:hidden" '
        f'text="{base}/textfiles/slide-{s.number}.txt"/>\n'
        for s in slides
    )
    files: dict[str, bytes] = {
        "shapes.svg": (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'version="1.1" width="1600" height="1200" viewBox="0 0 1600 1200" id="svgfile">\n'
            f"{images}</svg>\n"
        ).encode(),
        "tldraw.json": json.dumps(
            [
                {"id": s.number, "timestamp": (s.number - 1) * per_slide, "shapes": {}}
                for s in slides
            ]
        ).encode(),
        "panzooms.xml": (
            b'<?xml version="1.0"?>\n<recording id="panzoom_events">\n'
            b'  <event timestamp="0.0"><viewBox>0.0 0.0 1600.0 1200.0</viewBox></event>\n'
            b"</recording>\n"
        ),
        "cursor.xml": (
            b'<?xml version="1.0"?>\n<recording id="cursor_events">\n'
            b'  <event timestamp="0.0"><cursor>-1.0 -1.0</cursor></event>\n</recording>\n'
        ),
        "deskshare.xml": b'<?xml version="1.0"?>\n<recording id="deskshare_events"/>\n',
        "slides_new.xml": (
            b'<?xml version="1.0"?>\n<popcorn>\n'
            b'  <chattimeline in="0" direction="down" name="System" '
            b'message="Welcome to the recorded meeting" target="chat"/>\n</popcorn>\n'
        ),
        "captions.json": b"[]",
        "presentation_text.json": json.dumps(
            {presentation_id: {str(s.number): s.text for s in slides}}
        ).encode(),
        "external_videos.json": b"[]",
        "video/webcams.webm": _media("webcams.webm", record_id, duration_ms, participants),
    }
    for slide in slides:
        files[f"{base}/slide-{slide.number}.png"] = png(160, 120, 200 + slide.number)
        files[f"{base}/thumbnails/thumb-{slide.number}.png"] = png(176, 136, 200 + slide.number)
        files[f"{base}/textfiles/slide-{slide.number}.txt"] = slide.text.encode()
    return files


def video_files(record_id: str, name: str, duration_ms: int, participants: int) -> dict[str, bytes]:
    """Every file of the video format except ``metadata.xml``."""
    title = escape(name)
    return {
        "index.html": (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
            f"{title}</title>\n"
            '<link rel="stylesheet" href="video-js/video-js.min.css">\n'
            '<link rel="stylesheet" href="css/video.css"></head>\n'
            '<body><video id="video" class="video-js" controls preload="auto">'
            '<source src="video-0.m4v" type="video/mp4"></video>\n'
            '<script src="video-js/video.min.js"></script>'
            '<script src="js/video.js"></script></body></html>\n'
        ).encode(),
        "video.xml": b'<?xml version="1.0"?>\n<popcorn/>\n',
        "video-0.m4v": _media("video-0.m4v", record_id, duration_ms, participants),
        "captions.json": b"[]",
        "css/video.css": b"body{margin:0;background:#06172a}#video{width:100%;height:100vh}\n",
        "js/video.js": b"videojs('video');\n",
        "video-js/video.min.js": b"/* video.js stand-in */\nwindow.videojs=function(){};\n",
        "video-js/video-js.min.css": b".video-js{display:block}\n",
    }


@dataclass(frozen=True, slots=True)
class FileSpec:
    """What a recording's files are generated from: a few numbers instead of the bytes, so a
    server holding many recordings stays small; ``static()`` makes the files when asked."""

    record_id: str
    name: str
    presentation_id: str
    slides: tuple[Slide, ...]
    duration_ms: int
    participants: int

    def static(self) -> dict[str, dict[str, bytes]]:
        """format -> relative path -> bytes, every file but ``metadata.xml``."""
        return {
            PRESENTATION: presentation_files(
                self.record_id,
                self.presentation_id,
                self.slides,
                self.duration_ms,
                self.participants,
            ),
            VIDEO: video_files(self.record_id, self.name, self.duration_ms, self.participants),
        }

    def static_sizes(self) -> dict[str, int]:
        return {fmt: sum(len(b) for b in tree.values()) for fmt, tree in self.static().items()}


# --- metadata.xml -------------------------------------------------------------------------------


def metadata_xml(recording: RecordingSnapshot, playback: PlaybackFormat) -> bytes:
    """One format's ``metadata.xml`` as the publish scripts leave it (Nokogiri, 2-space
    indent), with that format's ``<playback>`` and the recording's current state."""
    state = recording.state
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<recording>",
        f"  <id>{escape(recording.record_id)}</id>",
        f"  <state>{escape(state)}</state>",
        f"  <published>{'true' if recording.published else 'false'}</published>",
        f"  <start_time>{recording.start_time}</start_time>",
        f"  <end_time>{recording.end_time}</end_time>",
        f"  <participants>{recording.participants}</participants>",
        f'  <meeting id="{escape(recording.record_id)}" '
        f'externalId="{escape(recording.meeting_id)}" name="{escape(recording.name)}" '
        f'breakout="{"true" if recording.is_breakout else "false"}"/>',
    ]
    if recording.metadata is not None:
        lines.append("  <meta>")
        lines += [f"    <{k}>{escape(v)}</{k}>" for k, v in recording.metadata]
        lines.append("  </meta>")
    if recording.breakout is not None:
        b = recording.breakout
        lines.append(
            f'  <breakout parentMeetingId="{escape(b.parent_id)}" sequence="{b.sequence}" '
            f'freeJoin="{"true" if b.free_join else "false"}" '
            f'meetingId="{escape(recording.record_id)}"/>'
        )
    if recording.breakout_rooms:
        lines.append("  <breakoutRooms>")
        lines += [f"    <breakoutRoom>{escape(r)}</breakoutRoom>" for r in recording.breakout_rooms]
        lines.append("  </breakoutRooms>")
    lines += [
        "  <playback>",
        f"    <format>{escape(playback.type)}</format>",
        f"    <link>{escape(playback.url)}</link>",
        f"    <processing_time>{playback.processing_time_ms}</processing_time>",
        f"    <duration>{playback.duration_ms}</duration>",
    ]
    if playback.preview:
        lines += ["    <extensions>", "      <preview>", "        <images>"]
        lines += [
            f'          <image width="{i.width}" height="{i.height}" alt="{escape(i.alt)}">'
            f"{escape(i.url)}</image>"
            for i in playback.preview
        ]
        lines += ["        </images>", "      </preview>", "    </extensions>"]
    lines += [
        f"    <size>{playback.size}</size>",
        "  </playback>",
        f"  <raw_size>{recording.raw_size}</raw_size>",
        "</recording>",
        "",
    ]
    return "\n".join(lines).encode()


def sized(recording: RecordingSnapshot, playback: PlaybackFormat, static_bytes: int) -> int:
    """The format's size: its other files plus its metadata.xml, which states that very size
    (a fixed point: a digit more in ``<size>`` is a byte more in the file)."""
    size = static_bytes
    for _ in range(8):
        total = static_bytes + len(metadata_xml(recording, replace(playback, size=size)))
        if total == size:
            break
        size = total
    return size


def with_sizes(recording: RecordingSnapshot, static_sizes: Mapping[str, int]) -> RecordingSnapshot:
    """The snapshot with each format's ``size`` set to the bytes it publishes (``static_sizes``:
    the bytes of each format's other files)."""
    playback = tuple(
        replace(f, size=sized(recording, f, static_sizes.get(f.type, 0)))
        for f in recording.playback
    )
    return replace(recording, playback=playback)


def format_tree(
    recording: RecordingSnapshot, static: Mapping[str, Mapping[str, bytes]], fmt: str
) -> dict[str, bytes] | None:
    """All files of one format (``metadata.xml`` first), or None when it has no such format.
    ``recording`` must carry its sizes (``with_sizes``)."""
    playback = next((f for f in recording.playback if f.type == fmt), None)
    if playback is None:
        return None
    return {METADATA_XML: metadata_xml(recording, playback), **static.get(fmt, {})}


# --- the archive (contract C1) ------------------------------------------------------------------


def recording_archive(
    recording: RecordingSnapshot,
    static: Mapping[str, Mapping[str, bytes]],
    *,
    compress: bool = False,
) -> bytes:
    """The recording's published directories as one tar: ``<format>/<recordID>`` and every
    directory and file below it, directories before their files, sorted, owned by root with a fixed mtime (the recording's
    end), so the same recording always gives the same bytes (and the same sha256)."""
    mtime = recording.end_time // 1000
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        added: set[str] = set()

        def directory(path: str) -> None:
            parts = path.split("/")
            # from <format>/<recordID> down: the format directory itself is no entry (as
            # ``tar -C published -c presentation/<recordID>`` makes it)
            for depth in range(2, len(parts) + 1):
                name = "/".join(parts[:depth])
                if name in added:
                    continue
                added.add(name)
                info = tarfile.TarInfo(name)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
                tar.addfile(info)

        for fmt in FORMATS:
            files = format_tree(recording, static, fmt)
            if files is None:
                continue
            root = f"{fmt}/{recording.record_id}"
            directory(root)
            for relative in sorted(files):
                path = f"{root}/{relative}"
                directory(path.rsplit("/", 1)[0])
                data = files[relative]
                info = tarfile.TarInfo(path)
                info.size, info.mode, info.mtime = len(data), 0o644, mtime
                tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw
