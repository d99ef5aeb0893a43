"""`outliers`: a project's counted videos whose views stand far out from the rest posted in the same range.

Tukey's fences over the current view counters of the counted videos posted within the local days `[from, to]`
(default the last 30): with Q1 and Q3 the quartiles (linear interpolation) and IQR = Q3 − Q1, a video above
Q3 + k·IQR is a `high` outlier (a breakout) and one below Q1 − k·IQR a `low` one (a flop), `k` = 1.5 by default
(3 for "far out"). Each carries its ratio to the median. Fewer than 4 videos give no fences and no outliers.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.models import Video
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import resolve_range
from trackagoat_mcp.domain.tree import is_counted
from trackagoat_mcp.errors import InvalidInput

__all__ = ["MIN_VIDEOS", "Outlier", "Outliers", "outliers"]

MIN_VIDEOS = 4


class Outlier(BaseModel):
    """A video whose views lie outside the fences."""

    model_config = ConfigDict(frozen=True)

    video_id: uuid.UUID
    url: str
    creator_id: uuid.UUID | None
    posted_at: datetime | None
    views: int
    direction: Literal["high", "low"]
    ratio_to_median: float | None = Field(description="views ÷ the median; null when the median is 0.")


class Outliers(BaseModel):
    """The fences and the videos outside them, highest views first."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    range_from: date
    range_to: date
    video_count: int
    median_views: float | None
    lower_fence: float | None
    upper_fence: float | None
    k: float
    items: list[Outlier]


async def outliers(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: object,
    now: datetime,
    range_from: date | None = None,
    range_to: date | None = None,
    k: float = 1.5,
) -> Outliers:
    """The project's outlier videos in the range (module docstring)."""
    caller.require("read")
    if not 0 < k <= 10:
        raise InvalidInput(f"k {k!r} is out of range; use a fence factor above 0 and at most 10 (1.5 or 3).")
    project = await get_project(session, caller, project_id)
    zone = (await get_org(session, caller)).timezone
    first, last = resolve_range(now, zone, range_from, range_to)
    start, end = day_range_utc(first, last, zone)
    videos = list(
        await session.scalars(
            select(Video).where(
                col(Video.project_id) == project.id,
                is_counted(Video),
                col(Video.posted_at) >= start,
                col(Video.posted_at) < end,
            )
        )
    )
    views = sorted(v.view_count for v in videos)
    if len(views) < MIN_VIDEOS:
        median = statistics.median(views) if views else None
        return Outliers(
            project_id=project.id, range_from=first, range_to=last, video_count=len(views), median_views=median,
            lower_fence=None, upper_fence=None, k=k, items=[],
        )  # fmt: skip
    q1, median, q3 = statistics.quantiles(views, n=4, method="inclusive")
    low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    items = [
        Outlier(
            video_id=v.id,
            url=v.url,
            creator_id=v.creator_id,
            posted_at=v.posted_at,
            views=v.view_count,
            direction="high" if v.view_count > high else "low",
            ratio_to_median=round(v.view_count / median, 2) if median else None,
        )
        for v in sorted(videos, key=lambda v: (-v.view_count, str(v.id)))
        if v.view_count > high or v.view_count < low
    ]
    return Outliers(
        project_id=project.id, range_from=first, range_to=last, video_count=len(views), median_views=median,
        lower_fence=low, upper_fence=high, k=k, items=items,
    )  # fmt: skip
