"""What the server's lifespan yields (`AppContext`) and how a request gets its unit of work.

`unit(ctx, write=...)` is the one way a tool touches the store: it opens a read or write session,
finds the caller, and reads the clock once, so every timestamp written by one call is the same.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.jobs.scheduler import Scheduler
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.server.auth import request_caller

if TYPE_CHECKING:
    from trackagoat_mcp.server.app import Stack

__all__ = ["AppContext", "Unit", "app_context", "org_timezone", "unit"]


@dataclass
class AppContext:
    """Long-lived dependencies of a running server."""

    settings: Settings
    db: Database
    clock: Clock
    caller: Caller | None
    """The fixed caller of a stdio session; None when each request authenticates (HTTP)."""
    tiktok: TikTokAccess
    """The process's TikTok client (built on first use), for `scrape_now`."""
    scheduler: Scheduler | None = None
    """The background jobs running in this process, if any (`serve` without `--no-jobs`)."""
    confirmation_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Signs money confirmation tokens (`server.confirm.confirmation_key`)."""

    def queue_first_scrape(self, creator_ids: Sequence[uuid.UUID]) -> None:
        """Have the in-process scheduler scrape new creators now, without waiting for it.

        Without one (`--no-jobs`), nothing is lost: a creator never scraped is due, so a worker's next tick takes it.
        """
        if self.scheduler is not None and creator_ids:
            self.scheduler.request("scrape", creator_ids)


@dataclass(frozen=True)
class Unit:
    """One tool call's session, caller and moment."""

    session: AsyncSession
    caller: Caller
    now: datetime


def app_context(ctx: Context[Any]) -> AppContext:
    """The `AppContext` of the server handling this request."""
    stack: Stack = ctx.request_context.lifespan_context
    return stack.app


@asynccontextmanager
async def unit(ctx: Context[Any], *, write: bool = False) -> AsyncIterator[Unit]:
    """Open a unit of work for this request (committed on success when `write`)."""
    app = app_context(ctx)
    caller = request_caller(app)
    opener = app.db.write if write else app.db.read
    async with opener() as session:
        yield Unit(session=session, caller=caller, now=app.clock.now())


async def org_timezone(ctx: Context[Any]) -> str:
    """The IANA timezone of the caller's organization (one short read of its own)."""
    app = app_context(ctx)
    async with app.db.read() as session:
        return (await get_org(session, request_caller(app))).timezone
