"""The snapshot of the reference examples in tests/reference/examples matches the workplace's
copy (../shared/bbb-api/examples) wherever both exist, so a machine without the shared copy runs
the same assertions."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED_EXAMPLES, VENDORED_EXAMPLES


def test_every_shared_example_is_in_the_snapshot_unchanged() -> None:
    if not SHARED_EXAMPLES.is_dir():
        pytest.skip(f"no shared reference at {SHARED_EXAMPLES}: the snapshot is what the tests use")
    shared = {p.name: p.read_bytes() for p in SHARED_EXAMPLES.iterdir() if p.is_file()}
    vendored = {p.name: p.read_bytes() for p in VENDORED_EXAMPLES.iterdir() if p.is_file()}
    assert sorted(shared) == sorted(vendored)
    changed = [name for name in shared if shared[name] != vendored[name]]
    assert not changed, f"refresh tests/reference/examples from {SHARED_EXAMPLES}: {changed}"
