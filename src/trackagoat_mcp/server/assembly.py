"""The heavy half of a server: its tools, resources, store, caller and background jobs, put together.

`server.app` imports this module on a worker thread once the server runs (importing it imports every tool, the
domain and the store layer) and awaits `serve_assembled`, which makes the stack ready and holds it until the
server stops. The command line uses `resolve_stdio_caller` when its quick look cannot name the caller.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

from trackagoat_mcp.clock import Clock, SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.migrate import ensure_migrated
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys, orgs
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.errors import ConfigError
from trackagoat_mcp.jobs.background import background_jobs
from trackagoat_mcp.jobs.scheduler import Scheduler
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.server.confirm import confirmation_key
from trackagoat_mcp.server.context import AppContext
from trackagoat_mcp.server.registry import build_tools
from trackagoat_mcp.server.resources import register_resources
from trackagoat_mcp.server.toolsets import TOOL_GROUPS

if TYPE_CHECKING:
    from trackagoat_mcp.server.app import Stack

__all__ = ["resolve_stdio_caller", "serve_assembled"]


async def serve_assembled(
    server: MCPServer[Stack],
    stack: Stack,
    settings: Settings,
    *,
    db: Database | None,
    clock: Clock | None,
    stdio: bool,
    tiktok: TikTokAccess | None,
    scheduler: Scheduler | None,
    jobs: bool,
) -> None:
    """Assemble what `server` needs (see `build_server` for the arguments), make `stack` ready, and hold it until
    cancelled; then stop the jobs and close what was opened here, shielded from that cancellation."""
    tools = await anyio.to_thread.run_sync(_tools_of, settings)  # pydantic models and schemas, off the event loop
    register_resources(server)
    the_clock = clock or SystemClock()
    opened = AsyncExitStack()
    try:
        database = db
        if database is None:
            database = Database.for_settings(settings)
            opened.push_async_callback(database.dispose)
        await ensure_migrated(database)
        caller = stack.caller
        if stdio and caller is None:
            caller = await resolve_stdio_caller(database, settings.api_key, now=the_clock.now())
        elif stdio and caller is not None and caller.key_id is not None:
            # Found before the server ran (`cli`, `server.auth.quick_stdio_caller`): the key is used from now.
            async with database.write() as session:
                await keys.mark_used(session, caller.key_id, now=the_clock.now())
        if jobs:
            access, scheduler = await opened.enter_async_context(background_jobs(settings, database, enabled=True))
        elif tiktok is not None:
            access = tiktok
        else:
            access = TikTokAccess(settings)
            opened.push_async_callback(access.aclose)
        stack.ready(
            AppContext(settings, database, the_clock, caller, access, scheduler, confirmation_key(settings)), tools
        )
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await opened.aclose()


def _tools_of(settings: Settings) -> dict[str, Tool]:
    tools, _specs = build_tools(TOOL_GROUPS, toolsets=settings.toolsets, read_only=settings.read_only)
    return {tool.name: tool for tool in tools}


async def resolve_stdio_caller(db: Database, api_key: str | None, *, now: datetime | None = None) -> Caller:
    """The caller of a stdio session: the organization and scopes of `api_key` (marked used at `now`), or, without
    one, the store's only organization with every scope.

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
            if now is not None and caller.key_id is not None:
                await keys.mark_used(session, caller.key_id, now=now)
            return caller
    async with db.read() as session:
        org = await orgs.only_org(session)
    return Caller(org_id=org.id, scopes=frozenset(ALL_SCOPES))
