"""`db/sqlite_driver.py`: one trip to the connection's thread per statement, `BEGIN` sent with a write session's first
statement (read sessions send none), rollbacks queued, short reads on the event loop; the same results as SQLAlchemy's
own adapter."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.conftest import make_org
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db import sqlite_driver
from trackagoat_mcp.db.models import Project
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects


async def test_a_short_read_runs_on_the_event_loop_without_a_trip_to_the_driver_thread(
    sqlite_db: Database, clock: FrozenClock, trips: Counter[str]
) -> None:
    caller, project_id = await make_org(sqlite_db, clock)
    async with sqlite_db.read() as session:  # the pool's connection is opened and warmed outside the count
        await session.execute(select(Project))
    trips.clear()
    async with sqlite_db.read() as session:
        got = await projects.get_project(session, caller, str(project_id))
    assert got.id == project_id
    assert sum(trips.values()) == 0, trips
    async with sqlite_db.write() as session:  # a write session's statements always go to the thread
        await projects.get_project(session, caller, str(project_id))
    assert trips["_run"] == 1 and trips["commit"] == 1, trips


async def test_a_read_longer_than_the_inline_budget_finishes_on_the_thread_with_the_same_rows(
    sqlite_db: Database, trips: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT sum(i) FROM n"
    )
    async with sqlite_db.read() as session:  # the pool's connection is opened and warmed outside the count
        await session.execute(select(Project))
    trips.clear()
    async with sqlite_db.read() as session:
        assert (await session.execute(counting)).scalar_one() == 200010000
    assert trips["_run"] == 1, trips  # interrupted on the event loop, run again whole on the thread
    trips.clear()
    monkeypatch.setattr(sqlite_driver, "INLINE_STEPS", 10_000_000)
    async with sqlite_db.read() as session:
        assert (await session.execute(counting)).scalar_one() == 200010000
    assert sum(trips.values()) == 0, trips


async def test_a_session_that_runs_nothing_begins_nothing_and_commits_cleanly(
    sqlite_db: Database, trips: Counter[str]
) -> None:
    async with sqlite_db.write():
        pass
    assert sum(trips.values()) == 0, trips


async def test_each_statement_of_a_read_session_sees_what_was_committed_when_it_started(
    sqlite_db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As PostgreSQL's READ COMMITTED has it. On SQLite a read session's statements run outside a transaction, so it
    sends no BEGIN and queues no rollback; streamed rows still come whole from their one statement."""
    caller, _ = await make_org(sqlite_db, clock)
    async with sqlite_db.write() as session:
        for n in range(5):
            await projects.create_project(session, caller, name=f"p{n}", now=clock.now())
    posted: list[Any] = []
    original_post = sqlite_driver.ConnectionThread.post
    monkeypatch.setattr(
        sqlite_driver.ConnectionThread, "post", lambda self, job: (posted.append(job), original_post(self, job))[1]
    )
    async with sqlite_db.read() as reader:
        counted = (await reader.execute(select(func.count()).select_from(Project))).scalar_one()
        async with sqlite_db.write() as writer:  # committed between the reader's two statements
            await projects.create_project(writer, caller, name="later", now=clock.now())
        streamed = [row async for row in await reader.stream_scalars(select(Project.name))]
    assert counted == 6 and len(streamed) == 7 and "later" in streamed
    assert posted == [], posted


async def test_a_failed_statement_rolls_back_the_whole_write(sqlite_db: Database, clock: FrozenClock) -> None:
    caller, _ = await make_org(sqlite_db, clock)
    with pytest.raises(RuntimeError):
        async with sqlite_db.write() as session:
            await projects.create_project(session, caller, name="undone", now=clock.now())
            raise RuntimeError("the call failed after its first statement")
    async with sqlite_db.read() as session:
        names = (await session.scalars(select(Project.name))).all()
    assert "undone" not in names
