"""The async engine: SQLite (WAL, busy timeout, foreign keys) by default, PostgreSQL to scale out."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import util as sa_util
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "make_engine", "sqlite_path"]

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Page cache per connection and memory-mapped reads: large campaign trees read hundreds of MB of pages, and
# the 2 MiB default cache turned that into one read system call per page.
SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 1 << 30
# Connections per SQLite file, with no overflow. Each aiosqlite connection is a thread; SQLAlchemy's default pool
# (5 + 10 overflow) let eight concurrent HTTP clients keep eight threads contending for the GIL. Alternated runs
# (bench/README.md): a fixed five gave 10 % more calls/s at 10 % less CPU per call with 8 HTTP clients and the
# same throughput in the mixed soak; three was faster still for reads alone but 7 % slower in the soak (requests
# queued behind the in-process jobs). No code path holds a connection while it waits for another (the whole
# suite passes with a pool of one).
SQLITE_POOL_SIZE = 5

# Runs a coroutine from SQLAlchemy's sync event hooks. SQLAlchemy 2.1 calls it `await_` (2.0: `await_only`,
# deprecated in 2.2).
_await: Callable[[Awaitable[Any]], Any] = getattr(sa_util, "await_", None) or sa_util.await_only


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or `None` for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, echo: bool = False, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> AsyncEngine:
    """Create the async engine for `url`.

    SQLite: the parent directory is created, and every connection runs in WAL mode with a busy
    timeout and foreign keys on. The driver's own transaction handling is switched off so that
    SQLAlchemy emits `BEGIN` itself: read sessions use a deferred `BEGIN`, write sessions
    `BEGIN IMMEDIATE` (see `db.session`), which makes concurrent writers from several processes
    queue on the busy timeout instead of failing with "database is locked" on lock upgrade.

    Every aiosqlite call is a round trip to the connection's thread, and those round trips are most of
    the cost of a small read, so the SQLite setup avoids the ones that do nothing: `BEGIN` is one call
    instead of three (cursor, execute, close), and a connection going back to the pool is not waited on: a
    rollback-if-still-open is queued on its thread (`_rollback_if_open`).
    """
    kwargs: dict[str, Any] = {"echo": echo}
    path = sqlite_path(url)
    if make_url(url).drivername.startswith("sqlite"):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": sqlite_busy_timeout_ms / 1000}
        kwargs["pool_reset_on_return"] = None  # the "reset" listener below does it, only when needed
        if path is not None:  # in-memory SQLite uses a static pool of one connection
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=0)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; SQLAlchemy's "begin" event below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        statement = f"BEGIN {mode}"
        # One round trip to the aiosqlite thread (exec_driver_sql takes three); errors are wrapped the way
        # SQLAlchemy wraps them, so "database is locked" still reaches `Database` as an OperationalError.
        driver = conn.connection.driver_connection
        try:
            _await(driver.execute_fetchall(statement))
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
        # Replaces the pool's unconditional, awaited rollback-on-return (pool_reset_on_return=None).
        if not state.asyncio_safe:
            return
        driver = record.driver_connection
        queue = getattr(driver, "_tx", None)
        if queue is None or not hasattr(driver, "_connection"):  # an aiosqlite without the queue: the plain way
            dbapi_connection.rollback()
            return
        queue.put_nowait((None, partial(_rollback_if_open, driver)))


def _rollback_if_open(driver: Any) -> None:
    """Run on the aiosqlite thread: end whatever transaction the connection still has.

    The pool puts this on the connection's queue without waiting for it. Checking `in_transaction` from the event
    loop instead would be wrong after a cancellation (an MCP `notifications/cancelled`, a timeout): the awaiting
    side is gone, but the thread still runs the statement it was given, e.g. a `BEGIN IMMEDIATE` waiting out the
    busy timeout, and that opens a transaction after the connection is back in the pool. That transaction would
    keep the write lock from every other process and fail the connection's next `BEGIN`. aiosqlite runs its queue
    in order, so this check runs after that statement and before the next session's. Not waiting keeps a round
    trip off every session (one that ended normally has already closed its own transaction).
    """
    connection = driver._connection
    if connection is not None and connection.in_transaction:
        connection.rollback()
