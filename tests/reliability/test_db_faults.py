"""The database going away and coming back: calls fail with a clean `[store_unavailable]` tool error and work
again as soon as the database does, without restarting the server.

* PostgreSQL: a private throw-away cluster (`pgcluster.py`; never the machine's own server) is stopped while
  four clients keep reading and writing through one in-process server, then started again.
* SQLite: another process holds `BEGIN EXCLUSIVE` on the store file. Held briefly, a write waits for it and
  succeeds; held past the busy timeout, the write fails cleanly while reads go on (WAL), and once the lock is
  gone writes succeed again. The busy timeout comes from `TRACKAGOAT_SQLITE_BUSY_TIMEOUT` (15 s by default),
  set to 1 s here.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import pytest
from mcp import Client
from mcp.types import CallToolResult
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.conftest import _pg_truncate, make_org, make_server
from tests.reliability.pgcluster import PrivateCluster, available
from trackagoat_mcp.config import load_settings
from trackagoat_mcp.db.engine import SQLITE_POOL_SIZE
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import Project
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects
from trackagoat_mcp.errors import ConfigError, StoreUnavailable

UNAVAILABLE = "[store_unavailable] "


def outcome(tool: str, result: CallToolResult) -> str:
    """'ok', 'store_unavailable' (nothing was changed), 'unknown_outcome' (lost during COMMIT), or the unexpected
    error text."""
    if not result.is_error:
        return "ok"
    text = " ".join(getattr(c, "text", "") for c in result.content)
    if not text.startswith(f"Error executing tool {tool}: {UNAVAILABLE}"):
        return text
    return "unknown_outcome" if "may or may not have been saved" in text else "store_unavailable"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    reason = available()
    if reason:
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    made = PrivateCluster()
    try:
        made.init()
        made.start()
        yield made
    finally:
        made.destroy()


@pytest.mark.postgres
async def test_postgres_restarting_mid_load_fails_calls_cleanly_and_recovers_without_a_server_restart(
    cluster: PrivateCluster, clock: Any
) -> None:
    await upgrade(cluster.url())
    db = Database.connect(cluster.url())
    phase = {"now": "up"}
    seen: list[tuple[str, str, str]] = []
    written: dict[str, str] = {}
    done, recovered = anyio.Event(), anyio.Event()
    try:
        caller, _ = await make_org(db, clock)
        async with Client(make_server(db, clock, caller)) as client:
            # Serving before the store goes away: the server assembles itself (and checks the store) in the
            # background, which may take longer than the first half second when its modules are not compiled yet.
            assert outcome("list_projects", await client.call_tool("list_projects", {})) == "ok"

            async def worker(number: int) -> None:
                for n in range(10_000):
                    if done.is_set():
                        return
                    tool, args = ("create_project", {"name": f"w{number}-{n}"}) if n % 2 else ("list_projects", {})
                    with anyio.fail_after(30):
                        got = outcome(tool, await client.call_tool(tool, args))
                    seen.append((phase["now"], tool, got))
                    if tool == "create_project":
                        written[args["name"]] = got
                    if {t for p, t, g in seen if p == "back" and g == "ok"} == {"list_projects", "create_project"}:
                        recovered.set()
                    await anyio.sleep(0.02)

            async with anyio.create_task_group() as tg:
                for number in range(4):
                    tg.start_soon(worker, number)
                await anyio.sleep(0.5)
                phase["now"] = "stopping"
                await anyio.to_thread.run_sync(cluster.stop)
                phase["now"] = "down"
                await anyio.sleep(1.0)
                phase["now"] = "starting"
                await anyio.to_thread.run_sync(cluster.start)
                phase["now"] = "back"
                with anyio.fail_after(30):
                    await recovered.wait()  # both a read and a write succeeded after the restart
                await anyio.sleep(0.3)
                done.set()

        async with db.read() as session:
            stored = set((await session.scalars(select(Project.name))).all())
    finally:
        await db.dispose()

    unexpected = [entry for entry in seen if entry[2] not in {"ok", "store_unavailable", "unknown_outcome"}]
    assert not unexpected, unexpected[:5]
    assert any(p == "down" and g == "store_unavailable" for p, _, g in seen), "no call was made while it was down"
    assert all(g == "ok" for p, _, g in seen if p == "up")
    lost = [name for name, got in written.items() if got == "ok" and name not in stored]
    phantom = [name for name, got in written.items() if got == "store_unavailable" and name in stored]
    assert not lost, f"writes reported as done but missing: {lost}"
    assert not phantom, f"writes reported as failed ('nothing was changed') but stored: {phantom}"


def _release(holder: subprocess.Popen[str]) -> None:
    holder.wait(10)
    if holder.stdout is not None:
        holder.stdout.close()


def _lock_holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes SQLite's exclusive lock on `path`, says so, and keeps it for `seconds`."""
    code = (
        "import sqlite3, sys, time\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "conn.execute('COMMIT')\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.fixture
def store_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "store.db"
    shutil.copy(sqlite_template, path)
    return path


async def test_sqlite_locked_by_another_process_waits_then_fails_cleanly_and_keeps_serving(
    store_file: Path, clock: Any
) -> None:
    path = store_file
    environ = {"TRACKAGOAT_DATABASE_URL": f"sqlite+aiosqlite:///{path}", "TRACKAGOAT_SQLITE_BUSY_TIMEOUT": "1"}
    db = Database.for_settings(load_settings(environ))
    try:
        caller, _ = await make_org(db, clock)
        async with Client(make_server(db, clock, caller)) as client:
            # A short lock: the write waits for it and succeeds.
            holder = _lock_holder(path, 0.3)
            started = time.monotonic()
            with anyio.fail_after(10):
                short = outcome("create_project", await client.call_tool("create_project", {"name": "waited"}))
            waited = time.monotonic() - started
            _release(holder)
            assert short == "ok" and waited >= 0.15, (short, waited)

            # A lock held past the busy timeout: writes fail cleanly, reads keep working.
            holder = _lock_holder(path, 3.0)
            try:
                with anyio.fail_after(10):
                    refused = outcome("create_project", await client.call_tool("create_project", {"name": "refused"}))
                    read = outcome("list_projects", await client.call_tool("list_projects", {}))
            finally:
                _release(holder)
            assert refused == "store_unavailable", refused
            assert read == "ok", read

            # The lock is gone: the same server serves writes again.
            with anyio.fail_after(10):
                after = outcome("create_project", await client.call_tool("create_project", {"name": "after"}))
            assert after == "ok", after
        async with db.read() as session:
            names = set((await session.scalars(select(Project.name))).all())
    finally:
        await db.dispose()
    assert {"waited", "after"} <= names and "refused" not in names


@pytest.mark.parametrize("value", ["0", "601", "soon"])
def test_a_bad_sqlite_busy_timeout_is_refused_with_a_sentence_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="TRACKAGOAT_SQLITE_BUSY_TIMEOUT") as refused:
        load_settings({"TRACKAGOAT_SQLITE_BUSY_TIMEOUT": value})
    assert value in str(refused.value)


