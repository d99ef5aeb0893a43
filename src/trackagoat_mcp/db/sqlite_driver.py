"""SQLAlchemy's aiosqlite adapter, with one trip to the driver's thread per statement instead of six per read.

aiosqlite runs every sqlite3 call on one thread per connection; each call is a round trip (queue, thread wake-up,
event-loop wake-up), and those trips are most of what a small read costs. SQLAlchemy's adapter spends four on a
statement (open a cursor, execute, fetch, close) plus one for `BEGIN` and one for the rollback that ends a read
session. Here:

* a statement is one trip: open, execute, fetch every row and close happen in one function on the thread;
* `BEGIN` is not a trip of its own: it is kept pending and sent in front of the session's first statement
  (a session that runs no statement never begins one, and its commit or rollback has nothing to do);
* a rollback is queued without waiting for it. aiosqlite runs its queue in order, so whatever uses the
  connection next runs after it. A rollback that fails is logged, and the pool's return hook
  (`engine._on_reset`) rolls back whatever is still open on the thread anyway.

A read unit of work is thus one round trip. Errors keep their types: `BEGIN IMMEDIATE` timing out on another
writer's lock raises the same `OperationalError` ("database is locked"), from the first statement instead of
from `BEGIN`. Built on SQLAlchemy 2.1's adapter classes (pyproject pins `sqlalchemy>=2.1,<2.2`); the whole
suite runs through it.
"""

from __future__ import annotations

import collections
import logging
import sqlite3
from functools import partial
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_, immutabledict

__all__ = ["OneTripConnection", "OneTripDbapi"]

logger = logging.getLogger(__name__)

_Outcome = tuple[Any, list[Any] | None, int, int | None]
"""What a statement left: description, rows (when it returns any), rowcount, lastrowid."""


def _run(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the driver's thread: the pending `BEGIN`, then the statement, its rows, and the cursor closed."""
    if begin is not None:
        connection.execute(begin)
    if many:
        cursor = connection.executemany(operation, parameters)
    else:
        cursor = connection.execute(operation, () if parameters is None else parameters)
    try:
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _queue_rollback(driver: Any) -> None:
    """Put "roll back whatever is open" on an aiosqlite connection's queue, without waiting for it.

    Checking `in_transaction` from the event loop instead would be wrong after a cancellation (an MCP
    `notifications/cancelled`, a timeout): the awaiting side is gone, but the thread still runs the statement it
    was given, e.g. a `BEGIN IMMEDIATE` waiting out the busy timeout, which opens a transaction after the
    connection is back in the pool. That transaction would keep the write lock from every other process and fail
    the connection's next `BEGIN`. Queued, the check runs after that statement and before the next session's.
    """
    driver._tx.put_nowait((None, partial(_rollback_if_open, driver)))


def _rollback_if_open(driver: Any) -> None:
    """On the driver's thread: end the open transaction, if any (nobody waits for this)."""
    connection = driver._connection
    try:
        if connection is not None and connection.in_transaction:
            connection.rollback()
    except sqlite3.Error:
        logger.warning("rolling back a SQLite connection failed; the pool retries when it takes it back", exc_info=True)


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds a statement's whole result after one trip; no driver cursor stays open."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: OneTripConnection) -> None:  # no trip: nothing is opened here
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # the base class's close() then has nothing to close
        self._soft_closed_memoized = immutabledict()
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # every row is already here; fetchmany() takes its size per call

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted = self._adapt_connection
        assert isinstance(adapted, OneTripConnection)
        async with adapted._execute_mutex:
            driver: Any = self._connection
            begin, adapted.pending_begin = adapted.pending_begin, None
            adapted.sent = True
            outcome = await driver._execute(_run, driver._conn, begin, operation, parameters, many)
            self._description, rows, self._rowcount, self._lastrowid = outcome
            if rows is not None:
                self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        pass  # nothing is open on the driver's side


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """An adapted aiosqlite connection whose statements take one trip each and whose `BEGIN` waits for the first."""

    __slots__ = ("pending_begin", "sent")
    _cursor_cls = _OneTripCursor  # type: ignore[assignment]  # a subclass; mypy reads the base as exact

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        """The `BEGIN …` the next statement sends first (set by the engine's "begin" hook)."""
        self.sent = False
        """Whether a statement went to the thread since the last commit or rollback, i.e. whether a transaction may
        be open (a session's rollback and the pool's on return then queue one rollback, not two)."""

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self.pending_begin is not None:  # a streaming cursor runs on the driver's own cursor
            begin, self.pending_begin = self.pending_begin, None
            self._run_now(begin)
        return super().cursor(server_side)

    def commit(self) -> None:
        if self.pending_begin is not None:  # never began: nothing to commit
            self.pending_begin = None
            return
        super().commit()
        self.sent = False

    def rollback(self) -> None:
        self.pending_begin = None
        if self.sent:
            self.sent = False
            _queue_rollback(self._connection)

    def _run_now(self, statement: str) -> None:
        driver: Any = self._connection
        self.sent = True
        try:
            await_(driver._execute(_run, driver._conn, None, statement, None, False))
        except Exception as error:
            self._handle_exception(error)


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DB-API adapter, handing out `OneTripConnection`s (passed to the engine as `module=`)."""

    def __init__(self) -> None:
        import aiosqlite

        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
