"""The `jobs` toolset: scrape_now and job status."""

from __future__ import annotations

from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("jobs")
