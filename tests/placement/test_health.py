"""Server health hysteresis (bbbfleet.health): sequences of poll outcomes and the health they lead to."""

from __future__ import annotations

from functools import reduce
from itertools import groupby

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbbfleet.health import HealthState, Thresholds, observe
from bbbfleet.placement import Health

AVAILABLE, UNSTABLE, OFFLINE = Health.AVAILABLE, Health.UNSTABLE, Health.OFFLINE
DEFAULT = Thresholds()


def outcomes(text: str) -> list[bool]:
    """``"ff.f"``: f is a failed poll, . a successful one."""
    assert set(text) <= {"f", "."}
    return [c == "." for c in text]


def run(sequence: list[bool], thresholds: Thresholds) -> HealthState:
    """The state of a new server after these outcomes."""
    return reduce(lambda state, ok: observe(state, ok, thresholds), sequence, HealthState())


def test_default_thresholds() -> None:
    assert Thresholds() == Thresholds(unstable_after=1, offline_after=3, available_after=2)
    assert HealthState() == HealthState(AVAILABLE, 0, 0)


@pytest.mark.parametrize(
    ("sequence", "thresholds", "expected"),
    [
        # default thresholds: unstable after 1 failure, offline after 3, available after 2 successes
        pytest.param("", DEFAULT, HealthState(AVAILABLE, 0, 0), id="new"),
        pytest.param("...", DEFAULT, HealthState(AVAILABLE, 0, 3), id="healthy"),
        pytest.param("f", DEFAULT, HealthState(UNSTABLE, 1, 0), id="one-failure-unstable"),
        pytest.param("ff", DEFAULT, HealthState(UNSTABLE, 2, 0), id="two-failures-unstable"),
        pytest.param("fff", DEFAULT, HealthState(OFFLINE, 3, 0), id="three-failures-offline"),
        pytest.param("ffff", DEFAULT, HealthState(OFFLINE, 4, 0), id="more-failures-offline"),
        pytest.param("...f", DEFAULT, HealthState(UNSTABLE, 1, 0), id="failure-after-successes"),
        pytest.param("f.", DEFAULT, HealthState(UNSTABLE, 0, 1), id="one-success-not-enough"),
        pytest.param("f..", DEFAULT, HealthState(AVAILABLE, 0, 2), id="two-successes-recover"),
        pytest.param("ff.ff", DEFAULT, HealthState(UNSTABLE, 2, 0), id="success-resets-failures"),
        pytest.param("ff.fff", DEFAULT, HealthState(OFFLINE, 3, 0), id="offline-after-reset"),
        pytest.param("f.f.", DEFAULT, HealthState(UNSTABLE, 0, 1), id="failure-resets-successes"),
        pytest.param("f.f..", DEFAULT, HealthState(AVAILABLE, 0, 2), id="flapping-then-recovery"),
        pytest.param("fff.", DEFAULT, HealthState(OFFLINE, 0, 1), id="offline-one-success"),
        pytest.param("fff..", DEFAULT, HealthState(AVAILABLE, 0, 2), id="offline-recovers"),
        pytest.param("fff.f", DEFAULT, HealthState(OFFLINE, 1, 0), id="offline-stays-offline"),
        pytest.param("fff.ff", DEFAULT, HealthState(OFFLINE, 2, 0), id="offline-never-unstable"),
        pytest.param("fff..f", DEFAULT, HealthState(UNSTABLE, 1, 0), id="recovered-then-fails"),
        # custom: unstable after 2, offline after 5, available after 3
        pytest.param(
            "f", Thresholds(2, 5, 3), HealthState(AVAILABLE, 1, 0), id="custom-one-tolerated"
        ),
        pytest.param("ff", Thresholds(2, 5, 3), HealthState(UNSTABLE, 2, 0), id="custom-unstable"),
        pytest.param(
            "ffff", Thresholds(2, 5, 3), HealthState(UNSTABLE, 4, 0), id="custom-not-yet-offline"
        ),
        pytest.param("fffff", Thresholds(2, 5, 3), HealthState(OFFLINE, 5, 0), id="custom-offline"),
        pytest.param("f.f", Thresholds(2, 5, 3), HealthState(AVAILABLE, 1, 0), id="custom-reset"),
        pytest.param(
            "ff..", Thresholds(2, 5, 3), HealthState(UNSTABLE, 0, 2), id="custom-two-not-enough"
        ),
        pytest.param(
            "ff...", Thresholds(2, 5, 3), HealthState(AVAILABLE, 0, 3), id="custom-recovers"
        ),
        pytest.param(
            "fffff..f..", Thresholds(2, 5, 3), HealthState(OFFLINE, 0, 2), id="custom-slow-recovery"
        ),
        # hair-trigger: any failure is offline, any success available again
        pytest.param(
            "f", Thresholds(1, 1, 1), HealthState(OFFLINE, 1, 0), id="hair-trigger-offline"
        ),
        pytest.param(
            "f.", Thresholds(1, 1, 1), HealthState(AVAILABLE, 0, 1), id="hair-trigger-recovers"
        ),
    ],
)
def test_sequences(sequence: str, thresholds: Thresholds, expected: HealthState) -> None:
    assert run(outcomes(sequence), thresholds) == expected


