"""The recording push endpoint (CONTRACTS C2) and the import queue, over real HTTP."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bbbfleet.gateway.push import PUSH_PATH
from bbbfleet.protocol.checksum import compute
from bbbfleet.protocol.recording_push import parse_push_answer
from bbbfleet.recordings.storage import DirectoryStorage
from bbbfleet.storage.imports import ImportState
from tests.gateway.conftest import Gateway, ManualClock, q, start_gateway, stop_gateway
from tests.recordings.archives import RECORD_ID, archive, build, member, presentation_files


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def gw(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Gateway]:
    gateway = await start_gateway(
        database_url,
        servers=2,
        clock=clock,
        recordings_dir=str(tmp_path / "central"),
        recording_import_attempts=3,
        recording_import_backoff_seconds=10,
        recording_archive_max_bytes=2_000_000,
    )
    try:
        yield gateway
    finally:
        await stop_gateway(gateway)


def central(gw: Gateway) -> Path:
    return Path(gw.settings.recordings_dir)


def push_url(
    gw: Gateway,
    data: bytes,
    server: int = 0,
    record_id: str = RECORD_ID,
    secret: str | None = None,
    size: int | None = None,
    sha256: str | None = None,
    name: str | None = None,
) -> str:
    query = q(
        server=name if name is not None else f"sim-{server}",
        recordID=record_id,
        size=str(len(data) if size is None else size),
        sha256=hashlib.sha256(data).hexdigest() if sha256 is None else sha256,
    )
    secret = gw.fleet.servers[server].secret if secret is None else secret
    return (
        f"{gw.url}{PUSH_PATH}?{query}&checksum={compute('recordingsPush', query, secret, 'sha256')}"
    )


async def push(gw: Gateway, url: str, data: bytes) -> dict[str, str]:
    response = await gw.http.post(url, content=data, headers={"Content-Type": "application/x-tar"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return {child.tag: child.text or "" for child in ET.fromstring(response.text)}


def nothing_stored(gw: Gateway) -> None:
    root = central(gw)
    assert not (root / RECORD_ID).exists()
    assert not list((root / ".incoming").glob("*")) if (root / ".incoming").exists() else True
    assert not list((root / ".tmp").glob("*")) if (root / ".tmp").exists() else True


@pytest.mark.parametrize("compressed", [False, True])
async def test_push_stores_the_recording_with_a_verified_manifest(
    gw: Gateway, compressed: bool
) -> None:
    data = archive(gzip=compressed)
    answer = await push(gw, push_url(gw, data), data)
    sha = hashlib.sha256(data).hexdigest()
    raw = await gw.http.post(push_url(gw, data), content=data)
    parsed = parse_push_answer(raw.text)  # what the senders read
    assert parsed is not None and parsed.confirms(sha)
    assert answer == {
        "returncode": "SUCCESS",
        "recordID": RECORD_ID,
        "imported": "true",
        "sha256": sha,
    }
    storage = DirectoryStorage(central(gw))
    manifest = await storage.manifest(RECORD_ID)
    assert manifest is not None and manifest.archive_sha256 == sha
    assert manifest.formats == ("presentation", "video")
    assert await storage.verify(RECORD_ID) == manifest
    stored = (central(gw) / RECORD_ID / "video" / "video-0.m4v").read_bytes()
    assert stored == presentation_files()[f"video/{RECORD_ID}/video-0.m4v"]
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.state is ImportState.IMPORTED and row.attempts == 1
    assert row.server_name == "sim-0" and row.sha256 == sha and row.staged_path is None
    assert not list((central(gw) / ".incoming").iterdir())  # the staged archive is gone


async def test_a_second_push_replaces_the_first(gw: Gateway) -> None:
    first = archive()
    await push(gw, push_url(gw, first), first)
    files = presentation_files() | {f"presentation/{RECORD_ID}/shapes.svg": b"<svg>v2</svg>"}
    second = archive(files)
    answer = await push(gw, push_url(gw, second), second)
    assert answer["imported"] == "true"
    assert (
        central(gw) / RECORD_ID / "presentation" / "shapes.svg"
    ).read_bytes() == b"<svg>v2</svg>"


async def test_an_empty_push_only_indexes(gw: Gateway) -> None:
    query = q(server="sim-1", recordID=RECORD_ID, size="0")
    secret = gw.fleet.servers[1].secret
    url = (
        f"{gw.url}{PUSH_PATH}?{query}&checksum={compute('recordingsPush', query, secret, 'sha256')}"
    )
    answer = await push(gw, url, b"")
    assert answer == {
        "returncode": "SUCCESS",
        "recordID": RECORD_ID,
        "imported": "false",
        "sha256": "",
    }
    assert await gw.store.imports.get(RECORD_ID) is None
    nothing_stored(gw)


async def failed(gw: Gateway, url: str, data: bytes, key: str) -> str:
    answer = await push(gw, url, data)
    assert answer["returncode"] == "FAILED", answer
    assert answer["messageKey"] == key, answer
    nothing_stored(gw)
    assert await gw.store.imports.get(RECORD_ID) is None or key in ("invalidArchive",)
    return answer["message"]


async def test_authentication(gw: Gateway) -> None:
    data = archive()
    good = push_url(gw, data)
    await failed(gw, good.replace("checksum=", "checksum=0"), data, "checksumError")
    await failed(gw, good[: good.index("&checksum=")], data, "checksumError")
    other_secret = push_url(gw, data, server=0, secret=gw.fleet.servers[1].secret)
    await failed(gw, other_secret, data, "checksumError")
    # the checksum covers the query: another recordID with the same checksum fails
    await failed(gw, good.replace("recordID=0", "recordID=1"), data, "checksumError")
    await failed(gw, push_url(gw, data, name="nope"), data, "unknownServer")
    await failed(gw, push_url(gw, data, name=""), data, "unknownServer")
    await failed(gw, push_url(gw, data, record_id=""), data, "missingParamRecordID")
    await failed(gw, push_url(gw, data, record_id="../../x"), data, "invalidArchive")


async def test_other_methods_and_undecodable_queries(gw: Gateway) -> None:
    data = archive()
    got = await gw.get(push_url(gw, data))
    assert got.status_code == 405 and "<messageKey>methodNotAllowed</messageKey>" in got.text
    url = push_url(gw, data).replace("recordID=", "recordID=%ff")
    await failed(gw, url, data, "validationError")


async def test_size_and_sha_must_match(gw: Gateway) -> None:
    data = archive()
    await failed(gw, push_url(gw, data, size=len(data) - 1), data, "archiveMismatch")
    await failed(gw, push_url(gw, data, size=len(data) + 1), data, "archiveMismatch")
    await failed(gw, push_url(gw, data, sha256="ab" * 32), data, "archiveMismatch")
    await failed(gw, push_url(gw, data, sha256="nothex"), data, "archiveMismatch")
    await failed(gw, push_url(gw, data, size=-1), data, "invalidArchive")


async def test_too_large(gw: Gateway) -> None:
    big = archive(presentation_files() | {f"presentation/{RECORD_ID}/big": bytes(3_000_000)})
    await failed(gw, push_url(gw, big), big, "archiveTooLarge")
    # announced small, but the body keeps coming: cut off at the announced size
    await failed(gw, push_url(gw, big, size=1000), big, "archiveMismatch")


@pytest.mark.parametrize(
    "entry",
    [
        member(f"presentation/{RECORD_ID}/../../escape", b"x"),
        member(f"presentation/{RECORD_ID}/link", kind=b"2", linkname="/etc/passwd"),
        member(f"/presentation/{RECORD_ID}/abs", b"x"),
        member(f"presentation/other-{RECORD_ID}/metadata.xml", b"x"),
    ],
    ids=["traversal", "symlink", "absolute", "wrong-record"],
)
async def test_hostile_archives_store_nothing(gw: Gateway, entry: object) -> None:
    good = presentation_files()
    entries = [member(name, content) for name, content in good.items()]
    data = build([*entries, entry])  # type: ignore[list-item]
    message = await failed(gw, push_url(gw, data), data, "invalidArchive")
    assert "Invalid recording archive" in message
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.state is ImportState.FAILED
    assert not (central(gw).parent / "escape").exists()


async def test_garbage_and_truncated_archives(gw: Gateway) -> None:
    for data in (b"definitely not a tar" * 50, archive()[:3000]):
        await failed(gw, push_url(gw, data), data, "invalidArchive")


async def test_a_bad_push_never_replaces_a_good_import(gw: Gateway) -> None:
    good = archive()
    await push(gw, push_url(gw, good), good)
    bad = build([member(f"presentation/{RECORD_ID}/metadata.xml", b"x"), member("/etc/x", b"x")])
    answer = await push(gw, push_url(gw, bad), bad)
    assert answer["messageKey"] == "invalidArchive"
    manifest = await DirectoryStorage(central(gw)).manifest(RECORD_ID)
    assert manifest is not None and manifest.archive_sha256 == hashlib.sha256(good).hexdigest()
    assert (central(gw) / RECORD_ID / "video" / "video-0.m4v").exists()


def break_storage(gw: Gateway) -> Path:
    """A real storage failure: the unpacking area is a file, so nothing can be unpacked."""
    root = central(gw)
    root.mkdir(parents=True, exist_ok=True)
    blocker = root / ".tmp"
    blocker.write_text("in the way")
    return blocker


async def test_storage_failures_are_retried_with_backoff_then_fail(
    gw: Gateway, clock: ManualClock
) -> None:
    break_storage(gw)
    data = archive()
    answer = await push(gw, push_url(gw, data), data)
    assert answer["returncode"] == "SUCCESS" and answer["imported"] == "false"
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.state is ImportState.PENDING and row.attempts == 1
    assert row.next_try_ms == clock.now_ms + 10_000 and row.last_error
    staged = Path(row.staged_path or "")
    assert staged.is_file()
    worker = gw.app.state.recording_worker  # type: ignore[union-attr]
    assert await worker.run_once() == []  # not due yet
    clock.advance(10)
    outcome = (await worker.run_once())[0]
    assert outcome.state is ImportState.PENDING
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.attempts == 2 and row.next_try_ms == clock.now_ms + 20_000
    clock.advance(19)
    assert await worker.run_once() == []
    clock.advance(1)
    outcome = (await worker.run_once())[0]
    assert outcome.state is ImportState.FAILED
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.state is ImportState.FAILED and row.attempts == 3
    assert not staged.exists()  # cleaned after the final failure
    clock.advance(3600)
    assert await worker.run_once() == []  # never loops forever
    assert not (central(gw) / RECORD_ID).exists()


async def test_a_retry_succeeds_once_storage_is_back(gw: Gateway, clock: ManualClock) -> None:
    blocker = break_storage(gw)
    data = archive()
    await push(gw, push_url(gw, data), data)
    blocker.unlink()
    clock.advance(10)
    outcome = (await gw.app.state.recording_worker.run_once())[0]  # type: ignore[union-attr]
    assert outcome.imported and outcome.state is ImportState.IMPORTED
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.state is ImportState.IMPORTED and row.attempts == 2
    assert not list((central(gw) / ".incoming").iterdir())
    manifest = await DirectoryStorage(central(gw)).verify(RECORD_ID)
    assert manifest.archive_sha256 == hashlib.sha256(data).hexdigest()


async def test_a_push_with_a_single_attempt_budget_answers_import_failed(
    database_url: str, tmp_path: Path
) -> None:
    gw = await start_gateway(
        database_url, servers=1, recordings_dir=str(tmp_path / "c"), recording_import_attempts=1
    )
    try:
        break_storage(gw)
        data = archive()
        answer = await push(gw, push_url(gw, data), data)
        assert answer["messageKey"] == "importFailed"
    finally:
        await stop_gateway(gw)


async def test_one_recording_worker_leads_on_postgres(database_url: str) -> None:
    """With PostgreSQL only the process holding the advisory lock runs the worker's rounds."""
    from bbbfleet.fleet.poller import Leadership
    from bbbfleet.recordings.imports import WORKER_LOCK
    from bbbfleet.storage.database import Database

    first, second = Database(database_url), Database(database_url)
    a, b = Leadership(first, WORKER_LOCK), Leadership(second, WORKER_LOCK)
    try:
        assert await a.acquire()
        assert await a.acquire()  # keeps it
        assert await b.acquire() is (not first.is_postgres)  # SQLite: one process, always
        await a.release()
        assert await b.acquire()
    finally:
        await a.release()
        await b.release()
        await first.dispose()
        await second.dispose()


async def test_a_staged_archive_damaged_while_waiting_is_not_imported(
    gw: Gateway, clock: ManualClock
) -> None:
    blocker = break_storage(gw)
    data = archive()
    await push(gw, push_url(gw, data), data)
    row = await gw.store.imports.get(RECORD_ID)
    assert row is not None and row.staged_path
    staged = Path(row.staged_path)
    staged.write_bytes(staged.read_bytes()[:-1] + b"!")  # bit rot on the disk
    blocker.unlink()
    clock.advance(10)
    outcome = (await gw.app.state.recording_worker.run_once())[0]  # type: ignore[union-attr]
    assert outcome.state is ImportState.FAILED and outcome.refusal is not None
    assert outcome.refusal.key == "archiveMismatch"
    assert not (central(gw) / RECORD_ID).exists() and not staged.exists()
