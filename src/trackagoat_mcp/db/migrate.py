"""Alembic migrations, driven from code (no `alembic.ini`): `upgrade()`, `current_revision()`, `head_revision()`.

The migration scripts live in `db/migrations/` inside the package, so an installed wheel can migrate
its own database (`trackagoat-mcp db upgrade`, `trackagoat-mcp init`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from trackagoat_mcp.db.engine import make_engine, missing_sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic `Config` pointing at the packaged scripts and the database `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The newest revision the code knows: the one no other migration script names as its `down_revision`.

    Read from the scripts' `revision = "…"` / `down_revision = "…"` lines rather than through Alembic, which every
    `serve` start would otherwise import (and run each script module) only to answer this; the history is linear,
    and `tests/domain/test_migrations.py` checks the answer against Alembic's own.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"The migration scripts have {len(heads)} heads ({sorted(heads)!r}); they must have one.")
    return heads.pop()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or `None` when it was never migrated.

    A SQLite file that does not exist was never migrated, and is not opened: opening would create it. The
    revision is Alembic's `alembic_version` row, read with plain SQL (see `head_revision` for why not Alembic).
    """
    if missing_sqlite_file(engine.url.render_as_string(hide_password=False)) is not None:
        return None
    async with engine.connect() as conn:

        def _read(sync_conn: Any) -> str | None:
            if not inspect(sync_conn).has_table("alembic_version"):
                return None
            versions = sync_conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            if len(versions) > 1:
                raise RuntimeError(f"The database is at several migration heads ({sorted(versions)!r}).")
            return versions[0] if versions else None

        return await conn.run_sync(_read)


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (default: head). Safe to run repeatedly."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:

            def _run(sync_conn: Any) -> None:
                from alembic import command

                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.upgrade(config, revision)

            await conn.run_sync(_run)
    finally:
        await engine.dispose()
