"""trackagoat-mcp: a self-hosted TikTok creator-program tracker built for AI agents over MCP."""

__version__ = "0.1.0"
