"""Who a request acts for.

Over stdio the whole session is one caller, fixed at start: the organization and scopes of
`TRACKAGOAT_API_KEY`, or, when it is unset, the only organization of the store with every scope.
Over HTTP each request carries its own key (the HTTP layer verifies it and the SDK exposes it as the
request's access token).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from mcp.server.auth.middleware.auth_context import get_access_token

from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.preflight import postgresql_session_owner, sqlite_session_owner
from trackagoat_mcp.db.revisions import head_revision
from trackagoat_mcp.domain.caller import KEY_RE, Caller, hash_key
from trackagoat_mcp.errors import Forbidden

__all__ = ["quick_stdio_caller", "request_caller"]


async def quick_stdio_caller(settings: Settings) -> Caller | None:
    """The caller of a stdio session when a quick look at the store can tell (`db.preflight`), else None (then
    `server.assembly.resolve_stdio_caller` gives the answer, or the sentence saying what is wrong)."""
    key = settings.api_key
    if key and not KEY_RE.match(key):
        return None
    head, key_hash = head_revision(), hash_key(key) if key else None
    owner = sqlite_session_owner(settings.database_url, head=head, key_hash=key_hash)
    if owner is None:
        owner = await postgresql_session_owner(settings.database_url, head=head, key_hash=key_hash)
    if owner is None:
        return None
    return Caller(org_id=owner.org_id, scopes=frozenset(owner.scopes.split(",")), key_id=owner.key_id)


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
