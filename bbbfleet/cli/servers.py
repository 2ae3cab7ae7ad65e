"""``bbbfleet server``: the backend BBB servers and their lifecycle."""

from __future__ import annotations

import click

from bbbfleet.cli.context import settings_from, with_store
from bbbfleet.fleet import lifecycle
from bbbfleet.gateway.backends import BackendClient
from bbbfleet.placement import ServerState
from bbbfleet.storage.repository import Server, Store
from bbbfleet.storage.servers import parse_tags


@click.group()
def server() -> None:
    """Add BBB servers and take them in and out of service."""


def _describe(server: Server) -> str:
    return f"server {server.name} is {server.state.value}"


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
@click.option(
    "--weight",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Multiplies the capacity (e.g. 0.5 while a server is being tried out).",
)
@click.option(
    "--tag", "tags", multiple=True, help="A tag for meta_server-tag placement (repeatable)."
)
@click.option("--disabled", is_flag=True, help="Add it without sending it meetings yet.")
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    api_url: str,
    secret: str,
    capacity: int,
    weight: float,
    tags: tuple[str, ...],
    disabled: bool,
) -> None:
    """Add a BBB server.

    API_URL is the server's API base, e.g. https://bbb1.example.org/bigbluebutton/api/ ;
    SECRET is its shared secret ('bbb-conf --secret' prints both)."""
    if not api_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="API_URL")
    if not api_url.rstrip("/").endswith("/bigbluebutton/api"):
        api_url = api_url.rstrip("/") + "/bigbluebutton/api/"
    api_url = api_url.rstrip("/") + "/"
    state = ServerState.DISABLED if disabled else ServerState.ENABLED

    async def action(store: Store) -> None:
        await store.servers.add(
            name, api_url, secret, capacity, state, weight, parse_tags(",".join(tags))
        )

    with_store(ctx, action)
    click.echo(f"added server {name} ({api_url}, capacity {capacity}, {state.value})")


@server.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List servers (see 'bbbfleet status' for load and health)."""
    from bbbfleet.cli.status import print_servers

    print_servers(ctx)


@server.command()
@click.argument("name")
@click.option(
    "--force",
    is_flag=True,
    help="Remove it although meetings run there (they move on next create or join).",
)
@click.pass_context
def remove(ctx: click.Context, name: str, force: bool) -> None:
    """Remove a server from the fleet."""

    async def action(store: Store) -> None:
        await store.servers.remove(name, force=force)

    with_store(ctx, action)
    click.echo(f"removed server {name}")


def _set_state(ctx: click.Context, name: str, state: ServerState, note: str) -> None:
    async def action(store: Store) -> Server:
        return await store.servers.set_state(name, state)

    click.echo(f"{_describe(with_store(ctx, action))}{note}")


@server.command()
@click.argument("name")
@click.pass_context
def enable(ctx: click.Context, name: str) -> None:
    """Let a server receive new meetings."""
    _set_state(ctx, name, ServerState.ENABLED, "")


@server.command()
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Stop sending new meetings to a server (running ones continue)."""
    _set_state(ctx, name, ServerState.DISABLED, ": no new meetings; running meetings continue")


@server.command()
@click.argument("name")
@click.pass_context
def cordon(ctx: click.Context, name: str) -> None:
    """No new meetings; running ones continue; disabled automatically once empty."""

    async def action(store: Store) -> Server:
        return await lifecycle.cordon(store, name)

    click.echo(_describe(with_store(ctx, action)))


@server.command()
@click.argument("name")
@click.option("--wait", is_flag=True, help="Wait until its last meeting has ended.")
@click.option(
    "--timeout",
    default=4 * 3600,
    show_default=True,
    type=float,
    help="Seconds to wait at most with --wait.",
)
@click.pass_context
def drain(ctx: click.Context, name: str, wait: bool, timeout: float) -> None:
    """Cordon a server and (with --wait) wait until it is empty and disabled."""

    def progress(count: int) -> None:
        click.echo(f"{name}: {count} meeting(s) still running")

    async def action(store: Store) -> Server:
        return await lifecycle.drain(store, name, wait, timeout, progress)

    server_now = with_store(ctx, action)
    click.echo(_describe(server_now))
    if wait and server_now.state is not ServerState.DISABLED:
        raise click.ClickException(
            f"{name} still has meetings after {timeout:.0f} s; it stays cordoned"
        )


