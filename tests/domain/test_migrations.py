"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from trackagoat_mcp.db.migrate import current_revision, head_revision
from trackagoat_mcp.db.models import SQLModel
from trackagoat_mcp.db.session import Database


async def test_migrated_schema_matches_the_models_exactly(db: Database) -> None:
    async with db.engine.connect() as conn:

        def _diff(sync_conn: Any) -> list[Any]:
            context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))

        differences = await conn.run_sync(_diff)
    assert differences == []


async def test_a_fresh_store_is_at_the_head_revision(db: Database) -> None:
    assert await current_revision(db.engine) == head_revision()


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from trackagoat_mcp.db.migrate import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def test_a_store_alembic_never_touched_has_no_revision(tmp_path: Any) -> None:
    from trackagoat_mcp.db.engine import make_engine

    path = tmp_path / "empty.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE unrelated (id INTEGER)")
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()
