"""What every CLI command needs: settings, a store, and errors that tell the operator what to do."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from bbbfleet.settings import Settings, load_settings
from bbbfleet.storage import database
from bbbfleet.storage.repository import StorageError, Store

T = TypeVar("T")


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return load_settings((ctx.obj or {}).get("config"), **overrides)
    except (ValidationError, SettingsError) as exc:
        cause = exc.__cause__ or exc
        raise click.ClickException(f"invalid configuration: {exc}\n{cause}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"the config file is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot read the config file: {exc}") from exc


def with_store(ctx: click.Context, action: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``action`` against an upgraded database; storage errors become CLI errors."""
    settings = settings_from(ctx)

    async def run() -> T:
        try:
            store = Store.open(settings.database_url)
        except database.UnsupportedDatabase as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            await store.db.upgrade()
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot reach the database at {settings.database_url}: {exc}. "
            "Check BBBFLEET_DATABASE_URL."
        ) from exc


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    click.echo(line.rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
