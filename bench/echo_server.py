"""The baseline of `mcp_overhead.py`: a bare SDK server with one `echo` tool, served over stdio.

Nothing but the SDK's own work happens per call, so the time of an `echo` call is the protocol-overhead
floor our tools are compared against.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("echo-baseline", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Return `text` unchanged."""
    return text


if __name__ == "__main__":
    server.run()
