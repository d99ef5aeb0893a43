"""End-to-end fixtures: a store per test for the CLI subprocesses (helpers live in `support.py`).

Tests whose subject comes after `trackagoat-mcp init` start from `initialised_store`: a copy of a store that init
made once per test process (tests of init itself run it on an empty `sqlite_store`).

SQLite stores are files in `tmp_path`. PostgreSQL stores are scratch databases on the server named by
`TRACKAGOAT_TEST_POSTGRES_URL` (default: the local server with trust auth), dropped afterwards; when it cannot
be reached the PostgreSQL tests are skipped, unless `TRACKAGOAT_REQUIRE_POSTGRES=1` (CI), which makes them fail.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.support import Store

PG_ADMIN_URL = os.environ.get("TRACKAGOAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("TRACKAGOAT_REQUIRE_POSTGRES") == "1"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    """A store URL for a SQLite file in `tmp_path` that does not exist yet."""
    home = tmp_path / "home"
    home.mkdir()
    return Store(url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", home=home)


@pytest.fixture(scope="session")
def initialised_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A SQLite store made by the console script's `init` (once per test process), and the key init printed."""
    root = tmp_path_factory.mktemp("initialised")
    home = root / "home"
    home.mkdir()
    key = Store(url=f"sqlite+aiosqlite:///{root / 'store.db'}", home=home).init()
    return root / "store.db", key


@pytest.fixture
def initialised_store(tmp_path: Path, initialised_template: tuple[Path, str]) -> tuple[Store, str]:
    """`sqlite_store` as `trackagoat-mcp init` leaves it (its own copy of the template), and init's key."""
    template, key = initialised_template
    home = tmp_path / "home"
    home.mkdir()
    source, target = sqlite3.connect(template), sqlite3.connect(tmp_path / "store.db")
    try:
        source.backup(target)  # whatever the WAL still holds is copied too
    finally:
        source.close()
        target.close()
    return Store(url=f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", home=home), key


async def _pg_admin(statement: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"timeout": 10})
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def postgres_store(tmp_path: Path) -> Iterator[Store]:
    """An empty scratch PostgreSQL database (no tables: the CLI migrates it), dropped afterwards."""
    name = f"tga_e2e_{uuid.uuid4().hex[:10]}"
    try:
        anyio.run(_pg_admin, f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any connection failure means "no PostgreSQL here"
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (TRACKAGOAT_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    home = tmp_path / "home"
    home.mkdir()
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield Store(url=f"{base}/{name}", home=home)
    finally:
        anyio.run(_pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