@pytest.mark.parametrize(
    ("before", "ok", "after"),
    [
        pytest.param(
            HealthState(AVAILABLE, 0, 7), False, HealthState(UNSTABLE, 1, 0), id="available-fails"
        ),
        pytest.param(
            HealthState(UNSTABLE, 2, 0),
            False,
            HealthState(OFFLINE, 3, 0),
            id="unstable-goes-offline",
        ),
        pytest.param(
            HealthState(UNSTABLE, 0, 1),
            False,
            HealthState(UNSTABLE, 1, 0),
            id="unstable-fails-again",
        ),
        pytest.param(
            HealthState(UNSTABLE, 0, 1), True, HealthState(AVAILABLE, 0, 2), id="unstable-recovers"
        ),
        pytest.param(
            HealthState(OFFLINE, 0, 1), False, HealthState(OFFLINE, 1, 0), id="offline-fails-again"
        ),
        pytest.param(
            HealthState(OFFLINE, 5, 0), True, HealthState(OFFLINE, 0, 1), id="offline-first-success"
        ),
        pytest.param(
            HealthState(OFFLINE, 0, 1), True, HealthState(AVAILABLE, 0, 2), id="offline-recovers"
        ),
    ],
)
def test_single_observation(before: HealthState, ok: bool, after: HealthState) -> None:
    assert observe(before, ok, DEFAULT) == after


def test_observe_does_not_mutate_its_input() -> None:
    before = HealthState(UNSTABLE, 2, 0)
    observe(before, False, DEFAULT)
    assert before == HealthState(UNSTABLE, 2, 0)


# --- properties ---------------------------------------------------------------------------------

thresholds_ = st.builds(
    Thresholds,
    unstable_after=st.integers(1, 4),
    offline_after=st.integers(1, 6),
    available_after=st.integers(1, 4),
)
states = st.builds(
    HealthState,
    health=st.sampled_from(Health),
    failures=st.integers(0, 8),
    successes=st.integers(0, 8),
)
sequences = st.lists(st.booleans(), max_size=30)
RANK = {AVAILABLE: 0, UNSTABLE: 1, OFFLINE: 2}  # how bad


def by_runs(sequence: list[bool], thresholds: Thresholds) -> Health:
    """The health after a sequence from a new server, worked out run by run rather than step by
    step: a run of failures is judged by its length, a run of successes by its length."""
    health = AVAILABLE
    for ok, run_ in groupby(sequence):
        length = len(list(run_))
        if ok:
            if length >= thresholds.available_after:
                health = AVAILABLE
        elif length >= thresholds.offline_after:
            health = OFFLINE
        elif length >= thresholds.unstable_after and health is AVAILABLE:
            health = UNSTABLE
    return health


@settings(max_examples=100, deadline=None)
@given(sequences, thresholds_)
def test_matches_a_run_by_run_model(sequence: list[bool], thresholds: Thresholds) -> None:
    state = run(sequence, thresholds)
    assert state.health is by_runs(sequence, thresholds)
    trailing = len(list(next(groupby(reversed(sequence)))[1])) if sequence else 0
    if not sequence:
        assert (state.failures, state.successes) == (0, 0)
    elif sequence[-1]:
        assert (state.failures, state.successes) == (0, trailing)
    else:
        assert (state.failures, state.successes) == (trailing, 0)


@settings(max_examples=100, deadline=None)
@given(states, st.booleans(), thresholds_)
def test_one_observation(state: HealthState, ok: bool, thresholds: Thresholds) -> None:
    after = observe(state, ok, thresholds)
    if ok:
        # a success resets failures, never makes health worse, and recovers only after enough
        assert (after.failures, after.successes) == (0, state.successes + 1)
        assert RANK[after.health] <= RANK[state.health]
        recovers = state.health is not AVAILABLE and after.health is AVAILABLE
        assert recovers == (
            state.health is not AVAILABLE and state.successes + 1 >= thresholds.available_after
        )
        if after.health is not AVAILABLE:
            assert after.health is state.health
    else:
        # a failure resets successes, never makes health better, never turns offline into unstable
        assert (after.failures, after.successes) == (state.failures + 1, 0)
        assert RANK[after.health] >= RANK[state.health]
        assert (after.health is OFFLINE) == (
            state.health is OFFLINE or state.failures + 1 >= thresholds.offline_after
        )
        if state.health is AVAILABLE and after.health is not OFFLINE:
            expected = UNSTABLE if state.failures + 1 >= thresholds.unstable_after else AVAILABLE
            assert after.health is expected


@settings(max_examples=100, deadline=None)
@given(states, thresholds_)
def test_enough_failures_always_take_a_server_offline(
    state: HealthState, thresholds: Thresholds
) -> None:
    for failed in range(1, thresholds.offline_after + 1):
        state = observe(state, False, thresholds)
        assert state.health is not AVAILABLE or failed < thresholds.unstable_after
    assert state.health is OFFLINE


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([UNSTABLE, OFFLINE]), thresholds_)
def test_recovery_needs_enough_consecutive_successes(
    health: Health, thresholds: Thresholds
) -> None:
    state = HealthState(health, failures=1, successes=0)  # just failed
    for _ in range(thresholds.available_after - 1):
        state = observe(state, True, thresholds)
        assert state.health is health
    assert observe(state, True, thresholds).health is AVAILABLE
    # one failure in between starts the count again
    interrupted = observe(state, False, thresholds)
    for _ in range(thresholds.available_after - 1):
        interrupted = observe(interrupted, True, thresholds)
        assert interrupted.health is not AVAILABLE


@settings(max_examples=60, deadline=None)
@given(sequences)
def test_default_one_failure_makes_an_available_server_unstable(sequence: list[bool]) -> None:
    state = run(sequence, DEFAULT)
    after = observe(state, False, DEFAULT)
    if state.health is AVAILABLE:
        assert after.health is UNSTABLE  # stops taking meetings at once, but is not yet offline
        assert after.failures == 1
