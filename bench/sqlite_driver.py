"""One SQLite unit of work through `db/sqlite_driver.py` vs SQLAlchemy's stock aiosqlite dialect, in one process.

Both engines open the same migrated store with the same pragmas and the same `BEGIN` modes (deferred for reads,
`IMMEDIATE` for writes); the stock one sends its `BEGIN` as a statement, as SQLAlchemy's own adapter requires.
A read unit is `db.read()` with one small `SELECT`; a write unit is `db.write()` with one `UPDATE` that changes
nothing, then the commit. The engines take turns in rounds (order reversed every round, so drift of a shared
machine hits both alike); the script prints the median per unit and the ratio ours / stock.

    .venv/bin/python bench/sqlite_driver.py              # 2000 reads and 500 writes per engine and round, 6 rounds
    .venv/bin/python bench/sqlite_driver.py --units 500 --rounds 4   # quick
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from _common import fresh_sqlite_file
from trackagoat_mcp.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import Project
from trackagoat_mcp.db.session import Database


def stock(url: str) -> Database:
    """`Database` over SQLAlchemy's own aiosqlite dialect, configured like `db.engine` configures ours."""
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_size=5)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")

    return Database(engine, url)


async def read(db: Database) -> None:
    async with db.read() as session:
        (await session.execute(select(Project).limit(1))).all()


async def write(db: Database) -> None:
    async with db.write() as session:
        await session.execute(text("UPDATE projects SET name = name WHERE 0 = 1"))


async def run(args: argparse.Namespace) -> None:
    url = f"sqlite+aiosqlite:///{fresh_sqlite_file('sqlite_driver.db')}"
    await upgrade(url)
    engines = {"ours (db/sqlite_driver.py)": Database(make_engine(url), url), "stock aiosqlite": stock(url)}
    work: list[tuple[str, Callable[[Database], Awaitable[None]], int]] = [
        ("read", read, args.units),
        ("write", write, max(1, args.units // 4)),
    ]
    print(f"SQLite unit of work, ours vs stock aiosqlite: {args.rounds} alternating rounds")
    print(f"{'unit':6} {'engine':28} {'median us':>10} {'ratio':>7}")
    for kind, unit, count in work:
        spent: dict[str, list[float]] = {name: [] for name in engines}
        for db in engines.values():
            for _ in range(50):
                await unit(db)
        for round_ in range(args.rounds):
            order = list(engines.items()) if round_ % 2 == 0 else list(reversed(engines.items()))
            for name, db in order:
                started = time.perf_counter()
                for _ in range(count):
                    await unit(db)
                spent[name].append((time.perf_counter() - started) / count * 1e6)
        baseline = statistics.median(spent["stock aiosqlite"])
        for name, times in spent.items():
            median = statistics.median(times)
            print(f"{kind:6} {name:28} {median:10.1f} {median / baseline:6.2f}x")
    for db in engines.values():
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000, help="Read units per engine and round (writes: a quarter).")
    parser.add_argument("--rounds", type=int, default=6, help="Alternating rounds (default 6).")
    anyio.run(run, parser.parse_args())


if __name__ == "__main__":
    main()
