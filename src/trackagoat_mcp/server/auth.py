"""Who a request acts for.

Over stdio the whole session is one caller, fixed at start: the organization and scopes of
`TRACKAGOAT_API_KEY`, or, when it is unset, the only organization of the store with every scope.
Over HTTP each request carries its own key (the HTTP layer verifies it and the SDK exposes it as the
request's access token).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from mcp.server.auth.middleware.auth_context import get_access_token

from trackagoat_mcp.db.models import ApiKey
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys, orgs
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.errors import ConfigError, Forbidden

__all__ = ["request_caller", "resolve_stdio_caller"]


async def resolve_stdio_caller(db: Database, api_key: str | None, *, now: datetime | None = None) -> Caller:
    """The caller of a stdio session (see the module docstring).

    Raises:
        ConfigError: the key is malformed, unknown or revoked; or no key was given and the store has
            no organization or several.
    """
    if api_key:
        async with db.write() as session:
            caller = await keys.authenticate(session, api_key)
            if caller is None:
                shown = api_key[:12] + "…" if len(api_key) > 12 else api_key
                raise ConfigError(
                    f"TRACKAGOAT_API_KEY {shown!r} is not a valid, unrevoked key of this store; create one with "
                    "`trackagoat-mcp keys create` and copy it exactly (tga_ followed by 64 hex characters)."
                )
            row = await session.get(ApiKey, caller.key_id)
            if row is not None and now is not None:
                row.last_used_at = now
                session.add(row)
            return caller
    async with db.read() as session:
        org = await orgs.only_org(session)
    return Caller(org_id=org.id, scopes=frozenset(ALL_SCOPES))


def _token_caller() -> Caller | None:
    token = get_access_token()
    if token is None:
        return None
    org_id, _, key_id = token.client_id.partition(":")
    return Caller(
        org_id=uuid.UUID(org_id), scopes=frozenset(token.scopes), key_id=uuid.UUID(key_id) if key_id else None
    )


class HasCaller(Protocol):
    """What `request_caller` needs of the server's state (the `AppContext`)."""

    caller: Caller | None


def request_caller(app: HasCaller) -> Caller:
    """The caller of the current request: the HTTP key's, else the stdio session's."""
    caller = _token_caller()
    if caller is not None:
        return caller
    fixed = app.caller
    if fixed is None:
        raise Forbidden("This request carries no API key; send Authorization: Bearer tga_… .")
    return fixed
