"""The `goals` toolset: creator goals and compliance."""

from __future__ import annotations

from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("goals")
