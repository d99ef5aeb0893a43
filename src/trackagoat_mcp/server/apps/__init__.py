"""MCP Apps (`ui://` HTML resources) served by this server: the chart App."""
