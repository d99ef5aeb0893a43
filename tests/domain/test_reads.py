"""`db/reads.py`: a `FixedRead` gives the rows, values and types the session gives, on both stores; on SQLite a read
session runs it on the store's inline reader (no pooled connection), and everything else goes through the session."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import bindparam, func, literal, select

from tests.conftest import _pg_truncate, make_org
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.engine import sqlite_path
from trackagoat_mcp.db.models import Creator, Project, record_columns, table_of
from trackagoat_mcp.db.reads import INLINE_READER, FixedRead
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects

CREATOR = FixedRead(select(*record_columns(Creator)).where(table_of(Creator).c.id == bindparam("id")))
PROJECT_NAMES = FixedRead(
    select(table_of(Project).c.name).where(table_of(Project).c.org_id == bindparam("org_id")).order_by("name")
)


async def _creator(db: Database, clock: FrozenClock) -> uuid.UUID:
    caller, project_id = await make_org(db, clock)
    creator = Creator(
        org_id=caller.org_id,
        project_id=project_id,
        tiktok_handle="ada",
        bio="line one\nline two ✓",
        meta={"tier": "gold", "scores": [1, 2.5, None], "nested": {"ok": True}},
        tracking_start_date=date(2026, 1, 31),
        follower_count=2**40,
        last_scraped_at=clock.now(),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    async with db.write() as session:
        session.add(creator)
    return creator.id


async def test_a_fixed_read_gives_the_values_and_types_the_session_gives(db: Database, clock: FrozenClock) -> None:
    creator_id = await _creator(db, clock)
    async with db.read() as session:
        fixed = await CREATOR.first(session, {"id": creator_id})
        plain = (await session.execute(CREATOR.statement, {"id": creator_id})).first()
    assert fixed is not None and plain is not None
    assert fixed._asdict() == plain._asdict()
    assert [type(value) for value in fixed] == [type(value) for value in plain]
    assert fixed.meta["nested"] == {"ok": True} and fixed.last_scraped_at == clock.now() and fixed.is_active is True
    async with db.read() as session:
        assert await CREATOR.first(session, {"id": uuid.uuid4()}) is None


async def test_on_sqlite_a_read_sessions_fixed_read_takes_no_pooled_connection(
    sqlite_db: Database, clock: FrozenClock, trips: Counter[str]
) -> None:
    creator_id = await _creator(sqlite_db, clock)
    trips.clear()
    async with sqlite_db.read() as session:
        row = await CREATOR.first(session, {"id": creator_id})
        assert row is not None and row.tiktok_handle == "ada"
        assert sqlite_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert sum(trips.values()) == 0, trips


@pytest.mark.postgres
async def test_on_postgresql_a_read_sessions_fixed_read_is_its_only_statement(
    postgres_database: str, clock: FrozenClock
) -> None:
    """No `BEGIN` and no `ROLLBACK` around it, and no trip through SQLAlchemy's execution: the session's asyncpg
    connection runs the statement, as one prepared statement, in autocommit."""
    await _pg_truncate(postgres_database)
    db = Database.connect(postgres_database)
    try:
        creator_id = await _creator(db, clock)
        async with db.read() as session:
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            sent: list[str] = []

            def log(record: Any) -> None:
                sent.append(record.query)

            driver.add_query_logger(log)
            row = await CREATOR.first(session, {"id": creator_id})
        driver.remove_query_logger(log)
    finally:
        await db.dispose()
    assert row is not None and row.tiktok_handle == "ada"
    assert len(sent) == 1 and sent[0].startswith("SELECT creators.id"), sent


async def test_the_inline_reader_sees_each_commit_at_once(sqlite_db: Database, clock: FrozenClock) -> None:
    caller, _ = await make_org(sqlite_db, clock)
    async with sqlite_db.read() as reader:
        before = await PROJECT_NAMES.all(reader, {"org_id": caller.org_id})
        async with sqlite_db.write() as writer:
            await projects.create_project(writer, caller, name="Zeta launch", now=clock.now())
        after = await PROJECT_NAMES.all(reader, {"org_id": caller.org_id})
    assert [row.name for row in after] == [*(row.name for row in before), "Zeta launch"]


async def test_a_write_session_reads_its_own_changes_through_the_session(db: Database, clock: FrozenClock) -> None:
    caller, _ = await make_org(db, clock)
    async with db.write() as session:
        await projects.create_project(session, caller, name="Zeta launch", now=clock.now())
        names = [row.name for row in await PROJECT_NAMES.all(session, {"org_id": caller.org_id})]
        assert "Zeta launch" in names
        await session.rollback()


async def test_a_read_over_the_inline_budget_and_a_list_expanded_at_execution_run_through_the_session(
    sqlite_db: Database, clock: FrozenClock, trips: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = select(literal(1).label("i")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.i + 1).where(numbers.c.i < bindparam("upto")))
    total = FixedRead(select(func.sum(numbers.c.i).label("total")))
    caller, _ = await make_org(sqlite_db, clock)
    by_names = FixedRead(select(table_of(Project).c.name).where(table_of(Project).c.name.in_(bindparam("names"))))
    trips.clear()
    read: list[str] = []
    async with sqlite_db.read() as session:
        assert (await total.first(session, {"upto": 10})).total == 55
        assert trips["_run"] == 0, trips
        assert (await total.first(session, {"upto": 20_000})).total == 200_010_000  # interrupted, then on the thread
        assert trips["_run"] == 1, trips
        reader = session.info[INLINE_READER]
        original = reader.rows
        monkeypatch.setattr(reader, "rows", lambda sql, values: (read.append(sql), original(sql, values))[1])
        found = await by_names.all(session, {"names": ["Acme program", "nothing"]})
        assert read == []  # a list given at execution changes the SQL: through the session
        in_fixed_list = await FixedRead(
            select(table_of(Project).c.name).where(
                table_of(Project).c.org_id == bindparam("org_id"), table_of(Project).c.name.in_(("Acme program", "x"))
            )
        ).all(session, {"org_id": caller.org_id})
        assert len(read) == 1 and "IN (?, ?)" in read[0]  # a list written in the statement is expanded once
    assert [row.name for row in found] == [row.name for row in in_fixed_list] == ["Acme program"]


async def test_the_inline_reader_never_waits_for_a_lock(sqlite_db: Database, clock: FrozenClock) -> None:
    """A store locked by another process is left to the pool (which waits on the thread, within the busy timeout);
    the event loop is never held."""
    caller, _ = await make_org(sqlite_db, clock)
    path = sqlite_path(sqlite_db.url)
    assert path is not None
    await sqlite_db.engine.dispose()  # the pool's connections closed, so another process can lock the file whole
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("PRAGMA locking_mode=EXCLUSIVE")
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("UPDATE projects SET name = name")
        started = time.monotonic()
        async with sqlite_db.read() as session:
            reader = session.info[INLINE_READER]
            assert reader.rows("SELECT count(*) FROM projects", []) is None
        assert time.monotonic() - started < 0.5
    finally:
        locker.rollback()
        locker.close()
    async with sqlite_db.read() as session:
        assert [row.name for row in await PROJECT_NAMES.all(session, {"org_id": caller.org_id})] == ["Acme program"]
