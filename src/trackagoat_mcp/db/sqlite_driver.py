"""SQLite for SQLAlchemy's async engine: the standard library's `sqlite3` on one thread per connection.

`sqlite3` blocks, so each connection owns a thread that runs its calls in order; the event loop hands it a job
and awaits the answer. Each hand-over is a round trip (queue, thread wake-up, event-loop wake-up), and those
trips are most of what a small read costs, so the connection makes as few as the rules below allow:

* a statement is one trip: execute, fetch every row and close the cursor happen in one job on the thread;
* `BEGIN` is not a trip of its own: the engine's "begin" hook leaves it pending (`pending_begin`) and the
  session's first statement sends it in front of itself (a session that runs no statement never begins one,
  and its commit or rollback has nothing to do). Read sessions send none (`db.session`): each of their statements
  is its own transaction, and they end with nothing to roll back;
* a rollback is queued without waiting for it. The thread runs its queue in order, so whatever uses the
  connection next runs after it; a rollback that fails is logged, and closing the connection ends the
  transaction anyway.

A read session's short `SELECT` makes no trip at all (`Connection.read_inline`): while the thread is idle, the event
loop runs it itself, within a budget of SQLite virtual-machine steps (one to two milliseconds); a read that needs more
is interrupted and runs again on the thread, so a large read never holds the loop. Most reads an agent makes are short
(one creator, a page of videos), and for them the two thread hand-overs were most of the cost.

Queuing the rollback is also what keeps a cancelled call correct. When the awaiting side is cancelled (an MCP
`notifications/cancelled`, a timeout) the thread still runs the statement it was given, e.g. a `BEGIN IMMEDIATE`
waiting out the busy timeout, which then opens a transaction after the connection is back in the pool. Checked
from the event loop, `in_transaction` would still be false and the transaction would keep the write lock from
every other process; queued, "roll back whatever is open" runs after that statement and before the next session.

Errors keep their types: they are `sqlite3`'s own, raised from the statement that failed (`BEGIN IMMEDIATE`
timing out on another writer's lock raises `OperationalError` "database is locked" from the session's first
statement). `AsyncSession.stream` works but buffers: every statement's rows arrive whole.

Built on SQLAlchemy's public interfaces: a DB-API module and connection of our own, SQLAlchemy's SQLite dialect
(`SQLiteDialect_pysqlite`, which compiles SQL and reflects, subclassed as third-party dialects do and registered
through `sqlalchemy.dialects.registry`), and `sqlalchemy.util.await_`, the bridge SQLAlchemy's async engine gives
dialects for awaiting from its synchronous core. One exception has no public form: the asyncio extension awaits
`cursor._async_soft_close()` on every async dialect's cursor, so `Cursor` provides it (it only ever defines that
name; nothing here reads or calls a private part of SQLAlchemy, aiosqlite or `sqlite3`).
"""

from __future__ import annotations

import asyncio  # noqa: TID251 - SQLAlchemy's async engine runs on asyncio; the thread answers through its loop
import collections
import logging
import queue
import re
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util import await_

__all__ = ["DRIVERNAME", "Connection", "InlineReader", "SQLiteThreadDialect"]

logger = logging.getLogger(__name__)

DRIVERNAME = "sqlite+trackagoat"
"""The URL driver name this dialect is registered under (`db.engine` points every SQLite URL at it)."""

_Outcome = tuple[Any, list[Any] | None, int, int | None, bool]
"""What a statement left: description, rows (when it returns any), rowcount, lastrowid, and whether a transaction is
open after it."""

_Job = tuple[Callable[[], Any], "asyncio.Future[Any] | None", "asyncio.AbstractEventLoop | None"]


