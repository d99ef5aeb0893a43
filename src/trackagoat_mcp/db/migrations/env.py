"""Alembic environment: runs on the connection `db.migrate.upgrade()` hands over (or a fresh sync one)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import trackagoat_mcp.db.models  # noqa: F401  (registers every table on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `trackagoat-mcp db upgrade` (trackagoat_mcp.db.migrate.upgrade).")
_run(connection)
