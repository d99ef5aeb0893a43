"""`Database`: the engine plus the two ways to open a unit of work (`read()` and `write()`).

Every domain function takes the `AsyncSession` one of these yields. `write()` commits when the block
exits cleanly and rolls back otherwise, so a failed call leaves the store unchanged. Driver errors
that mean "the database is not reachable right now" (`db.dialect.store_unavailable`) become
`StoreUnavailable`, a sentence the caller can act on, instead of a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.dialect import store_unavailable
from trackagoat_mcp.db.engine import SQLITE_BUSY_TIMEOUT_MS, inline_reader, make_engine
from trackagoat_mcp.db.reads import DRIVER_READS, INLINE_READER
from trackagoat_mcp.errors import StoreUnavailable

__all__ = ["Database"]

logger = logging.getLogger(__name__)


class Database:
    """Owns the engine; hands out sessions. Build one per process (`Database.connect(url)`) and `dispose()` it."""

    def __init__(self, engine: AsyncEngine, url: str | None = None) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=False) if url is None else url
        """The URL as configured (the engine's names the driver `db.engine` picked for it)."""
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else engine
        self._read_engine = engine.execution_options(
            **({"sqlite_begin": None} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        self._reader = inline_reader(engine)
        self._read_info: dict[str, object] = {INLINE_READER: self._reader} if self._reader is not None else {}
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
            self._read_info[DRIVER_READS] = True

    @classmethod
    def connect(cls, url: str, *, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> Database:
        """Create the engine for `url` (no I/O happens until the first session).

        `sqlite_busy_timeout` is how many seconds a SQLite write waits for another writer (another process, a
        backup) before it fails as `StoreUnavailable`; PostgreSQL ignores it.
        """
        return cls(make_engine(url, sqlite_busy_timeout_ms=round(sqlite_busy_timeout * 1000)), url)

    @classmethod
    def for_settings(cls, settings: Settings) -> Database:
        """`connect` with the URL and the SQLite busy timeout of `settings`."""
        return cls.connect(settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout)

    async def dispose(self) -> None:
        """Close every pooled connection and the inline reader."""
        if self._reader is not None:
            self._reader.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing it does is committed.

        Each statement sees what was committed when it started, as in a READ COMMITTED transaction, and the
        statements run outside a transaction (autocommit on PostgreSQL), so a read session costs no `BEGIN` or
        `ROLLBACK`: on PostgreSQL a short read is one round trip. On SQLite its `db.reads.FixedRead`s may run on the
        store's inline reader without taking a pooled connection at all.
        """
        async with self._session(self._read_engine, info=self._read_info, read=True) as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block exits without an exception."""
        async with self._session(self._write_engine, commit=True) as session:
            yield session

    @asynccontextmanager
    async def dry_run(self) -> AsyncIterator[AsyncSession]:
        """A session on the writing connection whose work is always rolled back: a change is worked out by the
        code that really makes it (its checks, locks and arithmetic), seen, and thrown away."""
        async with self._session(self._write_engine) as session:
            yield session

    @asynccontextmanager
    async def _session(
        self,
        engine: AsyncEngine,
        *,
        commit: bool = False,
        info: Mapping[str, object] | None = None,
        read: bool = False,
    ) -> AsyncIterator[AsyncSession]:
        session = AsyncSession(engine, expire_on_commit=False, info=dict(info) if info else None)
        committing = False
        try:
            yield session
            if commit:
                committing = True
                await session.commit()
        except BaseException as exc:
            await _close(session)
            if store_unavailable(exc):
                raise StoreUnavailable(self._unavailable(committing)) from exc
            raise
        if not read or session.in_transaction():  # a read session that never used the pool has nothing to close
            await _close(session)

    def _unavailable(self, committing: bool) -> str:
        """The sentence for a store that could not be used. A PostgreSQL connection lost during COMMIT leaves the
        outcome unknown (the server may have committed before the connection dropped); SQLite knows either way."""
        if committing and not self.is_sqlite:
            return _UNKNOWN_OUTCOME
        return _UNAVAILABLE


_UNAVAILABLE = "The database is busy or unreachable right now; nothing was changed. Retry in a few seconds."
_UNKNOWN_OUTCOME = (
    "The connection to the database was lost while this change was being committed, so it may or may not have "
    "been saved. In a few seconds, read it back before you retry (a payment retried with the same "
    "idempotency_key is always safe)."
)


async def _close(session: AsyncSession) -> None:
    """Close `session`, which rolls back whatever it left open. A connection that cannot even do that (the server
    went away under it) is discarded instead of going back to the pool, and the failure goes no further: the
    caller's own outcome (a read's rows, a commit, the error that ended the block) is what counts."""
    try:
        await session.close()
    except Exception:
        logger.debug("closing a session failed; its connection is discarded", exc_info=True)
        with suppress(Exception):
            await session.invalidate()
