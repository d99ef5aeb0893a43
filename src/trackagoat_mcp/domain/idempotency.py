"""Idempotency keys: a creating request runs once per client key, whatever the retries, races or crashes.

One mechanism serves both kinds of key: the MCP money tools' (`payouts/idempotency.py`, table `idempotency_keys`,
which stores the id of what the request created) and REST's `Idempotency-Key` (`request_keys.py`, table
`rest_idempotency`, which stores the whole response). A `KeyTable` says which table, which columns scope a key
and what a refusal says; the protocol below is the same for both.

The three outcomes (SPEC §5 and §7; Stripe's rules, reference §3.1):

* the same key with the same request, once the first has finished → `Done`, the first request's stored result;
* the same key with a different request → `Conflict` code `idempotency_key_reused` (a request is recognised by
  its fingerprint, a SHA-256 the caller computes from what names the request);
* the same key while the first request is still running → `Conflict` code `idempotency_key_in_use`; retry later
  to get the first request's result.

The protocol, in three short steps:

1. `claim()` runs in a transaction of its own: it inserts the key as `in_progress` with the fingerprint and a lease
   (`locked_until = now + LEASE`), or reads the row that is already there and decides as above. A row left
   `in_progress` by a process that died is taken over once its lease has run out (a compare-and-set on
   `locked_until`, so exactly one taker wins).
2. The work runs in one transaction that also calls `finish()`: it marks the key `done` with the result, but only
   while our lease still holds (`locked_until` unchanged). The work and the `done` mark therefore commit together
   or not at all, and a request that lost its lease can never commit.
3. When the work fails nothing of it was committed, and `release()` deletes our claim, so a corrected retry with
   the same key runs afresh (Stripe's rule for requests that fail validation; since the work is one transaction,
   every failure is of that kind). A process that dies between steps 1 and 2 leaves the key `in_progress`; after
   the lease the next retry takes it over.

Rows are kept for good: a key can never create a second record, however late the retry comes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = ["KEY_MAX_CHARS", "LEASE", "Done", "Held", "KeyTable", "check_key", "claim", "finish", "release"]

KEY_MAX_CHARS = 255
LEASE = timedelta(seconds=60)
"""How long a claim blocks retries before it counts as abandoned (a crashed process); far above any real request."""
_CLAIM_ATTEMPTS = 5


@dataclass(frozen=True)
class KeyTable:
    """A table of idempotency keys: `scope` columns plus `key` are its unique index; `reused` and `in_use` build
    the refusals (`reused` gets the stored row, to name the request that first used the key)."""

    table: Table
    scope: tuple[str, ...]
    reused: Callable[[str, RowMapping], Conflict]
    in_use: Callable[[str], Conflict]


@dataclass(frozen=True)
class Held:
    """A claim we hold: `finish` it in the work's transaction, or `release` it when the work fails."""

    row_id: uuid.UUID
    key: str
    lease: datetime


@dataclass(frozen=True)
class Done:
    """The key's request already finished: `row` is its stored row, read by column name."""

    row_id: uuid.UUID
    row: RowMapping


def check_key(key: str) -> str:
    """Validate an idempotency key: 1-255 visible ASCII characters (spaces allowed inside), as an HTTP header can
    carry it. A UUID is the recommended choice."""
    if not 1 <= len(key) <= KEY_MAX_CHARS:
        raise InvalidInput(
            f"idempotency_key is {len(key)} characters long; use 1 to {KEY_MAX_CHARS}, for example a new UUID per "
            "payment."
        )
    if key != key.strip() or any(not " " <= ch <= "~" for ch in key):
        raise InvalidInput(
            f"idempotency_key {key[:80]!r} must be printable ASCII without leading or trailing spaces; use a UUID."
        )
    return key


async def claim(
    db: Database,
    keys: KeyTable,
    *,
    scope: Mapping[str, Any],
    key: str,
    fingerprint: str,
    now: datetime,
    lease: timedelta = LEASE,
    recorded: Mapping[str, Any] | None = None,
) -> Held | Done:
    """Claim `key` within `scope` (values of `keys.scope`) in its own transaction; `recorded` columns are stored
    with a new claim. See the module docstring for the outcomes."""
    for _ in range(_CLAIM_ATTEMPTS):
        async with db.write() as session:
            outcome = await _claim_once(session, keys, dict(scope), key, fingerprint, now, now + lease, recorded)
        if outcome is not None:
            return outcome
    # The key kept appearing and disappearing (claimed and released by others): someone is working on it.
    raise keys.in_use(key)


async def _claim_once(
    session: AsyncSession,
    keys: KeyTable,
    scope: dict[str, Any],
    key: str,
    fingerprint: str,
    now: datetime,
    lease: datetime,
    recorded: Mapping[str, Any] | None,
) -> Held | Done | None:
    table = keys.table
    new_id = uuid.uuid4()
    values = {**scope, **(recorded or {}), "key": key, "fingerprint": fingerprint, "state": "in_progress"}
    inserted = await session.execute(
        insert_ignoring_duplicates(session, table, unique=[*keys.scope, "key"])
        .values(id=new_id, locked_until=lease, created_at=now, **values)
        .returning(table.c.id)
    )
    if inserted.first() is not None:
        return Held(new_id, key, lease)
    where = [table.c[name] == value for name, value in scope.items()]
    row = (await session.execute(select(table).where(*where, table.c.key == key))).mappings().first()
    if row is None:
        return None  # released between our insert and our read: try again
    if row["fingerprint"] != fingerprint:
        raise keys.reused(key, row)
    if row["state"] == "done":
        return Done(row["id"], row)
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise keys.in_use(key)
    # The lease ran out: whoever held it died (or is hopelessly late and can no longer finish). Take it over.
    taken = await _execute(
        session,
        update(table)
        .where(table.c.id == row["id"], table.c.state == "in_progress", _lease_is(table, row["locked_until"]))
        .values(locked_until=lease),
    )
    if taken.rowcount != 1:
        raise keys.in_use(key)
    return Held(row["id"], key, lease)


async def _execute(session: AsyncSession, statement: Any) -> CursorResult[Any]:
    """Run an UPDATE whose row count decides the outcome."""
    return cast(CursorResult[Any], await session.execute(statement))


def _lease_is(table: Table, lease: datetime | None) -> Any:
    return table.c.locked_until.is_(None) if lease is None else table.c.locked_until == lease


async def finish(
    session: AsyncSession, keys: KeyTable, held: Held, *, result: Mapping[str, Any], now: datetime
) -> None:
    """Mark the key done with `result` (column values) in the work's own transaction; refuse
    (`idempotency_key_in_use`) if our lease was lost, so the work rolls back and the taker's result wins."""
    table = keys.table
    done = await _execute(
        session,
        update(table)
        .where(table.c.id == held.row_id, table.c.state == "in_progress", _lease_is(table, held.lease))
        .values(state="done", finished_at=now, locked_until=None, **result),
    )
    if done.rowcount != 1:
        raise keys.in_use(held.key)


async def release(db: Database, keys: KeyTable, held: Held) -> None:
    """Delete our claim after the work failed (nothing of it was committed), so a corrected retry can run; a claim
    taken over by a retry is not ours any more and stays."""
    table = keys.table
    async with db.write() as session:
        await session.execute(
            delete(table).where(table.c.id == held.row_id, table.c.state == "in_progress", _lease_is(table, held.lease))
        )
