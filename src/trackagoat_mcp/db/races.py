"""Writes that may lose a unique-key race, retried where that is known to be safe: inside the store's transaction.

Two requests that both find no row for a key (a handle in a project, a video id, a campaign member) and both
insert it race; the unique constraint lets one win and fails the other's statement. On PostgreSQL, which runs
write transactions side by side (READ COMMITTED), this happens; on SQLite a write session holds the database's
one write lock from its `BEGIN IMMEDIATE`, so the check and the insert of one session cannot interleave with
another's and no race is ever lost there.

`retry_lost_race` runs a store-only piece of work (reads and writes of one session, no network call, no message
to the client) inside a savepoint. When it loses such a race, only the savepoint is rolled back, and the work
runs again: it now finds the winner's row (committed, hence visible to a new statement) and treats it like any
row that was there before (e.g. "already_tracked"), which is what the caller would get a moment later. Work
that keeps losing (three times) ends as `Conflict`, with the store unchanged by it. Any other integrity failure
(a foreign key, a NOT NULL, a CHECK) is not retried: a retry would only repeat it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.dialect import unique_violation
from trackagoat_mcp.errors import Conflict

__all__ = ["LOST_RACES", "RACE_ATTEMPTS", "UNHANDLED_CONFLICT", "retries_lost_races", "retry_lost_race"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

RACE_ATTEMPTS = 3
"""Runs of the work before a call that keeps losing races gives up (each loss means another writer finished)."""

LOST_RACES = "Other requests kept changing the same records at the same moment, so this call changed nothing. Retry it."

UNHANDLED_CONFLICT = (
    "Another request changed the same records at the same moment, so this call changed nothing. Read them again "
    "and retry if it is still needed."
)
"""What a caller is told when a constraint fails outside `retry_lost_race` (the store is unchanged)."""


async def retry_lost_race(session: AsyncSession, work: Callable[[], Awaitable[T]]) -> T:
    """`await work()` in a savepoint of `session`, run again after a lost unique-key race (see the module
    docstring). `work` must touch only the store through `session`: it may run up to `RACE_ATTEMPTS` times."""
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            async with session.begin_nested():  # leaving it flushes, so a lost race surfaces in here
                return await work()
        except IntegrityError as exc:
            if not unique_violation(exc):
                raise
            logger.info("lost a race on a unique key (attempt %d of %d): %s", attempt, RACE_ATTEMPTS, exc.orig)
            if attempt == RACE_ATTEMPTS:
                raise Conflict(LOST_RACES) from exc
    raise AssertionError("unreachable")


def retries_lost_races(
    fn: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[T]]:
    """Decorate a domain function taking the session first so that its whole body runs in `retry_lost_race`."""

    @functools.wraps(fn)
    async def wrapper(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await retry_lost_race(session, lambda: fn(session, *args, **kwargs))

    return wrapper
