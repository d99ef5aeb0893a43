"""Backing up and restoring the store: `trackagoat-mcp db backup PATH` and `trackagoat-mcp db restore PATH`.

* **SQLite**: SQLite's online backup API (`sqlite3.Connection.backup`) copies the whole file in one step
  while holding a read transaction, so the copy is one consistent moment of the store even while servers and
  jobs keep writing to it (WAL mode lets them). The backup is an ordinary SQLite file: it can be opened,
  inspected, or used directly as `TRACKAGOAT_DATABASE_URL`.
* **PostgreSQL**: `pg_dump --format=custom` (one consistent snapshot, taken without blocking writers) and
  `pg_restore`, found on `PATH` (Debian/Ubuntu: `apt install postgresql-client`, of a version at least the
  server's). The password, if the URL has one, reaches them through `PGPASSWORD`, never the command line.

A restore refuses to write into a database that already holds tables unless `force` is given (SQLite: the
file is replaced; PostgreSQL: `pg_restore --clean --if-exists` drops what the backup re-creates). Stop every
server and worker using the target before restoring into it. A backup never overwrites an existing file
unless `force` is given.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from trackagoat_mcp.db.engine import make_engine, sqlite_path
from trackagoat_mcp.errors import ConfigError, Conflict, InvalidInput

__all__ = ["BackupResult", "backup", "restore"]


@dataclass(frozen=True)
class BackupResult:
    """What a backup or restore did, for the CLI to print."""

    path: Path
    bytes: int
    method: str


async def backup(database_url: str, dest: Path, *, force: bool = False) -> BackupResult:
    """Copy the store at `database_url` into the file `dest` (see the module docstring)."""
    if await anyio.Path(dest).exists() and not force:
        raise Conflict(f"Backup file {str(dest)!r} already exists; choose a new path or pass --force to replace it.")
    await anyio.Path(dest).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite_path(database_url)
    if source is not None:
        if not await anyio.Path(source).exists():
            raise ConfigError(f"There is no SQLite store at {str(source)!r}; check TRACKAGOAT_DATABASE_URL.")
        await anyio.to_thread.run_sync(_sqlite_copy, source, dest)
        return await _result(dest, "SQLite online backup")
    if not _is_postgres(database_url):
        raise ConfigError("Only file-backed SQLite stores and PostgreSQL databases can be backed up.")
    url = make_url(database_url)
    temporary = dest.with_name(dest.name + ".partial")
    await _pg_tool("pg_dump", url, ["--format=custom", "--no-owner", f"--file={temporary}"])
    await anyio.Path(temporary).replace(dest)
    return await _result(dest, "pg_dump (custom format)")


async def restore(database_url: str, backup_file: Path, *, force: bool = False) -> BackupResult:
    """Restore the store at `database_url` from `backup_file` (see the module docstring)."""
    if not await anyio.Path(backup_file).is_file():
        raise InvalidInput(f"Backup file {str(backup_file)!r} does not exist.")
    target = sqlite_path(database_url)
    if target is not None:
        await anyio.to_thread.run_sync(_sqlite_restore, backup_file, target, force)
        return await _result(target, "SQLite online backup")
    if not _is_postgres(database_url):
        raise ConfigError("Only file-backed SQLite stores and PostgreSQL databases can be restored.")
    url = make_url(database_url)
    if await _pg_has_tables(url) and not force:
        raise Conflict(
            f"Database {url.database!r} already holds tables; restore into an empty database, or pass --force to "
            "replace what the backup contains."
        )
    options = ["--no-owner", "--exit-on-error", "--single-transaction"]
    if force:
        options += ["--clean", "--if-exists"]
    await _pg_tool("pg_restore", url, [*options, str(backup_file)])
    return await _result(backup_file, "pg_restore")


async def _result(path: Path, method: str) -> BackupResult:
    return BackupResult(path, (await anyio.Path(path).stat()).st_size, method)


# --- SQLite --------------------------------------------------------------------------------------------------


def _sqlite_copy(source: Path, dest: Path) -> None:
    temporary = dest.with_name(dest.name + ".partial")
    temporary.unlink(missing_ok=True)
    with _open(source) as src, _open(temporary) as dst:
        src.backup(dst)  # all pages in one step: one read transaction, one consistent moment
    temporary.replace(dest)


def _sqlite_restore(backup_file: Path, target: Path, force: bool) -> None:
    with _open(backup_file) as src:
        if not _sqlite_tables(src):
            raise InvalidInput(f"{str(backup_file)!r} is not a trackagoat-mcp backup (it holds no tables).")
        if target.exists():
            with _open(target) as existing:
                if _sqlite_tables(existing) and not force:
                    raise Conflict(
                        f"The store {str(target)!r} already holds tables; restore into a new file, or pass --force "
                        "to replace it."
                    )
        target.parent.mkdir(parents=True, exist_ok=True)
        with _open(target) as dst:
            src.backup(dst)  # replaces every page of the target, schema included


class _open:
    """`sqlite3.connect` as a context manager that closes (the stdlib one only ends transactions)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn = sqlite3.connect(self.path)
            self.conn.execute("PRAGMA schema_version").fetchone()  # fails here, not later, on a non-SQLite file
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{str(self.path)!r} is not a SQLite database ({exc}).") from exc
        return self.conn

    def __exit__(self, *_exc: object) -> None:
        self.conn.close()


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


# --- PostgreSQL ----------------------------------------------------------------------------------------------


def _is_postgres(database_url: str) -> bool:
    return make_url(database_url).drivername.startswith("postgresql")


async def _pg_has_tables(url: URL) -> bool:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")
            )
    finally:
        await engine.dispose()
    return bool(count)


async def _pg_tool(tool: str, url: URL, options: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise ConfigError(
            f"{tool} was not found on PATH; install the PostgreSQL client tools (Debian/Ubuntu: "
            f"`apt install postgresql-client`) of a version at least the server's."
        )
    env = {**os.environ, "PGPASSWORD": url.password or os.environ.get("PGPASSWORD", "")}
    if not env["PGPASSWORD"]:
        del env["PGPASSWORD"]
    connection = [f"--host={url.host or 'localhost'}", f"--port={url.port or 5432}", f"--dbname={url.database}"]
    if url.username:
        connection.append(f"--username={url.username}")
    result = await anyio.run_process(
        [executable, "--no-password", *connection, *options], env=env, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        raise ConfigError(f"{tool} failed (exit {result.returncode}): {' '.join(detail[-3:]) or 'no message'}.")
