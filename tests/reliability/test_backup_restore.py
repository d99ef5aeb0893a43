"""`trackagoat-mcp db backup` / `db restore`: a backup taken while writes go on is one consistent moment of
the store, and restoring it gives back exactly that moment, on SQLite (online backup API) and PostgreSQL
(pg_dump / pg_restore)."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from tests.conftest import _pg_create, _pg_drop, _pg_truncate, make_org, pg_url
from tests.e2e.support import child_env, run_cli
from tests.reliability.worlds import seed_program
from tests.server.conftest import dump_store
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db import backup
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict

Dump = dict[str, list[tuple[Any, ...]]]


async def seeded(url: str, clock: FrozenClock) -> tuple[Database, Caller]:
    db = Database.connect(url)
    await seed_program(db, clock, await make_org(db, clock, "Globex"), "globex")
    caller, project = await make_org(db, clock, "Acme")
    await seed_program(db, clock, (caller, project), "acme")
    return db, caller


async def backup_under_load(db: Database, caller: Caller, clock: FrozenClock, url: str, dest: Path) -> list[str]:
    """Back up `url` to `dest` while a writer adds projects one by one; returns the names it wrote, in order."""
    written: list[str] = []
    started = anyio.Event()

    async def writer() -> None:
        for n in range(100_000):
            async with db.write() as session:
                await projects.create_project(session, caller, name=f"load {n:05d}", now=clock.now())
            written.append(f"load {n:05d}")
            if n == 5:
                started.set()
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        await started.wait()
        await backup.backup(url, dest)
        await anyio.sleep(0.05)  # the writer goes on after the backup
        tg.cancel_scope.cancel()
    return written


def assert_one_moment_of(restored: Dump, source: Dump, written: list[str]) -> None:
    """`restored` is the source as it was at one moment: every row is in the final source (the writer only
    adds), and of the writer's projects it holds an unbroken first stretch, neither all nor none."""
    for table, rows in restored.items():
        extra = {repr(r) for r in rows} - {repr(r) for r in source[table]}
        assert not extra, f"{table}: rows that the source never had: {sorted(extra)[:3]}"
    names = sorted(str(row) for row in restored["projects"] if "load " in str(row))
    count = len(names)
    assert 0 < count < len(written), f"the backup should fall mid-load: {count} of {len(written)} writes"
    for name in written[:count]:
        assert any(name in row for row in names), f"{name!r} is missing although later writes are present"


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def sqlite_urls(tmp_path: Path, sqlite_template: Path) -> tuple[str, Path, Path]:
    source = tmp_path / "store.db"
    shutil.copy(sqlite_template, source)
    return f"sqlite+aiosqlite:///{source}", tmp_path / "backup.db", tmp_path / "restored.db"


async def test_a_sqlite_backup_under_load_is_one_consistent_moment_and_restores_exactly(sqlite_urls, clock):
    url, backup_file, restored_path = sqlite_urls
    restored_url = f"sqlite+aiosqlite:///{restored_path}"
    db, caller = await seeded(url, clock)
    try:
        written = await backup_under_load(db, caller, clock, url, backup_file)
        await backup.restore(restored_url, backup_file)
        restored_db = Database.connect(restored_url)
        try:
            assert_one_moment_of(await dump_store(restored_db), await dump_store(db), written)
            with pytest.raises(Conflict, match="already holds tables"):
                await backup.restore(restored_url, backup_file)
            with pytest.raises(Conflict, match="already exists"):
                await backup.backup(url, backup_file)

            # Quiet now: a fresh backup restored over the first (--force) is the source, row for row.
            await backup.backup(url, backup_file, force=True)
            await restored_db.dispose()
            await backup.restore(restored_url, backup_file, force=True)
            assert await dump_store(restored_db) == await dump_store(db)
        finally:
            await restored_db.dispose()
    finally:
        await db.dispose()
    assert integrity(restored_path) == "ok"


def revision(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.slow
def test_the_cli_backs_up_and_restores_and_refuses_to_overwrite_a_store(sqlite_urls, tmp_path):
    url, backup_file, restored_path = sqlite_urls
    home = tmp_path / "home"
    home.mkdir()

    made = run_cli(["db", "backup", str(backup_file)], child_env(home, url))
    restored_env = child_env(home, f"sqlite+aiosqlite:///{restored_path}")
    restored = run_cli(["db", "restore", str(backup_file)], restored_env)
    refused = run_cli(["db", "restore", str(backup_file)], restored_env)

    assert made.returncode == 0 and "Backed up" in made.stdout and str(backup_file) in made.stdout, made.stderr
    assert restored.returncode == 0 and "Restored" in restored.stdout, restored.stderr
    assert revision(restored_path) == revision(Path(url.removeprefix("sqlite+aiosqlite:///")))
    assert refused.returncode == 2 and "already holds tables" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.fixture
def pg_target() -> Iterator[str]:
    """A fresh, empty PostgreSQL database to restore into (dropped afterwards)."""
    name = f"tga_restore_{uuid.uuid4().hex[:10]}"
    anyio.run(_pg_create, name)
    try:
        yield pg_url(name)
    finally:
        anyio.run(_pg_drop, name)


@pytest.mark.postgres
async def test_a_postgres_backup_under_load_is_one_consistent_moment_and_restores_exactly(
    postgres_database, pg_target, tmp_path, clock
):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not on PATH")
    await _pg_truncate(postgres_database)
    backup_file = tmp_path / "store.pgdump"
    db, caller = await seeded(postgres_database, clock)
    try:
        written = await backup_under_load(db, caller, clock, postgres_database, backup_file)
        await backup.restore(pg_target, backup_file)
        restored_db = Database.connect(pg_target)
        try:
            assert_one_moment_of(await dump_store(restored_db), await dump_store(db), written)
            with pytest.raises(Conflict, match="already holds tables"):
                await backup.restore(pg_target, backup_file)

            await backup.backup(postgres_database, backup_file, force=True)
            await restored_db.dispose()
            await backup.restore(pg_target, backup_file, force=True)
            assert await dump_store(restored_db) == await dump_store(db)
        finally:
            await restored_db.dispose()
    finally:
        await db.dispose()
