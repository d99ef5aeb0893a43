"""The MCP layer: thin adapters from tools, resources and prompts to the domain (`build_server`)."""

from trackagoat_mcp.server.app import build_server

__all__ = ["build_server"]
