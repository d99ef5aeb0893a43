"""The HTTP app over real loopback TCP, in-process, on SQLite and PostgreSQL: eras, SSE, keys, scopes, limits.

Every test builds a fresh app (`build_app`) over the test's database and serves it with uvicorn on a
loopback socket; MCP traffic goes through the real SDK client, status-code checks through plain HTTP.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
import pytest
from mcp.types import CallToolResult, TextContent

from tests.http.support import (
    DISCOVER,
    DISCOVER_HEADERS,
    ERAS,
    bearer,
    make_key,
    mcp_client,
    raw_client,
    serve,
    sse_mcp_client,
)
from tests.server.conftest import READS, mask, seed_world
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import keys
from trackagoat_mcp.http import MAX_BODY_BYTES, build_app


def app_for(db: Database, clock: Any, **settings: Any) -> Any:
    return build_app(Settings(database_url="sqlite://", **settings), db=db, clock=clock)


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


@pytest.mark.parametrize(("mode", "version"), ERAS)
async def test_an_agent_with_a_key_works_over_mcp_in_both_eras_as_its_organization(
    db, clock, acme, globex, mode, version
):
    key = await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock)) as url, mcp_client(url, key, mode) as client:
        assert client.protocol_version == version
        projects = await client.call_tool("list_projects", {})
        created = await client.call_tool("create_campaign", {"project_id": str(acme[1]), "name": "Spring push"})

    assert not created.is_error, text_of(created)
    assert projects.structured_content is not None
    assert [p["id"] for p in projects.structured_content["items"]] == [str(acme[1])], "only the key's organization"


async def test_a_legacy_sse_client_works_over_sse_with_a_key(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock)) as url, sse_mcp_client(url, key) as client:
        projects = await client.call_tool("list_projects", {})

    assert projects.structured_content is not None
    assert [p["id"] for p in projects.structured_content["items"]] == [str(acme[1])]


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        ("", None),
        ("Basic dXNlcjpwYXNz", "invalid_token"),
        ("Bearer", "invalid_token"),
        ("Bearer not-a-key", "invalid_token"),
        ("Bearer tga_" + "A" * 64, "invalid_token"),
        ("Bearer tga_" + "0" * 63, "invalid_token"),
        ("Bearer tga_" + "0" * 64, "invalid_token"),  # well-formed but unknown
    ],
    ids=["missing", "empty", "basic-scheme", "bearer-without-key", "not-a-key", "uppercase-hex", "short", "unknown"],
)
async def test_mcp_requests_without_a_valid_key_get_401_with_www_authenticate(db, clock, acme, authorization, error):
    headers = dict(DISCOVER_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        response = await http.post("/mcp", json=DISCOVER, headers=headers)

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="trackagoat-mcp"')
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
    assert "tga_0000" not in response.text, "the presented key is never echoed"


async def test_with_the_key_cache_off_a_revoked_key_gets_401_at_once_while_other_keys_keep_working(db, clock, acme):
    revoked, kept = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock, key_cache_seconds=0)) as url, raw_client(url) as http:
        before = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(revoked)})
        async with db.write() as session:
            await keys.revoke_key(session, ref=revoked, now=clock.now())
        after = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(revoked)})
        other = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(kept)})

    assert before.status_code == 200
    assert after.status_code == 401 and 'error="invalid_token"' in after.headers["WWW-Authenticate"]
    assert other.status_code == 200


async def test_the_sse_endpoints_refuse_requests_without_a_valid_key(db, clock, acme):
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        stream = await http.get("/sse")
        message = await http.post(f"/messages/?session_id={uuid.uuid4().hex}", json={"jsonrpc": "2.0", "id": 1})
        unknown = await http.get("/sse", headers=bearer("tga_" + "1" * 64))

    assert [r.status_code for r in (stream, message, unknown)] == [401, 401, 401]
    assert all("WWW-Authenticate" in r.headers for r in (stream, message, unknown))


@pytest.mark.parametrize(("mode", "version"), ERAS)
async def test_a_read_key_lists_only_read_tools_and_its_writes_are_refused(db, clock, acme, mode, version):
    read_key = await make_key(db, clock, acme[0].org_id, scopes=("read",))
    async with serve(app_for(db, clock)) as url, mcp_client(url, read_key, mode) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        write = await client.call_tool("create_campaign", {"project_id": str(acme[1]), "name": "Not allowed"})
        read = await client.call_tool("list_projects", {})

    assert listed and listed <= READS, f"write tools leaked to a read key: {sorted(listed - READS)}"
    assert write.is_error and "[insufficient_scope]" in text_of(write)
    assert "'write' scope" in text_of(write)
    assert not read.is_error


async def test_a_key_over_its_rate_limit_gets_429_with_retry_after_and_other_keys_are_unaffected(db, clock, acme):
    busy, quiet = await make_key(db, clock, acme[0].org_id), await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock, rate_limit_per_minute=3)) as url, raw_client(url) as http:
        statuses = [
            (await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(busy)})).status_code
            for _ in range(3)
        ]
        limited = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(busy)})
        other = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(quiet)})

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"] == "rate_limited"
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [("Host", "evil.example", 421), ("Host", "evil.example:8000", 421), ("Origin", "http://evil.example", 403)],
)
async def test_a_foreign_host_or_origin_is_refused_even_with_a_valid_key(db, clock, acme, header, value, status):
    key = await make_key(db, clock, acme[0].org_id)
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        response = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key), header: value})
        sse = await http.get("/sse", headers={**bearer(key), header: value})

    assert (response.status_code, sse.status_code) == (status, status)


async def test_hosts_configured_for_a_proxy_and_same_site_origins_are_accepted(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    app = app_for(db, clock, allowed_hosts=("mcp.example.com",))
    async with serve(app) as url, raw_client(url) as http:
        proxied = await http.post(
            "/mcp",
            json=DISCOVER,
            headers={**DISCOVER_HEADERS, **bearer(key), "Host": "mcp.example.com", "Origin": "https://mcp.example.com"},
        )
        local_origin = await http.post(
            "/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key), "Origin": "http://localhost:6274"}
        )

    assert (proxied.status_code, local_origin.status_code) == (200, 200)


async def test_a_request_body_over_the_cap_gets_413(db, clock, acme):
    key = await make_key(db, clock, acme[0].org_id)
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"' + b"x" * MAX_BODY_BYTES + b'"}}'
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        response = await http.post("/mcp", content=body, headers={**DISCOVER_HEADERS, **bearer(key)})

    assert response.status_code == 413


async def test_healthz_answers_ok_without_a_key_and_there_is_no_cors(db, clock):
    async with serve(app_for(db, clock)) as url, raw_client(url) as http:
        health = await http.get("/healthz")
        preflight = await http.options(
            "/mcp", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
        )

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert "access-control-allow-origin" not in {k.lower() for k in preflight.headers}


async def test_healthz_answers_503_when_the_database_does_not_answer(clock):
    unreachable = Database.connect("postgresql+asyncpg://nobody@127.0.0.1:9/nothing")
    app = build_app(Settings(database_url="sqlite://"), db=unreachable, clock=clock)
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
            response = await http.get("/healthz")
    finally:
        await unreachable.dispose()

    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})


async def test_another_organizations_ids_look_exactly_like_ids_that_do_not_exist_over_http(db, clock, acme, globex):
    world_a = await seed_world(db, clock, acme, "a")
    key_b = await make_key(db, clock, globex[0].org_id)
    calls = [
        ("get_creator", "creator_id", world_a.creator),
        ("get_video", "video_id", world_a.counted_video),
        ("get_campaign", "campaign_id", world_a.campaign),
        ("get_agent_context", "entity_id", world_a.project),
    ]
    async with serve(app_for(db, clock)) as url, mcp_client(url, key_b) as client:
        for tool, arg, foreign_id in calls:
            extra = {"entity_type": "project"} if tool == "get_agent_context" else {}
            random_id = uuid.uuid4()
            foreign = await client.call_tool(tool, {arg: str(foreign_id), **extra})
            missing = await client.call_tool(tool, {arg: str(random_id), **extra})

            assert foreign.is_error and missing.is_error, tool
            assert mask(text_of(foreign), foreign_id) == mask(text_of(missing), random_id), tool
