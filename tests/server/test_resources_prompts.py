"""Resources (schema, guide, entities by id, context) and prompts."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from mcp import Client, MCPError

from tests.conftest import make_server
from tests.server.conftest import (
    INJECTION,
    acme_and_globex_worlds,
    acme_world,
    add_creator,
    add_video,
    describe,
    mask,
    unfence,
)


async def read_text(client: Client, uri: str) -> tuple[str, str | None]:
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    content = result.contents[0]
    return content.text, content.mime_type  # type: ignore[union-attr]


async def test_the_schema_and_guide_resources_are_readable(db, clock, acme):
    async with Client(make_server(db, clock, acme[0])) as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        schema, schema_type = await read_text(client, "trackagoat://schema")
        guide, guide_type = await read_text(client, "trackagoat://guide")
        tool_schema = (await client.call_tool("get_schema", {})).structured_content

    assert {"trackagoat://schema", "trackagoat://guide"} <= listed
    assert schema_type == "application/json" and json.loads(schema) == tool_schema
    assert {"project", "creator", "video", "campaign"} <= set(json.loads(schema)["entities"])
    assert guide_type == "text/markdown"
    assert "description" in guide and "get_agent_context" in guide and "untrusted" in guide.lower()


async def test_entity_resource_templates_are_listed(db, clock, acme):
    async with Client(make_server(db, clock, acme[0])) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}

    assert {
        "trackagoat://projects/{id}",
        "trackagoat://creators/{id}",
        "trackagoat://videos/{id}",
        "trackagoat://campaigns/{id}",
        "trackagoat://context/{entity_type}/{id}",
    } <= templates


async def test_entity_resources_return_the_same_record_as_the_get_tools(db, clock):
    world = await acme_world(db, clock)
    await describe(db, clock, world.caller.org_id, "project", world.project, "Report weekly.")
    async with Client(make_server(db, clock, world.caller)) as client:
        project, project_type = await read_text(client, f"trackagoat://projects/{world.project}")
        campaign, _ = await read_text(client, f"trackagoat://campaigns/{world.campaign}")
        video, video_type = await read_text(client, f"trackagoat://videos/{world.pending_video}")
        context, _ = await read_text(client, f"trackagoat://context/creator/{world.creator}")
        got_campaign = (await client.call_tool("get_campaign", {"campaign_id": str(world.campaign)})).structured_content
        got_video = (await client.call_tool("get_video", {"video_id": str(world.pending_video)})).structured_content
        got_context = (
            await client.call_tool("get_agent_context", {"entity_type": "creator", "entity_id": str(world.creator)})
        ).structured_content

    assert project_type == "application/json"
    assert json.loads(project)["id"] == str(world.project)
    assert json.loads(project)["description"] == "Report weekly."
    assert json.loads(campaign) == got_campaign
    assert video_type == "text/plain"
    assert unfence(video).data == got_video
    assert json.loads(context) == got_context
    assert [link["entity_type"] for link in json.loads(context)["chain"]] == ["creator", "campaign", "project"]


async def test_the_creator_resource_is_fenced_untrusted_data(db, clock, acme):
    caller, project_id = acme
    creator = await add_creator(db, clock, caller, project_id, "loud", display_name=INJECTION, bio=INJECTION)
    await add_video(db, clock, caller, project_id, creator, caption=INJECTION)
    async with Client(make_server(db, clock, caller)) as client:
        text, mime = await read_text(client, f"trackagoat://creators/{creator}")
        got = (await client.call_tool("get_creator", {"creator_id": str(creator)})).structured_content

    fenced = unfence(text)
    assert mime == "text/plain"
    assert INJECTION not in fenced.outside and fenced.inside == [INJECTION, INJECTION]
    assert fenced.data == got


RESOURCES = [
    ("projects/{}", "project"),
    ("creators/{}", "creator"),
    ("videos/{}", "video"),
    ("campaigns/{}", "campaign"),
    ("payout-structures/{}", "structure"),
    ("payout-accruals/{}", "accrual"),
    ("payout-payments/{}", "payment"),
    ("context/project/{}", "project"),
    ("context/creator/{}", "creator"),
    ("context/video/{}", "video"),
    ("context/campaign/{}", "campaign"),
]


@pytest.mark.parametrize(("pattern", "kind"), RESOURCES, ids=[p.split("/{")[0] + f"-{k}" for p, k in RESOURCES])
async def test_a_foreign_or_unknown_id_is_resource_not_found_and_reveals_nothing(db, clock, pattern, kind):
    victim, own = await acme_and_globex_worlds(db, clock)
    foreign, missing = str(victim.of(kind)), str(uuid.uuid4())
    errors: list[MCPError] = []
    async with Client(make_server(db, clock, own.caller)) as client:
        await read_text(client, "trackagoat://" + pattern.format(own.of(kind)))  # one's own is readable
        for entity_id in (foreign, missing):
            with pytest.raises(MCPError) as caught:
                await client.read_resource("trackagoat://" + pattern.format(entity_id))
            errors.append(caught.value)

    assert errors[0].code == errors[1].code == -32602  # resource not found
    assert "[not_found]" in errors[0].message
    assert mask(errors[0].message, foreign) == mask(errors[1].message, missing)
    assert "acme" not in errors[0].message.lower()


async def test_prompts_are_listed_with_their_arguments(db, clock, acme):
    async with Client(make_server(db, clock, acme[0])) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}

    assert {"analyze_campaign", "content_analysis"} <= set(prompts)
    analyze = {a.name: a.required for a in prompts["analyze_campaign"].arguments or []}
    assert analyze == {"campaign_id": True, "focus": False}
    content = {a.name: a.required for a in prompts["content_analysis"].arguments or []}
    assert content == {"campaign_id": True}
    for prompt in prompts.values():
        assert prompt.description


@pytest.mark.parametrize("name", ["analyze_campaign", "content_analysis"])
async def test_a_prompt_renders_the_campaign_id_into_its_text(db, clock, acme, name):
    campaign_id = str(uuid.uuid4())
    async with Client(make_server(db, clock, acme[0])) as client:
        result = await client.get_prompt(name, {"campaign_id": campaign_id})

    text = " ".join(m.content.text for m in result.messages)  # type: ignore[union-attr]
    assert campaign_id in text
    assert "{campaign_id}" not in text
    assert "get_agent_context" in text
    assert "untrusted" in text or "never follow" in text or "data" in text


async def test_analyze_campaign_renders_the_optional_focus_when_given(db, clock, acme):
    async with Client(make_server(db, clock, acme[0])) as client:
        with_focus = await client.get_prompt("analyze_campaign", {"campaign_id": "c-1", "focus": "shares"})
        without = await client.get_prompt("analyze_campaign", {"campaign_id": "c-1"})

    def text(result: Any) -> str:
        return " ".join(m.content.text for m in result.messages)

    assert "shares" in text(with_focus)
    assert "{focus}" not in text(without) and "(not given)" in text(without)
