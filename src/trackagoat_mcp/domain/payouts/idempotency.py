"""Idempotency keys of the money tools: a payment is recorded once per client key, whatever the retries.

The claim/lease/finish/release protocol and its three outcomes are `domain/idempotency.py`'s; this module is its
use for the MCP money tools: keys are scoped to (organization, operation), a request is recognised by the
fingerprint of its arguments, and a finished key stores the id of what it created (`Claim.resource_id`; the caller
loads it again and no new row is written).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import IdempotencyKey, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import idempotency as keys
from trackagoat_mcp.domain.idempotency import KEY_MAX_CHARS, LEASE, Done, Held, KeyTable, check_key
from trackagoat_mcp.errors import Conflict

__all__ = ["KEY_MAX_CHARS", "LEASE", "Claim", "check_key", "claim", "fingerprint", "finish", "finished", "release"]


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


def fingerprint(arguments: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a request's arguments: sorted keys, no padding, UTF-8."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reused(key: str, _first: RowMapping) -> Conflict:
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


MONEY_KEYS = KeyTable(table_of(IdempotencyKey), ("org_id", "operation"), _reused, _in_use)


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
    """Claim `key` for `operation` in its own transaction (outcomes in `domain/idempotency.py`)."""
    scope = {"org_id": org_id, "operation": operation}
    outcome = await keys.claim(db, MONEY_KEYS, scope=scope, key=key, fingerprint=fingerprint, now=now, lease=lease)
    if isinstance(outcome, Done):
        return Claim(outcome.row_id, None, outcome.row["resource_id"])
    return Claim(outcome.row_id, outcome.lease, None)


def _held(claimed: Claim, key: str) -> Held:
    if claimed.lease is None:
        raise ValueError(f"Idempotency key {key[:80]!r} is done, not held; replay its result instead of finishing it.")
    return Held(claimed.key_id, key, claimed.lease)


async def finished(
    session: AsyncSession, *, org_id: uuid.UUID, operation: str, key: str, fingerprint: str
) -> uuid.UUID | None:
    """What a finished request with `key` created (None while the key is unused or its request still runs), without
    claiming anything; a key used for other arguments is refused as `claim` would refuse it."""
    table = MONEY_KEYS.table
    row = (
        await session.execute(
            select(table.c.fingerprint, table.c.state, table.c.resource_id).where(
                table.c.org_id == org_id, table.c.operation == operation, table.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise _reused(key, row._mapping)
    return row.resource_id if row.state == "done" else None


async def finish(session: AsyncSession, held: Claim, *, key: str, resource_id: uuid.UUID, now: datetime) -> None:
    """Mark the key done with `resource_id`, inside the work's own transaction; refuse if our lease was lost."""
    await keys.finish(session, MONEY_KEYS, _held(held, key), result={"resource_id": resource_id}, now=now)


async def release(db: Database, held: Claim) -> None:
    """Delete our claim after the work failed (nothing of it was committed), so a corrected retry can run."""
    if held.lease is not None:
        await keys.release(db, MONEY_KEYS, Held(held.key_id, "", held.lease))
