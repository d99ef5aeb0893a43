"""Where a server start's CPU goes, in-process: the path to `tools/list`, then the assembly behind it.

`trackagoat-mcp serve` answers `tools/list` before it imports the store layer or any tool (`server.app`); the rest is
assembled in the background and the first other request waits for it. This script measures both parts in CPU seconds
(`time.process_time()`, which moves far less than wall time on a shared machine), over an in-memory `mcp.Client`:

1. imports of the listing path (the SDK client, `cli`, `server.app`, `server.auth`), the quick caller look-up,
   `build_server`, and the session up to `tools/list` answered;
2. from there to the first `tools/call` answered (the assembly: tool modules, SQLAlchemy, models, the store).

Run it alternately against two checkouts (`PYTHONPATH=<older checkout>/src`) only when both have this layout.

    .venv/bin/python bench/start_cpu.py                       # the demo store of mcp_overhead.py
    .venv/bin/python bench/start_cpu.py sqlite+aiosqlite:////path/to/store.db
"""

from __future__ import annotations

import logging
import sys
import time

started = time.process_time()
import anyio  # noqa: E402
from mcp import Client  # noqa: E402

from _common import DATA_DIR  # noqa: E402
from trackagoat_mcp.cli import main as _cli_main  # noqa: E402, F401 - imported as `serve` imports it
from trackagoat_mcp.config import load_settings  # noqa: E402
from trackagoat_mcp.server.app import build_server  # noqa: E402
from trackagoat_mcp.server.auth import quick_stdio_caller  # noqa: E402

imported = time.process_time()


async def main(url: str) -> None:
    # As `trackagoat-mcp` does before any command (`cli.main`).
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings(database_url=url)
    t0 = time.process_time()
    caller = quick_stdio_caller(settings)
    if caller is None:
        raise SystemExit(f"{url} is not a migrated SQLite store of one organization (build it with mcp_overhead.py)")
    t1 = time.process_time()
    server = build_server(settings, caller=caller)
    t2 = time.process_time()
    async with Client(server) as client:
        listed = await client.list_tools()
        t3 = time.process_time()
        await client.call_tool("list_projects", {})
        t4 = time.process_time()
    print(
        f"CPU s to tools/list ({len(listed.tools)} tools): imports {imported - started:.3f}, quick caller "
        f"{t1 - t0:.3f}, build_server {t2 - t1:.3f}, session + tools/list {t3 - t2:.3f}; total "
        f"{t3 - t2 + t1 - t0 + imported - started:.3f}. Then to the first tools/call answered (the assembly): "
        f"{t4 - t3:.3f}"
    )


if __name__ == "__main__":
    default = f"sqlite+aiosqlite:///{DATA_DIR / 'mcp_overhead_demo.db'}"
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else default)
