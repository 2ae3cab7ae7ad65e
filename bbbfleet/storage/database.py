"""Database access for SQLite and PostgreSQL through one interface, and schema migrations.

Storage code is written once, as plain synchronous SQLAlchemy Core functions of a
``Connection``; ``Database`` runs them:

* **SQLite** (the embedded default, one process): directly on the event loop with the stdlib
  driver.  A read is tens of microseconds; a thread hop per query (aiosqlite) would cost twenty
  times that on every join.  A transaction has no ``await`` inside it, so it is atomic within the
  process by construction.
* **PostgreSQL** (scale-out): through asyncpg with ``AsyncConnection.run_sync``, so the event loop
  is never blocked by the network.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 7_203_114  # advisory lock id: one gateway process migrates at a time


class UnsupportedDatabase(ValueError):
    """The URL names a database bbbfleet does not support."""


def _backend(url: str) -> str:
    try:
        backend = make_url(url).get_backend_name()
    except sqlalchemy.exc.ArgumentError as exc:
        raise UnsupportedDatabase(f"not a database URL: {url!r}") from exc
    if backend not in ("sqlite", "postgresql"):
        raise UnsupportedDatabase(
            f"unsupported database {backend!r}: use sqlite:///path or postgresql://user@host/db"
        )
    return backend


def check_url(url: str) -> None:
    """Raise UnsupportedDatabase unless ``url`` is a SQLite or PostgreSQL URL."""
    _backend(url)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url).set(drivername="sqlite+pysqlite")
    database = parsed.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(parsed, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _postgres_engine(url: str) -> AsyncEngine:
    parsed = make_url(url).set(drivername="postgresql+asyncpg")
    return create_async_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Runs storage functions against SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = _backend(url)
        self._sqlite: Engine | None = _sqlite_engine(url) if self.dialect == "sqlite" else None
        self._postgres: AsyncEngine | None = (
            _postgres_engine(url) if self.dialect == "postgresql" else None
        )
        self._connection: Connection | None = None

    @property
    def is_postgres(self) -> bool:
        return self._postgres is not None

    @property
    def async_engine(self) -> AsyncEngine:
        """The asyncpg engine (PostgreSQL only), for session-level locks."""
        if self._postgres is None:
            raise RuntimeError("only PostgreSQL databases have an async engine")
        return self._postgres

    def _sqlite_connection(self) -> Connection:
        # one connection for the process: every use runs to completion without yielding, so
        # uses never overlap, and a pool checkout per query would cost more than the query
        if self._connection is None or self._connection.closed:
            assert self._sqlite is not None
            self._connection = self._sqlite.connect()
        return self._connection

    def sqlite_driver(self) -> sqlite3.Connection | None:
        """The stdlib connection under SQLite (None on PostgreSQL), for the one query hot enough
        that SQLAlchemy's per-execution overhead shows: the meeting lookup of every join."""
        if self._sqlite is None:
            return None
        driver = self._sqlite_connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a connection (no transaction is committed)."""
        if self._sqlite is not None:
            conn = self._sqlite_connection()
            try:
                return fn(conn)
            finally:
                conn.rollback()  # end the read snapshot so later reads see new writes
        async with self.async_engine.connect() as aconn:
            return await aconn.run_sync(fn)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a transaction, committed when it returns, rolled back if it raises."""
        if self._sqlite is not None:
            conn = self._sqlite_connection()
            try:
                result = fn(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return result
        async with self.async_engine.begin() as aconn:
            return await aconn.run_sync(fn)

    async def dispose(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._sqlite is not None:
            self._sqlite.dispose()
        if self._postgres is not None:
            await self._postgres.dispose()

    # --- schema ---------------------------------------------------------------------------------

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision``.  On PostgreSQL an advisory lock serialises gateway
        processes that start at the same time."""

        def run(conn: Connection) -> None:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

        await self.write(run)

    async def current_revision(self) -> str | None:
        return await self.read(lambda conn: MigrationContext.configure(conn).get_current_revision())
