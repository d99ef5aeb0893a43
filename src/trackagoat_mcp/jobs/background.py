"""The background jobs of a process that serves (`serve`, `worker`): its TikTok client source and its scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.runs import process_name
from trackagoat_mcp.jobs.scheduler import Scheduler, default_jobs
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

__all__ = ["background_jobs"]


@asynccontextmanager
async def background_jobs(
    settings: Settings, db: Database, *, enabled: bool
) -> AsyncIterator[tuple[TikTokAccess, Scheduler | None]]:
    """The process's TikTok client source and, when `enabled`, its scheduler running in the background.

    Yields `(tiktok, scheduler or None)`; leaving the block stops the jobs (claims are handed back) and closes
    the HTTP client.
    """
    clock = SystemClock()
    tiktok = TikTokAccess(settings)
    scheduler = Scheduler(default_jobs(db, settings, clock, process_name(), tiktok=tiktok), clock) if enabled else None
    try:
        async with anyio.create_task_group() as group:
            if scheduler is not None:
                await group.start(scheduler.run)
            yield tiktok, scheduler
            group.cancel_scope.cancel()
    finally:
        await tiktok.aclose()
