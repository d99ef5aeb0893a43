"""`trackagoat-mcp serve` as Claude Desktop runs it: a real stdio subprocess driven by the SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

from tests.e2e.support import CLI, Store, assert_refused_with_a_sentence

pytestmark = pytest.mark.slow

SESSION_SECONDS = 90
"""Upper bound for one whole client session (start, every call, shutdown)."""

DEFAULT_TOOLS = {
    "get_schema",
    "list_projects",
    "get_agent_context",
    "add_creators",
    "add_videos",
    "create_campaign",
    "set_campaign_items",
    "get_campaign_stats",
    "write_readme",
    "write_metadata",
}
ADMIN_TOOLS = {"set_description", "manage_api_keys"}


@asynccontextmanager
async def stdio_session(store: Store, **extra_env: str) -> AsyncIterator[tuple[Client, list[Exception]]]:
    """A client connected to `trackagoat-mcp serve` on `store`; yields it and the transport faults it saw.

    The stdio client hands the child only an allow-listed environment, so the store, the key and everything
    else go in `env=` explicitly. A line on the server's stdout that is not JSON-RPC reaches the client as an
    exception through `message_handler`; the list collects them so a test can insist there were none. (Once the
    SDK's stdio transport runs it diverts file descriptor 1 to stderr, so what this guards is everything the CLI
    writes before that: banners, migration output, stray prints during start-up.)
    """
    faults: list[Exception] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            faults.append(message)

    params = StdioServerParameters(command=str(CLI), args=["serve"], env=store.env(**extra_env), cwd=str(store.home))
    with anyio.fail_after(SESSION_SECONDS):
        async with Client(params, read_timeout_seconds=30, message_handler=on_message) as client:
            yield client, faults


async def call(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; returns its structured content."""
    result = await client.call_tool(name, arguments)
    assert not result.is_error, f"{name} failed: {text_of(result)}"
    content: dict[str, Any] | None = result.structured_content
    assert content is not None, f"{name} returned no structured content"
    return content


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


async def test_an_agent_can_set_up_a_campaign_read_its_stats_and_leave_notes_over_stdio(
    initialised_store: tuple[Store, str],
) -> None:
    sqlite_store, _ = initialised_store
    today = datetime.now(UTC).date()

    async with stdio_session(sqlite_store) as (client, faults):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools >= DEFAULT_TOOLS and not tools & ADMIN_TOOLS, f"default toolsets are all but admin: {tools}"

        projects = await call(client, "list_projects", {})
        assert [p["name"] for p in projects["items"]] == ["First project"]
        assert projects["next_cursor"] is None
        project_id = projects["items"][0]["id"]

        added = await call(
            client,
            "add_creators",
            {"project_id": project_id, "handles": ["@Alice.Goat", "https://www.tiktok.com/@bob_goat"]},
        )
        assert added["created"] == 2
        handles = {r["tiktok_handle"]: r["creator_id"] for r in added["results"]}
        assert set(handles) == {"alice.goat", "bob_goat"}

        videos = await call(
            client,
            "add_videos",
            {"project_id": project_id, "urls": ["https://www.tiktok.com/@carol/video/7300000000000000001"]},
        )
        [video] = videos["results"]
        assert (video["outcome"], video["tracking_status"]) == ("added", "direct_add")

        campaign = await call(
            client, "create_campaign", {"project_id": project_id, "name": "Q1 push", "target_views": 100_000}
        )
        campaign_id = campaign["id"]

        members = await call(
            client,
            "set_campaign_items",
            {
                "campaign_id": campaign_id,
                "add": [
                    {"item_type": "creator", "item_id": handles["alice.goat"]},
                    {"item_type": "video", "item_id": video["video_id"]},
                ],
            },
        )
        assert {k: v for k, v in members["item_counts"].items() if v} == {"creator": 1, "video": 1}

        week_ago = (today - timedelta(days=6)).isoformat()
        stats = await call(
            client, "get_campaign_stats", {"campaign_id": campaign_id, "from": week_ago, "to": today.isoformat()}
        )
        assert (stats["campaign_id"], stats["name"]) == (campaign_id, "Q1 push")
        assert (stats["range_from"], stats["range_to"]) == (week_ago, today.isoformat())
        assert stats["creators_in_tree"] == 1
        assert stats["lifetime"]["videos"] == 1, "the direct-add video counts; alice has no videos yet"
        assert stats["target_views"] == 100_000
        assert stats["children_total"] == 2
        assert ("video", video["video_id"]) in {(c["item_type"], c["item_id"]) for c in stats["children"]}

        readme = "## Q1 push\nAlice leads; re-check after the first scrape."
        note = await call(
            client, "write_readme", {"entity_type": "campaign", "entity_id": campaign_id, "readme": readme}
        )
        assert note["readme"] == readme

        await call(
            client,
            "write_metadata",
            {"entity_type": "campaign", "entity_id": campaign_id, "patch": {"reviewed": True, "score": 3}},
        )
        merged = await call(
            client,
            "write_metadata",
            {"entity_type": "campaign", "entity_id": campaign_id, "patch": {"score": None, "tier": "gold"}},
        )
        assert merged["metadata"] == {"reviewed": True, "tier": "gold"}

        context = await call(client, "get_agent_context", {"entity_type": "video", "entity_id": video["video_id"]})
        chain = [(link["entity_type"], str(link["id"])) for link in context["chain"]]
        assert chain == [("video", video["video_id"]), ("campaign", campaign_id), ("project", project_id)]
        assert context["chain"][1]["readme"] == readme

    assert faults == [], f"the server wrote something other than JSON-RPC to stdout: {faults!r}"


