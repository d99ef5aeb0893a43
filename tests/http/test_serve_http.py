"""`trackagoat-mcp serve --transport http` as a deployment runs it: a real server process on a loopback port.

One server process (SQLite store, rate limit 40/minute) serves the whole module; each test uses its own keys
so the per-key rate limit of one test cannot leak into another. The server is always terminated.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp.types import CallToolResult, TextContent

from tests.e2e.support import CLI, UUID_RE, Store
from tests.http.support import (
    DISCOVER,
    DISCOVER_HEADERS,
    ERAS,
    bearer,
    mcp_client,
    raw_client,
    server_processes,
    sse_mcp_client,
)
from tests.server.conftest import READS, mask

pytestmark = pytest.mark.slow

RATE_LIMIT = 40
ORG_A = "Default organization"


@dataclass(frozen=True)
class Running:
    url: str
    store: Store
    key_a: str
    """Read/write key of the first organization (the one `init` made)."""
    key_b: str
    """Read/write key of a second organization."""
    log: Path

    def new_key(self, *args: str) -> str:
        """A fresh key of the first organization (`keys create --org ... *args`)."""
        return self.store.create_key("--org", ORG_A, *args)[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("serve_http")
    home = root / "home"
    home.mkdir()
    store = Store(url=f"sqlite+aiosqlite:///{root / 'store.db'}", home=home)
    key_a = store.init()
    globex = store.ok("orgs", "create", "Globex").stdout
    key_b = store.create_key("--org", UUID_RE.findall(globex)[0])[1]

    log = root / "server.log"
    env = store.env(TRACKAGOAT_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT))
    with server_processes([str(CLI)], env, [log], cwd=home) as (url,):
        yield Running(url=url, store=store, key_a=key_a, key_b=key_b, log=log)


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


@pytest.mark.parametrize(("mode", "version"), ERAS)
async def test_both_protocol_eras_work_over_mcp_on_a_real_server(server, mode, version):
    key = server.new_key()
    async with mcp_client(server.url, key, mode) as client:
        assert client.protocol_version == version
        tools = {tool.name for tool in (await client.list_tools()).tools}
        projects = await client.call_tool("list_projects", {})

    assert {"list_projects", "create_campaign", "get_agent_context"} <= tools
    assert not projects.is_error and projects.structured_content is not None
    assert len(projects.structured_content["items"]) == 1


async def test_sse_works_on_a_real_server(server):
    async with sse_mcp_client(server.url, server.new_key()) as client:
        projects = await client.call_tool("list_projects", {})

    assert not projects.is_error and projects.structured_content is not None


async def test_every_kind_of_bad_key_gets_401_with_www_authenticate_on_a_real_server(server):
    revoked_id, revoked = server.store.create_key("--org", ORG_A)
    server.store.ok("keys", "revoke", revoked_id)
    presented = {
        "missing": None,
        "malformed": "Bearer tga_nothex",
        "unknown": "Bearer tga_" + "0" * 64,
        "revoked": f"Bearer {revoked}",
    }
    async with raw_client(server.url) as http:
        for case, authorization in presented.items():
            headers = dict(DISCOVER_HEADERS)
            if authorization:
                headers["Authorization"] = authorization
            response = await http.post("/mcp", json=DISCOVER, headers=headers)
            sse = await http.get("/sse", headers={k: v for k, v in headers.items() if k == "Authorization"})

            assert (response.status_code, sse.status_code) == (401, 401), case
            assert response.headers["WWW-Authenticate"].startswith("Bearer "), case
            assert revoked not in response.text
    assert revoked not in server.log.read_text(), "keys never reach the log"


@pytest.mark.parametrize(("mode", "version"), ERAS)
async def test_a_read_key_lists_and_calls_only_read_tools_on_a_real_server(server, mode, version):
    read_key = server.new_key("--scopes", "read")
    async with mcp_client(server.url, read_key, mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        project_id = (await client.call_tool("list_projects", {})).structured_content["items"][0]["id"]  # type: ignore[index]
        refused = await client.call_tool("create_campaign", {"project_id": project_id, "name": "No"})

    assert tools and tools <= READS
    assert refused.is_error and "[insufficient_scope]" in text_of(refused)


async def test_a_real_server_answers_429_with_retry_after_past_the_rate_limit(server):
    key = server.new_key()
    async with raw_client(server.url) as http:
        statuses = [
            (await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key)})).status_code
            for _ in range(RATE_LIMIT)
        ]
        limited = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key)})

    assert set(statuses) == {200}
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


async def test_a_real_server_refuses_a_foreign_host_and_origin_and_serves_healthz_without_a_key(server):
    key = server.new_key()
    async with raw_client(server.url) as http:
        host = await http.post("/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key), "Host": "evil.test"})
        origin = await http.post(
            "/mcp", json=DISCOVER, headers={**DISCOVER_HEADERS, **bearer(key), "Origin": "https://evil.test"}
        )
        health = await http.get("/healthz")

    assert (host.status_code, origin.status_code) == (421, 403)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})


async def test_two_organizations_keys_cannot_see_each_others_data_over_http(server):
    async with mcp_client(server.url, server.key_a) as a:
        project_a = (await a.call_tool("list_projects", {})).structured_content["items"][0]["id"]  # type: ignore[index]
        campaign = await a.call_tool("create_campaign", {"project_id": project_a, "name": "A's secret campaign"})
        campaign_a = campaign.structured_content["id"]  # type: ignore[index]

    async with mcp_client(server.url, server.key_b) as b:
        projects_b = (await b.call_tool("list_projects", {})).structured_content["items"]  # type: ignore[index]
        random_id = str(uuid.uuid4())
        foreign = await b.call_tool("get_campaign", {"campaign_id": campaign_a})
        missing = await b.call_tool("get_campaign", {"campaign_id": random_id})
        foreign_context = await b.call_tool("get_agent_context", {"entity_type": "project", "entity_id": project_a})
        missing_context = await b.call_tool("get_agent_context", {"entity_type": "project", "entity_id": random_id})

    assert project_a not in {p["id"] for p in projects_b}
    assert foreign.is_error and mask(text_of(foreign), campaign_a) == mask(text_of(missing), random_id)
    assert foreign_context.is_error
    assert mask(text_of(foreign_context), project_a) == mask(text_of(missing_context), random_id)
