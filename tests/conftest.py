"""Shared fixtures: a real database per test (SQLite file and PostgreSQL), a frozen clock, callers, servers.

Every store-touching test runs twice, once per backend (`db_url` is parametrized). PostgreSQL comes
from `TRACKAGOAT_TEST_POSTGRES_URL` (default: the local server with trust auth); when it cannot be
reached the PostgreSQL half is skipped, unless `TRACKAGOAT_REQUIRE_POSTGRES=1` (CI), which makes it fail.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db import sqlite_driver
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import Organization, SQLModel
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import orgs, projects
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.server.app import build_server

PG_ADMIN_URL = os.environ.get("TRACKAGOAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("TRACKAGOAT_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
T = TypeVar("T")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- databases ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    anyio.run(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_create(name: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _pg_drop(name: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def pg_url(name: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session (dropped afterwards)."""
    name = f"tga_test_{uuid.uuid4().hex[:10]}"
    try:
        anyio.run(_pg_create, name)
    except Exception as exc:  # any connection failure means "no PostgreSQL here"
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (TRACKAGOAT_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    url = pg_url(name)
    anyio.run(upgrade, url)
    yield url
    anyio.run(_pg_drop, name)


async def _pg_truncate(url: str) -> None:
    """Empty every table. DELETE, children first: on a test's handful of rows it takes ~15 ms where TRUNCATE
    (new files for every table) takes ~500 ms, which over the suite's PostgreSQL tests is minutes."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for table in reversed(SQLModel.metadata.sorted_tables):
                await conn.execute(text(f'DELETE FROM "{table.name}"'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A URL to an empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    anyio.run(_pg_truncate, url)
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.connect(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """An empty, migrated SQLite store alone (for what only SQLite does)."""
    path = tmp_path / "store.db"
    shutil.copy(sqlite_template, path)
    database = Database.connect(f"sqlite+aiosqlite:///{path}")
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every job awaited on a connection's thread, by function name (queued rollbacks are not awaited)."""
    counted: Counter[str] = Counter()
    original = sqlite_driver.ConnectionThread.call

    async def counting(self: Any, job: Any) -> Any:
        counted[getattr(getattr(job, "func", job), "__name__", "?")] += 1
        return await original(self, job)

    monkeypatch.setattr(sqlite_driver.ConnectionThread, "call", counting)
    return counted


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


# --- seeded stores, built once per process ------------------------------------------------------------------

Rows = dict[str, list[dict[str, Any]]]
_SEEDED: dict[tuple[str, str, datetime], tuple[Rows, Any]] = {}


async def _store_rows(db: Database) -> Rows:
    """Every row of every table, by table, in the order the tables can be filled (parents first)."""
    rows: Rows = {}
    async with db.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            found = (await session.execute(select(table))).all()
            if found:
                rows[table.name] = [dict(row._mapping) for row in found]
    return rows


async def _insert_rows(db: Database, rows: Rows) -> None:
    async with db.write() as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in rows:
                await session.execute(table.insert(), rows[table.name])


async def seeded(db: Database, clock: FrozenClock, name: str, build: Callable[[Database], Awaitable[T]]) -> T:
    """What `build(db)` returns, with the rows it writes, in the empty store `db` (a fresh `db` fixture).

    The first call in a test process, per backend, runs `build` and keeps every row it wrote; later calls copy
    those rows into their own empty store in one transaction and return a copy of the same result, so a world
    that dozens of parametrized tests start from is built by the domain once, not once per test. `name` names
    what `build` makes (one name, one recipe); the clock's time is part of the key, as seeds stamp rows with it.
    """
    async with db.read() as session:
        taken = (await session.execute(select(Organization.id).limit(1))).first()
    assert taken is None, f"seeded({name!r}) needs an empty store (every row belongs to an organization)"
    key = (db.engine.dialect.name, name, clock.now())
    if key not in _SEEDED:
        result = await build(db)
        _SEEDED[key] = (await _store_rows(db), result)
        return copy.deepcopy(result)
    rows, result = _SEEDED[key]
    await _insert_rows(db, rows)
    return copy.deepcopy(result)


# --- organizations and callers ------------------------------------------------------------------------------


async def make_org(
    db: Database, clock: FrozenClock, name: str = "Acme", timezone: str = "UTC", scopes: tuple[str, ...] = ALL_SCOPES
) -> tuple[Caller, uuid.UUID]:
    """Create an organization with one project; returns an all-scopes caller and the project id."""
    async with db.write() as session:
        org = await orgs.create_org(session, name=name, timezone=timezone, now=clock.now())
        caller = Caller(org_id=org.id, scopes=frozenset(scopes))
        project = await projects.create_project(
            session, Caller(org.id, frozenset({"admin"})), name=f"{name} program", now=clock.now()
        )
    return caller, project.id


@pytest.fixture
async def acme(db: Database, clock: FrozenClock) -> tuple[Caller, uuid.UUID]:
    return await make_org(db, clock, "Acme")


@pytest.fixture
async def globex(db: Database, clock: FrozenClock) -> tuple[Caller, uuid.UUID]:
    return await make_org(db, clock, "Globex")


def make_server(db: Database, clock: FrozenClock, caller: Caller, **settings: Any) -> Any:
    """An MCP server over `db` acting for `caller` (toolsets default to all but admin).

    Money moves without a person's confirmation here (`money_confirmation="off"`) unless the test asks for it:
    tests about confirmation pass `money_confirmation="elicit"` or `"token"` (see tests/server/test_confirmation.py).
    """
    settings.setdefault("money_confirmation", "off")
    return build_server(Settings(database_url="sqlite://", **settings), db=db, clock=clock, caller=caller)


def load_script(name: str) -> Any:
    """The module of `scripts/<name>.py` (scripts are run by path, not installed)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
