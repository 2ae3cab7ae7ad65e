"""``bbbfleet recording``: the recording index, as the gateway answers getRecordings from it.

The group is meant to grow (import, delete, retention): add commands with ``@recording.command``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bbbfleet.cli.context import print_table, with_store
from bbbfleet.cli.recording_storage import describe_import
from bbbfleet.protocol import recordings as rec
from bbbfleet.storage.recordings import IndexedRecording, RecordingFilter
from bbbfleet.storage.repository import NotFound, Store

STATE_CHOICES = [*sorted(rec.ALL_STATES), "any"]


@click.group()
def recording() -> None:
    """Inspect the recordings the gateway knows across all servers."""


def _time(ms: int) -> str:
    if ms <= 0:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@recording.command("list")
@click.option("--tenant", help="Only this tenant's recordings (its name).")
@click.option("--meeting", help="Only recordings of this meetingID (the tenant's own ID).")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(STATE_CHOICES),
    help="Only recordings in this state (repeatable; 'any' for all). "
    "Default: published and unpublished, as getRecordings.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Show at most this many (oldest first).",
)
@click.option("--gone", is_flag=True, help="Include recordings that vanished from their server.")
@click.pass_context
def list_(
    ctx: click.Context,
    tenant: str | None,
    meeting: str | None,
    states: tuple[str, ...],
    limit: int,
    gone: bool,
) -> None:
    """List indexed recordings (what getRecordings answers from)."""

    async def action(
        store: Store,
    ) -> tuple[list[IndexedRecording], int, dict[int, str], dict[int, str]]:
        tenant_id = None
        if tenant is not None:
            tenant_id = (await store.tenants.get(tenant)).id
        wanted: frozenset[str] | None = frozenset(states) or rec.DEFAULT_STATES
        if "any" in states:
            wanted = None
        selection = RecordingFilter(
            tenant_id=tenant_id,
            meeting_ids=(meeting,) if meeting else (),
            states=wanted,
            include_gone=gone,
        )
        found, total = await store.recordings.search(selection, 0, limit)
        tenants = {t.id: t.name for t in await store.tenants.list()}
        servers = {s.id: s.name for s in await store.servers.list()}
        return found, total, tenants, servers

    found, total, tenants, servers = with_store(ctx, action)
    rows = [
        [
            r.record_id,
            tenants.get(r.tenant_id, str(r.tenant_id)),
            r.meeting_id if len(r.meeting_id) <= 40 else r.meeting_id[:39] + "…",
            r.state + (" (gone)" if r.gone_ms is not None else ""),
            "-" if r.server_id is None else servers.get(r.server_id, str(r.server_id)),
            r.location,
            _time(r.snapshot.start_time),
            _size(r.snapshot.size),
        ]
        for r in found
    ]
    print_table(
        ["RECORD ID", "TENANT", "MEETING", "STATE", "SERVER", "LOCATION", "STARTED (UTC)", "SIZE"],
        rows,
    )
    if total > len(found):
        click.echo(f"… {total - len(found)} more (use --limit)")


@recording.command()
@click.argument("record_id")
@click.pass_context
def show(ctx: click.Context, record_id: str) -> None:
    """Show everything the index holds about one recording (RECORD_ID as in getRecordings)."""

    async def action(store: Store) -> tuple[IndexedRecording, str, str, str]:
        found = await store.recordings.get(record_id)
        if found is None:
            raise NotFound(f"no recording {record_id} in the index; see 'bbbfleet recording list'")
        tenants = {t.id: t.name for t in await store.tenants.list()}
        servers = {s.id: s.name for s in await store.servers.list()}
        server = "- (removed)" if found.server_id is None else servers.get(found.server_id, "?")
        pushed = await store.imports.get(record_id)
        import_state = "-" if pushed is None else describe_import(pushed)
        return found, tenants.get(found.tenant_id, str(found.tenant_id)), server, import_state

    found, tenant_name, server_name, import_state = with_store(ctx, action)
    snapshot = found.snapshot
    lines = [
        ("record ID", found.record_id),
        ("tenant", tenant_name),
        ("meetingID", found.meeting_id),
        ("backend meetingID", found.backend_meeting_id),
        ("name", snapshot.name),
        ("state", found.state),
        ("server", server_name),
        ("location", found.location),
        ("central import", import_state),
        ("gone from server", "-" if found.gone_ms is None else _time(found.gone_ms)),
        ("started (UTC)", _time(snapshot.start_time)),
        ("ended (UTC)", _time(snapshot.end_time)),
        ("participants", str(snapshot.participants)),
        ("size", f"{_size(snapshot.size)} (raw {_size(snapshot.raw_size)})"),
    ]
    for label, value in lines:
        click.echo(f"{label + ':':<19} {value}")
    click.echo("metadata:" + ("" if snapshot.metadata else " -"))
    for key, value in snapshot.metadata or ():
        click.echo(f"  {key} = {value}")
    click.echo("formats:" + ("" if snapshot.playback else " -"))
    for playback in snapshot.playback:
        click.echo(
            f"  {playback.type}: {playback.url} ({playback.length_minutes} min, "
            f"{_size(playback.size)}, {len(playback.preview)} preview images)"
        )
