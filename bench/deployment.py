"""The processes a benchmark run measures, and how the gateway is configured in front of them.

* the gateway's fleet: ``bbbfleet sim --servers 3`` (one process);
* the gateway: ``bbbfleet serve`` (one uvicorn worker) on a fresh SQLite file, set up with the
  CLI (``db upgrade``, ``tenant add``, ``server add``) exactly as an operator would;
* the simulator called directly: a second ``bbbfleet sim --servers 1``, so its meetings and load
  are its own and its getMeetings lists the same 200 meetings the gateway's does;
* the bare 302 app: ``python -m bench.bare302``.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.processes import ChildFailed, Children, port_is_free, run_command

GATEWAY_SERVERS = 3
TENANT = "bench"


@dataclass(frozen=True)
class Ports:
    """Every port of a run, derived from one base so a busy machine can move them together."""

    base: int

    @property
    def gateway(self) -> int:
        return self.base

    @property
    def bare302(self) -> int:
        return self.base + 1

    @property
    def fleet_base(self) -> int:  # the fleet's control port is fleet_base - 1
        return self.base + 21

    @property
    def direct_base(self) -> int:
        return self.base + 31

    def all(self) -> list[int]:
        fleet = range(self.fleet_base - 1, self.fleet_base + GATEWAY_SERVERS)
        return [self.gateway, self.bare302, *fleet, self.direct_base - 1, self.direct_base]


@dataclass(frozen=True)
class Api:
    """A BBB API endpoint under test and the secret that signs calls to it."""

    base_url: str  # http://127.0.0.1:port
    secret: str

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bigbluebutton/api/"


@dataclass(frozen=True)
class Deployment:
    gateway: Api
    direct: Api
    bare302: Api
    fleet: list[Api]


def _bin(name: str) -> str:
    """A console script of this virtualenv (``bbbfleet``), next to the running interpreter."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def gateway_environment(database: Path, public_url: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("BBBFLEET_")}
    return {
        **inherited,
        "BBBFLEET_DATABASE_URL": f"sqlite:///{database}",
        "BBBFLEET_PUBLIC_URL": public_url,
        "BBBFLEET_LOG_LEVEL": "warning",
        "BBBFLEET_CACHE_SECONDS": "5",
    }


def start(children: Children, work_dir: Path, ports: Ports, repo: Path) -> Deployment:
    """Start every server, configure the gateway, and wait until all of them listen."""
    busy = [p for p in ports.all() if not port_is_free(p)]
    if busy:
        raise ChildFailed(f"ports {busy} are in use: pick another --port-base")
    bbbfleet = _bin("bbbfleet")
    gateway_url = f"http://127.0.0.1:{ports.gateway}"
    env = gateway_environment(work_dir / "bench.sqlite3", gateway_url)

    fleet_child = children.start(
        "sim-fleet",
        [bbbfleet, "sim", "--servers", str(GATEWAY_SERVERS), "--base-port", str(ports.fleet_base)],
        env,
    )
    direct_child = children.start(
        "sim-direct",
        [bbbfleet, "sim", "--servers", "1", "--base-port", str(ports.direct_base)],
        env,
    )
    bare_child = children.start(
        "bare302", [sys.executable, "-m", "bench.bare302", "--port", str(ports.bare302)], env
    )
    fleet = [
        Api(f"http://127.0.0.1:{ports.fleet_base + i}", f"sim-secret-{i}")
        for i in range(GATEWAY_SERVERS)
    ]

    tenant_secret = f"bench-{secrets.token_hex(12)}"
    run_command([bbbfleet, "db", "upgrade"], env, repo, "bbbfleet db upgrade")
    run_command(
        [bbbfleet, "tenant", "add", TENANT, "--secret", tenant_secret], env, repo, "tenant add"
    )
    for index, server in enumerate(fleet):
        run_command(
            [
                bbbfleet,
                "server",
                "add",
                f"sim-{index}",
                server.api_url,
                server.secret,
                "--capacity",
                "100000",
            ],
            env,
            repo,
            "server add",
        )
    gateway_child = children.start(
        "gateway", [bbbfleet, "serve", "--port", str(ports.gateway)], env
    )

    children.wait_listening(fleet_child, [ports.fleet_base + i for i in range(GATEWAY_SERVERS)])
    children.wait_listening(direct_child, [ports.direct_base])
    children.wait_listening(bare_child, [ports.bare302])
    children.wait_listening(gateway_child, [ports.gateway])
    return Deployment(
        gateway=Api(gateway_url, tenant_secret),
        direct=Api(f"http://127.0.0.1:{ports.direct_base}", "sim-secret-0"),
        bare302=Api(f"http://127.0.0.1:{ports.bare302}", "unused"),
        fleet=fleet,
    )
