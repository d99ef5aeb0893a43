"""No tenant can exhaust what the others share: session and stream caps, strict Host/Origin, the
failed-authentication throttle, per-organization rate limits and clean answers for closed SSE streams.

Each test builds the app with small caps (settings) and serves it on a loopback socket; sessions are
opened with raw `initialize` requests so a test can hold many without many clients.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import anyio
import httpx2
import pytest

from tests.http.support import DISCOVER, DISCOVER_HEADERS, LEGACY, bearer, make_key, mcp_client, raw_client, serve
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.http import build_app

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "caps-test", "version": "1"}},
}
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
WAIT_SECONDS = 10.0


def app_for(db: Database, clock: Any, **settings: Any) -> Any:
    return build_app(Settings(database_url="sqlite://", **settings), db=db, clock=clock)


async def open_session(http: httpx2.AsyncClient, key: str) -> httpx2.Response:
    """POST an `initialize` without a session id: the request that opens a Streamable HTTP session."""
    return await http.post("/mcp", json=INITIALIZE, headers={**JSON_HEADERS, **bearer(key)})


def assert_refused(response: httpx2.Response, status: int, error: str, *words: str) -> None:
    assert response.status_code == status, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    body = response.json()
    assert body["error"] == error
    assert all(word in body["error_description"] for word in words), body["error_description"]


async def test_a_key_and_an_organization_at_their_session_caps_get_429_while_another_organization_still_connects(
    db, clock, acme, globex
):
    first, second = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    outsider = await make_key(db, clock, globex[0].org_id)
    app = app_for(db, clock, sessions_per_key=2, sessions_per_org=3)
    async with serve(app) as url, raw_client(url) as http:
        held = [(await open_session(http, first)).status_code for _ in range(2)]
        over_key = await open_session(http, first)
        other_key = await open_session(http, second)
        over_org = await open_session(http, second)
        async with mcp_client(url, outsider, "legacy") as client:
            tools = (await client.list_tools()).tools
        ended = await http.delete(
            "/mcp", headers={**bearer(second), "Mcp-Session-Id": other_key.headers["mcp-session-id"]}
        )
        after_delete = await open_session(http, second)

    assert held == [200, 200]
    assert_refused(over_key, 429, "too_many_sessions", "This key holds 2 open MCP sessions", "SESSIONS_PER_KEY")
    assert other_key.status_code == 200, "another key of the organization still had room"
    assert_refused(over_org, 429, "too_many_sessions", str(acme[0].org_id), "hold 3 open MCP sessions")
    assert tools, "a key of another organization still opened a session and used it"
    assert ended.status_code == 200
    assert after_delete.status_code == 200, "a deleted session gave its place back"


async def test_a_real_client_that_closes_gives_its_session_back_at_once(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock, sessions_per_key=1)) as url:
        for _ in range(3):
            async with mcp_client(url, key, "legacy") as client:
                assert (await client.list_tools()).tools


async def test_the_process_session_cap_answers_503_with_retry_after_and_stateless_requests_still_pass(
    db, clock, acme, globex
):
    keys = [await make_key(db, clock, org[0].org_id) for org in (acme, acme, globex)]
    app = app_for(db, clock, max_sessions=2)
    async with serve(app) as url, raw_client(url) as http:
        opened = [(await open_session(http, key)).status_code for key in keys[:2]]
        refused = await open_session(http, keys[2])
        stateless = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(keys[2])})

    assert opened == [200, 200]
    assert_refused(refused, 503, "server_busy", "holds 2 open Streamable HTTP sessions", "TRACKAGOAT_MAX_SESSIONS")
    assert stateless.status_code == 200, "2026-07-28 requests open no session and are never counted"


async def test_idle_sessions_expire_and_give_their_places_back(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    app = app_for(db, clock, sessions_per_key=1, session_idle_seconds=1)
    async with serve(app) as url, raw_client(url) as http:
        first = await open_session(http, key)
        refused = await open_session(http, key)
        await anyio.sleep(1.3)
        expired = await http.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
            headers={**JSON_HEADERS, **bearer(key), "Mcp-Session-Id": first.headers["mcp-session-id"]},
        )
        again = await open_session(http, key)

    assert first.status_code == 200
    assert_refused(refused, 429, "too_many_sessions")
    assert 1 <= int(refused.headers["Retry-After"]) <= 2, "the idle session's expiry is the wait"
    assert expired.status_code == 404, "the SDK closed the idle session"
    assert again.status_code == 200


_LINES: dict[int, Any] = {}
"""The line iterator of each open stream: dropping one would close its stream (httpx closes on finalization)."""


async def open_stream(http: httpx2.AsyncClient, key: str, streams: list[httpx2.Response]) -> str | None:
    """GET /sse and keep the stream open (in `streams`); returns the endpoint it announced (None if refused)."""
    response = await http.send(http.build_request("GET", "/sse", headers=bearer(key)), stream=True)
    streams.append(response)
    if response.status_code != 200:
        await response.aread()
        return None
    lines = _LINES[id(response)] = response.aiter_lines()
    with anyio.fail_after(WAIT_SECONDS):
        async for line in lines:
            if line.startswith("data:"):
                return line[5:].strip()
    raise AssertionError("the stream announced no endpoint")


async def close_streams(streams: list[httpx2.Response]) -> None:
    for stream in streams:
        lines = _LINES.pop(id(stream), None)
        if lines is not None:
            await lines.aclose()
        await stream.aclose()


async def test_sse_streams_count_toward_the_key_budget_and_the_process_cap(db, clock, acme, globex):
    busy, other = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, globex[0].org_id)
    third = await make_key(db, clock, globex[0].org_id)
    app = app_for(db, clock, sessions_per_key=2, max_sse_streams=3)
    streams: list[httpx2.Response] = []
    async with serve(app) as url, raw_client(url) as http:
        try:
            for key in (busy, busy, busy, other, third):
                await open_stream(http, key, streams)
        finally:
            await close_streams(streams)
        for _attempt in range(100):  # the server notices the closed streams a moment later
            if await open_stream(http, busy, streams) is not None:
                break
            await anyio.sleep(0.05)
        await close_streams(streams[-1:])

    statuses = [s.status_code for s in streams[:5]]
    assert statuses == [200, 200, 429, 200, 503]
    assert_refused(streams[2], 429, "too_many_sessions", "This key holds 2 open MCP sessions")
    assert_refused(streams[4], 503, "server_busy", "TRACKAGOAT_MAX_SSE_STREAMS")
    assert streams[-1].status_code == 200, "closed streams gave their places back"


async def test_a_message_to_a_closed_or_unknown_sse_stream_gets_404_with_a_sentence_never_a_500(
    db, clock, acme, caplog
):
    key = await make_key(db, clock, acme[0].org_id)
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    caplog.set_level(logging.ERROR)
    streams: list[httpx2.Response] = []
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        endpoint = await open_stream(http, key, streams)
        assert endpoint is not None
        await close_streams(streams)
        closed = [await http.post(endpoint, json=ping, headers=bearer(key)) for _ in range(3)]
        unknown = await http.post(f"/messages/?session_id={uuid.uuid4().hex}", json=ping, headers=bearer(key))

    assert [r.status_code for r in closed] == [404, 404, 404]
    assert closed[0].json()["error"] == "stream_not_found"
    assert "GET /sse" in closed[0].json()["error_description"]
    assert unknown.status_code == 404
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no traceback was logged"


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [
        ("Host", "localhost:80@evil.com", 421),
        ("Host", "127.0.0.1:evil.com", 421),
        ("Host", "127.0.0.1:80:81", 421),
        ("Origin", "http://127.0.0.1:80.evil.com", 403),
        ("Origin", "http://user@localhost", 403),
    ],
)
async def test_hosts_and_origins_with_a_non_numeric_port_or_userinfo_are_refused_everywhere(
    db, clock, acme, header, value, status
):
    key = await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        mcp = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key), header: value})
        sse = await http.get("/sse", headers={**bearer(key), header: value})
        health = await http.get("/healthz", headers={header: value})

    assert (mcp.status_code, sse.status_code, health.status_code) == (status, status, status)


def from_address(url: str, address: str) -> httpx2.AsyncClient:
    """A plain HTTP client whose connections come from `address` (any of 127.0.0.0/8 reaches loopback)."""
    transport = httpx2.AsyncHTTPTransport(local_address=address)
    return httpx2.AsyncClient(base_url=url, timeout=10.0, transport=transport)


async def test_an_address_sending_unknown_keys_is_throttled_while_a_valid_key_elsewhere_is_served(db, clock, acme):
    valid = await make_key(db, clock, acme[0].org_id)
    guesses = [f"tga_{uuid.uuid4().hex}{uuid.uuid4().hex}" for _ in range(12)]
    app = app_for(db, clock, auth_failures_per_minute=5, rate_limit_per_minute=0)
    async with serve(app) as url, from_address(url, "127.0.0.2") as attacker, from_address(url, "127.0.0.1") as user:

        async def call(http: httpx2.AsyncClient, key: str) -> httpx2.Response:
            return await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key)})

        attempts = [await call(attacker, guess) for guess in guesses]
        valid_from_attacker = await call(attacker, valid)
        served = [await call(user, valid) for _ in range(5)]

    assert [r.status_code for r in attempts] == [401] * 5 + [429] * 7
    assert_refused(attempts[-1], 429, "auth_throttled", "'127.0.0.2'", "5 invalid keys")
    assert valid_from_attacker.status_code == 429, "the address is throttled before any key is looked up"
    assert [r.status_code for r in served] == [200] * 5, "another address with a valid key is unaffected"


async def test_keys_of_one_organization_share_its_request_rate_limit(db, clock, acme, globex):
    first, second = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    outsider = await make_key(db, clock, globex[0].org_id)
    app = app_for(db, clock, rate_limit_per_minute=3, org_rate_limit_per_minute=4)
    async with serve(app) as url, raw_client(url) as http:

        async def call(key: str) -> httpx2.Response:
            return await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key)})

        statuses = [(await call(first)).status_code for _ in range(3)] + [(await call(second)).status_code]
        over_org = await call(second)
        other_org = await call(outsider)

    assert statuses == [200, 200, 200, 200]
    assert_refused(over_org, 429, "rate_limited", str(acme[0].org_id), "ORG_RATE_LIMIT_PER_MINUTE")
    assert other_org.status_code == 200
