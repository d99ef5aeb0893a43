"""Cached synthetic stores for the large benchmarks (`campaign_stats.py`, `analytics.py`).

Building a store of a million snapshots takes a minute or more, so a built store is kept and reused while its
project's metadata names the same shape (`{"bench": key, "complete": true}`, written in the build's own
transaction, so a half-built store is never taken for a whole one). SQLite stores live in `bench/.data/` and are
built under a temporary name, then renamed; PostgreSQL stores are databases named after the shape.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from _common import DATA_DIR, pg_database_exists, recreate_pg_database
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import Project

__all__ = ["Builder", "cached_store"]


class Builder(Protocol):
    """Writes one synthetic program through `conn`; `counts` is rows per table, `project_id` its project."""

    counts: dict[str, int]
    project_id: uuid.UUID

    async def build(self) -> None: ...


async def cached_store(
    name: str,
    key: str,
    make_builder: Callable[[AsyncConnection], Builder],
    *,
    backend: str,
    pg_server: str,
    rebuild: bool,
) -> str:
    """The URL of a store holding the program `key` of benchmark `name`, building it unless a complete one exists."""
    if backend == "postgres":
        database = f"trackagoat_bench_{name}_{key}"
        url = make_url(pg_server).set(database=database).render_as_string(hide_password=False)
        if not rebuild and await pg_database_exists(pg_server, database) and await _is_complete(url, key):
            print(f"using cached database {database}")
            await upgrade(url)  # a newer migration (say, an index) applies to the cached data too
            return url
        print(f"building database {database} ...")
        await recreate_pg_database(pg_server, database)
        await _build(url, key, make_builder)
        return url
    final = DATA_DIR / f"{name}_{key}.db"
    building = final.with_suffix(".building.db")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for path in (building, *((final,) if rebuild else ())):
        _remove(path)
    url = f"sqlite+aiosqlite:///{final}"
    shown = final.relative_to(DATA_DIR.parent.parent)
    if final.exists() and await _is_complete(url, key):
        print(f"using cached {shown}")
        await upgrade(url)
        return url
    print(f"building {shown} ...")
    await _build(f"sqlite+aiosqlite:///{building}", key, make_builder)
    _remove(final)
    building.rename(final)
    return url


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _is_complete(url: str, key: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            project = Project.__table__  # type: ignore[attr-defined]
            meta: Any = (await conn.execute(select(project.c.metadata))).scalar_one_or_none()
            return bool(meta) and meta.get("bench") == key and meta.get("complete") is True
    except Exception:  # a half-built or foreign database: rebuild it
        return False
    finally:
        await engine.dispose()


async def _build(url: str, key: str, make_builder: Callable[[AsyncConnection], Builder]) -> None:
    await upgrade(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("PRAGMA synchronous=OFF")
            started = time.perf_counter()
            builder = make_builder(conn)
            await builder.build()
            project = Project.__table__  # type: ignore[attr-defined]
            await conn.execute(
                update(project)
                .values(metadata={"bench": key, "complete": True})
                .where(project.c.id == builder.project_id)
            )
        counts = ", ".join(f"{n:,} {t}" for t, n in builder.counts.items())
        print(f"built in {time.perf_counter() - started:.0f} s: {counts}")
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE")
            else:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await engine.dispose()
