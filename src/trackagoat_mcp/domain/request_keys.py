"""Idempotency keys of creating REST requests: one stored response per (organization, key), replayed byte for byte.

The claim/lease/finish/release protocol is `domain/idempotency.py`'s, applied to whole responses:

* the same key with the same request (route and body), once the first has finished → the first response, its status
  and its exact body bytes, however late the retry comes (rows are kept, so "within at least 24 hours" holds);
* the same key with another route or another body → `Conflict` code `idempotency_key_reused`;
* the same key while the first request still runs → `Conflict` code `idempotency_key_in_use`.

`finish()` stores the response inside the work's own transaction when the work has one, so the work and its stored
response commit together; `release()` deletes a claim whose work failed, so a corrected retry runs afresh.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import RestIdempotencyKey, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import idempotency as keys
from trackagoat_mcp.domain.idempotency import LEASE, Done, Held, KeyTable, check_key
from trackagoat_mcp.errors import Conflict

__all__ = ["LEASE", "Held", "Stored", "check_key", "claim", "finish", "release", "request_fingerprint"]


@dataclass(frozen=True)
class Stored:
    """The response of the request that first used the key."""

    status_code: int
    body: str


def request_fingerprint(route: str, body: bytes) -> str:
    """SHA-256 (hex) of a request: its method and path, then its raw body bytes."""
    return hashlib.sha256(route.encode() + b"\n" + body).hexdigest()


def _reused(key: str, first: RowMapping) -> Conflict:
    return Conflict(
        f"Idempotency-Key {key[:80]!r} was already used for another request (first for {first['route']!r}); a key "
        "stands for one request only. Send a new key for a new request, or repeat the original request exactly to "
        "get its response.",
        code="idempotency_key_reused",
    )


def _in_use(key: str) -> Conflict:
    return Conflict(
        f"A request with Idempotency-Key {key[:80]!r} is still running; wait a few seconds and retry the same request "
        "with the same key to get its response.",
        code="idempotency_key_in_use",
    )


REST_KEYS = KeyTable(table_of(RestIdempotencyKey), ("org_id",), _reused, _in_use)


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
    scope, recorded = {"org_id": org_id}, {"route": route}
    outcome = await keys.claim(
        db, REST_KEYS, scope=scope, key=key, fingerprint=fingerprint, now=now, lease=lease, recorded=recorded
    )
    if isinstance(outcome, Done):
        return Stored(outcome.row["status_code"], outcome.row["response_body"])
    return outcome


async def finish(session: AsyncSession, held: Held, *, status_code: int, body: str, now: datetime) -> None:
    """Store the response in `session`'s transaction; refuse (`idempotency_key_in_use`) if our lease was lost."""
    await keys.finish(session, REST_KEYS, held, result={"status_code": status_code, "response_body": body}, now=now)


async def release(db: Database, held: Held) -> None:
    """Delete our claim after the work failed (nothing of it was committed), so a corrected retry can run."""
    await keys.release(db, REST_KEYS, held)
