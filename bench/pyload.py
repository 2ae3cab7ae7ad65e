"""The fallback load generator, for machines without ``wrk``: asyncio over raw keep-alive sockets,
in one or more processes.  It is much slower than wrk, so against a fast server it is itself the
bottleneck; the report says which generator ran."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.load import Expectation, LoadResult, LoadSpec


@dataclass
class _WorkerResult:
    latencies_ms: list[float] = field(default_factory=list)
    socket_errors: int = 0
    unexpected: int = 0
    first_unexpected: str = ""
    wrapped: bool = False


class PythonLoad:
    """``processes`` worker processes share the connections and the path list between them."""

    def __init__(self, processes: int = 1) -> None:
        self.processes = max(1, processes)
        self.name = f"python asyncio fallback ({self.processes} process)"

    def run(self, spec: LoadSpec) -> LoadResult:
        paths = [p for p in spec.paths_file.read_text().splitlines() if p]
        url = urlsplit(spec.base_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        workers = min(self.processes, spec.connections)
        jobs = [
            (
                host,
                port,
                paths[index::workers] or paths,
                spec.expect,
                spec.duration,
                spec.connections // workers + (index < spec.connections % workers),
                spec.timeout,
            )
            for index in range(workers)
        ]
        started = time.monotonic()
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.starmap(_worker, jobs)
        seconds = min(spec.duration, time.monotonic() - started)
        latencies = sorted(x for r in results for x in r.latencies_ms)
        return LoadResult(
            requests=len(latencies),
            seconds=seconds,
            p50_ms=_percentile(latencies, 50),
            p90_ms=_percentile(latencies, 90),
            p99_ms=_percentile(latencies, 99),
            max_ms=latencies[-1] if latencies else 0.0,
            socket_errors=sum(r.socket_errors for r in results),
            unexpected=sum(r.unexpected for r in results),
            first_unexpected=next((r.first_unexpected for r in results if r.first_unexpected), ""),
            wrapped=any(r.wrapped for r in results),
        )


def _percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def _worker(
    host: str,
    port: int,
    paths: list[str],
    expect: Expectation,
    duration: float,
    connections: int,
    timeout: float,
) -> _WorkerResult:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    return asyncio.run(_drive(host, port, paths, expect, duration, connections, timeout))


async def _drive(
    host: str,
    port: int,
    paths: list[str],
    expect: Expectation,
    duration: float,
    connections: int,
    timeout: float,
) -> _WorkerResult:
    result = _WorkerResult()
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for p in paths]
    position = 0
    deadline = time.monotonic() + duration

    def next_request() -> bytes:
        nonlocal position
        if position >= len(requests):
            position = 0
            result.wrapped = True
        position += 1
        return requests[position - 1]

    async def connection() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while time.monotonic() < deadline:
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                started = time.perf_counter()
                writer.write(next_request())
                status, location, body = await asyncio.wait_for(_read_response(reader), timeout)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                _check(result, expect, status, location, body)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.socket_errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return result


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ValueError("the fallback generator reads only answers with a Content-Length")
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers.get("location", ""), body


def _check(
    result: _WorkerResult, expect: Expectation, status: int, location: str, body: bytes
) -> None:
    text = body.decode("utf-8", "replace")
    if expect.met_by(status, location, text):
        return
    result.unexpected += 1
    if not result.first_unexpected:
        result.first_unexpected = f"{status} {(location or text)[:300]}"
