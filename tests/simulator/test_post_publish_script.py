"""The shipped post-publish script (contrib/bbb-server/bbbfleet-post-publish.rb), run with the
real ``ruby`` against a loopback receiver, on a published tree laid out from a simulated
recording's archive."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bbbfleet.protocol.checksum import ChecksumResult, verify
from bbbfleet.protocol.recording_push import PUSH_CALL, PUSH_PATH
from bbbfleet.simulator import ManualClock
from tests.conftest import ROOT
from tests.simulator.conftest import Bbb
from tests.simulator.receiver import Receiver, running_receiver
from tests.simulator.test_recordings import recorded_id

SCRIPT = ROOT / "contrib" / "bbb-server" / "bbbfleet-post-publish.rb"
SECRET = "post-publish-test-secret-0123456789abcdef"
RUBY = shutil.which("ruby")
pytestmark = pytest.mark.skipif(RUBY is None or shutil.which("tar") is None, reason="no ruby/tar")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as receiver:
        yield receiver


def members(archive: bytes) -> dict[str, bytes | None]:
    """name -> content (None for directories); names without a trailing slash."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        found: dict[str, bytes | None] = {}
        for m in tar.getmembers():
            assert m.isfile() or m.isdir(), m.name
            found[m.name.rstrip("/")] = tar.extractfile(m).read() if m.isfile() else None  # type: ignore[union-attr]
        return found


async def published_tree(bbb: Bbb, clock: ManualClock, root: Path) -> tuple[str, bytes]:
    """A simulated recording's published directories laid out under ``root``."""
    record_id = await recorded_id(bbb, clock)
    archive = bbb.host.state.recording_archive(record_id)
    assert archive is not None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    (root / "presentation" / "other-recording").mkdir()  # not part of the push
    return record_id, archive


def script_env(tmp_path: Path, receiver: Receiver, **extra: str) -> dict[str, str]:
    properties = tmp_path / "bbb-web.properties"
    properties.write_text(f"# overrides\nsecuritySalt={SECRET}\n")
    defaults = tmp_path / "bigbluebutton.properties"
    defaults.write_text("securitySalt=the-packaged-default\nserverURL=http://x\n")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "BBBFLEET_CONFIG": str(tmp_path / "absent.yml"),
        "BBBFLEET_GATEWAY_URL": receiver.base_url,
        "BBBFLEET_SERVER_NAME": "bbb 1",
        "BBBFLEET_PUBLISHED_DIR": str(tmp_path / "published"),
        "BBBFLEET_PROPERTIES": f"{properties}:{defaults}",
        "BBBFLEET_RETRY_SECONDS": "0.05",
        "BBBFLEET_LOG_FILE": str(tmp_path / "post-publish.log"),
        **extra,
    }


