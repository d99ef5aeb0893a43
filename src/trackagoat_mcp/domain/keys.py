"""API keys: `tga_` + 64 lowercase hex, shown once, stored as SHA-256, with scopes and revocation."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select, update

from trackagoat_mcp.db.models import ApiKey
from trackagoat_mcp.domain.caller import KEY_RE, hash_key
from trackagoat_mcp.domain.pagination import cursor_time, cursor_uuid, fetch_page
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller, parse_id, require_text
from trackagoat_mcp.errors import InvalidInput, NotFound

__all__ = [
    "KEYS_PER_PAGE",
    "KEY_RE",
    "authenticate",
    "create_key",
    "hash_key",
    "list_key_page",
    "list_keys",
    "mark_used",
    "parse_scopes",
    "revoke_key",
]

KEYS_PER_PAGE = 40
"""Keys per page of `list_key_page`: 40 with 200-character names stay well within a tool result's budget."""

DEFAULT_SCOPES = ("read", "write")


def parse_scopes(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate scopes given as `"read,write"` or a list."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes = tuple(dict.fromkeys(s.strip().lower() for s in items if s.strip()))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown or not scopes:
        raise InvalidInput(f"Scopes {list(scopes) or raw!r} are not valid; choose one or more of {list(ALL_SCOPES)!r}.")
    return scopes


async def create_key(
    session: AsyncSession, *, org_id: uuid.UUID, name: str, scopes: tuple[str, ...] = DEFAULT_SCOPES, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key for `org_id`; returns the row and the plaintext key, which is never retrievable again."""
    plaintext = "tga_" + secrets.token_hex(32)
    row = ApiKey(
        org_id=org_id,
        name=require_text(name, "Key name", max_length=200),
        prefix=plaintext[:12],
        key_hash=hash_key(plaintext),
        scopes=",".join(parse_scopes(scopes)),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row, plaintext


async def list_keys(session: AsyncSession, *, org_id: uuid.UUID | None = None) -> list[ApiKey]:
    """Keys (never their secrets), optionally of one organization, oldest first."""
    query = select(ApiKey).order_by(col(ApiKey.created_at))
    if org_id is not None:
        query = query.where(col(ApiKey.org_id) == org_id)
    return list((await session.scalars(query)).all())


async def list_key_page(
    session: AsyncSession, *, org_id: uuid.UUID, cursor: str | None = None
) -> tuple[list[ApiKey], str | None]:
    """One organization's keys (revoked ones included, never their secrets), oldest first, `KEYS_PER_PAGE` after
    `cursor`, and the cursor of the next page (None on the last)."""
    return await fetch_page(
        session,
        select(ApiKey).where(col(ApiKey.org_id) == org_id),
        kind="api_keys",
        order="created",
        columns=[col(ApiKey.created_at), col(ApiKey.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda k: [k.created_at, k.id],
        cursor=cursor,
        limit=KEYS_PER_PAGE,
    )


async def revoke_key(session: AsyncSession, *, ref: str, now: datetime, org_id: uuid.UUID | None = None) -> ApiKey:
    """Revoke a key by id or display prefix; revoking twice is harmless."""
    query = select(ApiKey)
    if org_id is not None:
        query = query.where(col(ApiKey.org_id) == org_id)
    text = ref.strip()
    if text.startswith("tga_"):
        rows = [
            k for k in (await session.scalars(query)).all() if text.startswith(k.prefix) or k.key_hash == hash_key(text)
        ]
    else:
        key_id = parse_id(text, "API key")
        rows = list((await session.scalars(query.where(col(ApiKey.id) == key_id))).all())
    if len(rows) != 1:
        raise NotFound(f"No single API key matches {ref!r}; pass the id shown by `trackagoat-mcp keys list`.")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = now
        row.updated_at = now
        session.add(row)
    return row


async def authenticate(session: AsyncSession, key: str) -> Caller | None:
    """The caller a presented key stands for, or None when it is malformed, unknown or revoked."""
    if not KEY_RE.match(key):
        return None
    row = (await session.scalars(select(ApiKey).where(col(ApiKey.key_hash) == hash_key(key)))).first()
    if row is None or row.revoked_at is not None:
        return None
    return Caller(org_id=row.org_id, scopes=frozenset(row.scopes.split(",")), key_id=row.id)


async def mark_used(session: AsyncSession, key_id: uuid.UUID, *, now: datetime) -> None:
    """Record that key `key_id` was used at `now` (one UPDATE; callers decide how often, see `http`)."""
    await session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=now))