class ConnectionThread:
    """One thread running jobs in the order they were queued; the event loop awaits a job or leaves it queued."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.unfinished = 0
        """Jobs queued and not yet finished. Only the event loop queues jobs, so when it reads 0 the connection
        stays free until it queues another: it may then use the connection itself (`Connection.read_inline`)."""
        self._count = threading.Lock()
        threading.Thread(target=self.work, name="trackagoat-sqlite", daemon=True).start()

    def _queue(self, item: _Job | None) -> None:
        with self._count:
            self.unfinished += 1
        self.jobs.put(item)

    async def call(self, job: Callable[[], Any]) -> Any:
        """Run `job` on the thread and return its result (or raise its exception)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue((job, future, loop))
        return await future

    def post(self, job: Callable[[], Any]) -> None:
        """Queue `job` without waiting for it; its failure is logged."""
        self._queue((job, None, None))

    def stop(self) -> None:
        """End the thread once the jobs queued before this have run."""
        self.jobs.put(None)

    def work(self) -> None:
        while (item := self.jobs.get()) is not None:
            job, future, loop = item
            try:
                result, error = job(), None
            except BaseException as exc:  # handed to the awaiting side, which re-raises it
                result, error = None, exc
            with self._count:
                self.unfinished -= 1
            if future is None or loop is None:
                if error is not None:
                    logger.warning("a queued SQLite job failed", exc_info=error)
                continue
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the awaiting side was cancelled; the job's effects are handled by what runs next
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _run(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the thread: the pending `BEGIN`, then the statement, its rows, and the cursor closed."""
    if begin is not None:
        connection.execute(begin)
    if many:
        cursor = connection.executemany(operation, parameters)
    else:
        cursor = connection.execute(operation, () if parameters is None else parameters)
    try:
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


def _rollback_if_open(connection: sqlite3.Connection) -> None:
    """On the thread: end the open transaction, if any (nobody waits for this)."""
    if connection.in_transaction:
        connection.rollback()


_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
INLINE_STEP_CHUNK = 1000
"""SQLite virtual-machine steps between two calls of the inline budget's check."""
INLINE_STEPS = 50_000
"""Steps a read may take on the event loop before it moves to the connection's thread (one to two milliseconds)."""


class _StepBudget:
    """SQLite's progress handler for an inline read: interrupt it once it has taken `INLINE_STEPS`."""

    def __init__(self) -> None:
        self.calls = 0
        self.spent = False

    def __call__(self) -> int:
        self.calls += 1
        if self.calls * INLINE_STEP_CHUNK >= INLINE_STEPS:
            self.spent = True
            return 1
        return 0


def _within_budget(connection: sqlite3.Connection, read: Callable[[], Any]) -> Any | None:
    """`read()` on `connection` within `INLINE_STEPS`, or None once it needed more (it was interrupted, which undoes
    nothing: a read changes nothing)."""
    budget = _StepBudget()
    connection.set_progress_handler(budget, INLINE_STEP_CHUNK)
    try:
        return read()
    except sqlite3.OperationalError:
        if budget.spent:
            return None
        raise
    finally:
        connection.set_progress_handler(None, 0)


def _fetch_all(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> list[Any]:
    cursor = connection.execute(operation, parameters)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


_LOCKED = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class InlineReader:
    """A `sqlite3` connection of its own on which the event loop runs short reads itself (`db.reads.FixedRead`).

    No pool, no thread: `rows()` runs the statement on the calling thread within `INLINE_STEPS`, or returns None for
    the caller to read the usual way (a longer read, a store locked at that moment, or the reader busy on another
    thread). The connection is opened
    at the first read, never creates the file, refuses writes (`query_only`) and runs every statement outside a
    transaction, so each sees what was committed when it started, like every read session's statements.
    """

    def __init__(self, path: str, *, pragmas: Sequence[str] = ()) -> None:
        self.path = path
        self.pragmas = pragmas
        self.sqlite: sqlite3.Connection | None = None
        self.closed = False
        self._busy = threading.Lock()
        self._budget = _StepBudget()

    def rows(self, operation: str, parameters: Sequence[Any]) -> list[Any] | None:
        if self.closed or not self._busy.acquire(blocking=False):
            return None
        try:
            self._budget.calls, self._budget.spent = 0, False
            if self.sqlite is None:
                self.sqlite = self._open()
            return _fetch_all(self.sqlite, operation, parameters)
        except sqlite3.OperationalError as exc:
            if self._budget.spent or exc.sqlite_errorcode in _LOCKED:
                return None
            raise
        finally:
            self._busy.release()

    def _open(self) -> sqlite3.Connection:
        uri = f"file:{urllib.parse.quote(self.path)}?mode=rw"
        # No busy timeout: waiting for a lock would hold the event loop, so a locked store is left to the pool.
        connection = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False)
        try:
            for pragma in ("PRAGMA query_only=ON", *self.pragmas):
                connection.execute(pragma)
        except BaseException:
            connection.close()
            raise
        # Every statement this connection runs is an inline read, so its budget stays installed (reset per read).
        connection.set_progress_handler(self._budget, INLINE_STEP_CHUNK)
        return connection

    def close(self) -> None:
        with self._busy:
            self.closed = True
            if self.sqlite is not None:
                self.sqlite.close()
                self.sqlite = None


class Cursor:
    """A DB-API cursor holding a statement's whole result after one trip; no `sqlite3` cursor stays open."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.rows: collections.deque[Any] = collections.deque()

    def execute(self, operation: str, parameters: Any = None) -> None:
        outcome = self.connection.read_inline(operation, parameters)
        if outcome is None:
            outcome = await_(self.connection.run(operation, parameters, many=False))
        self.take(outcome)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self.take(await_(self.connection.run(operation, seq_of_parameters, many=True)))

    def take(self, outcome: _Outcome) -> None:
        self.description, rows, self.rowcount, self.lastrowid, _open = outcome
        self.rows = collections.deque(rows or ())

    def fetchone(self) -> Any:
        return self.rows.popleft() if self.rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(self.arraysize if size is None else size, len(self.rows))
        return [self.rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        rows = list(self.rows)
        self.rows.clear()
        return rows

    def close(self) -> None:
        self.rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing to do: no `sqlite3` cursor stays open. SQLAlchemy's asyncio extension awaits this method of
        every async dialect's cursor before it hands a result with rows to synchronous code; it is the one name
        outside the DB-API this driver must provide, and SQLAlchemy defines it with an underscore (see pyproject)."""


class Connection:
    """A DB-API connection whose `sqlite3` connection lives on its own thread (see the module docstring)."""

    def __init__(self, database: str, **kwargs: Any) -> None:
        self.thread = ConnectionThread()
        self.closed = False
        kwargs["isolation_level"] = None  # SQLAlchemy's "begin" hook sends BEGIN itself
        kwargs["check_same_thread"] = False  # the thread, or the event loop while the thread is idle (`read_inline`)
        try:
            self.sqlite: sqlite3.Connection = await_(self.thread.call(partial(sqlite3.connect, database, **kwargs)))
        except BaseException:
            self.thread.stop()
            raise
        self.pending_begin: str | None = None
        """The `BEGIN …` the next statement sends first (set by the engine's "begin" hook; none for reads)."""
        self.open = False
        """Whether a transaction may be open: set before a statement that begins one is sent (a cancelled call's
        statement still runs), then to what the thread saw after it. A session's rollback and the pool's rollback on
        return queue one rollback when it is set, and nothing when it is not."""

    async def run(self, operation: str, parameters: Any, *, many: bool) -> _Outcome:
        begin, self.pending_begin = self.pending_begin, None
        if begin is not None:
            self.open = True
        outcome: _Outcome = await self.thread.call(partial(_run, self.sqlite, begin, operation, parameters, many))
        self.open = outcome[4]
        return outcome

    def read_inline(self, operation: str, parameters: Any) -> _Outcome | None:
        """Run a short read on the calling (event loop) thread, or None to send it to the connection's thread.

        Only a read session's `SELECT` or `WITH` (no transaction to keep, nothing pending), only while the thread
        is idle (nothing else then touches the connection), and only for `INLINE_STEPS` of SQLite's virtual
        machine: a statement that needs more is interrupted, which undoes nothing because it changed nothing, and
        runs again on the thread. So small reads skip two thread hand-overs and large ones never hold the loop
        for more than about a millisecond.
        """
        if self.pending_begin is not None or self.open or self.closed or self.thread.unfinished:
            return None
        if not _READ.match(operation):
            return None
        return _within_budget(self.sqlite, partial(_run, self.sqlite, None, operation, parameters, False))

    def cursor(self) -> Cursor:
        return Cursor(self)

    def commit(self) -> None:
        if self.pending_begin is not None:  # never began: nothing to commit
            self.pending_begin = None
            return
        if self.open:
            await_(self.thread.call(self.sqlite.commit))
            self.open = False

    def rollback(self) -> None:
        self.pending_begin = None
        if self.open and not self.closed:
            self.open = False
            self.thread.post(partial(_rollback_if_open, self.sqlite))

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        await_(self.thread.call(partial(self.sqlite.create_function, *args, **kwargs)))

    @property
    def isolation_level(self) -> str | None:
        return None

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        if value is not None:
            raise sqlite3.NotSupportedError(
                f"isolation_level {value!r} is not supported: this connection leaves BEGIN to SQLAlchemy"
            )

    def close(self) -> None:
        """Close the `sqlite3` connection (ending any transaction) and wait for it, then end the thread."""
        if self.closed:
            return
        self.closed = True
        try:
            await_(self.thread.call(self.sqlite.close))
        finally:
            self.thread.stop()

    def terminate(self) -> None:
        """Close without waiting (the pool's way when nothing may be awaited, e.g. during garbage collection)."""
        if self.closed:
            return
        self.closed = True
        self.thread.post(self.sqlite.close)
        self.thread.stop()


class _DBAPI:
    """The DB-API module SQLAlchemy sees: `sqlite3`'s errors and constants, and `connect` giving `Connection`s."""

    paramstyle = "qmark"
    Error = sqlite3.Error
    DatabaseError = sqlite3.DatabaseError
    IntegrityError = sqlite3.IntegrityError
    InterfaceError = sqlite3.InterfaceError
    InternalError = sqlite3.InternalError
    NotSupportedError = sqlite3.NotSupportedError
    OperationalError = sqlite3.OperationalError
    ProgrammingError = sqlite3.ProgrammingError
    DataError = sqlite3.DataError
    Warning = sqlite3.Warning
    Binary = sqlite3.Binary
    PARSE_COLNAMES = sqlite3.PARSE_COLNAMES
    PARSE_DECLTYPES = sqlite3.PARSE_DECLTYPES
    sqlite_version = sqlite3.sqlite_version
    sqlite_version_info = sqlite3.sqlite_version_info

    @staticmethod
    def connect(database: str, **kwargs: Any) -> Connection:
        return Connection(database, **kwargs)


class SQLiteThreadDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's SQLite dialect over `Connection`: async, one trip per statement."""

    driver = "trackagoat"
    is_async = True
    has_terminate = True
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> Any:
        return _DBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        in_memory = not url.database or url.database == ":memory:" or url.query.get("mode") == "memory"
        return pool.StaticPool if in_memory else pool.AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()


registry.register(DRIVERNAME.replace("+", "."), __name__, "SQLiteThreadDialect")
