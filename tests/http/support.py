"""Helpers of the HTTP tests: a real uvicorn server on a loopback socket, keys, and authenticated clients.

`serve(app)` runs the app in this process (so tests can use the `db` fixture on both backends and a frozen
clock) but over real TCP, so every request passes the same ASGI stack, headers and status codes as in
production. The socket is bound and listening before the server starts (port 0), so there is no free-port
race and no readiness wait: early connections wait in the backlog.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from starlette.types import ASGIApp

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys

SESSION_SECONDS = 60.0
"""Upper bound for one whole client session."""

MODERN, LEGACY = "2026-07-28", "2025-11-25"
ERAS = [("auto", MODERN), ("legacy", LEGACY)]


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) for the block; yields the base URL, e.g. `http://127.0.0.1:PORT`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.listen(128)  # connections queue in the backlog until uvicorn has run the lifespan and accepts them
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", timeout_graceful_shutdown=2))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
    sock.close()


async def make_key(
    db: Database, clock: FrozenClock, org_id: uuid.UUID, scopes: tuple[str, ...] = ("read", "write")
) -> str:
    """Create a key for `org_id` with `scopes`; returns the plaintext key."""
    async with db.write() as session:
        _row, key = await keys.create_key(session, org_id=org_id, name="http test", scopes=scopes, now=clock.now())
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@asynccontextmanager
async def mcp_client(base_url: str, key: str, mode: str = "auto") -> AsyncIterator[Client]:
    """An `mcp.Client` on `/mcp` sending `key` (mode "auto" lands on 2026-07-28, "legacy" on the handshake)."""
    with anyio.fail_after(SESSION_SECONDS):
        async with create_mcp_http_client(headers=bearer(key)) as http:
            async with Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client:
                yield client


@asynccontextmanager
async def sse_mcp_client(base_url: str, key: str) -> AsyncIterator[Client]:
    """An `mcp.Client` over the legacy SSE transport (`/sse` + `/messages/`) sending `key`."""
    with anyio.fail_after(SESSION_SECONDS):
        async with Client(sse_client(f"{base_url}/sse", headers=bearer(key))) as client:
            yield client


def raw_client(base_url: str) -> httpx2.AsyncClient:
    """A plain HTTP client for status-code checks (no MCP)."""
    return httpx2.AsyncClient(base_url=base_url, timeout=10.0)


DISCOVER = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "server/discover",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    },
}
"""A complete 2026-07-28 request, for raw HTTP checks."""

DISCOVER_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "server/discover",
}
