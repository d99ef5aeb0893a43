"""Where a server start's CPU goes, in-process: imports, the migration check, `build_server`, the first `tools/list`.

CPU seconds (`time.process_time()`) of each step of what `trackagoat-mcp serve` does before it answers `tools/list`,
over an in-memory `mcp.Client`; on a shared machine they move far less than the wall time `mcp_overhead.py` reports.
Run it alternately against two checkouts (`PYTHONPATH=<older checkout>/src`) to compare them.

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
from trackagoat_mcp.config import load_settings  # noqa: E402
from trackagoat_mcp.db.session import Database  # noqa: E402

imported_base = time.process_time()
from trackagoat_mcp.db.migrate import ensure_migrated  # noqa: E402
from trackagoat_mcp.server.app import build_server  # noqa: E402
from trackagoat_mcp.server.assembly import resolve_stdio_caller  # noqa: E402

imported_server = time.process_time()


async def main(url: str) -> None:
    # As `trackagoat-mcp` does before any command (`cli.main`).
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings(database_url=url)
    db = Database.for_settings(settings)
    try:
        t0 = time.process_time()
        await ensure_migrated(db)
        caller = await resolve_stdio_caller(db, None)
        t1 = time.process_time()
        server = build_server(settings, db=db, caller=caller)
        t2 = time.process_time()
        async with Client(server) as client:
            await client.list_tools()
        t3 = time.process_time()
    finally:
        await db.dispose()
    print(
        f"CPU s: imports (SDK client, SQLAlchemy, models) {imported_base - started:.3f}, server.app "
        f"{imported_server - imported_base:.3f}, migration check + caller {t1 - t0:.3f}, build_server {t2 - t1:.3f}, "
        f"session + tools/list {t3 - t2:.3f}; total {t3 - t0 + imported_server - started:.3f}"
    )


if __name__ == "__main__":
    default = f"sqlite+aiosqlite:///{DATA_DIR / 'mcp_overhead_demo.db'}"
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else default)
