"""The `analytics` toolset: time series and leaderboards (`get_program_health` lives in `health.py`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from trackagoat_mcp.domain.analytics import AnalyticsSeries, BaseMetric, EntityType, Granularity, Metric, Mode
from trackagoat_mcp.domain.analytics import get_analytics as series_of
from trackagoat_mcp.domain.leaderboard import Leaderboard, LeaderboardKind, LeaderboardOrder
from trackagoat_mcp.domain.leaderboard import get_leaderboard as leaderboard_of
from trackagoat_mcp.server.budget import fit_page
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Cursor, ProjectId

group = ToolGroup("analytics")

From = Annotated[
    date | None, Field(alias="from", description="First local day (YYYY-MM-DD). Default: 29 days before `to`.")
]
To = Annotated[date | None, Field(description="Last local day (YYYY-MM-DD), inclusive. Default: today.")]


@group.tool(title="Time series of a metric")
async def get_analytics(
    ctx: Context[Any],
    entity_type: EntityType,
    entity_id: Annotated[str, Field(min_length=1, max_length=64, description="The entity's id.")],
    metric: Metric = "views",
    granularity: Granularity = "day",
    mode: Mode = "new",
    from_: From = None,
    to: To = None,
    base_metric: Annotated[
        BaseMetric | None, Field(description="Required by growth_rate_pop, unused otherwise.")
    ] = None,
) -> Annotated[CallToolResult, AnalyticsSeries]:
    """Time series of one metric for a video, creator, campaign (whole tree, each video once) or project, from
    stats snapshots; counted videos only (a tracking-disabled one up to when it was disabled). Buckets: calendar
    day/week (Mon)/month in the org timezone, at most 400, range widened to whole buckets. mode new = net change
    within the bucket (a video's first snapshot is a baseline, adds 0); cumulative = value at the bucket's end.
    Rates in percent: engagement_rate_by_views|followers = (likes+comments+shares+saves) / views|followers;
    growth_rate_pop = change vs the previous bucket of base_metric. avg_views_per_post = views / videos posted so
    far. followers and post metrics are not for videos. buckets are columns (entry i of start/value/partial/why =
    bucket i); value null = no data (not 0); partial = incomplete bucket (why: see reasons)."""
    async with unit(ctx) as u:
        result = await series_of(
            u.session,
            u.caller,
            entity_type=entity_type,
            entity_id=entity_id,
            metric=metric,
            granularity=granularity,
            mode=mode,
            range_from=from_,
            range_to=to,
            base_metric=base_metric,
            now=u.now,
        )
    return respond(result)


@group.tool(title="Leaderboard")
@fit_page
async def get_leaderboard(
    ctx: Context[Any],
    project_id: ProjectId,
    kind: LeaderboardKind = "creators",
    order_by: LeaderboardOrder = "views",
    from_: From = None,
    to: To = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 10,
    ascending: Annotated[bool, Field(description="true ranks the lowest first (who is behind).")] = False,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Leaderboard]:
    """Rank a project's videos, creators (active) or campaigns (whole tree, each video once) over [from, to] (local
    days, default the last 30). posts, views..saves and engagement_rate_by_views (%) are the current counters of
    counted videos posted in the range; views_gained = views gained in the range by all counted videos, from
    snapshots (as get_campaign_stats). Pages: next_cursor."""
    async with unit(ctx) as u:
        result = await leaderboard_of(
            u.session,
            u.caller,
            project_id=project_id,
            kind=kind,
            order_by=order_by,
            range_from=from_,
            range_to=to,
            limit=limit,
            ascending=ascending,
            cursor=cursor,
            now=u.now,
        )
    return respond(result)
