"""Webhook benchmark: events through the gateway's real ingress to 1,000 tenants' hooks.

    python -m bench.webhooks [--tenants 10] [--meetings 100] [--events 5000] [--database URL]

A gateway runs as its own process (``bbbfleet serve``, poller off) on a fresh database with
``--tenants`` × ``--meetings`` hooks, one per meeting, all pointing at a loopback receiver in
this process.  This process then plays the backends' bbb-webhooks: it POSTs ``--events``
user-joined events (one per POST, v3.3 checksum with the server's secret, ``--concurrency``
at a time) to the gateway's ingress URL, spread over the meetings.  The receiver counts the
deliveries and checks each one's callback checksum with the tenant's secret.

Prints events/s delivered end to end (first POST to last delivery) and the p50/p99 latency from
the POST to the ingress to the arrival at the receiver, as JSON.

Then, on the same gateway, the **fan-out** case: one more tenant with ``--fanout-hooks`` (1,000)
hooks on one meeting, a burst of ``--fanout-events`` (20) events to that meeting, so that each
event becomes 1,000 deliveries.  Prints deliveries/s end to end, the p50/p99 latency of a
delivery (POST to the ingress → arrival) and of an event's last delivery, next to the first case
(one hook per event) measured in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from bbbfleet.gateway.hooks import ingress_token
from bbbfleet.protocol.webhooks import (
    build_callback_request,
    callback_checksum_valid,
    user_attributes,
    user_joined_event,
)
from bbbfleet.storage.models import hosted_meetings
from bbbfleet.storage.repository import Store
from bench.processes import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


def now_ms() -> int:
    return int(time.time() * 1000)


class Counter:
    def __init__(self, secrets: dict[str, str], expected: int) -> None:
        self.secrets = secrets  # tenant name -> secret
        self.arrived: dict[str, float] = {}  # "<user>" or "<user>|<path>" (fan-out) -> time
        self.fanout = False
        self.bad_checksums = 0
        self.expected = expected
        self.done = asyncio.Event()

    def expect(self, expected: int, fanout: bool) -> None:
        self.arrived = {}
        self.expected = expected
        self.fanout = fanout
        self.done = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        now = time.monotonic()
        tenant = request.path.split("/")[2]
        url = f"{request.scheme}://{request.host}{request.path_qs}"
        if not callback_checksum_valid(url, body, self.secrets[tenant], "3.3"):
            self.bad_checksums += 1
        event = json.loads(dict(parse_qsl(body))["event"])[0]
        key = event["data"]["attributes"]["user"]["internal-user-id"]
        if self.fanout:
            key = f"{key}|{request.path}"
        self.arrived.setdefault(key, now)
        if len(self.arrived) >= self.expected:
            self.done.set()
        return web.Response(text="ok")


async def run(args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="bbbfleet-hooks-bench-"))
    database = args.database or f"sqlite:///{workdir / 'gateway.sqlite3'}"
    gateway_port, receiver_port = free_port(), free_port()
    public = f"http://127.0.0.1:{gateway_port}"
    receiver_base = f"http://127.0.0.1:{receiver_port}"

    store = Store.open(database)
    await store.db.upgrade()
    if await store.tenants.list():
        await store.close()
        raise SystemExit(f"{database} has tenants already: give the benchmark an empty database")
    secrets: dict[str, str] = {}
    tenant_ids: dict[str, int] = {}
    for t in range(args.tenants):
        name = f"t{t}"
        secrets[name] = f"bench-secret-{t:04d}-0123456789abcdef"
        tenant_ids[name] = (await store.tenants.add(name, secrets[name])).id
        for m in range(args.meetings):
            await store.hooks.create(
                tenant_ids[name], f"{receiver_base}/h/{name}/{m}", f"room-{m}", None, False, 0
            )
    secrets["fan"] = "bench-secret-fan-0123456789abcdef"
    tenant_ids["fan"] = (await store.tenants.add("fan", secrets["fan"])).id
    for i in range(args.fanout_hooks):
        await store.hooks.create(
            tenant_ids["fan"], f"{receiver_base}/h/fan/{i}", "room-fan", None, False, 0
        )
    server = await store.servers.add(
        "bbb-bench", "http://127.0.0.1:9/bigbluebutton/api/", "server-secret-0123456789", 100
    )
    # the ingress trusts a backend meetingID only from a server that hosted the meeting: note
    # that this one did (as the gateway does when a meeting it placed there ends)
    hosted = [
        f"bf{tenant_ids[f't{t}']}-room-{m}"
        for t in range(args.tenants)
        for m in range(args.meetings)
    ]
    hosted.append(f"bf{tenant_ids['fan']}-room-fan")
    rows = [{"server_id": server.id, "backend_meeting_id": m, "ended_ms": now_ms()} for m in hosted]
    await store.db.write(lambda conn: conn.execute(hosted_meetings.insert(), rows))
    await store.close()
    ingress = f"{public}/bigbluebutton/fleet/events/{server.id}/{ingress_token(server)}"

    counter = Counter(secrets, args.events)
    app = web.Application()
    app.router.add_post("/h/{tenant}/{meeting}", counter.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver_port).start()

    env = {
        **os.environ,
        "BBBFLEET_DATABASE_URL": database,
        "BBBFLEET_PUBLIC_URL": public,
        "BBBFLEET_POLLER": "false",
        "BBBFLEET_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "BBBFLEET_WEBHOOK_REGISTER_INTERVAL": "86400",
        "BBBFLEET_LOG_LEVEL": "error",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-c", "from bbbfleet.cli import main; main()", "serve", "--port"]
    gateway = subprocess.Popen(
        [*command, str(gateway_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_for_port(gateway_port)
        sent: dict[str, float] = {}
        requests = []
        for n in range(args.events):
            tenant = f"t{n % args.tenants}"
            meeting = (n // args.tenants) % args.meetings
            user = user_attributes(f"w_{n}", f"ext-{n}", name=f"User {n}", role="VIEWER")
            event = user_joined_event(
                f"{n:040d}-1", f"bf{tenant_ids[tenant]}-room-{meeting}", user, now_ms()
            )
            requests.append(
                (
                    f"w_{n}",
                    build_callback_request(
                        ingress,
                        event,
                        domain="bbb-bench",
                        timestamp=now_ms(),  # older than webhook_ingress_max_age: dropped
                        secret="server-secret-0123456789",
                    ),
                )
            )
        fan_requests = []
        for n in range(args.fanout_events):
            user = user_attributes(f"f_{n}", f"fext-{n}", name=f"Fan {n}", role="VIEWER")
            event = user_joined_event(
                f"{n:040d}-2", f"bf{tenant_ids['fan']}-room-fan", user, now_ms()
            )
            fan_requests.append(
                (
                    f"f_{n}",
                    build_callback_request(
                        ingress,
                        event,
                        domain="bbb-bench",
                        timestamp=now_ms(),  # older than webhook_ingress_max_age: dropped
                        secret="server-secret-0123456789",
                    ),
                )
            )
        semaphore = asyncio.Semaphore(args.concurrency)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.concurrency)
        ) as http:

            async def post(key: str, request: object) -> None:
                async with semaphore:
                    sent[key] = time.monotonic()
                    async with http.post(
                        request.url,  # type: ignore[attr-defined]
                        data=request.body,  # type: ignore[attr-defined]
                        headers={"Content-Type": request.content_type},  # type: ignore[attr-defined]
                    ) as response:
                        await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"ingress answered {response.status}")

            start = time.monotonic()
            await asyncio.gather(*(post(k, r) for k, r in requests))
            ingress_done = time.monotonic()
            await asyncio.wait_for(counter.done.wait(), args.timeout)
            end = max(counter.arrived.values())
            latencies = sorted(counter.arrived[k] - sent[k] for k in counter.arrived)
            single = {
                "hooks": args.tenants * args.meetings,
                "events": args.events,
                "delivered": len(counter.arrived),
                "ingress_events_per_s": round(args.events / (ingress_done - start), 1),
                "delivered_events_per_s": round(len(counter.arrived) / (end - start), 1),
                "deliveries_per_s": round(len(counter.arrived) / (end - start), 1),
                "latency_p50_ms": _ms(statistics.median(latencies)),
                "latency_p99_ms": _ms(_p99(latencies)),
            }
            bad_single = counter.bad_checksums

            # fan-out: every event of the burst goes to all the fan tenant's hooks
            expected = args.fanout_events * args.fanout_hooks
            counter.expect(expected, fanout=True)
            start = time.monotonic()
            await asyncio.gather(*(post(k, r) for k, r in fan_requests))
            ingress_done = time.monotonic()
            await asyncio.wait_for(counter.done.wait(), args.timeout)
            end = max(counter.arrived.values())
            per_delivery = sorted(t - sent[k.split("|")[0]] for k, t in counter.arrived.items())
            last: dict[str, float] = {}
            for k, t in counter.arrived.items():
                user = k.split("|")[0]
                last[user] = max(last.get(user, 0.0), t)
            per_event = sorted(t - sent[u] for u, t in last.items())
            fanout = {
                "hooks": args.fanout_hooks,
                "events": args.fanout_events,
                "delivered": len(counter.arrived),
                "ingress_events_per_s": round(args.fanout_events / (ingress_done - start), 1),
                "deliveries_per_s": round(len(counter.arrived) / (end - start), 1),
                "delivery_latency_p50_ms": _ms(statistics.median(per_delivery)),
                "delivery_latency_p99_ms": _ms(_p99(per_delivery)),
                "event_fully_delivered_p50_ms": _ms(statistics.median(per_event)),
                "event_fully_delivered_p99_ms": _ms(_p99(per_event)),
            }
        return {
            "database": "postgresql" if database.startswith("postgresql") else "sqlite",
            "bad_checksums": bad_single + counter.bad_checksums,
            "single_hook_per_event": single,
            "fanout": fanout,
            "fanout_vs_single_deliveries_per_s": round(
                float(fanout["deliveries_per_s"]) / float(single["deliveries_per_s"]), 2
            ),
        }
    finally:
        gateway.terminate()
        gateway.wait(10)
        await runner.cleanup()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _p99(values: list[float]) -> float:
    return values[max(0, int(len(values) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--meetings", type=int, default=100, help="meetings (hooks) per tenant")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50, help="POSTs in flight")
    parser.add_argument(
        "--fanout-hooks", type=int, default=1000, help="hooks on the fan-out case's one meeting"
    )
    parser.add_argument("--fanout-events", type=int, default=20, help="events in the fan-out burst")
    parser.add_argument(
        "--database", help="URL of an EMPTY database (default: a fresh SQLite file)"
    )
    parser.add_argument("--timeout", type=float, default=300.0)
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
