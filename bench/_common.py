"""Helpers shared by the benchmarks: latency summaries and scratch databases (SQLite files, PostgreSQL)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from trackagoat_mcp.db.session import Database

DEFAULT_PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DATA_DIR = Path(__file__).resolve().parent / ".data"
"""Where benchmarks keep their stores and logs (git-ignored)."""


def fresh_sqlite_file(name: str) -> Path:
    """`bench/.data/<name>`, deleted with its WAL files if it exists."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


@dataclass(frozen=True)
class Summary:
    """Latency statistics of one series of sequential calls (seconds in, milliseconds out)."""

    calls: int
    total_s: float
    mean_ms: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        ordered = sorted(samples)
        return cls(
            calls=len(ordered),
            total_s=sum(ordered),
            mean_ms=statistics.fmean(ordered) * 1000,
            p50_ms=percentile(ordered, 50) * 1000,
            p99_ms=percentile(ordered, 99) * 1000,
        )

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.total_s


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def recreate_pg_database(server_url: str, name: str, *, template: str | None = None) -> str:
    """Drop and create database `name` on the server of `server_url` (a copy of `template` if given); returns the
    new database's URL."""
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        await admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def settle(db: Database) -> None:
    """Leave the store as a running system would: PostgreSQL vacuumed and analysed, SQLite's WAL checkpointed."""
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")


async def pg_database_exists(server_url: str, name: str) -> bool:
    """Whether database `name` exists on the server of `server_url`."""
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            found = await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return found.first() is not None
    finally:
        await admin.dispose()
