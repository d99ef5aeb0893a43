"""`posting_consistency`: how regularly each active creator of a project posted counted videos over a range.

The local days `[from, to]` (default the last 30, organization timezone) are cut into 7-day windows from `from`
(the last one may be shorter). Per creator: `posts`, `weeks` (windows), `active_weeks` (windows with at least one
post), `consistency_pct` = active_weeks ÷ weeks × 100, the mean and population standard deviation of posts per
window, and `longest_gap_days`, the longest run of days in the range without a post. Creators are listed by
handle; one without posts has consistency 0 and a gap the length of the range.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import day_range_utc, parse_timezone
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import resolve_range
from trackagoat_mcp.domain.tree import is_counted

__all__ = ["CreatorConsistency", "PostingConsistency", "posting_consistency"]


class CreatorConsistency(BaseModel):
    """One creator's posting rhythm in the range."""

    model_config = ConfigDict(frozen=True)

    creator_id: uuid.UUID
    tiktok_handle: str
    posts: int
    weeks: int
    active_weeks: int
    consistency_pct: float = Field(description="Share of 7-day windows with at least one post, in percent.")
    mean_posts_per_week: float
    stddev_posts_per_week: float
    longest_gap_days: int = Field(description="Longest run of days in the range without a post.")


class PostingConsistency(BaseModel):
    """Every active creator of a project, by handle."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    timezone: str
    range_from: date
    range_to: date
    items: list[CreatorConsistency]


def _longest_gap(days: set[date], first: date, last: date) -> int:
    longest = run = 0
    for offset in range((last - first).days + 1):
        run = 0 if date.fromordinal(first.toordinal() + offset) in days else run + 1
        longest = max(longest, run)
    return longest


async def posting_consistency(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: object,
    now: datetime,
    range_from: date | None = None,
    range_to: date | None = None,
) -> PostingConsistency:
    """Each active creator's posting rhythm over the range (module docstring)."""
    caller.require("read")
    project = await get_project(session, caller, project_id)
    zone_name = (await get_org(session, caller)).timezone
    zone = parse_timezone(zone_name)
    first, last = resolve_range(now, zone_name, range_from, range_to)
    start, end = day_range_utc(first, last, zone_name)
    posted: dict[uuid.UUID, list[date]] = defaultdict(list)
    rows = await session.execute(
        select(col(Video.creator_id), col(Video.posted_at)).where(
            col(Video.project_id) == project.id,
            is_counted(Video),
            col(Video.posted_at) >= start,
            col(Video.posted_at) < end,
            col(Video.creator_id).is_not(None),
        )
    )
    for creator_id, posted_at in rows.all():
        if creator_id is not None and posted_at is not None:  # both filtered in SQL; the check is for the types
            posted[creator_id].append(posted_at.astimezone(zone).date())
    weeks = (last - first).days // 7 + 1
    creators = await session.scalars(
        select(Creator)
        .where(col(Creator.project_id) == project.id, col(Creator.is_active) == True)  # noqa: E712
        .order_by(col(Creator.tiktok_handle))
    )
    items = []
    for creator in creators:
        days = posted.get(creator.id, [])
        per_week = [0] * weeks
        for day in days:
            per_week[(day - first).days // 7] += 1
        active = sum(1 for n in per_week if n)
        items.append(
            CreatorConsistency(
                creator_id=creator.id,
                tiktok_handle=creator.tiktok_handle,
                posts=len(days),
                weeks=weeks,
                active_weeks=active,
                consistency_pct=round(active / weeks * 100, 1),
                mean_posts_per_week=round(statistics.fmean(per_week), 2),
                stddev_posts_per_week=round(statistics.pstdev(per_week), 2),
                longest_gap_days=_longest_gap(set(days), first, last),
            )
        )
    return PostingConsistency(project_id=project.id, timezone=zone_name, range_from=first, range_to=last, items=items)
