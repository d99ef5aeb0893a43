"""Alembic migrations, driven from code (no `alembic.ini`): `upgrade()`, `current_revision()`, `head_revision()`.

The migration scripts live in `db/migrations/` inside the package, so an installed wheel can migrate
its own database (`trackagoat-mcp db upgrade`, `trackagoat-mcp init`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from trackagoat_mcp.db.engine import make_engine, missing_sqlite_file

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic `Config` pointing at the packaged scripts and the database `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or `None` when it was never migrated.

    A SQLite file that does not exist was never migrated, and is not opened: opening would create it.
    """
    if missing_sqlite_file(engine.url.render_as_string(hide_password=False)) is not None:
        return None
    async with engine.connect() as conn:

        def _read(sync_conn: Any) -> str | None:
            return MigrationContext.configure(sync_conn).get_current_revision()

        return await conn.run_sync(_read)


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (default: head). Safe to run repeatedly."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:

            def _run(sync_conn: Any) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.upgrade(config, revision)

            await conn.run_sync(_run)
    finally:
        await engine.dispose()
