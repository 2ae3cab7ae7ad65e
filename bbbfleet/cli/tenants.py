"""``bbbfleet tenant``: customers, each with its own secret(s) and optionally its own host name."""

from __future__ import annotations

import json
import re
import secrets as random_secrets

import click

from bbbfleet.cli.context import print_table, with_store
from bbbfleet.policy import PolicyError, TenantPolicy
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
        await store.tenants.add(name, secret, hostname.lower() if hostname else None)

    with_store(ctx, action)
    click.echo(f"added tenant {name}")
    click.echo(f"secret: {secret}")
    click.echo(f"API path: /t/{name}/bigbluebutton/api/ (or /bigbluebutton/api/ with its secret)")


@tenant.command("list")
@click.option("--show-secrets", is_flag=True, help="Print the secrets in full.")
@click.pass_context
def list_(ctx: click.Context, show_secrets: bool) -> None:
    """List tenants with their reservation defaults, pool and current load."""

    async def action(store: Store) -> list[list[str]]:
        rows = []
        for t in await store.tenants.list():
            load = await store.meetings.tenant_load(t.id)
            predict = None if t.predict_size is None else ("on" if t.predict_size else "off")
            rows.append(
                [
                    t.name,
                    t.hostname or "-",
                    ", ".join(s if show_secrets else s[:4] + "…" for s in t.secrets),
                    _or_default(t.default_participants),
                    _or_default(t.default_duration_minutes),
                    f"{load}/{t.pool_participants or '-'}",
                    t.default_tags or "-",
                    _or_default(predict),
                    "/".join(
                        (
                            "tenant" if t.allow_tenant_hooks else "meeting",
                            _or_default(t.hook_checksum_version),
                            _or_default(t.hook_personal_data),
                        )
                    ),
                ]
            )
        return rows

    print_table(
        ["NAME", "HOSTNAME", "SECRETS", "SEATS", "MINUTES", "POOL", "TAGS", "PREDICT", "HOOKS"],
        with_store(ctx, action),
    )


def _or_default(value: object) -> str:
    return "default" if value is None else str(value)


@tenant.command("set")
@click.argument("name")
@click.option(
    "--default-participants",
    type=click.IntRange(min=1),
    help="Seats a create reserves without maxParticipants.",
)
@click.option(
    "--default-duration",
    type=click.IntRange(min=1),
    help="Minutes a create reserves without duration.",
)
@click.option(
    "--pool",
    type=click.IntRange(min=1),
    help="Participants the tenant may have reserved at the same time.",
)
@click.option("--no-pool", is_flag=True, help="Remove the pool limit.")
@click.option("--tags", help="Default meta_server-tag for the tenant's creates ('' to clear).")
@click.option(
    "--predict/--no-predict",
    default=None,
    help="Reserve a room's recent peak when maxParticipants is missing.",
)
@click.option(
    "--recording-retention-days",
    type=click.IntRange(min=1),
    help="Delete the tenant's centrally stored recordings this many days after they started "
    "(on their server too, if it still has them).",
)
@click.option(
    "--keep-recordings",
    is_flag=True,
    help="Turn recording retention off: keep central recordings forever (the default).",
)
@click.option(
    "--platform-defaults",
    is_flag=True,
    help="Clear seats, minutes and prediction back to the platform settings.",
)
@click.option(
    "--allow-tenant-hooks/--no-allow-tenant-hooks",
    default=None,
    help="Allow webhooks without meetingID, for all of the tenant's meetings (docs/webhooks.md).",
)
@click.option(
    "--hook-checksum-version",
    type=click.Choice(["3.3", "3.4", "default"]),
    help="Callback checksum of its webhook events ('default': webhook_checksum_version).",
)
@click.option(
    "--hook-personal-data",
    type=click.Choice(["keep", "hash", "remove", "default"]),
    help="Personal data in its webhook events ('default': webhook_personal_data).",
)
@click.pass_context
def set_(
    ctx: click.Context,
    name: str,
    default_participants: int | None,
    default_duration: int | None,
    pool: int | None,
    no_pool: bool,
    tags: str | None,
    predict: bool | None,
    recording_retention_days: int | None,
    keep_recordings: bool,
    platform_defaults: bool,
    allow_tenant_hooks: bool | None,
    hook_checksum_version: str | None,
    hook_personal_data: str | None,
) -> None:
    """Set a tenant's capacity reservation defaults, pool, server tags, recording retention and
    webhook settings."""
    if pool is not None and no_pool:
        raise click.UsageError("use either --pool N or --no-pool")
    if recording_retention_days is not None and keep_recordings:
        raise click.UsageError("use either --recording-retention-days N or --keep-recordings")
    values: dict[str, object] = {}
    if platform_defaults:
        values.update(default_participants=None, default_duration_minutes=None, predict_size=None)
    if default_participants is not None:
        values["default_participants"] = default_participants
    if default_duration is not None:
        values["default_duration_minutes"] = default_duration
    if pool is not None or no_pool:
        values["pool_participants"] = pool
    if tags is not None:
        values["default_tags"] = tags.strip() or None
    if predict is not None:
        values["predict_size"] = predict
    if allow_tenant_hooks is not None:
        values["allow_tenant_hooks"] = allow_tenant_hooks
    if hook_checksum_version is not None:
        values["hook_checksum_version"] = (
            None if hook_checksum_version == "default" else hook_checksum_version
        )
    if hook_personal_data is not None:
        values["hook_personal_data"] = (
            None if hook_personal_data == "default" else hook_personal_data
        )
    if recording_retention_days is not None or keep_recordings:
        values["recording_retention_days"] = recording_retention_days
    if not values:
        raise click.UsageError("nothing to set; see 'bbbfleet tenant set --help'")

    async def action(store: Store) -> None:
        await store.tenants.configure(name, **values)

    with_store(ctx, action)
    click.echo(f"updated tenant {name}; see 'bbbfleet tenant list'")


