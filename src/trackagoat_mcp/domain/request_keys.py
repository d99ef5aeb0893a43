"""Idempotency keys of creating REST requests: one stored response per (organization, key), replayed byte for byte.

The rules (SPEC §7, the payouts key rules of `domain/payouts/idempotency.py` applied to whole responses):

* the same key with the same request (route and body), once the first has finished → the first response, its status
  and its exact body bytes, however late the retry comes (rows are kept, so "within at least 24 hours" holds);
* the same key with another route or another body → `Conflict` code `idempotency_key_reused`;
* the same key while the first request still runs → `Conflict` code `idempotency_key_in_use`.

The protocol is the payouts one: `claim()` inserts the key `in_progress` with a lease in a transaction of its own (or
reads the row already there; a row whose lease ran out is taken over by exactly one retry); `finish()` stores the
response, but only while our lease holds, inside the work's own transaction when the work has one, so the work and its
stored response commit together; `release()` deletes a claim whose work failed, so a corrected retry runs afresh.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates
from trackagoat_mcp.db.models import RestIdempotencyKey, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts.idempotency import check_key
from trackagoat_mcp.errors import Conflict

__all__ = ["LEASE", "Held", "Stored", "check_key", "claim", "finish", "release", "request_fingerprint"]

LEASE = timedelta(seconds=60)
"""How long a claim blocks retries before it counts as abandoned (a crashed process); far above any real request."""
_CLAIM_ATTEMPTS = 5
_KEYS = table_of(RestIdempotencyKey)


@dataclass(frozen=True)
class Held:
    """A claim we hold: finish it with the response, or release it."""

    row_id: uuid.UUID
    key: str
    lease: datetime


@dataclass(frozen=True)
class Stored:
    """The response of the request that first used the key."""

    status_code: int
    body: str


def request_fingerprint(route: str, body: bytes) -> str:
    """SHA-256 (hex) of a request: its method and path, then its raw body bytes."""
    return hashlib.sha256(route.encode() + b"\n" + body).hexdigest()


def _reused(key: str, route: str) -> Conflict:
    return Conflict(
        f"Idempotency-Key {key[:80]!r} was already used for another request (first for {route!r}); a key stands for "
        "one request only. Send a new key for a new request, or repeat the original request exactly to get its "
        "response.",
        code="idempotency_key_reused",
    )


def _in_use(key: str) -> Conflict:
    return Conflict(
        f"A request with Idempotency-Key {key[:80]!r} is still running; wait a few seconds and retry the same request "
        "with the same key to get its response.",
        code="idempotency_key_in_use",
    )


async def claim(
    db: Database,
    *,
    org_id: uuid.UUID,
    key: str,
    route: str,
    fingerprint: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> Held | Stored:
    """Claim `key` for this request in its own transaction; a `Stored` response means replay it instead of working.

    Raises:
        Conflict: `idempotency_key_reused` or `idempotency_key_in_use` (see the module docstring).
        InvalidInput: the key is not 1-255 printable ASCII characters.
    """
    check_key(key)
    for _ in range(_CLAIM_ATTEMPTS):
        async with db.write() as session:
            outcome = await _claim_once(session, org_id, key, route, fingerprint, now, now + lease)
        if outcome is not None:
            return outcome
    raise _in_use(key)


async def _claim_once(
    session: AsyncSession,
    org_id: uuid.UUID,
    key: str,
    route: str,
    fingerprint: str,
    now: datetime,
    lease: datetime,
) -> Held | Stored | None:
    new_id = uuid.uuid4()
    inserted = await session.execute(
        insert_ignoring_duplicates(session, _KEYS, unique=["org_id", "key"])
        .values(
            id=new_id,
            org_id=org_id,
            key=key,
            route=route,
            fingerprint=fingerprint,
            state="in_progress",
            locked_until=lease,
            created_at=now,
        )
        .returning(_KEYS.c.id)
    )
    if inserted.first() is not None:
        return Held(new_id, key, lease)
    row = (
        await session.execute(
            select(
                _KEYS.c.id,
                _KEYS.c.route,
                _KEYS.c.fingerprint,
                _KEYS.c.state,
                _KEYS.c.locked_until,
                _KEYS.c.status_code,
                _KEYS.c.response_body,
            ).where(_KEYS.c.org_id == org_id, _KEYS.c.key == key)
        )
    ).first()
    if row is None:
        return None  # released between our insert and our read: try again
    if row.fingerprint != fingerprint:
        raise _reused(key, row.route)
    if row.state == "done":
        return Stored(row.status_code, row.response_body)
    if row.locked_until is not None and row.locked_until > now:
        raise _in_use(key)
    taken = await _execute(
        session,
        update(_KEYS)
        .where(_KEYS.c.id == row.id, _KEYS.c.state == "in_progress", _KEYS.c.locked_until == row.locked_until)
        .values(locked_until=lease),
    )
    if taken.rowcount != 1:
        raise _in_use(key)
    return Held(row.id, key, lease)


async def _execute(session: AsyncSession, statement: Any) -> CursorResult[Any]:
    return cast(CursorResult[Any], await session.execute(statement))


async def finish(session: AsyncSession, held: Held, *, status_code: int, body: str, now: datetime) -> None:
    """Store the response in `session`'s transaction; refuse (`idempotency_key_in_use`) if our lease was lost."""
    done = await _execute(
        session,
        update(_KEYS)
        .where(_KEYS.c.id == held.row_id, _KEYS.c.state == "in_progress", _KEYS.c.locked_until == held.lease)
        .values(state="done", status_code=status_code, response_body=body, finished_at=now, locked_until=None),
    )
    if done.rowcount != 1:
        raise _in_use(held.key)


async def release(db: Database, held: Held) -> None:
    """Delete our claim after the work failed (nothing of it was committed), so a corrected retry can run."""
    async with db.write() as session:
        await session.execute(
            delete(_KEYS).where(
                _KEYS.c.id == held.row_id, _KEYS.c.state == "in_progress", _KEYS.c.locked_until == held.lease
            )
        )