@server.command()
@click.argument("name")
@click.confirmation_option(prompt="End or move every meeting on this server now?")
@click.pass_context
def panic(ctx: click.Context, name: str) -> None:
    """Take a server out now: its meetings are ended there and re-created elsewhere on their
    next create or join."""
    settings = settings_from(ctx)

    async def action(store: Store) -> lifecycle.PanicReport:
        backends = BackendClient(settings.backend_timeout, 20, settings.backend_checksum_algorithm)
        try:
            return await lifecycle.panic(store, backends, name)
        finally:
            await backends.close()

    report = with_store(ctx, action)
    click.echo(
        f"server {name} is disabled: {report.detached} meeting(s) detached, "
        f"{report.ended} ended on the server; they are re-created elsewhere on next use"
    )


@server.command("set-capacity")
@click.argument("name")
@click.argument("capacity", type=click.IntRange(min=0))
@click.pass_context
def set_capacity(ctx: click.Context, name: str, capacity: int) -> None:
    """Set how many participants a server can host."""

    async def action(store: Store) -> Server:
        return await store.servers.set_capacity(name, capacity)

    click.echo(f"server {name} has capacity {with_store(ctx, action).capacity}")


@server.command("set-weight")
@click.argument("name")
@click.argument("weight", type=click.FloatRange(min=0))
@click.pass_context
def set_weight(ctx: click.Context, name: str, weight: float) -> None:
    """Set a server's weight (its capacity counts weight times)."""

    async def action(store: Store) -> Server:
        return await store.servers.set_weight(name, weight)

    click.echo(f"server {name} has weight {with_store(ctx, action).weight}")


@server.command()
@click.argument("name")
@click.argument("tags", nargs=-1)
@click.pass_context
def tag(ctx: click.Context, name: str, tags: tuple[str, ...]) -> None:
    """Set a server's tags (none given: remove all)."""

    async def action(store: Store) -> Server:
        return await store.servers.set_tags(name, parse_tags(",".join(tags)))

    result = with_store(ctx, action)
    click.echo(f"server {name} tags: {', '.join(sorted(result.tags)) or '(none)'}")


@server.command("register-hooks")
@click.argument("names", nargs=-1)
@click.pass_context
def register_hooks(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Register the gateway's webhook on these servers' bbb-webhooks now (all servers that are
    not disabled when no NAME is given).  Running gateways check this every
    webhook_register_interval seconds; use this after adding a server or installing
    bbb-webhooks on one."""
    settings = settings_from(ctx)

    async def action(store: Store) -> dict[str, bool]:
        # imported here: the gateway's modules are not needed by the other server commands
        from bbbfleet.gateway.directory import Directory
        from bbbfleet.gateway.hooks import HooksService
        from bbbfleet.webhooks.delivery import Deliverer

        backends = BackendClient(settings.backend_timeout, 20, settings.backend_checksum_algorithm)
        directory = Directory(store, 0)
        service = HooksService(
            store, directory, backends, Deliverer(store, directory, settings), settings, int
        )
        try:
            if not names:
                return await service.register_all()
            results: dict[str, bool] = {}
            for name in names:
                results[name] = await service.register(await store.servers.get(name))
            return results
        finally:
            await backends.close()

    results = with_store(ctx, action)
    for name, ok in results.items():
        click.echo(f"{name}: {'registered' if ok else 'FAILED (see the log)'}")
    if not all(results.values()):
        raise click.ClickException(
            "some servers could not register the gateway's hook: is bbb-webhooks installed "
            "there, and is public_url reachable from them?"
        )
