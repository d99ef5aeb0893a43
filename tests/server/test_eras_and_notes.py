"""Both protocol eras, and the split between human descriptions and the agent's readme and metadata."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import make_org, make_server
from tests.server.conftest import ADMIN_TOOLSETS, acme_world, describe, dump_store, error_text, ok


@pytest.mark.parametrize(("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
async def test_a_small_flow_works_in_both_protocol_eras(db, clock, acme, mode, version):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller), mode=mode) as client:
        assert client.protocol_version == version
        assert "get_agent_context" in (client.instructions or "")
        projects = ok(await client.call_tool("list_projects", {}))
        added = ok(
            await client.call_tool(
                "add_creators",
                {"project_id": projects["items"][0]["id"], "handles": ["@Alice", "https://www.tiktok.com/@bob"]},
            )
        )
        again = ok(await client.call_tool("add_creators", {"project_id": str(project_id), "handles": ["alice"]}))
        creator = await client.call_tool("get_creator", {"creator_id": added["results"][0]["creator_id"]})
        missing = await client.call_tool("get_creator", {"creator_id": "nope"})

    assert [p["id"] for p in projects["items"]] == [str(project_id)]
    assert [(r["tiktok_handle"], r["outcome"]) for r in added["results"]] == [("alice", "created"), ("bob", "created")]
    assert again["already_tracked"] == 1 and again["created"] == 0
    assert ok(creator)["tiktok_handle"] == "alice"
    assert "untrusted-data" not in creator.content[0].text  # type: ignore[union-attr]  # not scraped yet: no TikTok text
    assert "[not_found]" in error_text(missing)


ENTITIES = ["project", "creator", "video", "campaign"]


@pytest.mark.parametrize("kind", ENTITIES)
async def test_write_readme_and_write_metadata_never_change_the_description(db, clock, kind):
    world = await acme_world(db, clock)
    entity_id = str(world.of(kind))
    await describe(db, clock, world.caller.org_id, kind, world.of(kind), "Human: keep this.")
    target = {"entity_type": kind, "entity_id": entity_id}
    async with Client(make_server(db, clock, world.caller)) as client:
        readme = ok(await client.call_tool("write_readme", {**target, "readme": "description: overwritten?"}))
        merged = ok(
            await client.call_tool(
                "write_metadata", {**target, "patch": {"description": "Agent: ignore humans", "tier": "gold"}}
            )
        )
        replaced = ok(
            await client.call_tool(
                "write_metadata", {**target, "patch": {"description": None, "tier": "silver"}, "mode": "replace"}
            )
        )
        context = ok(await client.call_tool("get_agent_context", target))

    assert readme["readme"] == "description: overwritten?"
    assert merged["metadata"] == {"description": "Agent: ignore humans", "tier": "gold"}
    assert replaced["metadata"] == {"description": None, "tier": "silver"}
    assert context["chain"][0]["description"] == "Human: keep this."
    assert context["chain"][0]["readme"] == "description: overwritten?"


async def test_metadata_merges_as_a_json_merge_patch(db, clock):
    world = await acme_world(db, clock)
    target = {"entity_type": "creator", "entity_id": str(world.creator)}
    async with Client(make_server(db, clock, world.caller)) as client:
        ok(await client.call_tool("write_metadata", {**target, "patch": {"a": 1, "nested": {"x": 1, "y": 2}}}))
        merged = ok(await client.call_tool("write_metadata", {**target, "patch": {"a": None, "nested": {"y": 3}}}))
        creator = ok(await client.call_tool("get_creator", {"creator_id": str(world.creator)}))

    assert merged["metadata"] == {"nested": {"x": 1, "y": 3}}
    assert creator["metadata"] == {"nested": {"x": 1, "y": 3}}


async def test_set_description_with_a_write_scoped_key_is_refused_and_changes_nothing(db, clock):
    writer, project_id = await make_org(db, clock, "Initech", scopes=("read", "write"))
    await describe(db, clock, writer.org_id, "project", project_id, "Human: original.")
    before = await dump_store(db)
    async with Client(make_server(db, clock, writer, toolsets=ADMIN_TOOLSETS)) as client:
        result = await client.call_tool(
            "set_description",
            {"entity_type": "project", "entity_id": str(project_id), "description": "Agent: mine now."},
        )
        keys = await client.call_tool("manage_api_keys", {"action": "create", "name": "sneaky", "scopes": ["admin"]})

    assert error_text(result).startswith("Error executing tool set_description: [insufficient_scope] ")
    assert "'admin'" in error_text(result)
    assert "[insufficient_scope]" in error_text(keys)
    assert await dump_store(db) == before


async def test_set_description_with_an_admin_key_changes_only_the_description(db, clock):
    world = await acme_world(db, clock)
    target = {"entity_type": "campaign", "entity_id": str(world.campaign)}
    async with Client(make_server(db, clock, world.caller, toolsets=ADMIN_TOOLSETS)) as client:
        ok(await client.call_tool("write_readme", {**target, "readme": "agent notes"}))
        described = ok(await client.call_tool("set_description", {**target, "description": "  Human: focus on Q2.  "}))
        campaign = ok(await client.call_tool("get_campaign", {"campaign_id": str(world.campaign)}))

    assert described["description"] == "Human: focus on Q2."
    assert campaign["description"] == "Human: focus on Q2." and campaign["readme"] == "agent notes"
