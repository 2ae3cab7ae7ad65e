"""``bbbfleet tenant``: customers, each with its own secret(s) and optionally its own host name."""

from __future__ import annotations

import re
import secrets as random_secrets

import click

from bbbfleet.cli.context import print_table, with_store
from bbbfleet.storage.repository import Store

TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _check_name(name: str) -> str:
    if not TENANT_NAME.match(name):
        raise click.BadParameter(
            "use 1-64 lowercase letters, digits, '-' or '_' (it appears in URLs: /t/<name>/)",
            param_hint="NAME",
        )
    return name


def _check_secret(secret: str) -> str:
    if len(secret) < 16:
        raise click.BadParameter("use at least 16 characters (or omit it to generate one)")
    return secret


@click.group()
def tenant() -> None:
    """Manage tenants (customers) and their shared secrets."""


@tenant.command("add")
@click.argument("name")
@click.option("--secret", help="Shared secret; generated when omitted.")
@click.option("--hostname", help="Host name that identifies this tenant (e.g. bbb.customer.org).")
@click.pass_context
def add(ctx: click.Context, name: str, secret: str | None, hostname: str | None) -> None:
    """Add a tenant and print its API URL and secret."""
    _check_name(name)
    secret = _check_secret(secret) if secret else random_secrets.token_hex(24)

    async def action(store: Store) -> None:
        await store.add_tenant(name, secret, hostname.lower() if hostname else None)

    with_store(ctx, action)
    click.echo(f"added tenant {name}")
    click.echo(f"secret: {secret}")
    click.echo(f"API path: /t/{name}/bigbluebutton/api/ (or /bigbluebutton/api/ with its secret)")


@tenant.command("list")
@click.option("--show-secrets", is_flag=True, help="Print the secrets in full.")
@click.pass_context
def list_(ctx: click.Context, show_secrets: bool) -> None:
    """List tenants."""

    async def action(store: Store) -> list[list[str]]:
        return [
            [
                t.name,
                t.hostname or "-",
                ", ".join(s if show_secrets else s[:4] + "…" for s in t.secrets),
            ]
            for t in await store.list_tenants()
        ]

    print_table(["NAME", "HOSTNAME", "SECRETS"], with_store(ctx, action))


@tenant.command()
@click.argument("name")
@click.confirmation_option(prompt="Remove the tenant and forget its meetings?")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove a tenant (its running meetings are forgotten, not ended)."""

    async def action(store: Store) -> None:
        await store.remove_tenant(name)

    with_store(ctx, action)
    click.echo(f"removed tenant {name}")


@tenant.command("add-secret")
@click.argument("name")
@click.option("--secret", help="The new secret; generated when omitted.")
@click.pass_context
def add_secret(ctx: click.Context, name: str, secret: str | None) -> None:
    """Add a second secret for a rollover: both work until the old one is removed."""
    secret = _check_secret(secret) if secret else random_secrets.token_hex(24)

    async def action(store: Store) -> None:
        await store.add_tenant_secret(name, secret)

    with_store(ctx, action)
    click.echo(f"added a secret to {name}: {secret}")


@tenant.command("remove-secret")
@click.argument("name")
@click.argument("secret")
@click.pass_context
def remove_secret(ctx: click.Context, name: str, secret: str) -> None:
    """Remove one of a tenant's secrets (never the last one)."""

    async def action(store: Store) -> None:
        await store.remove_tenant_secret(name, secret)

    with_store(ctx, action)
    click.echo(f"removed the secret from {name}")
