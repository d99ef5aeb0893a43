"""The four goal metrics of one creator over one period, shared by goal compliance and goal-based payouts.

SPEC §5 defines them once: `posts` = counted videos posted in the period; `views` = views (latest
snapshot, i.e. the row's current counters) of those videos; `engagement` = engagement rate by views over
those videos, in percent, `(likes + comments + shares + saves) / views × 100`; `followers` = the follower
count of the latest creator snapshot at or before the period's end. Two queries, whatever the period.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.db.models import CreatorSnapshot, Video
from trackagoat_mcp.domain.tree import is_counted
from trackagoat_mcp.errors import InvalidInput

__all__ = ["GOAL_METRICS", "GoalMetric", "PeriodFigures", "parse_goal_metric", "period_figures"]

GoalMetric = Literal["posts", "views", "engagement", "followers"]
GOAL_METRICS: tuple[str, ...] = get_args(GoalMetric)
ENGAGEMENT_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class PeriodFigures:
    """Everything the goal metrics are computed from, kept so callers can record their inputs."""

    posts: int
    views: int
    interactions: int
    """likes + comments + shares + saves of the period's counted videos."""
    followers: int | None
    """Follower count at the period's end; None when no snapshot exists at or before it."""

    @property
    def engagement(self) -> Decimal | None:
        """Engagement rate by views in percent (two decimals), or None when the videos have no views."""
        if self.views == 0:
            return None
        return (Decimal(self.interactions) * 100 / Decimal(self.views)).quantize(ENGAGEMENT_PLACES)

    def value(self, metric: GoalMetric) -> Decimal | None:
        """The figure a goal on `metric` is measured by (None when there is nothing to measure)."""
        if metric == "posts":
            return Decimal(self.posts)
        if metric == "views":
            return Decimal(self.views)
        if metric == "engagement":
            return self.engagement
        return None if self.followers is None else Decimal(self.followers)


def parse_goal_metric(value: str) -> GoalMetric:
    """Validate a goal metric name, with a sentence listing the allowed ones."""
    for metric in get_args(GoalMetric):
        if value == metric:
            return metric  # type: ignore[no-any-return]
    raise InvalidInput(f"metric {value!r} is not one of {list(GOAL_METRICS)!r}; pick one of them.")


async def period_figures(session: AsyncSession, creator_id: uuid.UUID, start: datetime, end: datetime) -> PeriodFigures:
    """The creator's figures for the period `[start, end)` (UTC instants), from counted videos only."""
    posted = col(Video.posted_at)
    followers = (
        select(col(CreatorSnapshot.follower_count))
        .where(col(CreatorSnapshot.creator_id) == creator_id, col(CreatorSnapshot.captured_at) <= end)
        .order_by(col(CreatorSnapshot.captured_at).desc())
        .limit(1)
        .scalar_subquery()
    )
    totals = (  # one statement: on SQLite every statement is several thread round trips
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Video.view_count), 0),
                func.coalesce(
                    func.sum(Video.like_count + Video.comment_count + Video.share_count + Video.save_count), 0
                ),
                followers,
            ).where(col(Video.creator_id) == creator_id, is_counted(), posted >= start, posted < end)
        )
    ).one()
    return PeriodFigures(posts=int(totals[0]), views=int(totals[1]), interactions=int(totals[2]), followers=totals[3])
