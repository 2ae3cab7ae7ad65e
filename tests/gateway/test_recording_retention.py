"""Tenant recording retention, applied by the recording worker on a ManualClock."""

from __future__ import annotations

from pathlib import Path

from bbbfleet.storage.imports import ImportState
from tests.gateway.conftest import ManualClock, start_gateway, stop_gateway
from tests.gateway.test_recording_playback import index, stored
from tests.recordings.archives import RECORD_ID

DAY = 86_400


async def test_retention_deletes_old_central_recordings(database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(1_700_000_000_000)  # the indexed recording starts at this instant
    gw = await start_gateway(
        database_url, servers=1, clock=clock, recordings_dir=str(tmp_path / "central")
    )
    try:
        await stored(gw)
        await index(gw)
        worker = gw.app.state.recording_worker  # type: ignore[union-attr]
        await worker.run_once()
        url = f"{gw.url}/presentation/{RECORD_ID}/shapes.svg"
        assert (await gw.get(url)).status_code == 200

        clock.advance(400 * DAY)
        await worker.run_once()  # retention is off by default: nothing happens
        assert (await gw.get(url)).status_code == 200

        await gw.store.tenants.configure("beta", recording_retention_days=1)  # not its recording
        await gw.store.tenants.configure("alpha", recording_retention_days=500)
        await worker.run_once()
        assert (await gw.get(url)).status_code == 200

        clock.advance(100 * DAY + 1)
        await worker.run_once()
        assert (await gw.get(url)).status_code == 404
        assert not (Path(gw.settings.recordings_dir) / RECORD_ID).exists()
        recording = await gw.store.recordings.get(RECORD_ID)
        assert recording is not None and recording.state == "deleted"
        assert recording.location == "backend"  # purged: nothing central any more
        assert await gw.store.imports.get(RECORD_ID) is None
        report = await worker.extra()  # idempotent: nothing left to purge
        assert report.deleted == [] and report.failed == []
    finally:
        await stop_gateway(gw)


async def test_an_unreachable_server_postpones_deletion(database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(1_700_000_000_000 + 10 * DAY * 1000)
    gw = await start_gateway(
        database_url, servers=1, clock=clock, recordings_dir=str(tmp_path / "central")
    )
    try:
        await stored(gw)
        await index(gw)
        await gw.store.tenants.configure("alpha", recording_retention_days=1)
        sim = gw.fleet.servers[0]
        await gw.fleet.stop()  # the recording's server is down: its copy cannot be deleted
        worker = gw.app.state.recording_worker  # type: ignore[union-attr]
        await worker.run_once()
        assert (Path(gw.settings.recordings_dir) / RECORD_ID).exists()
        row = await gw.store.imports.get(RECORD_ID)
        assert row is not None and row.state is ImportState.IMPORTED
        assert sim.url  # still configured; a later round retries
    finally:
        await stop_gateway(gw)


async def test_retention_purges_the_files_of_an_api_deleted_recording(
    database_url: str, tmp_path: Path
) -> None:
    """deleteRecordings only marks a recording deleted (as BBB keeps it in deleted/); retention
    removes its central files later."""
    clock = ManualClock(1_700_000_000_000 + 10 * DAY * 1000)
    gw = await start_gateway(
        database_url, servers=1, clock=clock, recordings_dir=str(tmp_path / "central")
    )
    try:
        await stored(gw)
        await index(gw, state="deleted")
        await gw.store.recordings.set_location(RECORD_ID, "central")
        await gw.store.tenants.configure("alpha", recording_retention_days=5)
        report = await gw.app.state.recording_worker.extra()  # type: ignore[union-attr]
        assert report.deleted == [RECORD_ID]
        assert not (Path(gw.settings.recordings_dir) / RECORD_ID).exists()
    finally:
        await stop_gateway(gw)
