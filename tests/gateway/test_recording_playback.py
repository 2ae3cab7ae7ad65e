"""Playback of centrally stored recordings from the gateway host (C1 paths)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bbbfleet.protocol.recordings import PlaybackFormat, RecordingSnapshot
from bbbfleet.storage.recordings import RecordingEntry
from tests.gateway.conftest import Gateway, start_gateway, stop_gateway
from tests.gateway.test_recording_push import push, push_url
from tests.recordings.archives import RECORD_ID, archive, presentation_files

WEBCAMS = presentation_files()[f"presentation/{RECORD_ID}/video/webcams.webm"]


def snapshot(record_id: str = RECORD_ID, state: str = "published") -> RecordingSnapshot:
    return RecordingSnapshot(
        record_id=record_id,
        meeting_id="bf1-room",
        name="Room",
        state=state,
        start_time=1_700_000_000_000,
        end_time=1_700_000_600_000,
        participants=3,
        raw_size=1000,
        playback=(
            PlaybackFormat(
                "presentation", f"https://sim/playback/presentation/2.3/{record_id}", 10, 10, 100
            ),
        ),
    )


async def index(gw: Gateway, state: str = "published", record_id: str = RECORD_ID) -> None:
    """What the recording index would have written after reading the server."""
    alpha = await gw.store.tenants.get("alpha")
    servers = await gw.store.servers.list()
    entry = RecordingEntry(alpha.id, "room", "bf1-room", servers[0].id, snapshot(record_id, state))
    await gw.store.recordings.upsert([entry], 1)


async def stored(gw: Gateway) -> None:
    data = archive()
    assert (await push(gw, push_url(gw, data), data))["imported"] == "true"


@pytest.fixture
async def gw(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    gateway = await start_gateway(database_url, servers=1, recordings_dir=str(tmp_path / "central"))
    try:
        yield gateway
    finally:
        await stop_gateway(gateway)


async def raw_get(gw: Gateway, path: str) -> int:
    """A request with the path exactly as given (httpx would normalise dot segments)."""
    parts = urlsplit(gw.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    writer.close()
    return int(status.split()[1])


async def test_published_central_recording_plays_from_the_gateway(gw: Gateway) -> None:
    await stored(gw)
    await index(gw)
    # the index row came after the import: the worker round marks it central
    assert (await gw.get(f"{gw.url}/presentation/{RECORD_ID}/shapes.svg")).status_code == 404
    await gw.app.state.recording_worker.run_once()  # type: ignore[union-attr]
    recording = await gw.store.recordings.get(RECORD_ID)
    assert recording is not None and recording.location == "central"

    page = await gw.get(f"{gw.url}/playback/presentation/2.3/{RECORD_ID}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"/presentation/{RECORD_ID}/video/webcams.webm" in page.text
    assert f"/playback/video/{RECORD_ID}/video-0.m4v" in page.text

    svg = await gw.get(f"{gw.url}/presentation/{RECORD_ID}/shapes.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content == presentation_files()[f"presentation/{RECORD_ID}/shapes.svg"]
    etag, modified = svg.headers["etag"], svg.headers["last-modified"]
    again = await gw.get(
        f"{gw.url}/presentation/{RECORD_ID}/shapes.svg", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and not again.content
    since = await gw.get(
        f"{gw.url}/presentation/{RECORD_ID}/shapes.svg", headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304

    video = f"{gw.url}/presentation/{RECORD_ID}/video/webcams.webm"
    ranged = await gw.get(video, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == f"bytes 100-199/{len(WEBCAMS)}"
    assert ranged.headers["content-type"] == "video/webm"
    assert ranged.content == WEBCAMS[100:200]
    head = await gw.http.head(video)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(WEBCAMS))

    m4v = await gw.get(f"{gw.url}/playback/video/{RECORD_ID}/video-0.m4v")
    assert m4v.status_code == 200 and m4v.headers["content-type"] == "video/mp4"
    slash = await gw.get(f"{gw.url}/playback/video/{RECORD_ID}")
    assert slash.status_code == 301 and slash.headers["location"].endswith(f"{RECORD_ID}/")


@pytest.mark.parametrize("state", ["unpublished", "deleted", "processing"])
async def test_not_published_is_not_found(gw: Gateway, state: str) -> None:
    await stored(gw)
    await index(gw, state)
    await gw.store.recordings.set_location(RECORD_ID, "central")
    for path in (
        f"/playback/presentation/2.3/{RECORD_ID}",
        f"/presentation/{RECORD_ID}/shapes.svg",
        f"/playback/video/{RECORD_ID}/video-0.m4v",
    ):
        assert (await gw.get(gw.url + path)).status_code == 404, path


async def test_unknown_or_not_central_is_not_found(gw: Gateway) -> None:
    await stored(gw)
    assert (await gw.get(f"{gw.url}/presentation/{RECORD_ID}/shapes.svg")).status_code == 404
    await index(gw)  # indexed, but still "backend"
    assert (await gw.get(f"{gw.url}/presentation/{RECORD_ID}/shapes.svg")).status_code == 404
    other = "f" * 40 + "-1700000000001"
    await index(gw, record_id=other)
    await gw.store.recordings.set_location(other, "central")  # central, but no files
    assert (await gw.get(f"{gw.url}/presentation/{other}/shapes.svg")).status_code == 404
    assert (await gw.get(f"{gw.url}/playback/presentation/2.3/{other}")).status_code == 404


async def test_path_traversal_is_impossible(gw: Gateway, tmp_path: Path) -> None:
    await stored(gw)
    await index(gw)
    await gw.store.recordings.set_location(RECORD_ID, "central")
    secret = Path(gw.settings.recordings_dir).parent / "secret.txt"
    secret.write_text("top secret")
    folder = Path(gw.settings.recordings_dir) / RECORD_ID / "presentation"
    (folder / "evil").symlink_to(secret)
    (folder / "evil-dir").symlink_to(secret.parent, target_is_directory=True)
    assert await raw_get(gw, f"/presentation/{RECORD_ID}/shapes.svg") == 200
    for path in (
        f"/presentation/{RECORD_ID}/../../secret.txt",
        f"/presentation/{RECORD_ID}/..%2f..%2fsecret.txt",
        f"/presentation/{RECORD_ID}/%2e%2e/%2e%2e/secret.txt",
        f"/presentation/{RECORD_ID}/../.manifest.json",
        f"/presentation/{RECORD_ID}/..%2f.manifest.json",
        f"/presentation/{RECORD_ID}/evil",
        f"/presentation/{RECORD_ID}/evil-dir/secret.txt",
        f"/presentation/{RECORD_ID}/%00",
        "/presentation/..%2f..%2fsecret.txt/x",
        f"/playback/video/{RECORD_ID}/..%2fpresentation%2fshapes.svg",
        "/playback/presentation/2.3/..%2f..%2fsecret.txt",
    ):
        assert await raw_get(gw, path) in (400, 404), path


async def test_bbb_playback_player_dir(database_url: str, tmp_path: Path) -> None:
    player = tmp_path / "player"
    (player / "static" / "js").mkdir(parents=True)
    (player / "index.html").write_text("<html>bbb-playback</html>")
    (player / "static" / "js" / "main.js").write_text("console.log('player')")
    (tmp_path / "outside.js").write_text("nope")
    gw = await start_gateway(
        database_url,
        servers=1,
        recordings_dir=str(tmp_path / "central"),
        playback_player_dir=str(player),
    )
    try:
        await stored(gw)
        await index(gw)
        await gw.store.recordings.set_location(RECORD_ID, "central")
        page = await gw.get(f"{gw.url}/playback/presentation/2.3/{RECORD_ID}")
        assert page.status_code == 200 and page.text == "<html>bbb-playback</html>"
        js = await gw.get(f"{gw.url}/playback/presentation/2.3/static/js/main.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert await raw_get(gw, "/playback/presentation/2.3/..%2f..%2foutside.js") == 404
        assert await raw_get(gw, "/playback/presentation/2.3/../outside.js") == 404
        await gw.store.recordings.set_state([RECORD_ID], "unpublished", 2)
        page = await gw.get(f"{gw.url}/playback/presentation/2.3/{RECORD_ID}")
        assert page.status_code == 404
    finally:
        await stop_gateway(gw)
