"""The async engine: SQLite (WAL, busy timeout, foreign keys) by default, PostgreSQL to scale out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from trackagoat_mcp.db.sqlite_driver import DRIVERNAME, InlineReader

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "inline_reader", "make_engine", "missing_sqlite_file", "sqlite_path"]

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Page cache per connection and memory-mapped reads: large campaign trees read hundreds of MB of pages, and
# the 2 MiB default cache turned that into one read system call per page.
SQLITE_CACHE_KIB = 65_536
SQLITE_MMAP_BYTES = 1 << 30
# Temporary B-trees (DISTINCT, GROUP BY, ORDER BY without an index, materialised CTEs, automatic indexes) in memory:
# in a file, each statement that needs one opens and deletes a file, which costs more than a small read itself
# (figures: bench/README.md); the largest, a 10,000-creator tree's grouping, stays within tens of MB.
_SQLITE_READ_PRAGMAS = (
    f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}",
    f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}",
    "PRAGMA temp_store=MEMORY",
)
# Connections per SQLite file, with no overflow. Each SQLite connection is a thread, so a pool as large as the
# number of concurrent clients keeps that many threads contending for the GIL, while a smaller one queues requests
# behind the in-process jobs; five balances the two (figures: bench/README.md, "Figures behind rules in the
# code"). No code path holds a connection while it waits for another (the whole suite passes with a pool of one).
SQLITE_POOL_SIZE = 5


def sqlite_path(url: str | URL) -> Path | None:
    """The file behind a SQLite URL, or `None` for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def missing_sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL when it does not exist (a store never initialised), else `None`."""
    path = sqlite_path(url)
    return path if path is not None and not path.exists() else None


def make_engine(url: str, *, echo: bool = False, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> AsyncEngine:
    """Create the async engine for `url`.

    SQLite: every connection runs in WAL mode with a busy timeout and foreign keys on. The parent
    directory is created when the first connection opens, not here, so that a command which only checks
    the store (`serve` refusing an uninitialised one) leaves nothing behind. The driver's own transaction
    handling is switched off so that SQLAlchemy emits `BEGIN` itself: read sessions use a deferred
    `BEGIN`, write sessions `BEGIN IMMEDIATE` (see `db.session`), which makes concurrent writers from
    several processes queue on the busy timeout instead of failing with "database is locked" on lock
    upgrade.

    Every SQLite URL (`sqlite+aiosqlite:///…`, the documented form, or plain `sqlite:///…`) is served by
    `sqlite_driver`: `sqlite3` on one thread per connection, one round trip to that thread per statement, `BEGIN`
    sent with the first statement, rollbacks queued rather than waited for.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    path = sqlite_path(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": sqlite_busy_timeout_ms / 1000}
        if path is not None:  # in-memory SQLite uses a static pool of one connection
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=0)
        engine = create_async_engine(parsed.set(drivername=DRIVERNAME), **kwargs)
        _configure_sqlite(engine, sqlite_busy_timeout_ms, path)
        return engine
    kwargs.update(pool_size=10, max_overflow=20)
    engine = create_async_engine(url, **kwargs)
    _ping_at_checkout(engine)
    return engine


def _ping_at_checkout(engine: AsyncEngine) -> None:
    """Check every pooled PostgreSQL connection with one trivial query before it is handed out, and replace one that
    fails (a server restarted, a backend terminated, a network timeout), so that no unit of work starts on a dead
    connection.

    This is SQLAlchemy's `pool_pre_ping`, sent by the driver itself: for asyncpg, `pool_pre_ping` wraps its query
    in `BEGIN`/`ROLLBACK`, three round trips where a read session's own work is often one. `SELECT 1` goes through
    asyncpg's simple-query protocol, which prepares nothing, so it suits PgBouncer's transaction pooling as well.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            await_(dbapi_connection.driver_connection.execute("SELECT 1"))
        except Exception as exc:  # any failure: the pool discards this connection and hands out a fresh one
            raise DisconnectionError(f"a pooled connection failed its ping: {exc!r}") from exc


def inline_reader(engine: AsyncEngine) -> InlineReader | None:
    """The `InlineReader` of a SQLite file's engine (its reads configured like the pool's connections); None for
    PostgreSQL and in-memory SQLite, whose reads all go through the pool."""
    path = sqlite_path(engine.url)
    if path is None or engine.url.query.get("mode"):
        return None
    return InlineReader(str(path), pragmas=_SQLITE_READ_PRAGMAS)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, path: Path | None) -> None:
    @event.listens_for(engine.sync_engine, "do_connect")
    def _make_directory(*_args: Any) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The connection is in autocommit mode at the driver level; the "begin" event below issues BEGIN itself.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        for pragma in _SQLITE_READ_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Not sent now: the connection sends it in front of the session's first statement (`sqlite_driver`).
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: a read session, whose statements each run as their own transaction
            conn.connection.dbapi_connection.pending_begin = f"BEGIN {mode}"
