"""Payout methods: the channels payments go through (`Venmo`, `Cash App`, `PayPal` by default, plus custom ones).

**Defaults for every organization.** `create_org` seeds the three defaults with `ensure_default_methods` (one
`INSERT … ON CONFLICT DO NOTHING` on the (org, name) unique key, so it is safe to run again or concurrently), and
migration 0005 gave them to the organizations that existed before; listing methods is therefore a plain read.
Defaults can be disabled, never deleted (`default_method`), and keep their names (a renamed `PayPal` would be a
custom method in disguise, and seeding would bring `PayPal` back).

**Custom methods** have a name (≤ 100 characters, unique per organization ignoring case) and an optional
`http(s)` icon URL. A custom method with payments cannot be deleted (payments keep pointing at it); disable it.
Inactive methods are hidden from lists unless asked for, and cannot receive new payments.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from sqlmodel import select as model_select

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates
from trackagoat_mcp.db.models import PayoutMethod, PayoutPayment, table_of
from trackagoat_mcp.db.races import retries_lost_races
from trackagoat_mcp.domain.notes import register_entity_type
from trackagoat_mcp.domain.pagination import Page, cursor_text, cursor_uuid, fetch_page
from trackagoat_mcp.domain.scope import Caller, get_in_org, require_text
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "DEFAULT_METHODS",
    "PayoutMethodOut",
    "create_method",
    "delete_method",
    "ensure_default_methods",
    "get_method_row",
    "list_methods",
    "update_method",
]

DEFAULT_METHODS = ("Venmo", "Cash App", "PayPal")
NAME_MAX = 100
URL_MAX = 2000
_UNSET: Any = object()

register_entity_type("payout_method", PayoutMethod)


class PayoutMethodOut(BaseModel):
    """A payout method (the whole record: methods are few and have no get tool)."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    icon_url: str | None
    is_default: bool = Field(description="Venmo, Cash App and PayPal: can be disabled, never deleted or renamed.")
    is_active: bool = Field(description="Inactive methods cannot receive new payments.")
    readme: str | None = Field(description="Agent-written markdown notes (write_readme, entity_type payout_method).")
    metadata: dict[str, Any] = Field(description="Agent-written JSON object (write_metadata).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PayoutMethod) -> PayoutMethodOut:
        return cls(
            id=row.id,
            org_id=row.org_id,
            name=row.name,
            icon_url=row.icon_url,
            is_default=row.is_default,
            is_active=row.is_active,
            readme=row.readme,
            metadata=row.meta,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


async def ensure_default_methods(session: AsyncSession, org_id: uuid.UUID, *, now: datetime) -> None:
    """Insert the organization's default methods that are missing (idempotent, safe under concurrency)."""
    rows = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "name": name,
            "is_default": True,
            "is_active": True,
            "metadata": {},
            "created_at": now,
            "updated_at": now,
        }
        for name in DEFAULT_METHODS
    ]
    await session.execute(
        insert_ignoring_duplicates(session, table_of(PayoutMethod), unique=["org_id", "name"]).values(rows)
    )


def _check_icon(icon_url: str | None) -> str | None:
    if icon_url is None:
        return None
    url = icon_url.strip()
    parts = urlsplit(url)
    if len(url) > URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"icon_url {icon_url[:200]!r} is not an http(s) URL; give one like 'https://example.com/icon.png' "
            f"(at most {URL_MAX} characters) or leave it out."
        )
    return url


async def _check_name_free(session: AsyncSession, org_id: uuid.UUID, name: str, *, keep: uuid.UUID | None) -> None:
    query = select(col(PayoutMethod.id), col(PayoutMethod.name)).where(
        col(PayoutMethod.org_id) == org_id, func.lower(col(PayoutMethod.name)) == name.lower()
    )
    clash = (await session.execute(query)).first()
    if clash is not None and clash[0] != keep:
        raise Conflict(
            f"A payout method named {clash[1]!r} already exists ({clash[0]}); use it, or pick another name.",
            code="method_name_taken",
        )


async def get_method_row(session: AsyncSession, caller: Caller, method_id: Any) -> PayoutMethod:
    """A method of the caller's organization (NotFound otherwise)."""
    return await get_in_org(session, caller, PayoutMethod, method_id, "payout method")


async def list_methods(
    session: AsyncSession,
    caller: Caller,
    *,
    include_inactive: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[PayoutMethodOut]:
    """The organization's methods by name (inactive ones only when `include_inactive`)."""
    query = model_select(PayoutMethod).where(col(PayoutMethod.org_id) == caller.org_id)
    if not include_inactive:
        query = query.where(col(PayoutMethod.is_active).is_(True))
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="payout_methods",
        order="name",
        columns=[col(PayoutMethod.name), col(PayoutMethod.id)],
        parsers=[cursor_text, cursor_uuid],
        key=lambda m: [m.name, m.id],
        cursor=cursor,
        limit=limit,
    )
    return Page[PayoutMethodOut](items=[PayoutMethodOut.of(m) for m in page], next_cursor=next_cursor)


@retries_lost_races
async def create_method(
    session: AsyncSession, caller: Caller, *, name: str, now: datetime, icon_url: str | None = None
) -> PayoutMethodOut:
    """Create a custom method; its name must be unused in the organization (ignoring case)."""
    caller.require("write")
    clean = require_text(name, "Payout method name", max_length=NAME_MAX)
    await _check_name_free(session, caller.org_id, clean, keep=None)
    method = PayoutMethod(
        org_id=caller.org_id, name=clean, icon_url=_check_icon(icon_url), created_at=now, updated_at=now
    )
    session.add(method)
    await session.flush()
    return PayoutMethodOut.of(method)


@retries_lost_races
async def update_method(
    session: AsyncSession,
    caller: Caller,
    method_id: Any,
    *,
    now: datetime,
    name: str | None = None,
    is_active: bool | None = None,
    icon_url: str | None = _UNSET,
) -> PayoutMethodOut:
    """Rename (custom methods only), enable/disable, or set/clear the icon of a method."""
    caller.require("write")
    method = await get_method_row(session, caller, method_id)
    if name is not None:
        clean = require_text(name, "Payout method name", max_length=NAME_MAX)
        if clean != method.name:
            if method.is_default:
                raise Conflict(
                    f"{method.name!r} is a default payout method and keeps its name; create a custom method "
                    "instead, and disable this one if it is not used.",
                    code="default_method",
                )
            await _check_name_free(session, caller.org_id, clean, keep=method.id)
            method.name = clean
    if is_active is not None:
        method.is_active = is_active
    if icon_url is not _UNSET:
        method.icon_url = _check_icon(icon_url)
    method.updated_at = now
    session.add(method)
    await session.flush()
    return PayoutMethodOut.of(method)


async def delete_method(session: AsyncSession, caller: Caller, method_id: Any) -> PayoutMethod:
    """Delete a custom method that no payment uses; returns the deleted row."""
    caller.require("write")
    method = await get_method_row(session, caller, method_id)
    if method.is_default:
        raise Conflict(
            f"{method.name!r} is a default payout method and cannot be deleted; disable it with "
            "update_payout_method(is_active=false) instead.",
            code="default_method",
        )
    used = await session.scalar(
        select(func.count()).select_from(PayoutPayment).where(col(PayoutPayment.method_id) == method.id)
    )
    if used:
        raise Conflict(
            f"Payout method {method.name!r} is used by {used} payment(s), which keep pointing at it, so it cannot be "
            "deleted; disable it with update_payout_method(is_active=false) so it takes no new payments.",
            code="method_in_use",
        )
    await session.delete(method)
    await session.flush()
    return method
