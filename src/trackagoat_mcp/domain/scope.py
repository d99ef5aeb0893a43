"""The organization-scoped lookups every read and write goes through (`Caller` lives in `domain.caller`).

Another organization's id behaves exactly like an id that does not exist: same error, same message,
nothing changed. Scopes: `read` for reads, `write` for changes, `admin` for human-only fields
(`description`) and key management. `admin` implies `write`, and `write` implies `read`.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, select

from trackagoat_mcp.db.models import Organization, record_columns, table_of
from trackagoat_mcp.db.reads import FixedRead
from trackagoat_mcp.domain.caller import ALL_SCOPES, Caller
from trackagoat_mcp.errors import InvalidInput, NotFound

__all__ = [
    "ALL_SCOPES",
    "Caller",
    "get_in_org",
    "get_org",
    "id_in_org",
    "not_found",
    "parse_id",
    "read_in_org",
    "require_text",
]

M = TypeVar("M", bound=SQLModel)


def parse_id(value: str | uuid.UUID, what: str) -> uuid.UUID:
    """Parse a UUID argument, raising `NotFound` for anything that is not one (it cannot exist)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise NotFound(
            f"No {what} with id {value!r} exists in this organization; ids are UUIDs "
            f"such as those returned by the list tools."
        ) from None


async def get_in_org(session: AsyncSession, caller: Caller, model: type[M], raw_id: Any, what: str) -> M:
    """Fetch a row of `model` by id, only if it belongs to the caller's organization.

    `model` must have an `org_id` column. A foreign or missing id raises the same `NotFound`.
    """
    entity_id = parse_id(raw_id, what)
    found = await session.scalars(_object_in_org(model), {"id": entity_id, "org_id": caller.org_id})
    row: M | None = found.first()
    if row is None:
        raise not_found(what, entity_id)
    return row


async def read_in_org(session: AsyncSession, caller: Caller, model: type[SQLModel], raw_id: Any, what: str) -> Any:
    """`get_in_org` for a read that only shows the row: its columns read by name (`db.models.record_columns`),
    without building a model object (a third of a small read's cost)."""
    entity_id = parse_id(raw_id, what)
    row = await _record_in_org(model).first(session, {"id": entity_id, "org_id": caller.org_id})
    if row is None:
        raise not_found(what, entity_id)
    return row


async def id_in_org(session: AsyncSession, caller: Caller, model: type[SQLModel], raw_id: Any, what: str) -> uuid.UUID:
    """The id of a row of `model` in the caller's organization (`NotFound` otherwise), for a filter that needs to
    know the row exists and nothing more."""
    entity_id = parse_id(raw_id, what)
    if await _id_in_org(model).first(session, {"id": entity_id, "org_id": caller.org_id}) is None:
        raise not_found(what, entity_id)
    return entity_id


def _by_id_in_org(model: type[SQLModel]) -> Any:
    columns = table_of(model).c
    return and_(columns.id == bindparam("id"), columns.org_id == bindparam("org_id"))


@functools.cache
def _object_in_org(model: type[SQLModel]) -> Any:
    """The statement of `get_in_org`, built once per model (building it anew cost more than running it)."""
    return select(model).where(_by_id_in_org(model))


@functools.cache
def _record_in_org(model: type[SQLModel]) -> FixedRead:
    return FixedRead(select(*record_columns(model)).where(_by_id_in_org(model)))


@functools.cache
def _id_in_org(model: type[SQLModel]) -> FixedRead:
    return FixedRead(select(table_of(model).c.id).where(_by_id_in_org(model)))


def not_found(what: str, entity_id: Any) -> NotFound:
    """The one 'not found' error, identical for missing, foreign and hidden (excluded) ids."""
    return NotFound(
        f"No {what} with id {str(entity_id)!r} exists in this organization; check the id with the matching list tool."
    )


async def get_org(session: AsyncSession, caller: Caller) -> Organization:
    """The caller's organization row."""
    org = await session.get(Organization, caller.org_id)
    if org is None:
        raise NotFound(f"The organization {str(caller.org_id)!r} of this key no longer exists.")
    return org


def require_text(value: str, what: str, *, max_length: int) -> str:
    """Trim `value` and check it is non-empty and at most `max_length` characters."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{what} must not be empty.")
    if len(text) > max_length:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_length}.")
    return text
