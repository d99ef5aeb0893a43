"""Project-wide aggregates of counted videos posted in a range: when they are posted, how their views spread.

* `posting_heatmap`: counted videos by local day of week (`dow` 0 = Sunday … 6 = Saturday, trackagoat's numbering)
  and hour, in the organization's timezone or a given IANA `tz`; only non-empty cells are returned (a missing cell
  is 0 posts), each with `post_count` and `avg_views` (the mean of the videos' current view counters).
* `goal_compliance_counts`: the counts-only roll-up of `compliance.goal_compliance` over every creator of the
  project (the dashboard's figures): goals by status (`no_data` when nothing could be measured), creators by their
  worst status, and how many results carry an advisory.
* `creator_scatter`: one point per active creator of the project: counted videos posted in the range (`posts`), the
  sum of their current view counters (`views`), views per post, and the follower count (a scatter of effort against
  reach); creators with no post in the range are points at zero.
* `view_distribution`: a histogram of the current view counters of the same videos in decade buckets
  (0, 1-9, 10-99, 100-999, …), with percentile markers (nearest rank) and the maximum.

Counted videos only (`auto_tracked`, `included`, `direct_add`, tracking not disabled), posted within the local days
`[from, to]` (default the last 30). A video without a post time is left out.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import day_range_utc, parse_timezone
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.domain.compliance import ComplianceStatus, goal_compliance
from trackagoat_mcp.domain.pagination import MAX_LIMIT
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import resolve_range
from trackagoat_mcp.domain.tree import is_counted

__all__ = [
    "ComplianceCounts",
    "CreatorPoint",
    "CreatorScatter",
    "HeatmapCell",
    "PostingHeatmap",
    "ViewBucket",
    "ViewDistribution",
    "creator_scatter",
    "goal_compliance_counts",
    "posting_heatmap",
    "view_distribution",
]

PERCENTILES = (25, 50, 75, 90, 99)


class HeatmapCell(BaseModel):
    """Counted videos posted in one local hour of one day of the week."""

    model_config = ConfigDict(frozen=True)

    dow: int = Field(ge=0, le=6, description="0 = Sunday … 6 = Saturday.")
    hour: int = Field(ge=0, le=23)
    post_count: int
    avg_views: float = Field(description="Mean current view count of those videos.")


class PostingHeatmap(BaseModel):
    """When a project's counted videos were posted (only non-empty cells)."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    timezone: str
    range_from: date
    range_to: date
    video_count: int
    items: list[HeatmapCell] = Field(description="By dow, then hour; a missing cell had no posts.")


class ViewBucket(BaseModel):
    """Videos whose current view count lies in [min_views, max_views]."""

    model_config = ConfigDict(frozen=True)

    min_views: int
    max_views: int
    video_count: int


class ViewDistribution(BaseModel):
    """How the current view counts of a project's counted videos spread."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    range_from: date
    range_to: date
    video_count: int
    buckets: list[ViewBucket] = Field(description="Decades: 0, 1-9, 10-99, …, up to the largest; empty ones kept.")
    percentiles: dict[str, int | None] = Field(
        description="p25, p50, p75, p90, p99 (nearest rank); null without videos."
    )
    max_views: int | None


async def _posted(
    session: AsyncSession,
    caller: Caller,
    project_id: object,
    now: datetime,
    range_from: date | None,
    range_to: date | None,
    tz: str,
) -> tuple[uuid.UUID, date, date, list[tuple[datetime, int]]]:
    project = await get_project(session, caller, project_id)
    first, last = resolve_range(now, tz, range_from, range_to)
    start, end = day_range_utc(first, last, tz)
    rows = await session.execute(
        select(col(Video.posted_at), col(Video.view_count)).where(
            col(Video.project_id) == project.id,
            is_counted(Video),
            col(Video.posted_at) >= start,
            col(Video.posted_at) < end,
        )
    )
    return project.id, first, last, [(row.posted_at, int(row.view_count or 0)) for row in rows]


async def posting_heatmap(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: object,
    now: datetime,
    range_from: date | None = None,
    range_to: date | None = None,
    tz: str | None = None,
) -> PostingHeatmap:
    """Counted videos of a project posted in the range, by local day of week and hour (module docstring)."""
    caller.require("read")
    zone_name = tz or (await get_org(session, caller)).timezone
    zone = parse_timezone(zone_name)
    pid, first, last, videos = await _posted(session, caller, project_id, now, range_from, range_to, zone_name)
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for posted_at, views in videos:
        local = posted_at.astimezone(zone)
        cells[(local.isoweekday() % 7, local.hour)].append(views)
    items = [
        HeatmapCell(dow=dow, hour=hour, post_count=len(views), avg_views=round(sum(views) / len(views), 2))
        for (dow, hour), views in sorted(cells.items())
    ]
    return PostingHeatmap(
        project_id=pid, timezone=zone_name, range_from=first, range_to=last, video_count=len(videos), items=items
    )


def _nearest_rank(ordered: list[int], pct: int) -> int:
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


async def view_distribution(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: object,
    now: datetime,
    range_from: date | None = None,
    range_to: date | None = None,
) -> ViewDistribution:
    """The decade histogram and percentiles of the current view counts of a project's counted videos."""
    caller.require("read")
    zone_name = (await get_org(session, caller)).timezone
    pid, first, last, videos = await _posted(session, caller, project_id, now, range_from, range_to, zone_name)
    ordered = sorted(views for _, views in videos)
    top = ordered[-1] if ordered else 0
    buckets = [ViewBucket(min_views=0, max_views=0, video_count=sum(1 for v in ordered if v == 0))]
    low = 1
    while low <= top:
        high = low * 10 - 1
        buckets.append(
            ViewBucket(min_views=low, max_views=high, video_count=sum(1 for v in ordered if low <= v <= high))
        )
        low *= 10
    return ViewDistribution(
        project_id=pid,
        range_from=first,
        range_to=last,
        video_count=len(ordered),
        buckets=buckets,
        percentiles={f"p{p}": _nearest_rank(ordered, p) if ordered else None for p in PERCENTILES},
        max_views=ordered[-1] if ordered else None,
    )


