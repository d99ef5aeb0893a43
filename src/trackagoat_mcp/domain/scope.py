"""Who is calling (`Caller`) and the organization-scoped lookups every read and write goes through.

Another organization's id behaves exactly like an id that does not exist: same error, same message,
nothing changed. Scopes: `read` for reads, `write` for changes, `admin` for human-only fields
(`description`) and key management. `admin` implies `write`, and `write` implies `read`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, select

from trackagoat_mcp.db.models import Organization, table_of
from trackagoat_mcp.errors import Forbidden, InvalidInput, NotFound

__all__ = ["ALL_SCOPES", "Caller", "get_in_org", "get_org", "not_found", "parse_id", "require_text"]

ALL_SCOPES: tuple[str, ...] = ("read", "write", "admin")
_IMPLIED = {"admin": {"admin", "write", "read"}, "write": {"write", "read"}, "read": {"read"}}

M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True)
class Caller:
    """The organization a request acts for and the scopes its key grants."""

    org_id: uuid.UUID
    scopes: frozenset[str]
    key_id: uuid.UUID | None = None

    @property
    def effective_scopes(self) -> frozenset[str]:
        """Scopes including the ones implied by stronger scopes."""
        granted: set[str] = set()
        for scope in self.scopes:
            granted |= _IMPLIED.get(scope, set())
        return frozenset(granted)

    def can(self, scope: str) -> bool:
        """Whether the caller holds `scope` (directly or implied)."""
        return scope in self.effective_scopes

    def require(self, scope: str) -> None:
        """Raise `Forbidden` unless the caller holds `scope`."""
        if not self.can(scope):
            granted = sorted(self.scopes)
            raise Forbidden(
                f"This action requires the {scope!r} scope; this key grants {granted!r}. "
                "Use a key created with that scope (trackagoat-mcp keys create --scopes ...).",
                required=scope,
                granted=granted,
            )


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
    columns = table_of(model).c
    row = (await session.scalars(select(model).where(columns.id == entity_id, columns.org_id == caller.org_id))).first()
    if row is None:
        raise not_found(what, entity_id)
    return row


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
