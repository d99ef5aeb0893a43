"""The `analytics` toolset: the content calendar and similar-creator pools (`domain/calendar.py`, `domain/pools.py`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from trackagoat_mcp.domain.calendar import ContentCalendar, content_calendar
from trackagoat_mcp.domain.pools import CreatorPools, creator_pools
from trackagoat_mcp.server.budget import fit_page
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import Cursor, ProjectId, id_arg

group = ToolGroup("analytics")

OptionalId = Annotated[str | None, id_arg("entity")]
From = Annotated[date | None, Field(alias="from")]


@group.tool(title="Content calendar")
@fit_page
async def get_content_calendar(
    ctx: Context[Any],
    project_id: OptionalId = None,
    campaign_id: OptionalId = None,
    creator_id: OptionalId = None,
    from_: From = None,
    to: date | None = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, ContentCalendar]:
    """Posts per creator and local day (default this month, max 92): counted/pending/excluded vs the cadence of
    posts goals (or "N posts per week" in descriptions): periods with status and still_due, gaps, streaks,
    over-posting days. One of creator_id (day columns), project_id, campaign_id (tree)."""
    async with unit(ctx) as u:
        result = await content_calendar(
            u.session, u.caller, now=u.now, project_id=project_id, campaign_id=campaign_id, creator_id=creator_id,
            range_from=from_, range_to=to, limit=limit, cursor=cursor,
        )  # fmt: skip
    return respond(result)


@group.tool(title="Similar creator pools")
async def get_creator_pools(
    ctx: Context[Any],
    project_id: ProjectId,
    creator_id: OptionalId = None,
    pool: Annotated[str | None, Field(max_length=32, description="A pool key: list its members.")] = None,
    from_: From = None,
    to: date | None = None,
) -> Annotated[CallToolResult, CreatorPools]:
    """Creators pooled by follower band (3+ a pool): pool medians of views per post, engagement, posts over
    [from, to] (default 30 days); views_index = median views ÷ pool's (under < 0.5, over > 2). creator_id ranks one.
    Name pools in project metadata.creator_pools {key: name}."""
    async with unit(ctx) as u:
        result = await creator_pools(
            u.session, u.caller, project_id=project_id, now=u.now, creator_id=creator_id, pool=pool,
            range_from=from_, range_to=to,
        )  # fmt: skip
    return respond(result)
