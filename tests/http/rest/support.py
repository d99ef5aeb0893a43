"""Helpers of the REST tests: the whole HTTP app (Guard included) over httpx2's ASGI transport, with its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.http.app import build_app
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess

BASE = "http://127.0.0.1/api/v1"
TEST_SECONDS = 60.0


@asynccontextmanager
async def rest_client(
    db: Database, clock: FrozenClock, key: str | None, *, tiktok: TikTokAccess | None = None, **settings: Any
) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of `build_app(...)` at `/api/v1` (lifespan run), sending `key` as a bearer token when given."""
    app = build_app(Settings(database_url="sqlite://", **settings), db=db, clock=clock, tiktok=tiktok)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with anyio.fail_after(TEST_SECONDS):
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
                yield client


async def all_pages(client: httpx2.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a list, following `meta.nextCursor` to the end, as a minimal client does."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["error"] is None
        rows.extend(body["data"])
        cursor = body["meta"]["nextCursor"]
        if cursor is None:
            return rows
