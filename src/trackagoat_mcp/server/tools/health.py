"""The `analytics` toolset: program health."""

from __future__ import annotations

from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("analytics")
