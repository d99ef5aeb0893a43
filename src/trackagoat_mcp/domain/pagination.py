"""Opaque keyset cursors: `limit` ≤ 100 (default 50), `next_cursor` until it is null.

A cursor is URL-safe base64 of a small JSON list: the list's name, the ordering, and the sort values
of the last row returned. Keyset pages stay fast however deep an agent pages and never skip or
repeat rows when new ones are inserted meanwhile.

A cursor comes back from the client, so its decoded values are checked as strictly as arguments: integers
within 64 bits, text a store can hold (no NUL, no lone surrogate), aware times within the supported calendar,
real UUIDs. Anything else is `invalid_cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from trackagoat_mcp.clock import EARLIEST_DAY, LATEST_DAY
from trackagoat_mcp.db.reads import FixedRead
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Page",
    "check_limit",
    "cursor_int",
    "cursor_text",
    "cursor_time",
    "cursor_uuid",
    "decode_cursor",
    "encode_cursor",
    "fetch_fixed_page",
    "fetch_page",
    "keyset_after",
    "keyset_page",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

T = TypeVar("T")
M = TypeVar("M")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one (null = last page)."""

    items: list[T]
    next_cursor: str | None


def check_limit(limit: int) -> int:
    """Validate a page size."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit {limit!r} is out of range; use 1 to {MAX_LIMIT}.")
    return limit


def encode_cursor(kind: str, order: str, values: list[Any]) -> str:
    """Encode the sort values of the last row of a page."""
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v for v in values]
    raw = json.dumps([kind, order, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


INT64 = range(-(2**63), 2**63)


def _reject(cursor: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"cursor {cursor[:60]!r} {why}; pass next_cursor from the previous page unchanged, or omit it.",
        code="invalid_cursor",
    )


def decode_cursor(kind: str, order: str, cursor: str, *parsers: Callable[[Any], Any]) -> list[Any]:
    """Decode a cursor made by `encode_cursor` for the same list and ordering.

    Each sort value is passed through the matching parser (`cursor_text`, `cursor_int`, `cursor_time`,
    `cursor_uuid`); anything that does not parse, like a hand-edited cursor, is an `InvalidInput`.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        got_kind, got_order, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, TypeError, UnicodeDecodeError):
        raise _reject(cursor, "is not a cursor this server issued") from None
    if got_kind != kind or got_order != order:
        raise InvalidInput(
            f"cursor {cursor[:60]!r} belongs to another list or ordering; "
            "start again without a cursor when you change filters or order.",
            code="invalid_cursor",
        )
    if not isinstance(values, list) or len(values) != len(parsers):
        raise _reject(cursor, "is damaged")
    try:
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except (ValueError, TypeError, OverflowError):
        raise _reject(cursor, "is damaged") from None


def cursor_text(value: Any) -> str:
    """Parser for a text sort value: a string both stores can hold."""
    if not isinstance(value, str) or "\x00" in value:
        raise TypeError(value)
    value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value


def cursor_int(value: Any) -> int:
    """Parser for an integer sort value: a 64-bit integer, as every counter column is."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in INT64:
        raise TypeError(value)
    return value


def cursor_time(value: Any) -> datetime:
    """Parser for a timestamp sort value: an aware time within the supported calendar."""
    moment = datetime.fromisoformat(cursor_text(value))
    if moment.tzinfo is None or not EARLIEST_DAY <= moment.date() <= LATEST_DAY:
        raise ValueError(value)
    return moment


def cursor_uuid(value: Any) -> uuid.UUID:
    """Parser for an id tie-breaker."""
    return uuid.UUID(cursor_text(value))


def keyset_after(columns: list[Any], values: list[Any], *, descending: bool) -> ColumnElement[bool]:
    """A WHERE clause selecting rows strictly after `values` in the order of `columns` (all one direction)."""
    clauses = []
    for i, column in enumerate(columns):
        equal_prefix = [columns[j] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


async def fetch_page(
    session: AsyncSession,
    query: SelectOfScalar[M],
    *,
    kind: str,
    order: str,
    columns: list[Any],
    parsers: list[Callable[[Any], Any]],
    key: Callable[[M], list[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = False,
    records: bool = False,
) -> tuple[list[M], str | None]:
    """Run `query` one keyset page at a time: the rows after `cursor` in `columns` order, and the next cursor.

    `columns` end with a unique tie-breaker (the id); `key(row)` returns a row's values for those columns and
    `parsers` turn a cursor's values back into them. `query` selects model objects, or, with `records`, the
    columns of `db.models.record_columns` (rows read by name, without building objects).
    """
    check_limit(limit)
    if cursor:
        values = decode_cursor(kind, order, cursor, *parsers)
        query = query.where(keyset_after(columns, values, descending=descending))
    result = await session.execute(query.order_by(*_ordering(columns, descending)).limit(limit + 1))
    rows: list[Any] = list(result.all() if records else result.scalars().all())
    return _page_and_cursor(rows, limit, kind, order, key)


def _ordering(columns: list[Any], descending: bool) -> list[Any]:
    return [column.desc() if descending else column.asc() for column in columns]


def _page_and_cursor(
    rows: list[Any], limit: int, kind: str, order: str, key: Callable[[Any], list[Any]]
) -> tuple[list[Any], str | None]:
    """The first `limit` of `rows` (read with one more) and the cursor after them, if more rows follow."""
    page = rows[:limit]
    return page, encode_cursor(kind, order, key(page[-1])) if len(rows) > limit else None


def keyset_page(query: Select[Any], columns: list[Any], *, descending: bool, after: bool) -> FixedRead:
    """`query` as one keyset page, its values all bind parameters: ordered by `columns`, after the bound values
    `after_0`, `after_1`, … when `after` (a cursor continues the list), and at most `limit` rows. Built once per
    shape of a list's arguments (under `functools.cache`) and run by `fetch_fixed_page`."""
    if after:
        bound = [bindparam(f"after_{i}", type_=getattr(column, "type", None)) for i, column in enumerate(columns)]
        query = query.where(keyset_after(columns, bound, descending=descending))
    return FixedRead(query.order_by(*_ordering(columns, descending)).limit(bindparam("limit", type_=Integer)))


async def fetch_fixed_page(
    session: AsyncSession,
    read: Callable[[bool], FixedRead],
    values: dict[str, Any],
    *,
    kind: str,
    order: str,
    parsers: list[Callable[[Any], Any]],
    key: Callable[[Any], list[Any]],
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """`fetch_page` for a list whose page statements are built once per shape: `read(after)` gives the page's
    `keyset_page`, whose remaining values (the cursor's and `limit`) are bound here to `values`' own."""
    check_limit(limit)
    bound = dict(values, limit=limit + 1)
    if cursor:
        bound.update((f"after_{i}", v) for i, v in enumerate(decode_cursor(kind, order, cursor, *parsers)))
    return _page_and_cursor(await read(bool(cursor)).all(session, bound), limit, kind, order, key)
