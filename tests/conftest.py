"""Shared fixtures: where the BBB reference examples live."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from bbbfleet.storage import database

POSTGRES_URL = os.environ.get(
    "BBBFLEET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT.parent / "shared" / "bbb-api" / "examples"


def example(name: str) -> str:
    """The body of one reference example, exactly as stored (no trailing newline)."""
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"reference example {name} not available at {EXAMPLES}")
    return path.read_text(encoding="utf-8")


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def reset_postgres(url: str) -> None:
    engine = database.create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "DROP TABLE IF EXISTS meetings, tenant_secrets, servers, tenants, alembic_version "
                "CASCADE"
            )
        )
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL
