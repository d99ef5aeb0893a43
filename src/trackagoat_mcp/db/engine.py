"""The async engine: SQLite (WAL, busy timeout, foreign keys) by default, PostgreSQL to scale out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "make_engine", "sqlite_path"]

SQLITE_BUSY_TIMEOUT_MS = 15_000


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or `None` for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for `url`.

    SQLite: the parent directory is created, and every connection runs in WAL mode with a busy
    timeout and foreign keys on. The driver's own transaction handling is switched off so that
    SQLAlchemy emits `BEGIN` itself: read sessions use a deferred `BEGIN`, write sessions
    `BEGIN IMMEDIATE` (see `db.session`), which makes concurrent writers from several processes
    queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
    """
    kwargs: dict[str, Any] = {"echo": echo}
    path = sqlite_path(url)
    if make_url(url).drivername.startswith("sqlite"):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; SQLAlchemy's "begin" event below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
