"""Every tool group, in the order tools are listed, and the catalogue document generated from them.

Importing this module imports every tool, and with them the domain and the store layer: `server.app` does it in
the background once the server runs (see there), and `scripts/catalogue.py` to write `catalogue.json`.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from trackagoat_mcp.config import ALL_TOOLSETS
from trackagoat_mcp.server.registry import ToolGroup, build_tools
from trackagoat_mcp.server.tools import (
    admin,
    alerts,
    analytics,
    campaigns,
    charts,
    context,
    goals,
    health,
    insights,
    jobs,
    notes,
    payments,
    payouts,
    radar,
    tracking,
)

__all__ = ["TOOL_GROUPS", "catalogue_document"]

TOOL_GROUPS: tuple[ToolGroup, ...] = (
    context.group,
    tracking.group,
    campaigns.group,
    analytics.group,
    health.group,
    charts.group,
    insights.group,
    alerts.group,
    radar.group,
    goals.group,
    notes.group,
    payouts.group,
    payments.group,
    jobs.group,
    admin.group,
)


async def catalogue_document() -> list[dict[str, Any]]:
    """The content of `catalogue.json`: each tool's `tools/list` entry as the SDK publishes it, with its toolset
    and scope."""
    tools, specs = build_tools(TOOL_GROUPS, toolsets=frozenset(ALL_TOOLSETS), read_only=False)
    listed = await MCPServer("catalogue", tools=tools).list_tools()
    return [
        {
            "toolset": spec.toolset,
            "scope": spec.scope,
            "tool": tool.model_dump(mode="json", by_alias=True, exclude_none=True),
        }
        for spec, tool in zip(specs, listed, strict=True)
    ]
