"""``bbbfleet recording imports|import|delete`` and ``tenant set --recording-retention-days``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result

from bbbfleet.cli import main
from bbbfleet.storage.imports import ImportState
from bbbfleet.storage.repository import Store
from tests.recordings.archives import RECORD_ID, archive


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        self.central = tmp_path / "central"
        self.runner = CliRunner(
            env={"BBBFLEET_DATABASE_URL": self.url, "BBBFLEET_RECORDINGS_DIR": str(self.central)}
        )

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(main, list(args), input=input, catch_exceptions=False)

    def store(self) -> Store:
        return Store.open(self.url)


def import_state(cli: Cli) -> tuple[ImportState, int] | None:
    async def read() -> tuple[ImportState, int] | None:
        store = cli.store()
        try:
            row = await store.imports.get(RECORD_ID)
            return None if row is None else (row.state, row.attempts)
        finally:
            await store.close()

    return asyncio.run(read())


def test_import_list_and_delete(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert cli("recording", "imports").output.split()[:2] == ["RECORD", "ID"]
    nothing = cli("recording", "import", RECORD_ID)
    assert nothing.exit_code == 1 and "--file" in nothing.output
    bad = cli("recording", "import", "../etc")
    assert bad.exit_code == 2

    source = tmp_path / "lecture.tar.gz"
    source.write_bytes(archive(gzip=True))
    done = cli("recording", "import", RECORD_ID, "--file", str(source))
    assert done.exit_code == 0, done.output
    assert f"imported {RECORD_ID}" in done.output
    assert source.exists()  # the operator's file is copied, not moved
    assert (cli.central / RECORD_ID / "presentation" / "metadata.xml").is_file()
    listing = cli("recording", "imports")
    assert RECORD_ID in listing.output and "imported" in listing.output
    again = cli("recording", "import", RECORD_ID)
    assert again.exit_code == 1 and "imported; nothing to retry" in again.output

    hostile = tmp_path / "other.tar"
    hostile.write_bytes(archive({"presentation/other/metadata.xml": b"x"}))
    refused = cli("recording", "import", RECORD_ID, "--file", str(hostile))
    assert refused.exit_code == 1 and "not under" in refused.output
    assert (cli.central / RECORD_ID / "presentation" / "metadata.xml").is_file()  # kept

    checked = cli("recording", "verify", RECORD_ID)
    assert checked.exit_code == 0 and "all match the manifest" in checked.output
    (cli.central / RECORD_ID / "video" / "video-0.m4v").write_bytes(b"tampered")
    tampered = cli("recording", "verify", RECORD_ID)
    assert tampered.exit_code == 1 and "video/video-0.m4v changed" in tampered.output
    assert cli("recording", "verify", "../x").exit_code == 2

    kept = cli("recording", "delete", RECORD_ID, input="n\n")
    assert kept.exit_code == 1 and (cli.central / RECORD_ID).exists()
    deleted = cli("recording", "delete", RECORD_ID, "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert not (cli.central / RECORD_ID).exists()
    assert import_state(cli) is None
    unknown = cli("recording", "delete", RECORD_ID, "--yes")
    assert unknown.exit_code == 1 and "no recording" in unknown.output


def test_retry_of_a_queued_import(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.central.mkdir()
    (cli.central / ".tmp").write_text("storage is broken")
    source = tmp_path / "lecture.tar"
    source.write_bytes(archive())
    failed = cli("recording", "import", RECORD_ID, "--file", str(source))
    assert failed.exit_code == 1 and "retried later" in failed.output
    assert import_state(cli) == (ImportState.PENDING, 1)
    assert "pending" in cli("recording", "imports", "--state", "pending").output
    (cli.central / ".tmp").unlink()
    retried = cli("recording", "import", RECORD_ID)
    assert retried.exit_code == 0, retried.output
    assert import_state(cli) == (ImportState.IMPORTED, 1)


def test_tenant_recording_retention(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    assert cli("tenant", "add", "school").exit_code == 0
    assert cli("tenant", "set", "school", "--recording-retention-days", "90").exit_code == 0

    async def days() -> int | None:
        store = cli.store()
        try:
            return (await store.tenants.get("school")).recording_retention_days
        finally:
            await store.close()

    assert asyncio.run(days()) == 90
    assert cli("tenant", "set", "school", "--keep-recordings").exit_code == 0
    assert asyncio.run(days()) is None
    both = cli("tenant", "set", "school", "--keep-recordings", "--recording-retention-days", "1")
    assert both.exit_code == 2
    assert cli("tenant", "set", "school", "--recording-retention-days", "0").exit_code == 2
