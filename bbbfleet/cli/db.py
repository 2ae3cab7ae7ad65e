"""``bbbfleet db``: schema management."""

from __future__ import annotations

import click

from bbbfleet.cli.context import with_store
from bbbfleet.storage.repository import Store


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create or upgrade the schema to the current version (safe to repeat)."""

    async def action(store: Store) -> str | None:
        return await store.db.current_revision()

    revision = with_store(ctx, action)
    click.echo(f"database schema is at revision {revision}")
