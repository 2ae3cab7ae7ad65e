"""Where the CPU went during a measurement: each server process, the load generator, and the
rest of the machine (other processes, and time the hypervisor stole).

A server at ~100 % of one core is the bottleneck of its scenario; a high ``other`` means the
figures were disturbed by something else running and should be taken again.  Linux only
(``/proc``); elsewhere nothing is measured.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def machine_seconds() -> tuple[float, float] | None:
    """(busy, stolen) CPU seconds of the whole machine, all cores together."""
    try:
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / TICKS, steal / TICKS


def generator_seconds() -> float:
    """CPU seconds of finished child processes (wrk runs and exits within the measurement)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuUsage:
    """Percent of one core, over the measurement's wall time."""

    processes: dict[str, float] = field(default_factory=dict)
    generator: float = 0.0
    other: float | None = None  # machine busy time that none of ours explains
    stolen: float | None = None


class CpuMeter:
    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._start: dict[str, float] = {}
        self._machine: tuple[float, float] | None = None
        self._generator = 0.0
        self._wall = 0.0

    def start(self) -> None:
        self._start = {
            name: s for name, pid in self.pids.items() if (s := process_seconds(pid)) is not None
        }
        self._machine = machine_seconds()
        self._generator = generator_seconds()
        self._wall = time.monotonic()

    def stop(self) -> CpuUsage:
        wall = max(time.monotonic() - self._wall, 1e-9)
        usage = CpuUsage()
        for name, before in self._start.items():
            after = process_seconds(self.pids[name])
            if after is not None:
                usage.processes[name] = 100 * (after - before) / wall
        usage.generator = 100 * (generator_seconds() - self._generator) / wall
        machine = machine_seconds()
        if machine is not None and self._machine is not None:
            busy = 100 * (machine[0] - self._machine[0]) / wall
            ours = sum(usage.processes.values()) + usage.generator
            usage.other = max(0.0, busy - ours)
            usage.stolen = 100 * (machine[1] - self._machine[1]) / wall
        return usage


def machine_busy(seconds: float = 1.0) -> float | None:
    """% of one core the whole machine is busy (plus stolen) over the next ``seconds``."""
    before = machine_seconds()
    time.sleep(seconds)
    after = machine_seconds()
    if before is None or after is None:
        return None
    return 100 * ((after[0] - before[0]) + (after[1] - before[1])) / seconds


def wait_until_quiet(limit: float, timeout: float, say: Callable[[str], None]) -> float | None:
    """Sample the machine until it is below ``limit`` % of a core busy, for up to ``timeout``
    seconds; return the last reading (None where /proc is missing)."""
    deadline = time.monotonic() + timeout
    busy = machine_busy()
    while busy is not None and busy > limit and time.monotonic() < deadline:
        say(f"  the machine is busy ({busy:.0f}% of a core); waiting for it to quiet down …")
        busy = machine_busy(2.0)
    return busy
