"""The `payouts` toolset: payments and balances."""

from __future__ import annotations

from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("payouts")
