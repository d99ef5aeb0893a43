"""Seeding helpers for the goal, compliance, over-posting and health tests: rows written straight into the store.

Creators are inserted as a scrape would leave them (state, last scrape time), videos through
`tests.domain._support.insert_video`, so every counter and timestamp is exactly what a test says.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import col, select

from trackagoat_mcp.db.models import Creator, CreatorSnapshot, Goal
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import goals
from trackagoat_mcp.domain.scope import Caller


def utc(text: str) -> datetime:
    """An aware UTC datetime from `YYYY-MM-DDTHH:MM`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def add_creator(
    db: Database,
    caller: Caller,
    project_id: uuid.UUID,
    handle: str,
    *,
    scraped_at: datetime | None = None,
    state: str = "ok",
    active: bool = True,
    display_name: str | None = None,
    **extra: Any,
) -> uuid.UUID:
    """Insert a creator whose last scrape was at `scraped_at` with `scrape_state` `state`."""
    async with db.write() as session:
        creator = Creator(
            org_id=caller.org_id,
            project_id=project_id,
            tiktok_handle=handle,
            display_name=display_name or handle.title(),
            tracking_start_date=date(2026, 1, 1),
            last_scraped_at=scraped_at,
            scrape_state=state if scraped_at is not None or state != "ok" else "stale",
            is_active=active,
            **extra,
        )
        session.add(creator)
    return creator.id


async def set_scrape(db: Database, creator_id: uuid.UUID, scraped_at: datetime | None, state: str = "ok") -> None:
    """Record a scrape outcome on a creator, as the scraper does."""
    async with db.write() as session:
        creator = await session.get_one(Creator, creator_id)
        creator.last_scraped_at = scraped_at
        creator.scrape_state = state
        session.add(creator)


async def add_followers(db: Database, creator_id: uuid.UUID, *points: tuple[datetime, int]) -> None:
    """Append creator snapshots (captured_at, follower_count)."""
    async with db.write() as session:
        for captured_at, followers in points:
            session.add(CreatorSnapshot(creator_id=creator_id, captured_at=captured_at, follower_count=followers))


async def add_goal(
    db: Database,
    caller: Caller,
    creator_id: uuid.UUID,
    metric: str,
    period: str,
    target: float,
    now: datetime,
    **kw: Any,
) -> uuid.UUID:
    """Create a goal through the domain (so it is validated like an agent's)."""
    async with db.write() as session:
        goal = await goals.create_goal(
            session, caller, creator_id=creator_id, metric=metric, period=period, target_value=target, now=now, **kw
        )
    return goal.id


async def goal_rows(db: Database) -> list[Goal]:
    """Every goal row, oldest first."""
    async with db.read() as session:
        return list((await session.scalars(select(Goal).order_by(col(Goal.created_at), col(Goal.id)))).all())
