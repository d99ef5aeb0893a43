"""`FixedRead`: a SELECT built once, run the cheapest way the session's store allows.

Most of a small read's cost is not the database: SQLAlchemy's execution of a statement (checking a pooled connection
out for the session, computing the statement's cache key and looking the compiled form up, building a `Result`)
costs several times what the database takes to find one row by its key. A read whose statement never changes shape
(all its values are named bind parameters) can skip that: its SQL is compiled once per dialect, its values bound and
its rows converted by the column types' own processors, exactly as SQLAlchemy would convert them, and in a read
session (`Database.read()`) it runs

* on SQLite, on the store's `InlineReader` (`db.sqlite_driver`), on the event loop, without a pooled connection;
* on PostgreSQL, on the asyncpg connection the session holds (autocommit), as one prepared statement.

A read that outgrows the inline reader's budget, a statement the driver refused, any other session (a write session
must see its own changes in its own transaction) and a list bound at execution run the same statement through the
session, which also reports a lost connection and discards it the way the rest of the store does.

Either way the rows read by name (`row.handle`) and unpack like tuples; `row._asdict()` gives a dict.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import CompoundSelect, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.sqlite_driver import InlineReader

__all__ = ["DRIVER_READS", "INLINE_READER", "FixedRead"]

logger = logging.getLogger(__name__)

INLINE_READER = "trackagoat_inline_reader"
"""The `session.info` key under which `Database.read()` hands a SQLite read session the store's `InlineReader`."""
DRIVER_READS = "trackagoat_driver_reads"
"""The `session.info` key under which `Database.read()` marks a PostgreSQL read session (autocommit, so a statement
sent on its connection directly is its own transaction, as the session's would be)."""


class _Compiled:
    """A statement's SQL for one dialect, with what binds its values and what converts its rows.

    A list fixed in the statement (`column.in_(("a", "b"))`) is expanded here once, as SQLAlchemy expands it on
    every execution; a list given at execution (`bindparam(..., expanding=True)`) keeps the statement off the
    reader (`inline` false), since its SQL depends on the values.
    """

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        given = {name for name, bind in compiled.binds.items() if bind.required}
        self.inline = compiled.positiontup is not None and not any(
            bind.expanding for name, bind in compiled.binds.items() if name in given
        )
        expanded = compiled.construct_expanded_state(dict.fromkeys(given))
        self.sql = expanded.statement
        order = list(expanded.positiontup or ())
        self.fixed = {name: expanded.parameters[name] for name in order if name not in given}
        """The values written into the statement itself (its literals, the items of its fixed lists)."""
        types = {name: bind.type for name, bind in compiled.binds.items()}
        for name, items in expanded.parameter_expansion.items():
            types.update(dict.fromkeys(items, types[name]))
        # A value used at several places of the statement (a range's bounds) is bound at each but processed once.
        names = list(dict.fromkeys(order))
        self.binds: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, types[name].dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]
        self.positions = [names.index(name) for name in order]
        columns = list(statement.selected_columns)
        self.converters = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]
        self.record: Any = collections.namedtuple("Record", [column.key for column in columns])  # type: ignore[misc]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        fixed = self.fixed
        bound = [(values[name] if name in values else fixed[name], bind) for name, bind in self.binds]
        processed = [value if bind is None else bind(value) for value, bind in bound]
        return [processed[i] for i in self.positions]

    def records(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        make, converters = self.record._make, self.converters
        return [make([v if c is None else c(v) for c, v in zip(converters, row, strict=True)]) for row in rows]


class FixedRead:
    """A SELECT whose shape never changes, built once (typically at module level or under `functools.cache`)."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    async def all(self, session: AsyncSession, values: Mapping[str, Any]) -> list[Any]:
        """Every row, for the bind parameters in `values`."""
        reader = session.info.get(INLINE_READER)
        if isinstance(reader, InlineReader) or session.info.get(DRIVER_READS):
            form = self._for(session)
            if form.inline:
                parameters = form.parameters(values)
                if isinstance(reader, InlineReader):
                    rows = reader.rows(form.sql, parameters)
                else:
                    rows = await _driver_rows(session, form.sql, parameters)
                if rows is not None:
                    return form.records(rows)
        return list((await session.execute(self.statement, values)).all())

    async def first(self, session: AsyncSession, values: Mapping[str, Any]) -> Any | None:
        """The first row, or None."""
        rows = await self.all(session, values)
        return rows[0] if rows else None

    def _for(self, session: AsyncSession) -> _Compiled:
        dialect = session.bind.dialect if session.bind is not None else None
        if dialect is None:
            raise RuntimeError("a FixedRead needs a session bound to an engine")
        form = self._compiled.get(dialect.name)
        if form is None:
            form = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return form


async def _driver_rows(session: AsyncSession, sql: str, parameters: list[Any]) -> list[Any] | None:
    """The rows of `sql` fetched by the asyncpg connection under `session`, or None when the driver failed (the
    caller then runs the statement through the session, which turns a lost connection into the store's own error
    and takes that connection out of the pool)."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:  # no live connection: the session says why
        return None
    try:
        rows: list[Any] = await driver.fetch(sql, *parameters)
    except Exception:
        logger.debug("a direct read failed; running it through the session", exc_info=True)
        return None
    return rows
