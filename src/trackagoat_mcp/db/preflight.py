"""A stdio session's first look at its store, without SQLAlchemy.

`serve` must know, before it answers `tools/list`, that the store is migrated and whom the session acts for
(the tools a read-only key may not use are not listed). Asking through SQLAlchemy would import it, the models and
the domain first: most of a start's time. So this module asks the database directly, in a few milliseconds: a
SQLite file through `sqlite3`, read-only; a PostgreSQL store through `asyncpg` (the driver the store uses anyway).
It answers only a clear yes; anything else (a URL with options, a missing file, an unreachable server, an unknown
or revoked key, several organizations, any error) is `None`, and the caller then takes the full path, which gives
the proper sentence for each failure.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["SessionOwner", "postgresql_session_owner", "sqlite_session_owner"]

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+aiosqlite:///", "sqlite+trackagoat:///")
_POSTGRESQL_PREFIXES = ("postgresql://", "postgresql+asyncpg://")
POSTGRESQL_TIMEOUT = 5.0
"""Seconds the look at a PostgreSQL store may take (connecting included) before the full path takes over."""

_VERSION_SQL = "SELECT version_num FROM alembic_version"
_KEY_SQL = "SELECT org_id, scopes, id FROM api_keys WHERE key_hash = {} AND revoked_at IS NULL"
_ORGS_SQL = "SELECT id FROM organizations LIMIT 2"


class SessionOwner(NamedTuple):
    """The organization a session acts for, the scopes it may use (comma-separated, as stored) and the key's id."""

    org_id: uuid.UUID
    scopes: str
    key_id: uuid.UUID | None


def sqlite_session_owner(url: str, *, head: str, key_hash: str | None) -> SessionOwner | None:
    """Who a stdio session on the SQLite store at `url` acts for, if the store is at migration `head`.

    With `key_hash` (the SHA-256 of the session's key): the key's organization and scopes, unless it is unknown or
    revoked. Without: the store's only organization, with every scope. `None` whenever this cannot say yes.
    """
    path = _plain_file(url)
    if path is None or not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return _owner(connection, head, key_hash)
    except sqlite3.Error:
        return None


def _plain_file(url: str) -> Path | None:
    for prefix in _SQLITE_PREFIXES:
        if url.startswith(prefix):
            rest = url.removeprefix(prefix)
            if rest and "?" not in rest and "%" not in rest and rest != ":memory:":
                return Path(rest)
    return None


def _owner(connection: sqlite3.Connection, head: str, key_hash: str | None) -> SessionOwner | None:
    versions = connection.execute(_VERSION_SQL).fetchall()
    if key_hash is not None:
        return _key_owner(versions, head, connection.execute(_KEY_SQL.format("?"), (key_hash,)).fetchall())
    return _only_org_owner(versions, head, connection.execute(_ORGS_SQL).fetchall())


async def postgresql_session_owner(url: str, *, head: str, key_hash: str | None) -> SessionOwner | None:
    """`sqlite_session_owner` for a PostgreSQL store: the same answer, through one short `asyncpg` connection."""
    dsn = _plain_postgresql(url)
    if dsn is None:
        return None
    import asyncpg  # only here: a SQLite store's start never needs it

    try:
        connection = await asyncpg.connect(dsn, timeout=POSTGRESQL_TIMEOUT)
        try:
            versions = await connection.fetch(_VERSION_SQL, timeout=POSTGRESQL_TIMEOUT)
            if key_hash is not None:
                keys = await connection.fetch(_KEY_SQL.format("$1"), key_hash, timeout=POSTGRESQL_TIMEOUT)
                return _key_owner(versions, head, keys)
            return _only_org_owner(versions, head, await connection.fetch(_ORGS_SQL, timeout=POSTGRESQL_TIMEOUT))
        finally:
            await connection.close(timeout=POSTGRESQL_TIMEOUT)
    except Exception:  # any failure means "cannot say yes"; the full path explains it
        return None


def _plain_postgresql(url: str) -> str | None:
    for prefix in _POSTGRESQL_PREFIXES:
        if url.startswith(prefix) and "?" not in url:
            return "postgresql://" + url.removeprefix(prefix)
    return None


def _key_owner(versions: list[Any], head: str, keys: list[Any]) -> SessionOwner | None:
    if [tuple(row) for row in versions] != [(head,)] or len(keys) != 1:
        return None
    org_id, scopes, key_id = keys[0]
    return SessionOwner(uuid.UUID(str(org_id)), scopes, uuid.UUID(str(key_id)))


def _only_org_owner(versions: list[Any], head: str, orgs: list[Any]) -> SessionOwner | None:
    if [tuple(row) for row in versions] != [(head,)] or len(orgs) != 1:
        return None
    return SessionOwner(uuid.UUID(str(orgs[0][0])), "read,write,admin", None)
