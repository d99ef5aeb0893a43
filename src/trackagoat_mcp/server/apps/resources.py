"""Registering the MCP Apps as `ui://` resources (MIME type `text/html;profile=mcp-app`)."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from trackagoat_mcp.server.apps.chart_app import APP_MIME_TYPE, CHART_APP_URI, app_html

__all__ = ["register_apps"]


def register_apps(server: MCPServer[Any]) -> None:
    """Add the chart App. It is self-contained (inline scripts, no network), so it declares no CSP domains: the host's
    policy may be as strict as it likes."""

    @server.resource(
        CHART_APP_URI,
        name="chart_app",
        title="Chart",
        mime_type=APP_MIME_TYPE,
        description="MCP App drawing show_chart results (Vega-Lite, self-contained, no network).",
        meta={"ui": {"csp": {"connectDomains": [], "resourceDomains": []}, "prefersBorder": True}},
    )
    def chart_app() -> str:
        return app_html()
