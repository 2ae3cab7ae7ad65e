"""Shared fixtures: where the BBB reference examples live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT.parent / "shared" / "bbb-api" / "examples"


def example(name: str) -> str:
    """The body of one reference example, exactly as stored (no trailing newline)."""
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"reference example {name} not available at {EXAMPLES}")
    return path.read_text(encoding="utf-8")
