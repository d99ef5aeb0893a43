"""How many characters the largest tool results take on the demo's store (issue 12: every text result ≤ 20,000).

Builds the demo store (`trackagoat_mcp.demo.run_demo`, quietly) unless `--database-url` names one already built
by `trackagoat-mcp demo`, then calls the tools that grow with the data at their widest arguments through an
in-memory `mcp.Client` with an admin caller, and prints the length of each text result (what the model reads).
Arguments a tool does not accept are left out, so the same command measures an older checkout too.

    .venv/bin/python bench/result_sizes.py                                   # a fresh demo store (~30 s)
    .venv/bin/python bench/result_sizes.py --database-url sqlite+aiosqlite:////tmp/demo.db
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import ALL_TOOLSETS, Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import orgs, projects
from trackagoat_mcp.domain.payouts import structures
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.server.app import build_server

BUDGET = 20_000


async def measure(url: str) -> list[tuple[str, str, int, int, bool]]:
    """(tool, arguments in brief, text length, rows shown, whether more pages follow) of each measured call."""
    db = Database.connect(url)
    try:
        async with db.read() as session:
            [org] = await orgs.list_orgs(session)
            caller = Caller(org.id, frozenset({"admin", "read", "write"}))
            [project] = (await projects.list_projects(session, caller)).items
            listed = await structures.list_structures(
                session, caller, now=SystemClock().now(), project_id=project.id, limit=100
            )
        clock = SystemClock()
        today = clock.now().date()
        server = build_server(
            Settings(database_url=url, toolsets=frozenset(ALL_TOOLSETS)), db=db, clock=clock, caller=caller
        )
        async with Client(server) as client:
            accepted = {
                tool.name: tool.input_schema.get("properties", {}) for tool in (await client.list_tools()).tools
            }
            pid = str(project.id)
            calls: list[tuple[str, str, dict[str, Any]]] = [
                (
                    "preview_accruals",
                    "until +60 days, limit max",
                    {"project_id": pid, "until": (clock.now() + timedelta(days=60)).isoformat()},
                ),
                (
                    "list_payout_accruals",
                    "include_inputs, limit max",
                    {"project_id": pid, "include_inputs": True},
                ),
                (
                    "get_analytics",
                    "project, day, 366 days",
                    {
                        "entity_type": "project",
                        "entity_id": pid,
                        "granularity": "day",
                        "from": str(today - timedelta(days=365)),
                        "to": str(today),
                    },
                ),
                (
                    "get_leaderboard",
                    "videos, limit max, 366 days",
                    {"project_id": pid, "kind": "videos", "from": str(today - timedelta(days=365))},
                ),
                ("list_videos", "limit max", {"project_id": pid}),
            ]
            calls += [("get_payout_structure", item.name, {"structure_id": str(item.id)}) for item in listed.items]
            out = []
            for tool, brief, arguments in calls:
                props = accepted[tool]
                if "maximum" in props.get("limit", {}):
                    arguments["limit"] = props["limit"]["maximum"]
                result = await client.call_tool(tool, {k: v for k, v in arguments.items() if k in props})
                text = "".join(getattr(block, "text", "") for block in result.content)
                if result.is_error:
                    raise SystemExit(f"{tool} failed: {text}")
                content = result.structured_content or {}
                rows = len(content["items"]) if "items" in content else len(content.get("versions", []))
                more = any(content.get(key) for key in ("next_cursor", "versions_next_cursor", "truncated"))
                out.append((tool, brief, len(text), rows, more))
            return out
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="A store built by `trackagoat-mcp demo` (default: build one).")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        from trackagoat_mcp.demo import run_demo

        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='trackagoat-sizes-')) / 'demo.db'}"
        await run_demo(url, out=lambda _line: None)
    print(f"store: {url}\n{'tool':<22} {'arguments':<30} {'characters':>10} {'rows':>5} more")
    for tool, brief, size, rows, more in await measure(url):
        flag = "" if size <= BUDGET else f"  > {BUDGET:,}"
        print(f"{tool:<22} {brief[:30]:<30} {size:>10,} {rows:>5} {'yes' if more else 'no':<4}{flag}")


if __name__ == "__main__":
    anyio.run(main)
