"""Time as the simulator sees it: a callable returning seconds since the epoch.

Every time-dependent rule (createTime, the auto-end rules of REFERENCE.md §8, users leaving the
user list) reads the clock of its ``SimulatedServer``, so tests replace it with a ``ManualClock``
and move time forward instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

# 2024-05-09 13:35:28.123 UTC: the createTime of the reference examples.
EXAMPLE_EPOCH = 1715261728.123


def system_clock() -> float:
    return time.time()


def millis(clock: Clock) -> int:
    """The clock's reading as Java's ``System.currentTimeMillis()``."""
    return round(clock() * 1000)


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: float = EXAMPLE_EPOCH) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = when