@tenant.command()
@click.argument("name")
@click.confirmation_option(prompt="Remove the tenant and forget its meetings?")
@click.pass_context
def remove(ctx: click.Context, name: str) -> None:
    """Remove a tenant (its running meetings are forgotten, not ended)."""

    async def action(store: Store) -> None:
        await store.tenants.remove(name)

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
        await store.tenants.add_secret(name, secret)

    with_store(ctx, action)
    click.echo(f"added a secret to {name}: {secret}")


@tenant.command("remove-secret")
@click.argument("name")
@click.argument("secret")
@click.pass_context
def remove_secret(ctx: click.Context, name: str, secret: str) -> None:
    """Remove one of a tenant's secrets (never the last one)."""

    async def action(store: Store) -> None:
        await store.tenants.remove_secret(name, secret)

    with_store(ctx, action)
    click.echo(f"removed the secret from {name}")


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"use NAME=VALUE, got {value!r}", param_hint=option)
        pairs[name] = text
    return pairs


@tenant.command("policy")
@click.argument("name")
@click.option(
    "--create-default",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Added to creates that do not send PARAM (repeatable).",
)
@click.option(
    "--create-force",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Set on every create, whatever the client sent (repeatable).",
)
@click.option(
    "--create-block", multiple=True, metavar="PARAM", help="Removed from every create (repeatable)."
)
@click.option("--join-default", multiple=True, metavar="PARAM=VALUE", help="As for create.")
@click.option("--join-force", multiple=True, metavar="PARAM=VALUE", help="As for create.")
@click.option("--join-block", multiple=True, metavar="PARAM", help="As for create.")
@click.option("--welcome", help="Default welcome message ('' removes the tenant's own).")
@click.option("--moderator-only-message", help="Default moderatorOnlyMessage.")
@click.option("--banner", help="Default bannerText.")
@click.option("--clear", is_flag=True, help="Start from an empty policy.")
@click.pass_context
def policy_(
    ctx: click.Context,
    name: str,
    create_default: tuple[str, ...],
    create_force: tuple[str, ...],
    create_block: tuple[str, ...],
    join_default: tuple[str, ...],
    join_force: tuple[str, ...],
    join_block: tuple[str, ...],
    welcome: str | None,
    moderator_only_message: str | None,
    banner: str | None,
    clear: bool,
) -> None:
    """Show or change a tenant's parameter policy and default chat texts.

    Without options it prints the policy.  Options add to it (--clear first empties it).
    A create with deactivateBbbserverDefaultChatTexts=true gets no default texts."""
    changes = {
        "create": (
            _pairs(create_default, "--create-default"),
            _pairs(create_force, "--create-force"),
            set(create_block),
        ),
        "join": (
            _pairs(join_default, "--join-default"),
            _pairs(join_force, "--join-force"),
            set(join_block),
        ),
    }
    texts = {
        "welcome": welcome,
        "moderatorOnlyMessage": moderator_only_message,
        "bannerText": banner,
    }

    async def action(store: Store) -> TenantPolicy:
        current = (await store.tenants.get(name)).policy
        data = {} if clear else current.to_json()
        for call, (defaults, force, block) in changes.items():
            section = data.setdefault(call, {"defaults": {}, "force": {}, "block": []})
            section["defaults"] = {**section.get("defaults", {}), **defaults}
            section["force"] = {**section.get("force", {}), **force}
            section["block"] = sorted({*section.get("block", []), *block})
        merged_texts = dict(data.get("texts", {}))
        for key, value in texts.items():
            if value is not None:
                if value:
                    merged_texts[key] = value
                else:
                    merged_texts.pop(key, None)
        data["texts"] = merged_texts
        try:
            new = TenantPolicy.from_json(data)
        except PolicyError as exc:
            raise click.BadParameter(str(exc)) from exc
        if new != current:
            await store.tenants.set_policy(name, new)
        return new

    result = with_store(ctx, action)
    click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