WORST_FIRST: tuple[str, ...] = ("missed", "at_risk", "behind_pace", "no_data", "on_track", "completed")
"""A creator's overall status is its worst goal's, in this order."""


class ComplianceCounts(BaseModel):
    """How a project's creators are doing against their goals, as counts only."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    reference_date: date
    goals: int = Field(description="Goal results judged (one per active goal of a creator with goals).")
    goals_by_status: dict[str, int] = Field(description="on_track, behind_pace, at_risk, completed, missed, no_data.")
    creators: int = Field(description="Active creators with at least one matching goal.")
    creators_by_status: dict[str, int] = Field(description="Each creator counted once, under its worst goal status.")
    creators_without_goals: int
    results_with_advisory: int = Field(description="Results whose figures may still change or undercount.")


async def goal_compliance_counts(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: object,
    now: datetime,
    period: str | None = None,
    reference_date: date | None = None,
) -> ComplianceCounts:
    """Count every page of `goal_compliance` for the project (module docstring)."""
    statuses = [*get_args(ComplianceStatus), "no_data"]
    goals = dict.fromkeys(statuses, 0)
    creators = dict.fromkeys(statuses, 0)
    cursor: str | None = None
    judged = advisories = 0
    while True:
        page = await goal_compliance(
            session, caller, project_id, now=now, period=period, reference_date=reference_date, limit=MAX_LIMIT,
            cursor=cursor,
        )  # fmt: skip
        for creator in page.creators:
            seen = [result.status or "no_data" for result in creator.compliance]
            for status in seen:
                goals[status] += 1
            judged += len(seen)
            advisories += sum(result.advisory.has_advisory for result in creator.compliance)
            if seen:
                creators[min(seen, key=WORST_FIRST.index)] += 1
        cursor = page.next_cursor
        if cursor is None:
            return ComplianceCounts(
                project_id=page.project_id,
                reference_date=page.reference_date,
                goals=judged,
                goals_by_status=goals,
                creators=sum(creators.values()),
                creators_by_status=creators,
                creators_without_goals=page.creators_without_goals,
                results_with_advisory=advisories,
            )


class CreatorPoint(BaseModel):
    """One active creator's output and reach in the range."""

    model_config = ConfigDict(frozen=True)

    creator_id: uuid.UUID
    tiktok_handle: str
    posts: int
    views: int
    avg_views_per_post: float | None = Field(description="views ÷ posts; null without posts.")
    follower_count: int | None


class CreatorScatter(BaseModel):
    """Every active creator of a project as a point (posts, views), by handle."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    range_from: date
    range_to: date
    items: list[CreatorPoint]


async def creator_scatter(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: object,
    now: datetime,
    range_from: date | None = None,
    range_to: date | None = None,
) -> CreatorScatter:
    """Posts and views in the range of every active creator of the project (module docstring)."""
    caller.require("read")
    project = await get_project(session, caller, project_id)
    zone_name = (await get_org(session, caller)).timezone
    first, last = resolve_range(now, zone_name, range_from, range_to)
    start, end = day_range_utc(first, last, zone_name)
    query: Any = (
        select(
            col(Video.creator_id).label("creator_id"),
            func.count().label("posts"),
            func.sum(col(Video.view_count)).label("views"),
        )
        .where(
            col(Video.project_id) == project.id,
            is_counted(Video),
            col(Video.posted_at) >= start,
            col(Video.posted_at) < end,
            col(Video.creator_id).is_not(None),
        )
        .group_by(col(Video.creator_id))
    )
    rows = (await session.execute(query)).all()
    totals = {row.creator_id: (int(row.posts), int(row.views or 0)) for row in rows}
    creators = await session.scalars(
        select(Creator)
        .where(col(Creator.project_id) == project.id, col(Creator.is_active) == True)  # noqa: E712
        .order_by(col(Creator.tiktok_handle))
    )
    items = []
    for creator in creators:
        posts, views = totals.get(creator.id, (0, 0))
        items.append(
            CreatorPoint(
                creator_id=creator.id,
                tiktok_handle=creator.tiktok_handle,
                posts=posts,
                views=views,
                avg_views_per_post=round(views / posts, 2) if posts else None,
                follower_count=creator.follower_count,
            )
        )
    return CreatorScatter(project_id=project.id, range_from=first, range_to=last, items=items)