async def run_script(env: dict[str, str], *args: str) -> tuple[int, str]:
    assert RUBY is not None
    process = await asyncio.create_subprocess_exec(
        RUBY,
        str(SCRIPT),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


def confirmed(record_id: str, sha256: str) -> str:
    return (
        f"<response><returncode>SUCCESS</returncode><recordID>{record_id}</recordID>"
        f"<imported>true</imported><sha256>{sha256}</sha256></response>"
    )


async def test_the_script_pushes_a_signed_valid_archive(
    bbb: Bbb, clock: ManualClock, receiver: Receiver, tmp_path: Path
) -> None:
    root = tmp_path / "published"
    root.mkdir()
    record_id, simulated = await published_tree(bbb, clock, root)
    receiver.answer((200, confirmed(record_id, "0" * 64)))
    env = script_env(tmp_path, receiver)
    status, output = await run_script(env, "-m", record_id, "-f", "presentation")
    log = (tmp_path / "post-publish.log").read_text()
    assert status == 0, output + log
    (request,) = receiver.requests
    assert request.method == "POST" and request.path == PUSH_PATH
    assert request.headers["content-type"] == "application/x-tar"
    # checksum: sha256 of "recordingsPush" + query + the secret of bbb-web.properties
    result, _ = verify(PUSH_CALL, request.raw_query, [SECRET], "sha256")
    assert result is ChecksumResult.VALID
    params = dict(parse_qsl(request.raw_query.decode()))
    assert request.raw_query.startswith(b"server=bbb%201&recordID=")
    assert params["server"] == "bbb 1" and params["recordID"] == record_id
    assert params["size"] == str(len(request.body))
    assert params["sha256"] == hashlib.sha256(request.body).hexdigest()
    # body: the same entries and contents as the simulator's own archive of that recording
    assert members(request.body) == members(simulated)
    assert f"presentation/{record_id}/metadata.xml" in members(request.body)
    assert f"video/{record_id}/metadata.xml" in members(request.body)
    # the answer named another sha256: no deletion
    assert (root / "presentation" / record_id / "metadata.xml").exists()
    assert "imported=true" in log


async def test_delete_after_a_verified_import(
    bbb: Bbb, clock: ManualClock, receiver: Receiver, tmp_path: Path
) -> None:
    root = tmp_path / "published"
    root.mkdir()
    record_id, _ = await published_tree(bbb, clock, root)
    env = script_env(tmp_path, receiver, BBBFLEET_DELETE_AFTER_IMPORT="true")
    # a first run learns the sha256 the script sends, the second is confirmed with it
    receiver.answer((200, "<response><returncode>SUCCESS</returncode></response>"))
    assert (await run_script(env, "-m", record_id))[0] == 0
    sha256 = dict(parse_qsl(receiver.requests[0].raw_query.decode()))["sha256"]
    assert (root / "video" / record_id).is_dir()
    receiver.answer((200, confirmed(record_id, sha256)))
    assert (await run_script(env, "-m", record_id))[0] == 0
    assert not (root / "presentation" / record_id).exists()
    assert not (root / "video" / record_id).exists()
    assert (root / "presentation" / "other-recording").is_dir()
    assert receiver.requests[0].body == receiver.requests[1].body  # deterministic tar


async def test_retries_then_failures(
    bbb: Bbb, clock: ManualClock, receiver: Receiver, tmp_path: Path
) -> None:
    root = tmp_path / "published"
    root.mkdir()
    record_id, _ = await published_tree(bbb, clock, root)
    env = script_env(tmp_path, receiver, BBBFLEET_ATTEMPTS="3", BBBFLEET_DELETE_AFTER_IMPORT="1")
    receiver.answer((503, "busy"), (200, confirmed(record_id, "x")))
    assert (await run_script(env, "-m", record_id))[0] == 0
    assert len(receiver.requests) == 2
    receiver.requests.clear()
    receiver.answer((500, "down"))
    assert (await run_script(env, "-m", record_id))[0] == 1
    assert len(receiver.requests) == 3
    receiver.requests.clear()
    refused = "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey>"
    receiver.answer((200, refused + "<message>x</message></response>"))
    assert (await run_script(env, "-m", record_id))[0] == 1
    assert len(receiver.requests) == 1
    assert "checksumError" in (tmp_path / "post-publish.log").read_text()
    assert (root / "presentation" / record_id).is_dir()  # never deleted on failure


async def test_bad_input_and_configuration(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "published").mkdir()
    env = script_env(tmp_path, receiver)
    for bad in ("../../etc", "x", "0" * 40 + "-1/../x"):
        status, _ = await run_script(env, "-m", bad)
        assert status == 1
    assert receiver.requests == []
    # a record ID with nothing published: an index-only push with an empty body
    record_id = "1" * 40 + "-1700000000000"
    assert (await run_script(env, "-m", record_id))[0] == 1  # the receiver answers "ok"
    (request,) = receiver.requests
    params = dict(parse_qsl(request.raw_query.decode()))
    assert request.body == b"" and params["size"] == "0" and "sha256" not in params
    # no gateway configured: nothing to do
    env["BBBFLEET_GATEWAY_URL"] = ""
    assert (await run_script(env, "-m", record_id))[0] == 0
    # no secret anywhere
    env.update(BBBFLEET_GATEWAY_URL=receiver.base_url, BBBFLEET_PROPERTIES=str(tmp_path / "no"))
    assert (await run_script(env, "-m", record_id))[0] == 1
    assert len(receiver.requests) == 1


async def test_yaml_configuration(receiver: Receiver, tmp_path: Path) -> None:
    root = tmp_path / "published"
    (root / "presentation" / ("2" * 40 + "-1700000000000")).mkdir(parents=True)
    record_id = "2" * 40 + "-1700000000000"
    (root / "presentation" / record_id / "metadata.xml").write_text("<recording/>")
    config = tmp_path / "bbbfleet.yml"
    config.write_text(
        f"gateway_url: {receiver.base_url}{PUSH_PATH}\n"
        "server_name: from-yaml\n"
        f"published_dir: {root}\n"
        f"secret: {SECRET}\n"
        f"log_file: {tmp_path / 'log'}\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "BBBFLEET_CONFIG": str(config)}
    receiver.answer((200, confirmed(record_id, "x")))
    assert (await run_script(env, "-m", record_id))[0] == 0
    (request,) = receiver.requests
    assert request.path == PUSH_PATH
    assert dict(parse_qsl(request.raw_query.decode()))["server"] == "from-yaml"
    assert verify(PUSH_CALL, request.raw_query, [SECRET], "sha256")[0] is ChecksumResult.VALID
    assert set(members(request.body)) == {
        f"presentation/{record_id}",
        f"presentation/{record_id}/metadata.xml",
    }
