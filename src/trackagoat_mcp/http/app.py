"""`build_app(settings)`: the ASGI app of `trackagoat-mcp serve --transport http`.

Routes:

* `/mcp`: Streamable HTTP with JSON responses. Handshake-era clients (2025-11-25 and older) get
  stateful sessions (`Mcp-Session-Id`, bound to the key that opened them); 2026-07-28 clients are
  served statelessly, the SDK routing each request by its `MCP-Protocol-Version` header.
* `/sse` + `/messages/`: the legacy HTTP+SSE transport, for clients that still need it.
* `/api/v1/…`: the REST API (`http/rest/`), over the same domain functions and records as the tools.
* `/healthz`: unauthenticated; 200 `{"status": "ok"}` when a trivial query answers within 5 s, else 503.

Every path goes through `Guard` (Host/Origin checks on all, the failed-authentication throttle, bearer key
and rate limits on all but `/healthz`), then `BodyDeadline` (a body arrives whole within
`TRACKAGOAT_BODY_TIMEOUT_SECONDS` and `MAX_BODY_BYTES`, else 408/413), then the session caps:
`SessionCaps` on `/mcp` and `StreamCaps` on `/sse` + `/messages/`, sharing one `SessionBudget`. There is
no CORS middleware: browsers on other origins cannot call the server.

Nothing happens at build time beyond wiring: `Database.connect` does no I/O. The lifespan checks the
store is migrated and runs the Streamable HTTP session manager, which can be entered once per app, so
build a fresh app for every server (and every test).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.transport_security import TransportSecuritySettings
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from trackagoat_mcp.clock import Clock, SystemClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.migrate import ensure_migrated
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.http.budget import SessionBudget
from trackagoat_mcp.http.deadlines import BodyDeadline
from trackagoat_mcp.http.guard import Guard, allowed_host_patterns, allowed_origins
from trackagoat_mcp.http.keys import KeyVerifier
from trackagoat_mcp.http.limits import RateLimiter
from trackagoat_mcp.http.rest.app import build_rest_app, rest_aware_not_found
from trackagoat_mcp.http.rest.deps import RestState
from trackagoat_mcp.http.sessions import SessionCaps
from trackagoat_mcp.http.streams import StreamCaps
from trackagoat_mcp.jobs.scheduler import Scheduler
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.server.app import build_server

__all__ = ["HEALTH_TIMEOUT_SECONDS", "MAX_BODY_BYTES", "build_app"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""Largest accepted request body (1 MiB); the biggest legitimate call (a 20,000-character readme) is far below."""

HEALTH_TIMEOUT_SECONDS = 5.0


def build_app(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    tiktok: TikTokAccess | None = None,
    scheduler: Scheduler | None = None,
) -> Starlette:
    """Build the HTTP app (see the module docstring).

    Args:
        settings: toolsets, read-only mode, database URL, rate limits, session caps, timeouts and allowed hosts.
        db: an open `Database` to use (tests, the CLI); otherwise the app opens one and disposes it at shutdown.
        clock: the clock (default: the system clock); stamps `last_used_at` and tool writes.
        tiktok, scheduler: the process's TikTok client source and background jobs, passed to `build_server`.
    """
    the_clock = clock or SystemClock()
    database = db or Database.for_settings(settings)
    access = tiktok or TikTokAccess(settings)  # one TikTok client for both doors (built only if something scrapes)
    server = build_server(settings, db=database, clock=the_clock, stdio=False, tiktok=access, scheduler=scheduler)
    rest = build_rest_app(RestState(settings, database, the_clock, access, scheduler), max_body_bytes=MAX_BODY_BYTES)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=allowed_host_patterns(settings.allowed_hosts),
        allowed_origins=allowed_origins(settings.allowed_hosts),
    )
    streamable = server.streamable_http_app(
        streamable_http_path="/mcp",
        json_response=True,
        transport_security=security,
        max_request_body_size=MAX_BODY_BYTES,
        session_idle_timeout=settings.session_idle_seconds,
        max_sessions=settings.max_sessions,  # a backstop: SessionCaps refuses first, with Retry-After
    )
    sse = server.sse_app(
        sse_path="/sse", message_path="/messages/", transport_security=security, max_request_body_size=MAX_BODY_BYTES
    )
    session_manager = server.session_manager

    async def healthz(_request: Request) -> JSONResponse:
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_SECONDS):
                async with database.read() as session:
                    await session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure at all means "not healthy"; the type is enough for the log
            logger.warning("Health check failed: the database did not answer (%s).", type(exc).__name__)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            await ensure_migrated(database)
            async with session_manager.run():
                yield
        finally:
            if tiktok is None:
                await access.aclose()
            if db is None:
                await database.dispose()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        *streamable.routes,
        *sse.routes,
        Mount("/api/v1", app=rest),
    ]
    budget = SessionBudget(
        per_key=settings.sessions_per_key,
        per_org=settings.sessions_per_org,
        per_process={"session": settings.max_sessions, "sse": settings.max_sse_streams},
    )
    middleware = [
        Middleware(
            Guard,
            verifier=KeyVerifier(database, the_clock, cache_seconds=settings.key_cache_seconds),
            limiter=RateLimiter(settings.rate_limit_per_minute),
            org_limiter=RateLimiter(settings.org_rate_limit_per_minute),
            failures=RateLimiter(settings.auth_failures_per_minute),
            allowed_hosts=settings.allowed_hosts,
            public_paths=("/healthz",),
        ),
        Middleware(BodyDeadline, seconds=settings.body_timeout_seconds, max_bytes=MAX_BODY_BYTES),
        Middleware(SessionCaps, budget=budget, idle_seconds=settings.session_idle_seconds),
        Middleware(StreamCaps, budget=budget),
    ]
    return Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={404: rest_aware_not_found}
    )
