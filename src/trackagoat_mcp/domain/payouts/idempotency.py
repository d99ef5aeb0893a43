"""Idempotency keys: a money-creating request runs once per client key, whatever the retries, races or crashes.

The three outcomes (SPEC §5; Stripe's rules, reference §3.1):

* the same key with the same request, once the first has finished → the first request's result
  (`Claim.resource_id`; the caller loads it again and no new row is written);
* the same key with a different request → `Conflict` code `idempotency_key_reused` (a request is recognised by
  its fingerprint, the SHA-256 of the canonical JSON of its arguments);
* the same key while the first request is still running → `Conflict` code `idempotency_key_in_use`; retry later
  to get the first request's result.

The protocol, in three short steps:

1. `claim()` runs in a transaction of its own: it inserts the key as `in_progress` with the fingerprint and a lease
   (`locked_until = now + LEASE`, 60 seconds), or reads the row that is already there and decides as above. A row
   left `in_progress` by a process that died is taken over once its lease has run out (a compare-and-set on
   `locked_until`, so exactly one taker wins).
2. The work runs in one transaction whose first statement is `finish()`: it marks the key `done` with the id of
   what the work creates, but only while our lease still holds (`locked_until` unchanged). The work and the
   `done` mark therefore commit together or not at all, and a request that lost its lease can never commit.
3. When the work fails (bad input, a conflict, a database error) nothing of it was committed, and `release()`
   deletes our claim, so a corrected retry with the same key runs afresh. This is Stripe's rule for requests that
   fail validation; since all our work is one transaction, every failure is of that kind. A process that dies
   between steps 1 and 2 leaves the key `in_progress`; after the lease the next retry takes it over.

Keys are scoped to (organization, operation) and kept for good: a key can never create a second payment, however
late the retry comes (Stripe prunes after 24 hours; we have no need to).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates
from trackagoat_mcp.db.models import IdempotencyKey, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = ["KEY_MAX_CHARS", "LEASE", "Claim", "check_key", "claim", "fingerprint", "finish", "release"]

KEY_MAX_CHARS = 255
LEASE = timedelta(seconds=60)
"""How long a claim blocks retries before it counts as abandoned (a crashed process); far above any real request."""
_CLAIM_ATTEMPTS = 5
_KEYS = table_of(IdempotencyKey)


@dataclass(frozen=True)
class Claim:
    """The outcome of `claim()`: either we hold the key (`lease` set) or it is done (`resource_id` set)."""

    key_id: uuid.UUID
    lease: datetime | None
    resource_id: uuid.UUID | None

    @property
    def replay(self) -> bool:
        """Whether the key is already done, so the caller returns the earlier result instead of working."""
        return self.resource_id is not None


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


def fingerprint(arguments: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a request's arguments: sorted keys, no padding, UTF-8."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reused(key: str) -> Conflict:
    return Conflict(
        f"idempotency_key {key[:80]!r} was already used for a different request; a key stands for one request "
        "only. Send a new key for a new payment, or repeat the original arguments exactly to get its result.",
        code="idempotency_key_reused",
    )


def _in_use(key: str) -> Conflict:
    return Conflict(
        f"A request with idempotency_key {key[:80]!r} is still running; wait a few seconds and retry with the same "
        "key and arguments to get its result.",
        code="idempotency_key_in_use",
    )


async def claim(
    db: Database,
    *,
    org_id: uuid.UUID,
    operation: str,
    key: str,
    fingerprint: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> Claim:
    """Claim `key` for `operation` in its own transaction (see the module docstring for the outcomes)."""
    for _ in range(_CLAIM_ATTEMPTS):
        async with db.write() as session:
            outcome = await _claim_once(session, org_id, operation, key, fingerprint, now, now + lease)
        if outcome is not None:
            return outcome
    # The key kept appearing and disappearing (claimed and released by others): someone is working on it.
    raise _in_use(key)


async def _claim_once(
    session: AsyncSession,
    org_id: uuid.UUID,
    operation: str,
    key: str,
    fingerprint: str,
    now: datetime,
    lease: datetime,
) -> Claim | None:
    new_id = uuid.uuid4()
    inserted = await session.execute(
        insert_ignoring_duplicates(session, _KEYS, unique=["org_id", "operation", "key"])
        .values(
            id=new_id,
            org_id=org_id,
            operation=operation,
            key=key,
            fingerprint=fingerprint,
            state="in_progress",
            locked_until=lease,
            created_at=now,
        )
        .returning(_KEYS.c.id)
    )
    if inserted.first() is not None:
        return Claim(new_id, lease, None)
    row = (
        await session.execute(
            select(_KEYS.c.id, _KEYS.c.fingerprint, _KEYS.c.state, _KEYS.c.resource_id, _KEYS.c.locked_until).where(
                _KEYS.c.org_id == org_id, _KEYS.c.operation == operation, _KEYS.c.key == key
            )
        )
    ).first()
    if row is None:
        return None  # released between our insert and our read: try again
    if row.fingerprint != fingerprint:
        raise _reused(key)
    if row.state == "done":
        return Claim(row.id, None, row.resource_id)
    if row.locked_until is not None and row.locked_until > now:
        raise _in_use(key)
    # The lease ran out: whoever held it died (or is hopelessly late and can no longer finish). Take it over.
    taken = await _execute(
        session,
        update(_KEYS)
        .where(_KEYS.c.id == row.id, _KEYS.c.state == "in_progress", _lease_is(row.locked_until))
        .values(locked_until=lease),
    )
    if taken.rowcount != 1:
        raise _in_use(key)
    return Claim(row.id, lease, None)


async def _execute(session: AsyncSession, statement: Any) -> CursorResult[Any]:
    """Run an UPDATE whose row count decides the outcome."""
    return cast(CursorResult[Any], await session.execute(statement))


def _lease_is(lease: datetime | None) -> Any:
    return _KEYS.c.locked_until.is_(None) if lease is None else _KEYS.c.locked_until == lease


async def finish(session: AsyncSession, held: Claim, *, key: str, resource_id: uuid.UUID, now: datetime) -> None:
    """Mark the key done with `resource_id`, inside the work's own transaction; refuse if our lease was lost."""
    done = await _execute(
        session,
        update(_KEYS)
        .where(_KEYS.c.id == held.key_id, _KEYS.c.state == "in_progress", _lease_is(held.lease))
        .values(state="done", resource_id=resource_id, finished_at=now, locked_until=None),
    )
    if done.rowcount != 1:
        # Our lease ran out and a retry took the key over; its result wins and ours is rolled back.
        raise _in_use(key)


async def release(db: Database, held: Claim) -> None:
    """Delete our claim after the work failed (nothing of it was committed), so a corrected retry can run."""
    async with db.write() as session:
        await session.execute(
            delete(_KEYS).where(_KEYS.c.id == held.key_id, _KEYS.c.state == "in_progress", _lease_is(held.lease))
        )