async def test_every_pooled_connection_busy_past_the_pool_timeout_is_store_unavailable(store_file: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{store_file}", pool_size=1, max_overflow=0, pool_timeout=0.2)
    db = Database(engine)
    try:
        async with db.read() as holder:
            await holder.execute(select(Project))  # holds the only connection
            with pytest.raises(StoreUnavailable):
                async with db.read() as waiting:
                    await waiting.execute(select(Project))
        async with db.read() as later:  # once the connection is back, work goes on
            assert (await later.execute(select(Project))).all() == []
    finally:
        await db.dispose()


async def test_a_write_cancelled_while_it_waits_for_the_sqlite_lock_leaves_no_transaction_behind(
    store_file: Path, clock: Any
) -> None:
    """A cancelled call (an MCP `notifications/cancelled`, a client gone) stops awaiting, but the driver's thread
    still finishes the `BEGIN IMMEDIATE` it was waiting on. The pooled connection must not keep that transaction:
    it would hold the write lock against every other process and fail its next session."""
    db = Database.connect(f"sqlite+aiosqlite:///{store_file}", sqlite_busy_timeout=5)
    try:
        caller, _ = await make_org(db, clock)
        holder = _lock_holder(store_file, 0.5)
        with anyio.move_on_after(0.2) as cancelled:
            async with db.write() as session:
                await session.execute(select(Project))  # BEGIN IMMEDIATE waits in the driver's thread
        _release(holder)
        assert cancelled.cancelled_caught
        await anyio.sleep(0.3)  # the driver's thread got the lock after the cancellation

        other = sqlite3.connect(store_file, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if a pooled connection kept the transaction
            other.execute("ROLLBACK")
        finally:
            other.close()
        sessions = [db.read() for _ in range(SQLITE_POOL_SIZE)]  # every pooled connection starts a session again
        async with sessions[0] as s0, sessions[1] as s1, sessions[2] as s2, sessions[3] as s3, sessions[4] as s4:
            for session in (s0, s1, s2, s3, s4):
                await session.execute(select(Project))
        async with db.write() as session:
            await projects.create_project(session, caller, name="after the cancellation", now=clock.now())
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_postgres_connection_lost_mid_work_at_commit_or_after_a_read_is_told_truthfully(
    postgres_database: str, clock: Any
) -> None:
    """Lost before COMMIT, PostgreSQL has rolled back: "nothing was changed" is true. Lost during COMMIT, the
    server may have committed before the connection dropped, so the sentence must not claim either outcome. Lost
    after a read, the rows stand: closing the dead connection is no error of the caller's."""
    await _pg_truncate(postgres_database)
    db = Database.connect(postgres_database)
    try:
        caller, _ = await make_org(db, clock)
        with pytest.raises(StoreUnavailable, match="nothing was changed"):
            async with db.write() as session:
                await _cut_off(session)
                await projects.create_project(session, caller, name="cut off mid-work", now=clock.now())
        with pytest.raises(StoreUnavailable, match="may or may not have been saved") as unknown:
            async with db.write() as session:
                await projects.create_project(session, caller, name="cut off at commit", now=clock.now())
                await _cut_off(session)
        assert "nothing was changed" not in str(unknown.value)
        async with db.read() as session:  # lost after the read: the rows stand, the dead connection is dropped
            read = (await session.scalars(select(Project.name))).all()
            await _cut_off(session)
        assert read
        async with db.read() as session:  # the pool replaced the dead connection
            names = set((await session.scalars(select(Project.name))).all())
    finally:
        await db.dispose()
    assert not {"cut off mid-work", "cut off at commit"} & names  # its backend died before it saw COMMIT


async def _cut_off(session: AsyncSession) -> None:
    """Terminate the PostgreSQL backend serving `session`, from another connection."""
    pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    killer = await asyncpg.connect(session.bind.url.render_as_string(hide_password=False).replace("+asyncpg", ""))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await killer.close()
