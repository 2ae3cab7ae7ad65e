"""``bbbfleet serve``, ``bbbfleet sim`` and ``bbbfleet demo``: the long-running commands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets as random_secrets
import shutil
from pathlib import Path
from urllib.parse import quote

import click
import uvicorn

from bbbfleet.cli.context import settings_from
from bbbfleet.gateway.app import create_app
from bbbfleet.gateway.http_server import server_config
from bbbfleet.protocol.checksum import sign_query
from bbbfleet.protocol.recording_push import PUSH_PATH
from bbbfleet.settings import Settings
from bbbfleet.storage import database
from bbbfleet.storage.repository import Store

DEMO_TENANT = "demo"


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@click.command()
@click.option("--host", help="Listen address (default: setting 'host', 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default: setting 'port', 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the gateway (one process; run several behind a proxy for scale-out)."""
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings_from(ctx, **overrides)
    _configure_logging(settings.log_level)
    try:
        database.check_url(settings.database_url)
    except database.UnsupportedDatabase as exc:
        raise click.ClickException(str(exc)) from exc
    uvicorn.Server(
        server_config(create_app(settings), settings.host, settings.port, settings.log_level)
    ).run()


@click.command()
@click.option(
    "--servers",
    "count",
    default=3,
    show_default=True,
    type=click.IntRange(1, 2000),
    help="How many simulated BBB servers.",
)
@click.option(
    "--base-port",
    default=9001,
    show_default=True,
    type=int,
    help="Port of the first server; the others follow.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--secret", help="One secret for all servers (default: sim-secret-<n>).")
@click.option(
    "--post-publish-url",
    help="Push each published recording to this gateway push URL "
    "(e.g. http://127.0.0.1:8000/bigbluebutton/fleet/recordings/push); servers push as sim-<n>.",
)
@click.option(
    "--delete-after-import",
    is_flag=True,
    help="With --post-publish-url: delete a recording's files once the gateway confirms the import.",
)
def sim(
    count: int,
    base_port: int,
    host: str,
    secret: str | None,
    post_publish_url: str | None,
    delete_after_import: bool,
) -> None:
    """Run simulated BBB servers (for tests, benchmarks and trying bbbfleet out)."""
    from bbbfleet.simulator import run_simulated_fleet

    _configure_logging("warning")
    for index in range(count):
        click.echo(
            f"sim-{index}: http://{host}:{base_port + index}/bigbluebutton/api/ "
            f"secret {secret or f'sim-secret-{index}'}"
        )
    click.echo(f"fleet control: http://{host}:{base_port - 1}/_fleet/servers")
    run_simulated_fleet(
        count,
        base_port,
        host,
        secret,
        base_port - 1,
        post_publish_url=post_publish_url,
        delete_after_import=delete_after_import,
    )


@click.command()
@click.option("--port", default=8000, show_default=True, type=int, help="Gateway port.")
@click.option("--secret", help="The demo tenant's secret (default: a random one).")
@click.option(
    "--sim-base-port",
    default=9001,
    show_default=True,
    type=int,
    help="Port of the first of the 3 simulated BBB servers.",
)
@click.option(
    "--database",
    "database_path",
    default="var/demo.sqlite3",
    show_default=True,
    help="SQLite file for the demo (recreated at each start).",
)
def demo(port: int, secret: str | None, sim_base_port: int, database_path: str) -> None:
    """Run the gateway on SQLite in front of 3 simulated BBB servers, until interrupted."""
    secret = secret or random_secrets.token_hex(16)
    _configure_logging("warning")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(port, secret, sim_base_port, Path(database_path)))


async def _demo(port: int, secret: str, sim_base_port: int, database_path: Path) -> None:
    from bbbfleet.simulator import SimulatedFleet

    database_path.unlink(missing_ok=True)
    recordings = database_path.with_name(f"{database_path.stem}-recordings")
    shutil.rmtree(recordings, ignore_errors=True)
    settings = Settings(
        database_url=f"sqlite:///{database_path}",
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        recordings_dir=recordings,
    )
    # the simulated servers push each published recording to the gateway, which stores it
    # centrally and plays it back itself (docs/recording-storage.md)
    fleet = SimulatedFleet(
        3,
        sim_base_port,
        post_publish_url=f"{settings.public_url}{PUSH_PATH}",
        delete_after_import=True,
    )
    await fleet.start()
    try:
        store = Store.open(settings.database_url)
        await store.db.upgrade()
        await store.tenants.add(DEMO_TENANT, secret)
        for index, simulated in enumerate(fleet.servers):
            await store.servers.add(f"sim-{index}", simulated.url, simulated.secret, capacity=100)
        await store.close()
        app = create_app(settings)
        server = uvicorn.Server(server_config(app, "127.0.0.1", port))
        _print_demo_banner(settings.public_url, secret)
        await server.serve()
    finally:
        await fleet.stop()


def _print_demo_banner(public_url: str, secret: str) -> None:
    api = f"{public_url}/bigbluebutton/api/"
    query = f"name={quote('Demo Meeting')}&meetingID=demo-meeting&attendeePW=ap&moderatorPW=mp"
    create = f"{api}create?{sign_query('create', query, secret)}"
    join_query = f"fullName={quote('Ada Lovelace')}&meetingID=demo-meeting&role=MODERATOR"
    join = f"{api}join?{sign_query('join', join_query, secret)}"
    click.echo("bbbfleet demo is running (3 simulated BBB servers, SQLite). Ctrl-C stops it.")
    click.echo(f"API URL: {api}")
    click.echo(f"Secret:  {secret}")
    click.echo(f"Example, create a meeting: {create}")
    click.echo(f"Then join it:              {join}")
    click.echo(
        "Recorded meetings (record=true) are pushed to the gateway once published and play from "
        f"it: {public_url}/playback/presentation/2.3/<recordID>"
    )
