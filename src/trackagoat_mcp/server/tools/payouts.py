"""The `payouts` toolset: methods, structures, assignments, accruals."""

from __future__ import annotations

from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("payouts")
