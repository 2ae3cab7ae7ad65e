"""End to end: record → publish → the server pushes → the gateway imports → the server is
removed → the recording still plays from the gateway (simulated fleet over loopback HTTP)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bbbfleet.gateway.push import PUSH_PATH
from bbbfleet.protocol.recordings_read import parse_get_recordings
from bbbfleet.recordings.storage import DirectoryStorage
from bbbfleet.simulator.push import drain
from bbbfleet.storage.imports import ImportState
from tests.gateway.conftest import q, start_gateway, stop_gateway
from tests.gateway.test_recordings import record


async def test_recording_survives_its_server(database_url: str, tmp_path: Path) -> None:
    gw = await start_gateway(database_url, servers=2, recordings_dir=str(tmp_path / "central"))
    try:
        for index, sim in enumerate(gw.fleet.servers):
            server = sim.state
            server.properties = dataclasses.replace(server.properties, recording_delay_seconds=0)
            server.post_publish_url = f"{gw.url}{PUSH_PATH}"
            server.server_name = f"sim-{index}"
            server.delete_after_import = True
            server.delivery_backoff_seconds = 0.01
        await record(gw, "lecture-1")
        for index in range(len(gw.fleet.servers)):  # any request lets the server publish
            await gw.get(gw.direct(index, "getRecordings", ""))
        await drain()  # the simulated post-publish script pushed the archive

        imports = await gw.store.imports.list()
        assert [(i.state, i.attempts) for i in imports] == [(ImportState.IMPORTED, 1)]
        record_id = imports[0].record_id
        holder = int(imports[0].server_name.removeprefix("sim-"))
        # the gateway answered imported=true with the sha256 sent: the server deleted its copy
        on_server = gw.fleet.servers[holder].state.recordings[record_id]
        assert on_server.push_status == "imported" and not on_server.local_files
        manifest = await DirectoryStorage(Path(gw.settings.recordings_dir)).verify(record_id)
        assert set(manifest.formats) == {"presentation", "video"}

        indexed = await gw.store.recordings.get(record_id)
        assert indexed is not None and indexed.location == "central"
        assert indexed.state == "published" and indexed.meeting_id == "lecture-1"

        await gw.store.servers.remove(f"sim-{holder}", force=True)
        answer = await gw.get(gw.alpha("getRecordings", q(meetingID="lecture-1")))
        (recording,) = parse_get_recordings(answer.text).recordings
        assert recording.record_id == record_id and recording.published
        urls = {f.type: f.url for f in recording.playback}
        assert urls["presentation"] == f"{gw.url}/playback/presentation/2.3/{record_id}"
        player = await gw.get(urls["presentation"])
        assert player.status_code == 200 and record_id in player.text
        for link in re.findall(r'(?:href|src)="([^"]+)"', player.text):
            fetched = await gw.get(f"{gw.url}{link}")
            assert fetched.status_code == 200, link
        metadata = await gw.get(f"{gw.url}/presentation/{record_id}/metadata.xml")
        assert metadata.status_code == 200 and record_id in metadata.text
        for fmt in recording.playback:
            for image in fmt.preview:
                assert image.url.startswith(gw.url)
                assert (await gw.get(image.url)).status_code == 200
        video = await gw.get(urls["video"])
        assert video.status_code == 200

        # unpublished through the API: the gateway stops serving it at once
        unpublish = await gw.get(
            gw.alpha("publishRecordings", q(recordID=record_id, publish="false"))
        )
        assert "<returncode>SUCCESS</returncode>" in unpublish.text, unpublish.text
        assert (await gw.get(urls["presentation"])).status_code == 404
        assert (await gw.get(f"{gw.url}/presentation/{record_id}/metadata.xml")).status_code == 404
    finally:
        await stop_gateway(gw)


async def test_central_recording_stays_manageable_when_its_server_forgot_it(
    database_url: str, tmp_path: Path
) -> None:
    """A real BBB server lists nothing once the post-publish script deleted its published
    directories: publish/unpublish/delete through the API then act on the central copy."""
    gw = await start_gateway(database_url, servers=1, recordings_dir=str(tmp_path / "central"))
    try:
        server = gw.fleet.servers[0].state
        server.properties = dataclasses.replace(server.properties, recording_delay_seconds=0)
        server.post_publish_url = f"{gw.url}{PUSH_PATH}"
        server.server_name = "sim-0"
        await record(gw, "lecture-2")
        await gw.get(gw.direct(0, "getRecordings", ""))
        await drain()
        (row,) = await gw.store.imports.list()
        record_id = row.record_id
        del server.recordings[record_id]  # as BBB after the published directories were deleted
        await gw.app.state.recording_index.poll_once()  # type: ignore[union-attr]
        metadata = f"{gw.url}/presentation/{record_id}/metadata.xml"
        assert (await gw.get(metadata)).status_code == 200  # gone from the server, still central

        def call(action: str, **params: str) -> str:
            return gw.alpha(action, q(recordID=record_id, **params))

        unpublish = await gw.get(call("publishRecordings", publish="false"))
        assert "<returncode>SUCCESS</returncode>" in unpublish.text, unpublish.text
        assert (await gw.get(metadata)).status_code == 404
        publish = await gw.get(call("publishRecordings", publish="true"))
        assert "<returncode>SUCCESS</returncode>" in publish.text, publish.text
        assert (await gw.get(metadata)).status_code == 200
        await gw.app.state.recording_index.poll_once()  # type: ignore[union-attr]
        assert (await gw.get(metadata)).status_code == 200  # the server's silence changes nothing
        delete = await gw.get(call("deleteRecordings"))
        assert "<returncode>SUCCESS</returncode>" in delete.text, delete.text
        assert (await gw.get(metadata)).status_code == 404
    finally:
        await stop_gateway(gw)
