"""Shared fixtures: where the BBB reference examples live."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from bbbfleet.storage.database import Database

POSTGRES_URL = os.environ.get(
    "BBBFLEET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

ROOT = Path(__file__).resolve().parent.parent
# The reference examples of a real BBB 3.0 server's answers.  The workplace's copy next to the
# checkout wins; the snapshot in tests/reference/examples keeps the tests meaningful on a machine
# without it (tests/test_reference_snapshot.py checks the two agree where both exist).
SHARED_EXAMPLES = ROOT.parent / "shared" / "bbb-api" / "examples"
VENDORED_EXAMPLES = ROOT / "tests" / "reference" / "examples"
EXAMPLES = SHARED_EXAMPLES if SHARED_EXAMPLES.is_dir() else VENDORED_EXAMPLES


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


async def _run_admin(statement: str) -> None:
    db = Database(POSTGRES_URL)
    async with db.async_engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(statement))
    await db.dispose()


def _admin(statement: str) -> None:
    """Run one statement on the maintenance database, from any thread or event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _run_admin(statement)).result()


@pytest.fixture(scope="session")
def postgres_run_url() -> Iterator[str]:
    """A database of this test run's own (so parallel runs never collide), dropped at the end."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"bbbfleet_test_{os.getpid()}_{secrets.token_hex(4)}"
    _admin(f"CREATE DATABASE {name}")
    try:
        yield str(make_url(POSTGRES_URL).set(database=name))
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def reset_postgres(url: str) -> None:
    db = Database(url)

    def reset(conn: Connection) -> None:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))

    await db.write(reset)
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test gets an empty database: a fresh SQLite file, or an emptied PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    url: str = request.getfixturevalue("postgres_run_url")
    await reset_postgres(url)
    return url
