"""The ``bbbfleet`` command line: one module per command group."""

from __future__ import annotations

import click

from bbbfleet import __version__
from bbbfleet.cli.db import db
from bbbfleet.cli.recording_storage import STORAGE_COMMANDS
from bbbfleet.cli.recordings import recording
from bbbfleet.cli.run import demo, serve, sim
from bbbfleet.cli.servers import server
from bbbfleet.cli.status import status
from bbbfleet.cli.tenants import tenant


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bbbfleet")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="BBBFLEET_CONFIG",
    help="TOML config file (see docs/configuration.md). Env: BBBFLEET_CONFIG.",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """bbbfleet: one BigBlueButton API endpoint in front of a fleet of BBB servers.

    Start with 'bbbfleet demo', or see docs/ for running it in production."""
    ctx.obj = {"config": config}


for command in (serve, sim, demo, status, server, tenant, recording, db):
    main.add_command(command)
for command in STORAGE_COMMANDS:  # central storage: imports, import, delete
    recording.add_command(command)
