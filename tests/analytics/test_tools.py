"""get_analytics and get_leaderboard through a real MCP client: arguments (`from`), results, fences, errors."""

from __future__ import annotations

import json

from mcp import Client

from tests.analytics.world import CAPTION
from tests.conftest import make_server
from tests.server.conftest import FENCE_OPEN, error_text, is_compact_json, ok, text_of, unfence


async def test_get_analytics_takes_from_and_to_and_answers_compact_json(db, clock, world):
    async with Client(make_server(db, clock, world.caller, toolsets=frozenset({"analytics"}))) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool(
            "get_analytics",
            {
                "entity_type": "campaign",
                "entity_id": str(world["Root"]),
                "granularity": "week",
                "from": "2026-03-02",
                "to": "2026-03-10",
            },
        )
        bad_metric = await client.call_tool(
            "get_analytics", {"entity_type": "creator", "entity_id": str(world["ana"]), "metric": "reach"}
        )
        backwards = await client.call_tool(
            "get_analytics",
            {"entity_type": "creator", "entity_id": str(world["ana"]), "from": "2026-03-09", "to": "2026-03-01"},
        )

    assert {"from", "to", "entity_type", "entity_id", "metric"} <= set(
        tools["get_analytics"].input_schema["properties"]
    )
    assert tools["get_analytics"].input_schema["required"] == ["entity_type", "entity_id"]
    series = ok(result)
    assert series["buckets"] == {
        "start": ["2026-03-02", "2026-03-09"],
        "value": [2300, 700],
        "partial": [False, True],
        "why": [None, ["in_progress"]],
    }
    assert "in_progress" in series["reasons"]
    text = text_of(result)
    assert not FENCE_OPEN.search(text) and is_compact_json(text) and json.loads(text) == series
    assert "metric" in error_text(bad_metric) and "'reach'" in error_text(bad_metric)
    assert "[invalid_input] from '2026-03-09' is after to '2026-03-01'" in error_text(backwards)


async def test_get_leaderboard_fences_video_captions_as_untrusted_text(db, clock, world):
    async with Client(make_server(db, clock, world.caller)) as client:
        videos = await client.call_tool(
            "get_leaderboard",
            {"project_id": str(world.project), "kind": "videos", "from": "2026-03-02", "to": "2026-03-10"},
        )
        creators = await client.call_tool("get_leaderboard", {"project_id": str(world.project)})

    fenced = unfence(text_of(videos))
    assert CAPTION in fenced.inside and CAPTION not in fenced.outside
    assert fenced.data == ok(videos)
    assert [item["views"] for item in ok(videos)["items"]] == [5000, 900]
    ranked = ok(creators)
    assert (ranked["kind"], ranked["order_by"], ranked["range_from"], ranked["range_to"]) == (
        "creators",
        "views",
        "2026-02-09",
        "2026-03-10",
    )
    assert [item["label"] for item in ranked["items"]] == ["@bo", "@ana"]
    assert not FENCE_OPEN.search(text_of(creators))
