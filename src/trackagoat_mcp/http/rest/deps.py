"""What every `/api/v1` route is given: the process's long-lived things (`RestState`) and the request's caller.

The caller comes from the key `Guard` verified for this request (`scope["user"]`, as the SDK's bearer middleware
leaves it); the scope a route needs follows from its method (`read` for GET, `write` for POST/PATCH/DELETE) unless
the route asks for `admin`. The domain re-checks scopes on its own, so a route that forgot could not write anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from starlette.requests import Request

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Forbidden
from trackagoat_mcp.jobs.scheduler import Scheduler
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

__all__ = ["CallerDep", "RestState", "StateDep", "caller_of", "require_method_scope", "state_of"]


@dataclass
class RestState:
    """The long-lived dependencies the REST routes share with the MCP server of the same process."""

    settings: Settings
    db: Database
    clock: Clock
    tiktok: TikTokAccess
    scheduler: Scheduler | None = None

    def queue_first_scrape(self, creator_ids: Sequence[uuid.UUID]) -> None:
        """Have the in-process scheduler scrape new creators now (without one, a worker's next tick takes them)."""
        if self.scheduler is not None and creator_ids:
            self.scheduler.request("scrape", creator_ids)


def state_of(request: Request) -> RestState:
    """The `RestState` the app was built with."""
    state: RestState = request.app.state.rest
    return state


def caller_of(request: Request) -> Caller:
    """The organization and scopes of the key that authenticated this request."""
    user = request.scope.get("user")
    if not isinstance(user, AuthenticatedUser):
        raise Forbidden("This request carries no API key; send Authorization: Bearer tga_… .", required="read")
    org_id, _, key_id = user.access_token.client_id.partition(":")
    return Caller(
        org_id=uuid.UUID(org_id),
        scopes=frozenset(user.access_token.scopes),
        key_id=uuid.UUID(key_id) if key_id else None,
    )


def require_method_scope(request: Request) -> None:
    """Refuse (403 `insufficient_scope`) a key without the scope the request's method needs."""
    caller_of(request).require("read" if request.method in ("GET", "HEAD") else "write")


def require_admin(request: Request) -> None:
    """Refuse (403 `insufficient_scope`) a key without the `admin` scope."""
    caller_of(request).require("admin")


StateDep = Annotated[RestState, Depends(state_of)]
CallerDep = Annotated[Caller, Depends(caller_of)]
