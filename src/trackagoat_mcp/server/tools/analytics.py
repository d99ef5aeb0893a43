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

From = Annotated[date | None, Field(alias="from", description="Default: 29 days before to.")]
To = Annotated[date | None, Field(description="Default: today.")]


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
    """Time series of one metric of a video, creator, campaign (tree, each video once) or project. Buckets:
    day/week (Mon)/month in the org timezone, at most 400, whole. new = change within the bucket (a first snapshot
    adds 0); cumulative = value at its end. Rates in %: engagement_rate_by_* = (likes+comments+shares+saves) /
    views|followers; growth_rate_pop = change vs the previous bucket of base_metric. No followers or post metrics for
    videos. buckets are columns (entry i of start/value/partial/why); value null = no data."""
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
    pools: Annotated[bool, Field(description="Creators: add pool and vs_pool (get_creator_pools).")] = False,
) -> Annotated[CallToolResult, Leaderboard]:
    """Rank a project's videos, active creators or campaigns (tree, each video once) over [from, to] (local
    days, default last 30): posts, views..saves, engagement_rate_by_views (%) of counted videos posted in the range;
    views_gained = gained in the range by all counted videos."""
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
            pools=pools,
        )
    return respond(result)
