"""``bbbfleet server``: the backend BBB servers."""

from __future__ import annotations

import click

from bbbfleet.cli.context import print_table, with_store
from bbbfleet.storage.repository import Store


@click.group()
def server() -> None:
    """Add, list and take BBB servers in and out of service."""


@server.command("add")
@click.argument("name")
@click.argument("api_url")
@click.argument("secret")
@click.option(
    "--capacity",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Participants this server can host.",
)
@click.option("--disabled", is_flag=True, help="Add it without sending it meetings yet.")
@click.pass_context
def add(
    ctx: click.Context, name: str, api_url: str, secret: str, capacity: int, disabled: bool
) -> None:
    """Add a BBB server.

    API_URL is the server's API base, e.g. https://bbb1.example.org/bigbluebutton/api/ ;
    SECRET is its shared secret ('bbb-conf --secret' prints both)."""
    if not api_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="API_URL")
    if not api_url.rstrip("/").endswith("/bigbluebutton/api"):
        api_url = api_url.rstrip("/") + "/bigbluebutton/api/"
    api_url = api_url.rstrip("/") + "/"

    async def action(store: Store) -> None:
        await store.add_server(name, api_url, secret, capacity, enabled=not disabled)

    with_store(ctx, action)
    click.echo(f"added server {name} ({api_url}, capacity {capacity})")


@server.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List servers with their capacity, state and meeting count."""

    async def action(store: Store) -> list[list[str]]:
        counts = await store.meeting_counts()
        return [
            [
                s.name,
                s.api_url,
                str(s.capacity),
                "enabled" if s.enabled else "disabled",
                str(counts.get(s.id, 0)),
            ]
            for s in await store.list_servers()
        ]

    print_table(["NAME", "API URL", "CAPACITY", "STATE", "MEETINGS"], with_store(ctx, action))


@server.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove it even though meetings are routed to it.")
@click.pass_context
def remove(ctx: click.Context, name: str, force: bool) -> None:
    """Remove a server from the fleet."""

    async def action(store: Store) -> None:
        await store.remove_server(name, force=force)

    with_store(ctx, action)
    click.echo(f"removed server {name}")


@server.command()
@click.argument("name")
@click.pass_context
def enable(ctx: click.Context, name: str) -> None:
    """Let a server receive new meetings."""

    async def action(store: Store) -> None:
        await store.set_server_enabled(name, True)

    with_store(ctx, action)
    click.echo(f"server {name} is enabled")


@server.command()
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Stop sending new meetings to a server (running ones continue)."""

    async def action(store: Store) -> None:
        await store.set_server_enabled(name, False)

    with_store(ctx, action)
    click.echo(f"server {name} is disabled: no new meetings; running meetings continue")
