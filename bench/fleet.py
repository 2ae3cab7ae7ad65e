"""Fleet benchmarks of the capacity issue: the poller's CPU for a large fleet, and the spread of a
burst of concurrent creates.

    python -m bench.fleet [--servers 1000] [--cycles 3] [--burst 200]

* Poller: one process serves ``--servers`` simulated BBB servers (``bench.manysims``, each with
  running meetings); this process registers them, places the matching meetings, and runs full
  poll cycles back to back.  Its CPU time per cycle, divided by the 10 s poll interval, is the
  share of one core the poller needs (target: <= 25 %).
* Burst: ``--burst`` concurrent creates through a real gateway against 4 equal simulated
  servers; prints meetings per server and the largest deviation from an even spread
  (target: within ±10 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bbbfleet.fleet.poller import Poller
from bbbfleet.gateway.app import create_app
from bbbfleet.gateway.backends import BackendClient
from bbbfleet.gateway.http_server import server_config
from bbbfleet.protocol.checksum import sign_query
from bbbfleet.settings import Settings
from bbbfleet.simulator import SimulatedFleet
from bbbfleet.storage.records import NewMeeting
from bbbfleet.storage.repository import Store
from bench.manysims import backend_id
from bench.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
POLL_INTERVAL = 10.0


async def poller_cpu(servers: int, meetings: int, cycles: int) -> dict[str, Any]:
    port = free_port()
    sims = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.manysims",
            "--servers",
            str(servers),
            "--meetings",
            str(meetings),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{tmp}/poller.sqlite3")
            await store.db.upgrade()
            tenant = await store.tenants.add("bench", "bench-secret-0123456789")
            assert tenant.id == 1  # bench.manysims names meetings for tenant 1
            for index in range(servers):
                server = await store.servers.add(
                    f"many-{index}",
                    f"http://127.0.0.1:{port}/{index}/bigbluebutton/api/",
                    f"many-secret-{index}",
                    1000,
                )
                for number in range(meetings):
                    await store.meetings.place(
                        NewMeeting(
                            tenant.id,
                            f"r{index}-{number}",
                            backend_id(index, number),
                            "",
                            reserved_participants=5,
                        ),
                        lambda _inputs, sid=server.id: sid,
                    )
            await wait_for_port(port, seconds=120)
            settings = Settings(
                database_url=f"sqlite:///{tmp}/poller.sqlite3",
                poll_interval=POLL_INTERVAL,
                poll_timeout=5.0,
            )
            backends = BackendClient(settings.poll_timeout, settings.poll_concurrency, "sha256")
            poller = Poller(store, backends, settings, lambda: int(time.time() * 1000))
            await poller.poll_once()  # warm-up: connections, caches
            cpu: list[float] = []
            wall: list[float] = []
            report = None
            for _ in range(cycles):
                started_cpu, started_wall = time.process_time(), time.perf_counter()
                report = await poller.poll_once()
                cpu.append(time.process_time() - started_cpu)
                wall.append(time.perf_counter() - started_wall)
            await backends.close()
            live = sum(s.live_participants for s in await store.servers.list())
            await store.close()
    finally:
        sims.terminate()
        sims.wait(10)
    per_cycle = sum(cpu) / len(cpu)
    return {
        "servers": servers,
        "meetings": servers * meetings,
        "cpu_seconds_per_cycle": round(per_cycle, 3),
        "wall_seconds_per_cycle": round(sum(wall) / len(wall), 3),
        "percent_of_one_core_at_10s": round(100 * per_cycle / POLL_INTERVAL, 1),
        "failed_polls": len(report.failed) if report else None,
        "live_participants_seen": live,
    }


async def burst_spread(creates: int, servers: int = 4) -> dict[str, Any]:
    base = free_port()
    while any(_taken(base + i) for i in range(servers)):
        base = free_port()
    fleet = SimulatedFleet(servers, base)
    await fleet.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/burst.sqlite3"
        store = Store.open(url)
        await store.db.upgrade()
        await store.tenants.add("bench", "bench-secret-0123456789")
        for index, sim in enumerate(fleet.servers):
            await store.servers.add(f"sim-{index}", sim.url, sim.secret, 10_000)
        app = create_app(
            Settings(database_url=url, public_url=f"http://127.0.0.1:{port}", poller=False)
        )
        server = uvicorn.Server(server_config(app, "127.0.0.1", port))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        api = f"http://127.0.0.1:{port}/bigbluebutton/api/create?"
        limits = httpx.Limits(max_connections=creates)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(
                    client.get(
                        api
                        + sign_query(
                            "create",
                            f"name=Burst+{i}&meetingID=burst-{i}",
                            "bench-secret-0123456789",
                        )
                    )
                    for i in range(creates)
                )
            )
            seconds = time.perf_counter() - started
        ok = sum("<returncode>SUCCESS</returncode>" in a.text for a in answers)
        spread = Counter(m.server_id for m in await store.meetings.all())
        server.should_exit = True
        await task
        await store.close()
    await fleet.stop()
    even = creates / servers
    return {
        "creates": creates,
        "succeeded": ok,
        "per_server": sorted(spread.values()),
        "max_deviation_percent": round(100 * max(abs(c - even) for c in spread.values()) / even, 1),
        "seconds": round(seconds, 2),
        "creates_per_second": round(creates / seconds, 1),
    }


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=2, help="running meetings per server")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("BBBFLEET_LOG_LEVEL", "warning")
    burst = asyncio.run(burst_spread(args.burst))
    print(
        f"burst: {burst['creates']} concurrent creates over 4 servers -> {burst['per_server']} "
        f"(max deviation {burst['max_deviation_percent']}% of even; target <= 10%), "
        f"{burst['creates_per_second']} creates/s"
    )
    poll = asyncio.run(poller_cpu(args.servers, args.meetings, args.cycles))
    print(
        f"poller: {poll['servers']} servers / {poll['meetings']} meetings: "
        f"{poll['cpu_seconds_per_cycle']} s CPU per cycle ({poll['wall_seconds_per_cycle']} s "
        f"wall) = {poll['percent_of_one_core_at_10s']}% of one core at a 10 s interval "
        f"(target <= 25%); failed polls {poll['failed_polls']}"
    )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fleet.json").write_text(json.dumps({"burst": burst, "poller": poll}, indent=2))


if __name__ == "__main__":
    main()
