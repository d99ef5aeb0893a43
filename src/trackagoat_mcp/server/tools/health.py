"""The `analytics` toolset: program health."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from trackagoat_mcp.domain import health
from trackagoat_mcp.domain.health import ProgramHealth
from trackagoat_mcp.server.context import app_context, unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import ProjectId

group = ToolGroup("analytics")


@group.tool(title="Program health")
async def get_program_health(ctx: Context[Any], project_id: ProjectId) -> Annotated[CallToolResult, ProgramHealth]:
    """What in a project needs attention now, with ids: failing, stale (> 48 h) or disabled creators; inbox
    backlog; goals at risk or missed last period; over-posting (30 days); unpaid earned payouts; job lag; TikTok's
    block rate. Lists show 20 items plus counts; summary names the next tool."""
    async with unit(ctx) as u:
        settings = app_context(ctx).settings
        result = await health.program_health(
            u.session,
            u.caller,
            project_id,
            now=u.now,
            block_rate_cycles=settings.block_rate_cycles,
            block_rate_threshold=settings.block_rate_threshold,
        )
    return respond(result)
