"""``python -m bench.recordings``: getRecordings answered from the recording index at scale.

100,000 recordings (two tenants, 50,000 each) are written straight into a fresh database through
``store.recordings``; then ``bbbfleet serve`` (one uvicorn worker, no poller) is started on it and
getRecordings is called over HTTP, one request at a time, with ``limit=50`` and a ``meta_*``
filter:

* **selective**: ``meta_bbb-context-id=course-<n>`` (50 of the tenant's 50,000 match),
* **prefix**: ``meta_bbb-context-id=course-12%`` (550 match),
* **unselective**: ``meta_bbb-origin=Greenlight`` (25,000 match: counting them is the cost),
* **meetingID**: ``meetingID=room-<n>`` (10 match), for comparison.

Each recording looks like a real one: two formats, three preview images, five metadata keys.
Prints p50/p99 latency per query on SQLite, and on PostgreSQL with ``--postgres URL`` (a database
of its own is created there and dropped afterwards).

    python -m bench.recordings                      # SQLite
    python -m bench.recordings --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import click
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bbbfleet.protocol import recordings as rec
from bbbfleet.protocol.checksum import compute
from bbbfleet.protocol.recordings import PlaybackFormat, PreviewImage, RecordingSnapshot
from bbbfleet.storage.database import Database
from bbbfleet.storage.recordings import RecordingEntry
from bbbfleet.storage.repository import Store
from bench.processes import Children, free_port

SECRETS = {"alpha": "alpha-bench-secret-0123456789", "beta": "beta-bench-secret-0123456789"}
COURSES = 1000
ROOMS = 5000
BATCH = 5000


def snapshot(tenant_id: int, n: int) -> tuple[str, RecordingSnapshot]:
    room = f"room-{n % ROOMS}"
    backend = f"bf{tenant_id}-{room}"
    start = 1_700_000_000_000 + n * 60_000
    record_id = f"{hashlib.sha1(backend.encode()).hexdigest()}-{start}"
    host = f"https://bbb{n % 8}.example.org"
    thumbs = f"{host}/presentation/{record_id}/presentation/{'d' * 40}-{start + 10}/thumbnails"
    metadata = (
        ("isBreakout", "false"),
        ("meetingName", f"Course {n % COURSES} lecture"),
        ("bbb-origin", "Greenlight" if n % 2 else "Moodle"),
        ("bbb-context-id", f"course-{n % COURSES}"),
        ("meetingId", room),
    )
    return room, RecordingSnapshot(
        record_id=record_id,
        meeting_id=room,
        name=f"Course {n % COURSES} lecture",
        state=rec.PUBLISHED if n % 10 else rec.UNPUBLISHED,
        start_time=start,
        end_time=start + 3_600_000,
        participants=12,
        raw_size=90_000_000,
        metadata=metadata,
        playback=(
            PlaybackFormat(
                "presentation",
                f"{host}/playback/presentation/2.3/{record_id}",
                7000,
                3_600_000,
                1_250_000,
                tuple(PreviewImage(f"Slide {i}", f"{thumbs}/thumb-{i}.png") for i in (1, 2, 3)),
            ),
            PlaybackFormat(
                "video", f"{host}/playback/video/{record_id}/", 128_000, 3_600_000, 9_000_000
            ),
        ),
    )


async def populate(url: str, count: int) -> float:
    store = Store.open(url)
    try:
        await store.db.upgrade()
        tenants = [await store.tenants.add(name, secret) for name, secret in SECRETS.items()]
        await store.servers.add("bbb", "http://127.0.0.1:9/bigbluebutton/api/", "s", capacity=10)
        started = time.perf_counter()
        per_tenant = count // len(tenants)
        for tenant in tenants:
            for first in range(0, per_tenant, BATCH):
                entries = []
                for n in range(first, min(first + BATCH, per_tenant)):
                    room, snap = snapshot(tenant.id, n)
                    entries.append(
                        RecordingEntry(tenant.id, room, f"bf{tenant.id}-{room}", 1, snap)
                    )
                await store.recordings.insert_many(entries, 1)
        elapsed = time.perf_counter() - started
        await store.recordings.optimize()  # what the recording poller does after a cycle
        return elapsed
    finally:
        await store.close()


def signed(base: str, call: str, query: str, secret: str) -> str:
    return f"{base}{call}?{query}&checksum={compute(call, query, secret, 'sha256')}"


QUERIES: dict[str, Callable[[random.Random], str]] = {
    "selective meta": lambda r: f"meta_bbb-context-id=course-{r.randrange(COURSES)}&limit=50",
    "prefix meta": lambda r: (
        f"meta_bbb-context-id={quote('course-1' + str(r.randrange(10)) + '%')}&limit=50"
    ),
    "unselective meta": lambda r: f"meta_bbb-origin=Greenlight&limit=50&offset={r.randrange(500)}",
    "meetingID": lambda r: f"meetingID=room-{r.randrange(ROOMS)}&limit=50",
}
# The baseline, measured in the same run on the same process: the cheapest checksum-verified
# call (isMeetingRunning of an unknown meeting: parse, checksum, one indexed lookup).
BASELINE = "isMeetingRunning (baseline)"


async def measure(base: str, requests: int) -> dict[str, tuple[float, float, int]]:
    rng = random.Random(7)
    results: dict[str, tuple[float, float, int]] = {}
    async with httpx.AsyncClient(timeout=30) as http:
        calls = [(name, "getRecordings", make) for name, make in QUERIES.items()]
        calls.append((BASELINE, "isMeetingRunning", lambda r: f"meetingID=none-{r.random()}"))
        for name, call, make in calls:
            latencies: list[float] = []
            shown = 0
            for i in range(requests + 20):
                tenant = "alpha" if i % 2 else "beta"
                url = signed(base, call, make(rng), SECRETS[tenant])
                started = time.perf_counter()
                response = await http.get(url)
                elapsed = time.perf_counter() - started
                if response.status_code != 200 or "<returncode>SUCCESS" not in response.text:
                    raise RuntimeError(f"{name}: unexpected answer {response.text[:300]}")
                if i >= 20:  # the first ones warm caches
                    latencies.append(elapsed * 1000)
                    shown = max(shown, response.text.count("<recording>"))
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            results[name] = (statistics.median(latencies), p99, shown)
    return results


def run_one(label: str, url: str, count: int, requests: int, work: Path) -> None:
    click.echo(f"[{label}] inserting {count:,} recordings …")
    insert_s = asyncio.run(populate(url, count))
    click.echo(f"[{label}] inserted in {insert_s:.1f} s ({count / insert_s:,.0f}/s)")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BBBFLEET_")}
    env.update(
        {
            "BBBFLEET_DATABASE_URL": url,
            "BBBFLEET_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "BBBFLEET_POLLER": "false",
            "BBBFLEET_LOG_LEVEL": "warning",
            "BBBFLEET_CACHE_SECONDS": "5",
        }
    )
    argv = [sys.executable, "-c", "from bbbfleet.cli import main; main()", "serve"]
    with Children(work, Path.cwd()) as children:
        gateway = children.start(f"gateway-{label}", [*argv, "--port", str(port)], env)
        children.wait_listening(gateway, [port])
        results = asyncio.run(measure(f"http://127.0.0.1:{port}/bigbluebutton/api/", requests))
    click.echo(f"[{label}] getRecordings over HTTP, 1 connection, {requests} requests each:")
    click.echo(
        f"  {'query':<28} {'p50 ms':>8} {'p99 ms':>8} {'p50 × baseline':>15}  recordings/page"
    )
    base_p50 = results[BASELINE][0]
    for name, (p50, p99, shown) in results.items():
        ratio = p50 / base_p50 if base_p50 else float("nan")
        click.echo(f"  {name:<28} {p50:>8.2f} {p99:>8.2f} {ratio:>15.2f}  {shown}")


async def _admin(url: str, statement: str) -> None:
    db = Database(url)
    async with db.async_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(statement))
    await db.dispose()


@click.command()
@click.option("--count", default=100_000, show_default=True, help="Recordings to index.")
@click.option("--requests", default=300, show_default=True, help="Measured requests per query.")
@click.option(
    "--postgres",
    "postgres_url",
    default=None,
    help="Also measure on PostgreSQL: URL of a database to connect to for CREATE DATABASE.",
)
@click.option("--no-sqlite", is_flag=True, help="Skip the SQLite run.")
def main(count: int, requests: int, postgres_url: str | None, no_sqlite: bool) -> None:
    """Measure getRecordings from an index of COUNT recordings (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bbbfleet-bench-rec-") as tmp:
        work = Path(tmp)
        if not no_sqlite:
            run_one("sqlite", f"sqlite:///{work / 'recordings.sqlite3'}", count, requests, work)
        if postgres_url:
            name = f"bbbfleet_bench_{secrets.token_hex(4)}"
            asyncio.run(_admin(postgres_url, f"CREATE DATABASE {name}"))
            try:
                url = make_url(postgres_url).set(database=name)
                run_one(
                    "postgresql", url.render_as_string(hide_password=False), count, requests, work
                )
            finally:
                asyncio.run(_admin(postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
