"""Driving ``wrk``: find it (installing the Debian package when we are root), run it with
bench/request_cycle.lua, and read the one result line that script prints.

wrk runs with one thread: on a 2-core machine the server under test gets one core, wrk the other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench.load import LoadResult, LoadSpec

SCRIPT = Path(__file__).with_name("request_cycle.lua")
RESULT_PREFIX = "BENCH_RESULT "


class WrkFailed(RuntimeError):
    pass


def find_or_install_wrk(install: bool, say: Callable[[str], None]) -> str | None:
    """The path of ``wrk``; when it is missing and ``install`` is set, try the Debian package
    (needs root and apt-get; an ``apt-get update`` is tried once if the first install fails)."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    apt_get = shutil.which("apt-get")
    if os.geteuid() != 0 or apt_get is None:
        say("wrk is not installed, and installing it needs root and apt-get.")
        return None
    attempts = [
        [[apt_get, "install", "-y", "-q", "wrk"]],
        [[apt_get, "update", "-q"], [apt_get, "install", "-y", "-q", "wrk"]],
    ]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for steps in attempts:
        for argv in steps:
            say(f"wrk is not installed; running: {' '.join(argv)}")
            result = subprocess.run(
                argv, capture_output=True, text=True, check=False, env=environment
            )
            if result.returncode != 0:
                say(f"  failed (exit {result.returncode}): {result.stderr.strip()[-300:]}")
                break
        else:
            found = shutil.which("wrk")
            if found:
                return found
    return None


def wrk_version(path: str) -> str:
    result = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).strip().splitlines()
    return " ".join(first[0].split()[:2]) if first else "wrk"


class Wrk:
    """The load generator: one wrk thread, ``connections`` keep-alive connections."""

    def __init__(self, path: str, threads: int = 1) -> None:
        self.path = path
        self.threads = threads
        self.name = f"{wrk_version(path)} ({threads} thread)"

    def run(self, spec: LoadSpec) -> LoadResult:
        argv = [
            self.path,
            f"-t{self.threads}",
            f"-c{max(spec.connections, self.threads)}",
            f"-d{max(1, round(spec.duration))}s",
            f"--timeout={max(1, round(spec.timeout))}s",
            "-s",
            str(SCRIPT),
            spec.base_url,
            "--",
            str(spec.paths_file),
            str(spec.expect.status),
            spec.expect.where,
            spec.expect.needle,
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        line = next((x for x in result.stdout.splitlines() if x.startswith(RESULT_PREFIX)), None)
        if result.returncode != 0 or line is None:
            raise WrkFailed(
                f"wrk failed (exit {result.returncode}): {' '.join(argv)}\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        data = json.loads(line[len(RESULT_PREFIX) :])
        return LoadResult(
            requests=data["requests"],
            seconds=data["duration_us"] / 1e6,
            p50_ms=data["p50_us"] / 1000,
            p90_ms=data["p90_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            max_ms=data["max_us"] / 1000,
            socket_errors=data["connect_errors"]
            + data["read_errors"]
            + data["write_errors"]
            + data["timeouts"],
            unexpected=data["unexpected"],
            first_unexpected=data["first_unexpected"],
            wrapped=data["wraps"] > 0,
        )
