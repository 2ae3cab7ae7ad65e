"""Server health with hysteresis: a pure state machine, no I/O.

One failed poll or call makes an available server *unstable* (no new meetings); ``offline_after``
consecutive failures make it *offline* (its meetings are re-created elsewhere on their next create
or join); ``available_after`` consecutive successes make it *available* again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bbbfleet.placement import Health


@dataclass(frozen=True, slots=True)
class Thresholds:
    unstable_after: int = 1
    offline_after: int = 3
    available_after: int = 2


@dataclass(frozen=True, slots=True)
class HealthState:
    health: Health = Health.AVAILABLE
    failures: int = 0  # consecutive
    successes: int = 0  # consecutive


def observe(state: HealthState, ok: bool, thresholds: Thresholds) -> HealthState:
    """The state after one more poll or call outcome."""
    if ok:
        successes = state.successes + 1
        health = state.health
        if health is not Health.AVAILABLE and successes >= thresholds.available_after:
            health = Health.AVAILABLE
        return HealthState(health, 0, successes)
    failures = state.failures + 1
    health = state.health
    if failures >= thresholds.offline_after:
        health = Health.OFFLINE
    elif failures >= thresholds.unstable_after and health is Health.AVAILABLE:
        health = Health.UNSTABLE
    return HealthState(health, failures, 0)
