"""A stdio session's first look at a SQLite store, with the standard library alone.

`serve` must know, before it answers `tools/list`, that the store is migrated and whom the session acts for
(the tools a read-only key may not use are not listed). Asking through SQLAlchemy would import it, the models and
the domain first: most of a start's time. For a SQLite file this module asks `sqlite3` directly, read-only, in a
few milliseconds. It answers only a clear yes; anything else (PostgreSQL, a URL with options, a missing file, an
unknown or revoked key, several organizations, any error) is `None`, and the caller then takes the full path,
which gives the proper sentence for each failure.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

__all__ = ["SessionOwner", "sqlite_session_owner"]

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+aiosqlite:///", "sqlite+trackagoat:///")


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
    if connection.execute("SELECT version_num FROM alembic_version").fetchall() != [(head,)]:
        return None
    if key_hash is not None:
        rows = connection.execute(
            "SELECT org_id, scopes, id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        ).fetchall()
        if len(rows) != 1:
            return None
        org_id, scopes, key_id = rows[0]
        return SessionOwner(uuid.UUID(org_id), scopes, uuid.UUID(key_id))
    orgs = connection.execute("SELECT id FROM organizations LIMIT 2").fetchall()
    if len(orgs) != 1:
        return None
    return SessionOwner(uuid.UUID(orgs[0][0]), "read,write,admin", None)
