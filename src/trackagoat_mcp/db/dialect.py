"""Every difference between SQLite and PostgreSQL the domain and the jobs rely on, behind small named helpers.

Code above `db` writes plain SQLAlchemy and calls these where the two databases differ:

* `insert_ignoring_duplicates` and `insert_or_update`: `INSERT … ON CONFLICT DO NOTHING` / `DO UPDATE` (both
  databases have them; SQLAlchemy builds them from each dialect's own `insert`).
* `json_dumper` and `json_text`: a JSON value serialised once by the caller and bound as text where a JSON
  column's value goes (SQLite stores the text as is; PostgreSQL casts it to `jsonb`), so a value written to two
  tables is serialised once, not once per column.
* `lock_rows`: `SELECT … FOR UPDATE` on PostgreSQL. SQLite has no row locks and renders nothing: a write session
  there starts with `BEGIN IMMEDIATE` (`db.session`), which already holds the database's one write lock.
* `supports_lateral`: whether `LATERAL` joins can be used (PostgreSQL) or a plain join must do (SQLite).
* `sums_per_key`: aggregates of a large set of rows per key (`GROUP BY` on SQLite, one `LATERAL` aggregate per key
  on PostgreSQL).
* `outerjoin_first`: a LEFT JOIN of a value picked per outer row by a `… LIMIT 1` subquery (`LATERAL` on
  PostgreSQL; on SQLite a join on the primary key that the correlated subquery picks).
* `Greatest`, `NotIndexed` and `AsStored`: SQL functions spelled differently (`GREATEST` vs SQLite's scalar `max`)
  or meaningful on one database only (SQLite's `+column` keeps the planner off an index, and drops the column's
  type affinity from comparisons).
* `store_unavailable(exc)`: whether a driver error means the store cannot be used right now (unreachable,
  restarting, locked by another writer for the whole busy timeout) rather than a fault in the request.
* `unique_violation(exc)`: whether an error is a unique key taken by a concurrent writer, the one error a
  write may retry after (`db.races`).

The differences no code above `db` sees are next door: connections and pools in `db.engine` (SQLite pragmas and
driver, the PostgreSQL checkout ping), sessions in `db.session` (SQLite's deferred `BEGIN`, PostgreSQL's autocommit
reads) and the fast path of fixed reads in `db.reads` (SQLite's inline reader, the asyncpg connection).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, FromClause, Table, Text, bindparam, case, cast, func, null, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import BigInteger

__all__ = [
    "AsStored",
    "Greatest",
    "NotIndexed",
    "insert_ignoring_duplicates",
    "insert_or_update",
    "is_postgresql",
    "json_dumper",
    "json_text",
    "lock_rows",
    "outerjoin_first",
    "store_unavailable",
    "sums_per_key",
    "supports_lateral",
    "unique_violation",
]


SelectT = TypeVar("SelectT", bound=Select[Any])


def is_postgresql(session: AsyncSession) -> bool:
    """Whether `session` talks to PostgreSQL (otherwise SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


# --- statements -----------------------------------------------------------------------------------------------


def _insert(session: AsyncSession, table: Table) -> Any:
    """The session's database's own `INSERT` of `table`, the one that has `ON CONFLICT`."""
    return postgresql.insert(table) if is_postgresql(session) else sqlite.insert(table)


def insert_ignoring_duplicates(session: AsyncSession, table: Table, *, unique: Sequence[str] = ()) -> Any:
    """`INSERT INTO table … ON CONFLICT [(unique)] DO NOTHING`; add `.values(…)` (and `.returning(…)`) to it.

    A row whose unique key exists already is skipped, not an error, so concurrent writers of the same row (two
    processes, two replicas) end with one row and no failed transaction. `unique` names the columns of the
    constraint the conflict is expected on; empty means any constraint.
    """
    return _insert(session, table).on_conflict_do_nothing(index_elements=list(unique) or None)


def insert_or_update(session: AsyncSession, table: Table, *, unique: Sequence[str], update: Sequence[str]) -> Any:
    """`INSERT INTO table … ON CONFLICT (unique) DO UPDATE SET` each of `update` to the value the row would have
    had; add `.values(…)`, or pass many parameter sets to `execute` (SQLAlchemy batches them on both databases)."""
    statement = _insert(session, table)
    return statement.on_conflict_do_update(
        index_elements=list(unique), set_={name: statement.excluded[name] for name in update}
    )


def json_dumper(session: AsyncSession, column: Column[Any]) -> Callable[[Any], str]:
    """The function the JSON `column` serialises a value with on this session's database: its text is exactly
    what binding the value to the column would store (bind it with `json_text`)."""
    dialect = session.get_bind().dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else json.dumps


def json_text(session: AsyncSession, name: str) -> Any:
    """A bind parameter `name` holding JSON text (from `json_dumper`), for a JSON column in `.values(…)`: SQLite
    stores the text itself, PostgreSQL casts it to `jsonb`."""
    param = bindparam(name, type_=Text())
    return cast(param, postgresql.JSONB) if is_postgresql(session) else param


def lock_rows(query: SelectT, *, of: Any = None) -> SelectT:
    """`query` with `FOR UPDATE [OF of]`: the rows read stay locked until the transaction ends (PostgreSQL).

    SQLite renders nothing: its write sessions already hold the one write lock from their `BEGIN IMMEDIATE`.
    Lock rows in a fixed order (e.g. `ORDER BY id`) so that racing writers queue instead of deadlocking.
    """
    return query.with_for_update(of=of)


def supports_lateral(session: AsyncSession) -> bool:
    """Whether queries may use `LATERAL` joins (PostgreSQL); SQLite has none."""
    return is_postgresql(session)


def outerjoin_first(
    source: Any, table: Table, first: Select[Any], name: str, *, when: Any, lateral: bool
) -> tuple[Any, Any]:
    """`source LEFT JOIN` a value of the row of `table` that `first` picks for each row of `source` `when` it holds.

    `first` selects one column of `table`, correlated with `source` and ordered so that the wanted row comes first
    (`… ORDER BY … LIMIT 1`); `when` is a condition on `source` alone. Returns the join and its columns, where that
    column (under its own name) is NULL if `when` does not hold or `first` finds no row. The look-up runs once per
    row of `source` however often the column is used (a correlated scalar subquery named twice in an expression is
    run twice, and fencing it in a subquery makes the database sort what a grouped scan would otherwise stream).

    With `lateral` (PostgreSQL, see `supports_lateral`) it is `LEFT JOIN LATERAL (SELECT CASE WHEN when THEN (first)
    END) ON true`, which the planner folds into the outer row. SQLite has no LATERAL: there it is a join of `table`
    on its primary key, equal to `first`'s key as a correlated scalar subquery, run once per outer row (PostgreSQL
    would hash the whole of `table` for that form).
    """
    (column,) = first.selected_columns
    # Everything but `table` comes from the outer row, however deep the look-up sits.
    first = first.correlate_except(table)
    if lateral:
        value = case((when, first.scalar_subquery()), else_=null()).label(column.name)
        picked = select(value).correlate_except(table).lateral(name)
        return source.outerjoin(picked, true()), picked.c
    (key,) = table.primary_key.columns
    row: FromClause = table.alias(name)
    picked_key = case((when, first.with_only_columns(key).scalar_subquery()), else_=null())
    return source.outerjoin(row, row.c[key.name] == picked_key), row.c


def sums_per_key(
    keys: Any, key: Any, sums: Sequence[Any], source: Any, where: Any, name: str, *, lateral: bool
) -> Select[Any]:
    """One row per value of `keys` (a one-column selectable) that has rows in `source` matching `where` and `key`
    (a column of `source`): that value, labelled as `key`, then the labelled aggregates `sums` over those rows.

    SQLite: `… WHERE key IN (keys) GROUP BY key`, which it answers by walking an index on `key` in order, one group
    after the other. PostgreSQL, with `lateral` (see `supports_lateral`): for each distinct key, a `LATERAL`
    aggregate of its own rows; grouped the other way it sorts (or hashes) every row first, as its estimate of a
    recursive tree's size is far too small to foresee how many.
    """
    if not lateral:
        return select(key, *sums).select_from(source).where(where, key.in_(select(keys))).group_by(key)
    distinct = select(keys.label(key.name)).distinct().subquery(f"{name}_keys")
    own = distinct.c[key.name]
    per_key = select(func.count().label("key_rows"), *sums).select_from(source).where(where, key == own).lateral(name)
    return (
        select(own, *[per_key.c[column.name] for column in sums])
        .select_from(distinct.join(per_key, true()))
        .where(per_key.c.key_rows > 0)
    )


# --- functions --------------------------------------------------------------------------------------------------


class Greatest(FunctionElement[int]):
    """`GREATEST(a, b)`; SQLite spells the scalar maximum `max(a, b)`."""

    type = BigInteger()
    inherit_cache = True


@compiles(Greatest)
def _greatest_default(element: Greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


@compiles(Greatest, "sqlite")
def _greatest_sqlite(element: Greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


class NotIndexed(FunctionElement[Any]):
    """The column itself; on SQLite written `+column`, which keeps the query planner from using an index for it.

    Without ANALYZE statistics SQLite takes `project_id = ?` for a selective index lookup and then visits every
    video of the project through it, instead of going through the creator's (or the tree's) own videos. Use it
    on a filter that only re-checks what a more selective condition already implies.
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


class AsStored(FunctionElement[Any]):
    """The column itself; on SQLite written `+column`, an expression without type affinity, compared as stored.

    A timestamp column (`UTCDateTime`, stored as text) has NUMERIC affinity on SQLite, which SQLite applies to the
    other side of every comparison: a bound timestamp is parsed as a number again for each row (and stays text)
    before the two texts are compared. Without affinity the same texts are compared directly, with the same result;
    in a scan of many rows the parsing is otherwise a large part of the work. Use it on such columns compared with
    bound values row by row, not where an index should serve the comparison (`+column` keeps the planner off it).
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(AsStored)
@compiles(NotIndexed)
def _bare_default(element: NotIndexed | AsStored, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(AsStored, "sqlite")
@compiles(NotIndexed, "sqlite")
def _bare_sqlite(element: NotIndexed | AsStored, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


# --- errors -----------------------------------------------------------------------------------------------------

_UNAVAILABLE_MARKERS = (
    "database is locked",  # SQLite: another writer held the lock for the whole busy timeout
    "connection refused",
    "connection was closed",
    "could not connect",
    "terminating connection",  # PostgreSQL shutting down or an administrator ending the session
    "the database system is",  # "… starting up", "… shutting down", "… in recovery mode"
    "connection is closed",
)


def store_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means "the database cannot be used right now" rather than a fault in the request."""
    if isinstance(exc, (OSError, PoolTimeout)) or _postgres_unreachable(exc):
        # The driver could not reach the server at all (refused, reset, timed out, "the database system is
        # shutting down"): asyncpg raises these unwrapped while opening a connection, e.g. while PostgreSQL
        # restarts. Or every pooled connection stayed busy for the pool's whole timeout.
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    text_ = str(exc.orig).lower()
    return any(marker in text_ for marker in _UNAVAILABLE_MARKERS)


def _postgres_unreachable(exc: BaseException) -> bool:
    """Whether `exc` is asyncpg's "cannot reach / shutting down" error. asyncpg is imported only for one of its own
    errors, not at start and not for every domain error (a start on SQLite never loads it)."""
    if not type(exc).__module__.startswith("asyncpg."):
        return False
    from asyncpg.exceptions import OperatorInterventionError, PostgresConnectionError

    return isinstance(exc, (PostgresConnectionError, OperatorInterventionError))


def unique_violation(exc: BaseException) -> bool:
    """Whether `exc` is a unique (or primary) key already taken, as opposed to another integrity failure (a
    foreign key, a NOT NULL, a CHECK), which a retry would only repeat."""
    if not isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    # PostgreSQL's SQLSTATE 23505 (asyncpg's, as SQLAlchemy's adapter passes it on); SQLite's extended error name.
    return getattr(orig, "sqlstate", None) == "23505" or getattr(orig, "sqlite_errorname", None) in (
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
    )
