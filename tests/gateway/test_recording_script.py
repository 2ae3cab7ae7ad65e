"""The shipped post-publish script (real ``ruby`` + GNU tar) pushing to the real gateway: the
archive GNU tar makes passes verification, is stored, and the server's copy is deleted only on
the confirmed import."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from bbbfleet.recordings.storage import DirectoryStorage
from bbbfleet.storage.imports import ImportState
from tests.gateway.conftest import start_gateway, stop_gateway
from tests.recordings.archives import RECORD_ID, archive
from tests.simulator.test_post_publish_script import SCRIPT, run_script

pytestmark = pytest.mark.skipif(
    shutil.which("ruby") is None or shutil.which("tar") is None, reason="no ruby/tar"
)


async def test_the_shipped_script_imports_into_the_gateway(
    database_url: str, tmp_path: Path
) -> None:
    assert SCRIPT.is_file()
    gw = await start_gateway(database_url, servers=1, recordings_dir=str(tmp_path / "central"))
    try:
        published = tmp_path / "published"
        with tarfile.open(fileobj=io.BytesIO(archive())) as tar:
            tar.extractall(published, filter="data")
        (published / "presentation" / "another-recording").mkdir()  # not part of this push
        sim = gw.fleet.servers[0]
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "BBBFLEET_CONFIG": str(tmp_path / "absent.yml"),
            "BBBFLEET_GATEWAY_URL": gw.url,
            "BBBFLEET_SERVER_NAME": "sim-0",
            "BBBFLEET_SECRET": sim.secret,
            "BBBFLEET_PUBLISHED_DIR": str(published),
            "BBBFLEET_DELETE_AFTER_IMPORT": "true",
            "BBBFLEET_RETRY_SECONDS": "0.05",
            "BBBFLEET_LOG_FILE": str(tmp_path / "post-publish.log"),
        }
        status, output = await run_script(env, "-m", RECORD_ID, "-f", "presentation")
        log = (tmp_path / "post-publish.log").read_text()
        assert status == 0, output + log

        row = await gw.store.imports.get(RECORD_ID)
        assert row is not None and row.state is ImportState.IMPORTED, log
        manifest = await DirectoryStorage(tmp_path / "central").verify(RECORD_ID)
        assert manifest.formats == ("presentation", "video")
        assert manifest.archive_sha256 == row.sha256
        # confirmed with the sha256 it sent: the script removed the server's copy, only that one
        assert not (published / "presentation" / RECORD_ID).exists()
        assert not (published / "video" / RECORD_ID).exists()
        assert (published / "presentation" / "another-recording").is_dir()
    finally:
        await stop_gateway(gw)