async def test_a_read_only_key_is_listed_only_read_tools(initialised_store: tuple[Store, str]) -> None:
    sqlite_store, _ = initialised_store
    _, read_key = sqlite_store.create_key("--name", "analyst", "--scopes", "read")

    async with stdio_session(sqlite_store, TRACKAGOAT_API_KEY=read_key) as (client, faults):
        tools = (await client.list_tools()).tools

    names = {tool.name for tool in tools}
    assert {"list_projects", "get_agent_context", "get_campaign_stats"} <= names
    writers = [t.name for t in tools if t.annotations is None or t.annotations.read_only_hint is not True]
    assert writers == [], f"a read key was shown tools that write: {writers}"
    assert faults == []


async def test_a_read_only_key_can_read_but_every_write_is_refused(initialised_store: tuple[Store, str]) -> None:
    sqlite_store, _ = initialised_store
    _, read_key = sqlite_store.create_key("--name", "analyst", "--scopes", "read")

    async with stdio_session(sqlite_store, TRACKAGOAT_API_KEY=read_key) as (client, faults):
        [project] = (await call(client, "list_projects", {}))["items"]
        refused = await client.call_tool("add_creators", {"project_id": project["id"], "handles": ["someone"]})
        after = (await call(client, "list_projects", {}))["items"]

    assert refused.is_error, "every write re-checks the scope, listed or not"
    assert "'write' scope" in text_of(refused)
    assert after[0]["creator_count"] == 0, "the refused write changed nothing"
    assert faults == []


async def test_campaign_stats_break_down_every_direct_item_even_one_without_videos(
    initialised_store: tuple[Store, str],
) -> None:
    sqlite_store, _ = initialised_store

    async with stdio_session(sqlite_store) as (client, faults):
        [project] = (await call(client, "list_projects", {}))["items"]
        added = await call(client, "add_creators", {"project_id": project["id"], "handles": ["newcomer"]})
        creator_id = added["results"][0]["creator_id"]
        campaign = await call(client, "create_campaign", {"project_id": project["id"], "name": "Launch"})
        await call(
            client,
            "set_campaign_items",
            {"campaign_id": campaign["id"], "add": [{"item_type": "creator", "item_id": creator_id}]},
        )
        stats = await call(client, "get_campaign_stats", {"campaign_id": campaign["id"]})

    assert stats["children_total"] == 1
    assert [(c["item_type"], c["item_id"], c["lifetime"]["videos"]) for c in stats["children"]] == [
        ("creator", creator_id, 0)
    ], "a creator who has posted nothing is the one most behind; the breakdown must show it"
    assert faults == []


def test_serve_with_an_invalid_key_exits_with_a_sentence_and_an_empty_stdout(
    initialised_store: tuple[Store, str],
) -> None:
    sqlite_store, _ = initialised_store

    result = sqlite_store.cli("serve", TRACKAGOAT_API_KEY="tga_" + "0" * 64)

    assert_refused_with_a_sentence(result, "TRACKAGOAT_API_KEY")


def test_serve_with_a_malformed_key_exits_with_a_sentence_and_an_empty_stdout(
    initialised_store: tuple[Store, str],
) -> None:
    sqlite_store, _ = initialised_store

    result = sqlite_store.cli("serve", TRACKAGOAT_API_KEY="not-a-key")

    assert_refused_with_a_sentence(result, "TRACKAGOAT_API_KEY")
