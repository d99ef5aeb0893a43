"""The tool catalogue: descriptions, schemas, annotations, toolsets, read-only mode and per-key scopes."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.conftest import make_org, make_server
from tests.server.conftest import (
    ADMIN,
    ADMIN_TOOLSETS,
    ALL_TOOLS,
    CAMPAIGNS,
    READS,
    dump_store,
    error_text,
    seed_world,
)

OPEN_WORLD = {"scrape_now", "add_creators", "add_videos"}  # the last two open short links on TikTok
"""The only tools that reach TikTok."""


async def tool_list(server: Any, mode: str = "auto") -> dict[str, Any]:
    async with Client(server, mode=mode) as client:
        return {tool.name: tool for tool in (await client.list_tools()).tools}


async def test_every_tool_has_a_description_an_output_schema_and_all_four_annotations(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS))

    assert set(tools) == ALL_TOOLS
    for name, tool in tools.items():
        assert tool.description and len(tool.description.split()) >= 8, f"{name}: no real description"
        schema = tool.output_schema
        assert schema and schema.get("type") == "object" and schema.get("properties"), f"{name}: no output schema"
        hints = tool.annotations
        assert hints is not None, f"{name}: no annotations"
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert isinstance(getattr(hints, hint), bool), f"{name}: {hint} is not set explicitly"
        reaches_tiktok = name in OPEN_WORLD
        assert hints.open_world_hint is reaches_tiktok, f"{name}: open_world_hint must be {reaches_tiktok}"
        assert hints.read_only_hint is (name in READS), f"{name}: read_only_hint {hints.read_only_hint}"
        if name in READS:
            assert hints.destructive_hint is False and hints.idempotent_hint is True, name


async def test_tools_that_delete_or_deactivate_say_they_are_destructive(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS))

    for name in (
        "delete_campaign",
        "remove_creator",
        "manage_api_keys",
        "delete_payout_method",
        "archive_payout_structure",
        "unassign_payout_structure",
        "update_payout_accrual",
    ):
        assert tools[name].annotations.destructive_hint is True, name
    for name in ("create_project", "create_campaign"):
        assert tools[name].annotations.idempotent_hint is False, name


async def test_get_campaign_stats_takes_its_start_date_as_from(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller))

    properties = tools["get_campaign_stats"].input_schema["properties"]
    assert {"campaign_id", "from", "to"} <= set(properties)
    assert "from_" not in properties


async def test_default_settings_expose_context_tracking_campaigns_and_notes_but_no_admin_tools(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller))

    assert set(tools) == ALL_TOOLS - ADMIN
    assert not ADMIN & set(tools)


async def test_a_single_toolset_exposes_only_its_own_tools(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller, toolsets=frozenset({"campaigns"})))

    assert set(tools) == CAMPAIGNS


async def test_read_only_mode_hides_every_tool_without_read_only_hint(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS, read_only=True))

    assert set(tools) == READS
    assert all(tool.annotations.read_only_hint is True for tool in tools.values())


async def test_read_only_mode_makes_write_tools_uncallable_and_changes_nothing(db, clock, acme):
    caller, project_id = acme
    before = await dump_store(db)
    async with Client(make_server(db, clock, caller, read_only=True)) as client:
        result = await client.call_tool("add_creators", {"project_id": str(project_id), "handles": ["alice"]})

    assert "add_creators" in error_text(result)
    assert await dump_store(db) == before


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_read_scoped_key_sees_only_read_tools(db, clock, mode):
    reader, _ = await make_org(db, clock, "Initech", scopes=("read",))
    tools = await tool_list(make_server(db, clock, reader, toolsets=ADMIN_TOOLSETS), mode)

    assert set(tools) == READS


async def test_a_read_scoped_key_is_refused_by_every_write_tool_and_nothing_is_written(db, clock):
    admin, project = await make_org(db, clock, "Initech")
    own = await seed_world(db, clock, (admin, project), "initech")
    reader = type(admin)(org_id=admin.org_id, scopes=frozenset({"read"}))
    all_tools = await tool_list(make_server(db, clock, admin, toolsets=ADMIN_TOOLSETS))
    writes = {name: tool for name, tool in all_tools.items() if not tool.annotations.read_only_hint}
    assert writes.keys() == ALL_TOOLS - READS

    values: dict[str, Any] = {
        "project_id": str(own.project),
        "creator_id": str(own.creator),
        "campaign_id": str(own.campaign),
        "entity_type": "creator",
        "entity_id": str(own.creator),
        "video_ids": [str(own.pending_video)],
        "name": "renamed",
        "handles": ["newcomer"],
        "readme": "notes",
        "patch": {"tier": "gold"},
        "description": "instructions",
        "urls": ["https://www.tiktok.com/@newcomer/video/7300000000000000000"],
        "goal_id": str(own.of("goal")),
        "metric": "posts",
        "period": "weekly",
        "target_value": 5,
    }
    values |= {
        "structure_id": str(own.of("structure")),
        "method_id": str(own.of("method")),
        "accrual_id": str(own.of("accrual")),
        "payment_id": str(own.of("payment")),
        "idempotency_key": "catalog-key",
        "creator_ids": [str(own.creator)],
        "period": "weekly",
        "amount_cents": 100,
        "criteria_type": "recurring",
        "reason": "because",
    }
    actions = {
        "update_payout_accrual": "void",
        "review_videos": "include",
        "manage_api_keys": "create",
        "set_video_tracking": "exclude",
    }
    before = await dump_store(db)
    async with Client(make_server(db, clock, reader, toolsets=ADMIN_TOOLSETS)) as client:
        for name, tool in sorted(writes.items()):
            required = tool.input_schema.get("required", [])
            args = {arg: actions[name] if arg == "action" else values[arg] for arg in required}
            text = error_text(await client.call_tool(name, args))
            assert f"Error executing tool {name}: [insufficient_scope]" in text, text
            assert "'write'" in text or "'admin'" in text, text

    assert await dump_store(db) == before


async def test_add_creators_with_a_read_scoped_key_is_refused_and_adds_nothing(db, clock):
    reader, project_id = await make_org(db, clock, "Initech", scopes=("read",))
    before = await dump_store(db)
    async with Client(make_server(db, clock, reader)) as client:
        result = await client.call_tool("add_creators", {"project_id": str(project_id), "handles": ["alice", "bob"]})

    assert error_text(result).startswith("Error executing tool add_creators: [insufficient_scope] ")
    assert await dump_store(db) == before


async def test_an_admin_key_with_the_admin_toolset_sees_set_description_and_manage_api_keys(db, clock, acme):
    caller, _ = acme
    tools = await tool_list(make_server(db, clock, caller, toolsets=ADMIN_TOOLSETS))

    assert ADMIN <= set(tools)
    assert all(tools[name].annotations.read_only_hint is False for name in ADMIN)


async def test_a_write_scoped_key_does_not_see_admin_tools_even_when_the_toolset_is_on(db, clock):
    writer, _ = await make_org(db, clock, "Initech", scopes=("read", "write"))
    tools = await tool_list(make_server(db, clock, writer, toolsets=ADMIN_TOOLSETS))

    assert set(tools) == ALL_TOOLS - ADMIN
