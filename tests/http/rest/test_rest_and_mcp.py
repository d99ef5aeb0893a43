"""REST and MCP are two doors to one server: same records, same key budget, same refusals at the edge.

These run a real server on a loopback socket (uvicorn, the production ASGI stack) and talk to it with a plain HTTP
client written the way a newcomer's script would be (Bearer key, read `data`/`error`, follow `meta.nextCursor`) and
with the MCP SDK's client, for the same organization.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
from mcp import Client

from tests.http.support import make_key, mcp_client, raw_client, serve
from tests.server.conftest import acme_world
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.http import MAX_BODY_BYTES, build_app

Org = tuple[Caller, uuid.UUID]


async def _rest(http: httpx2.AsyncClient, key: str, path: str, **params: Any) -> Any:
    """What a minimal client does: one GET with the key; the `data` of a success, or fail on `error`."""
    response = await http.get(f"/api/v1{path}", params=params, headers={"Authorization": f"Bearer {key}"})
    body = response.json()
    assert body["error"] is None, body["error"]
    return body["data"]


async def _rest_all(http: httpx2.AsyncClient, key: str, path: str, **params: Any) -> list[Any]:
    rows: list[Any] = []
    cursor = None
    while True:
        response = await http.get(
            f"/api/v1{path}",
            params={**params, **({"cursor": cursor} if cursor else {})},
            headers={"Authorization": f"Bearer {key}"},
        )
        body = response.json()
        assert body["error"] is None, body["error"]
        rows += body["data"]
        cursor = body["meta"]["nextCursor"]
        if cursor is None:
            return rows


async def _tool(client: Client, name: str, **arguments: Any) -> Any:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    return result.structured_content


async def _tool_all(client: Client, name: str, **arguments: Any) -> list[Any]:
    rows: list[Any] = []
    cursor = None
    while True:
        page = await _tool(client, name, **arguments, **({"cursor": cursor} if cursor else {}))
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


async def test_a_minimal_rest_client_reads_exactly_what_the_mcp_tools_see(db: Database, clock: FrozenClock) -> None:
    world = await acme_world(db, clock)
    key = await make_key(db, clock, world.caller.org_id)
    app = build_app(Settings(database_url="sqlite://"), db=db, clock=clock)
    async with serve(app) as url, raw_client(url) as http, mcp_client(url, key) as mcp:
        creator_id, video_id, campaign_id = str(world.creator), str(world.counted_video), str(world.campaign)
        pairs = [
            (await _rest(http, key, f"/creators/{creator_id}"), await _tool(mcp, "get_creator", creator_id=creator_id)),
            (await _rest(http, key, f"/videos/{video_id}"), await _tool(mcp, "get_video", video_id=video_id)),
            (
                await _rest(http, key, f"/campaigns/{campaign_id}"),
                await _tool(mcp, "get_campaign", campaign_id=campaign_id),
            ),
            (
                await _rest(http, key, f"/payout-payments/{world.ids['payment']}"),
                await _tool(mcp, "get_payout_payment", payment_id=str(world.ids["payment"])),
            ),
            (
                await _rest(http, key, f"/payout-accruals/{world.ids['accrual']}"),
                await _tool(mcp, "get_payout_accrual", accrual_id=str(world.ids["accrual"])),
            ),
            (await _rest_all(http, key, "/creators", limit=1), await _tool_all(mcp, "list_creators", limit=1)),
            (await _rest_all(http, key, "/videos", limit=1), await _tool_all(mcp, "list_videos", limit=1)),
            (await _rest_all(http, key, "/campaigns", limit=1), await _tool_all(mcp, "list_campaigns", limit=1)),
            (
                await _rest_all(http, key, "/payout-accruals", creator_id=creator_id, status="earned"),
                await _tool_all(mcp, "list_payout_accruals", creator_id=creator_id, status="earned"),
            ),
            (
                await _rest_all(http, key, "/payout-payments", limit=1),
                await _tool_all(mcp, "list_payout_payments", limit=1),
            ),
        ]
    for rest, tool in pairs:
        assert rest == tool
    assert all(rest for rest, _ in pairs), "every pair compared real data"


async def test_rest_and_mcp_share_one_rate_limit_budget_per_key(db: Database, clock: FrozenClock, acme: Org) -> None:
    key = await make_key(db, clock, acme[0].org_id)
    app = build_app(Settings(database_url="sqlite://", rate_limit_per_minute=3), db=db, clock=clock)
    headers = {"Authorization": f"Bearer {key}"}
    async with serve(app) as url, raw_client(url) as http:
        rest = [await http.get("/api/v1/projects", headers=headers) for _ in range(2)]
        mcp = await http.post("/mcp", headers={**headers, "Content-Type": "application/json"}, content=b"{}")
        limited = await http.get("/api/v1/projects", headers=headers)
    assert [r.status_code for r in rest] == [200, 200]
    assert mcp.status_code != 429  # the third request of the minute, through the other door
    assert limited.status_code == 429
    body = limited.json()
    assert body["data"] is None and body["meta"]["code"] == "rate_limit_exceeded"
    assert body["meta"]["retryAfter"] == int(limited.headers["retry-after"]) >= 1


async def test_an_oversized_rest_body_is_413_in_the_envelope(db: Database, clock: FrozenClock, acme: Org) -> None:
    key = await make_key(db, clock, acme[0].org_id)
    app = build_app(Settings(database_url="sqlite://"), db=db, clock=clock)
    async with serve(app) as url, raw_client(url) as http:
        response = await http.post(
            "/api/v1/projects",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            content=b'{"name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}',
        )
    assert response.status_code == 413
    assert response.json()["meta"] == {"code": "payload_too_large"}


async def test_a_foreign_origin_is_refused_in_the_envelope(db: Database, clock: FrozenClock, acme: Org) -> None:
    key = await make_key(db, clock, acme[0].org_id)
    app = build_app(Settings(database_url="sqlite://"), db=db, clock=clock)
    async with serve(app) as url, raw_client(url) as http:
        response = await http.get(
            "/api/v1/projects", headers={"Authorization": f"Bearer {key}", "Origin": "https://evil.example"}
        )
    assert response.status_code == 403 and response.json()["meta"] == {"code": "forbidden_origin"}
