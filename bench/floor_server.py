"""The floor of `mcp_overhead.py` and `http_load.py`: a bare SDK server answering captured results from memory.

`mcp_overhead.py` captures, once, the definitions (`tools/list` entries) of the tools it measures and one real
result of each from `trackagoat-mcp serve`, and writes them to a JSON file. This server publishes the same tool
definitions (names, descriptions, input and output schemas) and answers every call of a tool with that tool's
captured `CallToolResult`, built once at start. So the client receives the same bytes and validates them against
the same output schema; what remains is the SDK's own cost for those bytes: the protocol's floor.

    python bench/floor_server.py CAPTURE.json                        # stdio
    python bench/floor_server.py CAPTURE.json --http --port 8123     # Streamable HTTP (JSON responses)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult


def _answering(result: CallToolResult) -> Callable[[], CallToolResult]:
    def answer() -> CallToolResult:
        return result

    return answer


def build(capture: dict[str, Any]) -> MCPServer:
    """An `MCPServer` whose tools return the captured results; arguments are accepted and ignored."""
    tools = []
    for definition in capture["tools"]:
        answer = _answering(CallToolResult.model_validate(capture["results"][definition["name"]]))
        tool = Tool.from_function(answer, name=definition["name"], description=definition.get("description"))
        tool.parameters = definition["inputSchema"]
        # Published, not validated on this side: the SDK checks a result only against a model it built itself.
        tool.fn_metadata.output_schema = definition.get("outputSchema")
        tools.append(tool)
    return MCPServer("floor-baseline", log_level="WARNING", tools=tools)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--http", action="store_true", help="Serve Streamable HTTP instead of stdio.")
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()
    server = build(json.loads(args.capture.read_text()))
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.port, json_response=True)
    else:
        server.run()


if __name__ == "__main__":
    main()
