"""The `analytics` toolset: `show_chart`, every chart in one tool (figures, PNG and the MCP App that draws them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from trackagoat_mcp.domain.analytics import EntityType, Granularity, Mode
from trackagoat_mcp.domain.leaderboard import LeaderboardKind
from trackagoat_mcp.server.apps.chart_app import CHART_APP_URI
from trackagoat_mcp.server.charts.gather import ChartKind, ChartRequest, gather
from trackagoat_mcp.server.charts.render import render_png
from trackagoat_mcp.server.charts.result import Chart, chart_result
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Limit

group = ToolGroup("analytics")


@group.tool(title="Chart", ui_resource=CHART_APP_URI)
async def show_chart(
    ctx: Context[Any],
    kind: ChartKind,
    entity_type: EntityType,
    entity_id: Annotated[str, Field(min_length=1, max_length=64)],
    metric: Annotated[str, Field(max_length=40)] = "views",
    granularity: Granularity = "day",
    mode: Mode = "new",
    from_: Annotated[date | None, Field(alias="from")] = None,
    to: date | None = None,
    rank: LeaderboardKind = "creators",
    limit: Limit = 10,
) -> Annotated[CallToolResult, Chart]:
    """Chart as PNG + data + MCP App. kind: views_over_time (any entity; other args as get_analytics),
    leaderboard (project; rank by metric), campaign_progress (campaign vs target), payout_ledger (creator; last 365
    days), program_health (project), content_calendar (as get_content_calendar)."""
    request = ChartRequest(
        kind=kind,
        entity_type=entity_type,
        entity_id=entity_id,
        metric=metric,
        granularity=granularity,
        mode=mode,
        range_from=from_,
        range_to=to,
        rank=rank,
        limit=limit,
    )
    async with unit(ctx) as u:
        drawn = await gather(u.session, u.caller, request, now=u.now)
    return chart_result(kind, drawn, await render_png(drawn.spec))
