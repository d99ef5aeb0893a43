"""Alembic migrations, driven from code (no `alembic.ini`): `upgrade()`, `current_revision()`, `head_revision()`.

The migration scripts live in `db/migrations/` inside the package, so an installed wheel can migrate
its own database (`trackagoat-mcp db upgrade`, `trackagoat-mcp init`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from trackagoat_mcp.db.engine import make_engine, missing_sqlite_file
from trackagoat_mcp.db.revisions import MIGRATIONS_DIR, head_revision
from trackagoat_mcp.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

    from trackagoat_mcp.db.session import Database

__all__ = ["alembic_config", "current_revision", "ensure_migrated", "head_revision", "upgrade"]


def alembic_config(url: str) -> Config:
    """An Alembic `Config` pointing at the packaged scripts and the database `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


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


async def ensure_migrated(db: Database) -> None:
    """Raise `ConfigError` unless the database is at the code's migration head."""
    try:
        revision = await current_revision(db.engine)
    except Exception as exc:  # the driver's own error types vary; the sentence below is what matters
        raise ConfigError(f"Cannot open the database ({type(exc).__name__}); check TRACKAGOAT_DATABASE_URL.") from exc
    head = head_revision()
    if revision is None:
        shown = make_url(db.url).render_as_string(hide_password=True)
        raise ConfigError(
            f"The database {shown!r} is empty or does not exist yet; run `trackagoat-mcp init` (or "
            "`trackagoat-mcp db upgrade`) first."
        )
    if revision != head:
        raise ConfigError(
            f"The database is at migration {revision!r} but this version needs {head!r}; run "
            "`trackagoat-mcp db upgrade`."
        )


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
