"""``bbbfleet recording imports|import|delete``: central recording storage from the command line.

These commands join the ``recording`` group (``bbbfleet/cli/recordings.py``); they work whether
or not a gateway is running (an import in progress is claimed in the database, so a gateway's
worker and the CLI never import the same recording at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from pathlib import Path

import click

from bbbfleet.cli.context import print_table, settings_from, with_store
from bbbfleet.gateway.backends import BackendClient
from bbbfleet.recordings.archive import ArchiveError, file_digest, valid_record_id
from bbbfleet.recordings.imports import Importer, Outcome
from bbbfleet.recordings.retention import DeleteFailed, RecordingRemover
from bbbfleet.recordings.storage import DirectoryStorage
from bbbfleet.settings import Settings
from bbbfleet.storage.imports import ImportState, RecordingImport
from bbbfleet.storage.recordings import CENTRAL
from bbbfleet.storage.repository import Store


def _now_ms() -> int:
    return int(time.time() * 1000)


def _importer(store: Store, settings: Settings) -> Importer:
    async def imported(record_id: str) -> None:
        await store.recordings.set_location(record_id, CENTRAL)

    storage = DirectoryStorage(settings.recordings_dir)
    return Importer(store, storage, settings, _now_ms, on_imported=imported)


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def describe_import(row: RecordingImport) -> str:
    """One line for ``recording show``: the state of the recording's import."""
    text = f"{row.state.value} after {row.attempts} attempt(s)"
    if row.state is ImportState.PENDING:
        text += f", next try {_when(row.next_try_ms)}"
    if row.last_error and row.state is not ImportState.IMPORTED:
        text += f" ({row.last_error[:80]})"
    return text


@click.command("imports")
@click.option(
    "--state",
    type=click.Choice([s.value for s in ImportState]),
    help="Only imports in this state.",
)
@click.pass_context
def imports(ctx: click.Context, state: str | None) -> None:
    """List recording archives pushed by servers and their import into central storage."""

    async def action(store: Store) -> list[list[str]]:
        rows = await store.imports.list(ImportState(state) if state else None)
        return [
            [
                r.record_id,
                r.server_name or "-",
                r.state.value,
                str(r.attempts),
                str(r.size),
                _when(r.next_try_ms) if r.state is ImportState.PENDING else "-",
                _when(r.imported_ms),
                (r.last_error or "")[:60],
            ]
            for r in rows
        ]

    print_table(
        ["RECORD ID", "SERVER", "STATE", "ATTEMPTS", "BYTES", "NEXT TRY", "IMPORTED", "ERROR"],
        with_store(ctx, action),
    )


@click.command("import")
@click.argument("record_id")
@click.option(
    "--file",
    "archive",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A recording archive (tar or tar.gz of <format>/<recordID>/…) to import; it is copied, "
    "the original is left alone.  Without it, a pending or failed import is retried now.",
)
@click.pass_context
def import_(ctx: click.Context, record_id: str, archive: Path | None) -> None:
    """Import a recording into central storage now: retry its queued or failed import, or
    import an archive file (e.g. copied from a server's /var/bigbluebutton/published)."""
    if not valid_record_id(record_id):
        raise click.BadParameter(f"{record_id!r} is not a record ID", param_hint="RECORD_ID")
    settings = settings_from(ctx)

    async def action(store: Store) -> Outcome:
        importer = _importer(store, settings)
        if archive is not None:
            size, sha256 = file_digest(archive)
            staged = importer.storage.incoming() / f"{record_id}-cli-{sha256[:12]}.tar"
            shutil.copyfile(archive, staged)
            return await importer.receive(None, record_id, staged, size, sha256)
        row = await store.imports.claim(record_id, _now_ms())
        if row is None:
            current = await store.imports.get(record_id)
            if current is None:
                raise click.ClickException(
                    f"no import of {record_id} is queued; give the archive with --file"
                )
            raise click.ClickException(
                f"the import of {record_id} is {current.state.value}; nothing to retry"
            )
        if not row.staged_path or not Path(row.staged_path).is_file():
            await store.imports.failed(record_id, 0, "the staged archive is gone", _now_ms())
            raise click.ClickException(
                f"the archive of {record_id} is no longer staged; give it with --file "
                "(or have the server push it again)"
            )
        return await importer.attempt(row)

    outcome = with_store(ctx, action)
    if outcome.imported:
        click.echo(f"imported {record_id} (archive sha256 {outcome.sha256})")
        return
    if outcome.state is ImportState.PENDING:
        click.echo(f"import of {record_id} failed, retried later: {outcome.error}")
        ctx.exit(1)
    raise click.ClickException(f"import of {record_id} failed: {outcome.error}")


@click.command("delete")
@click.argument("record_id")
@click.option("--yes", is_flag=True, help="Delete without asking (for scripts).")
@click.pass_context
def delete(ctx: click.Context, record_id: str, yes: bool) -> None:
    """Delete a recording everywhere: on its BBB server (if it still has it), its centrally
    stored files, and in the index (marked deleted)."""
    if not yes:
        click.confirm(f"Delete recording {record_id} and its files for good?", abort=True)
    settings = settings_from(ctx)

    async def action(store: Store) -> bool:
        backends = BackendClient(settings.backend_timeout, 4, settings.backend_checksum_algorithm)
        try:
            remover = RecordingRemover(
                store, DirectoryStorage(settings.recordings_dir), backends, _now_ms
            )
            return await remover.delete(record_id)
        except DeleteFailed as exc:
            raise click.ClickException(f"{exc}; nothing was deleted, try again later") from exc
        finally:
            with contextlib.suppress(Exception):
                await backends.close()

    if with_store(ctx, action):
        click.echo(f"deleted recording {record_id}")
    else:
        raise click.ClickException(f"no recording {record_id} is known or stored")


@click.command("verify")
@click.argument("record_id")
@click.pass_context
def verify(ctx: click.Context, record_id: str) -> None:
    """Re-hash a centrally stored recording's files against its manifest."""
    if not valid_record_id(record_id):
        raise click.BadParameter(f"{record_id!r} is not a record ID", param_hint="RECORD_ID")
    settings = settings_from(ctx)
    storage = DirectoryStorage(settings.recordings_dir)
    try:
        manifest = asyncio.run(storage.verify(record_id))
    except ArchiveError as exc:
        raise click.ClickException(exc.error.message) from exc
    click.echo(
        f"{record_id}: {len(manifest.files)} files, {manifest.total_bytes} bytes, "
        f"formats {', '.join(manifest.formats)}: all match the manifest"
    )


STORAGE_COMMANDS = (imports, import_, delete, verify)
