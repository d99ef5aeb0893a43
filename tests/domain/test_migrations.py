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
