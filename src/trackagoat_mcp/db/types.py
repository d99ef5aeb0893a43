"""Column types shared by every table: aware UTC datetimes and JSON objects that work on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "json_column"]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always goes in and comes out as an aware UTC `datetime`.

    PostgreSQL stores `timestamptz`. SQLite has no timezone type, so values are stored as naive UTC
    text in one fixed format, which keeps string comparison equal to time comparison.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def json_column(name: str, *, nullable: bool = False) -> Any:
    """A fresh JSON column (JSONB on PostgreSQL) named `name`; each table needs its own instance."""
    return Column(name, JSONType, nullable=nullable)
