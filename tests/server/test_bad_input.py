"""Bad input is a tool error whose sentence names the bad value, and the store is left exactly as it was."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from mcp import Client

from tests.conftest import make_server
from tests.server.conftest import acme_world, add_campaign, add_item, call_and_keep_store, ok, seed_world

VALID_URL = "https://www.tiktok.com/@alice/video/7300000000000000000"


async def test_an_invalid_handle_rejects_the_whole_batch_and_names_the_bad_entry(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db, client, "add_creators", {"project_id": str(project_id), "handles": ["@good_one", "bad handle!"]}
        )

    assert "[invalid_handle]" in text
    assert "'bad handle!'" in text
    assert "'@good_one'" not in text


async def test_a_profile_url_of_another_site_is_an_invalid_handle(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db, client, "add_creators", {"project_id": str(project_id), "handles": ["https://instagram.com/@alice"]}
        )

    assert "[invalid_handle]" in text and "'https://instagram.com/@alice'" in text


BAD_URLS = [
    "https://example.com/@alice/video/7300000000000000000",
    "https://www.tiktok.com/@alice/video/notanumber",
    "http://[",
    "just some words",
]
# Short links are opened on TikTok before anything else: tests/jobs/test_short_links.py, against the simulated site.


async def test_a_malformed_video_url_rejects_the_whole_batch_and_names_it(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        for bad_url in BAD_URLS:
            text = await call_and_keep_store(
                db, client, "add_videos", {"project_id": str(project_id), "urls": [VALID_URL, bad_url]}
            )
            assert "[invalid_url]" in text or "[invalid_input]" in text, text
            assert repr(bad_url) in text, text
            assert repr(VALID_URL) not in text, text


ID_ARGS = [
    ("get_creator", "creator_id"),
    ("get_video", "video_id"),
    ("get_campaign", "campaign_id"),
    ("get_campaign_stats", "campaign_id"),
    ("update_project", "project_id"),
    ("remove_creator", "creator_id"),
    ("delete_campaign", "campaign_id"),
    ("list_videos", "creator_id"),
]


@pytest.mark.parametrize("bad_id", ["8f9c7c1e-0000-4000-8000-000000000000", "not-a-uuid"], ids=["uuid", "garbage"])
async def test_an_unknown_id_is_not_found_and_named(db, clock, acme, bad_id):
    caller, _ = acme
    async with Client(make_server(db, clock, caller)) as client:
        for tool, arg in ID_ARGS:
            args: dict[str, Any] = {arg: bad_id}
            if tool == "update_project":
                args["name"] = "renamed"
            text = await call_and_keep_store(db, client, tool, args)
            assert "[not_found]" in text, text
            assert f"'{bad_id}'" in text, text


async def test_an_oversized_readme_is_refused_with_its_length(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        ok(
            await client.call_tool(
                "write_readme", {"entity_type": "project", "entity_id": str(project_id), "readme": "x" * 20_000}
            )
        )
        text = await call_and_keep_store(
            db,
            client,
            "write_readme",
            {"entity_type": "project", "entity_id": str(project_id), "readme": "y" * 20_001},
        )

    assert "[invalid_input]" in text
    assert "20,001" in text and "20,000" in text


async def test_metadata_that_is_not_an_object_is_refused_and_shown(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db, client, "write_metadata", {"entity_type": "project", "entity_id": str(project_id), "patch": [1, 2]}
        )

    assert "[invalid_input]" in text
    assert "list" in text and "[1, 2]" in text


async def test_metadata_larger_than_16_kib_is_refused_with_its_size(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db,
            client,
            "write_metadata",
            {"entity_type": "project", "entity_id": str(project_id), "patch": {"notes": "z" * 17_000}},
        )

    assert "[invalid_input]" in text
    assert "17,012 bytes" in text and "16,384" in text


async def test_metadata_that_grows_too_large_through_a_merge_is_refused(db, clock, acme):
    caller, project_id = acme
    target = {"entity_type": "project", "entity_id": str(project_id)}
    async with Client(make_server(db, clock, caller)) as client:
        ok(await client.call_tool("write_metadata", {**target, "patch": {"a": "z" * 10_000}}))
        text = await call_and_keep_store(db, client, "write_metadata", {**target, "patch": {"b": "z" * 10_000}})

    assert "[invalid_input]" in text and "bytes" in text


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


async def test_metadata_nested_deeper_than_eight_levels_is_refused_with_its_depth(db, clock, acme):
    caller, project_id = acme
    target = {"entity_type": "project", "entity_id": str(project_id)}
    async with Client(make_server(db, clock, caller)) as client:
        ok(await client.call_tool("write_metadata", {**target, "patch": nested(8), "mode": "replace"}))
        text = await call_and_keep_store(
            db, client, "write_metadata", {**target, "patch": nested(9), "mode": "replace"}
        )

    assert "[invalid_input]" in text
    assert "9 levels" in text and "8" in text


async def test_an_unknown_entity_type_for_notes_is_named(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db, client, "write_readme", {"entity_type": "planet", "entity_id": str(project_id), "readme": "x"}
        )

    assert "[invalid_input]" in text and "'planet'" in text


async def test_a_campaign_cannot_contain_itself_even_through_sub_campaigns(db, clock, acme):
    caller, project_id = acme
    outer = await add_campaign(db, clock, caller, project_id, "Outer")
    middle = await add_campaign(db, clock, caller, project_id, "Middle")
    inner = await add_campaign(db, clock, caller, project_id, "Inner")
    await add_item(db, clock, outer, "campaign", middle)
    await add_item(db, clock, middle, "campaign", inner)
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db,
            client,
            "set_campaign_items",
            {"campaign_id": str(inner), "add": [{"item_type": "campaign", "item_id": str(outer)}]},
        )
        itself = await call_and_keep_store(
            db,
            client,
            "set_campaign_items",
            {"campaign_id": str(outer), "add": [{"item_type": "campaign", "item_id": str(outer)}]},
        )

    assert "[campaign_cycle]" in text and str(outer) in text and "'Inner'" in text
    assert "[campaign_cycle]" in itself and str(outer) in itself


async def test_a_cycle_rejects_the_whole_call_including_valid_items_before_it(db, clock, acme):
    caller, project_id = acme
    world = await seed_world(db, clock, acme, "acme")
    parent = await add_campaign(db, clock, caller, project_id, "Parent")
    await add_item(db, clock, parent, "campaign", world.campaign)
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db,
            client,
            "set_campaign_items",
            {
                "campaign_id": str(world.campaign),
                "add": [
                    {"item_type": "video", "item_id": str(world.counted_video)},
                    {"item_type": "campaign", "item_id": str(parent)},
                ],
            },
        )

    assert "[campaign_cycle]" in text


LIST_TOOLS = ["list_projects", "list_creators", "list_videos", "list_campaigns"]


async def test_a_page_size_outside_1_to_100_is_refused_and_named(db, clock, acme):
    caller, _ = acme
    async with Client(make_server(db, clock, caller)) as client:
        for tool in LIST_TOOLS:
            for limit in (0, 101):
                text = await call_and_keep_store(db, client, tool, {"limit": limit})
                assert f"[invalid_input] Invalid arguments: argument 'limit' = {limit}: " in text, text
            ok(await client.call_tool(tool, {"limit": 100}))
            ok(await client.call_tool(tool, {"limit": 1}))


async def test_a_garbage_cursor_is_refused_and_quoted(db, clock, acme):
    caller, _ = acme
    async with Client(make_server(db, clock, caller)) as client:
        for tool in LIST_TOOLS:
            text = await call_and_keep_store(db, client, tool, {"cursor": "garbage!!"})
            assert "[invalid_cursor]" in text and "'garbage!!'" in text, text


async def test_a_cursor_of_another_list_is_refused(db, clock, acme):
    caller, project_id = acme
    async with Client(make_server(db, clock, caller)) as client:
        for i in range(3):
            ok(await client.call_tool("create_project", {"name": f"extra {i}"}))
        cursor = ok(await client.call_tool("list_projects", {"limit": 1}))["next_cursor"]
        assert cursor
        text = await call_and_keep_store(db, client, "list_campaigns", {"cursor": cursor})

    assert "[invalid_cursor]" in text and "another list" in text


def forged(kind: str, order: str, values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([kind, order, values]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("tool", "cursor"),
    [
        ("list_creators", forged("creators", "handle", ["alice", "not-a-uuid"])),
        ("list_creators", forged("creators", "handle", ["alice"])),
        ("list_videos", forged("videos", "posted_desc", ["yesterday", str(uuid.uuid4())])),
    ],
    ids=["creator-id-not-a-uuid", "creator-value-missing", "video-time-not-a-time"],
)
async def test_a_tampered_cursor_is_an_invalid_cursor_error(db, clock, acme, tool, cursor):
    caller, _ = acme
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(db, client, tool, {"cursor": cursor})

    assert "[invalid_cursor]" in text and cursor[:20] in text


async def test_campaign_stats_refuse_a_range_that_ends_before_it_starts(db, clock, acme):
    caller, project_id = acme
    campaign = await add_campaign(db, clock, caller, project_id, "Launch")
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db, client, "get_campaign_stats", {"campaign_id": str(campaign), "from": "2026-03-06", "to": "2026-03-05"}
        )

    assert "[invalid_input]" in text
    assert "'2026-03-06'" in text and "'2026-03-05'" in text


async def test_a_date_that_is_not_a_date_is_refused_and_named(db, clock, acme):
    caller, project_id = acme
    campaign = await add_campaign(db, clock, caller, project_id, "Launch")
    async with Client(make_server(db, clock, caller)) as client:
        text = await call_and_keep_store(
            db, client, "get_campaign_stats", {"campaign_id": str(campaign), "from": "last tuesday"}
        )

    assert "from" in text and "last tuesday" in text


async def test_reviewing_a_video_that_is_not_pending_changes_nothing_and_names_it(db, clock):
    world = await acme_world(db, clock)
    async with Client(make_server(db, clock, world.caller)) as client:
        text = await call_and_keep_store(
            db,
            client,
            "review_videos",
            {"video_ids": [str(world.pending_video), str(world.counted_video)], "action": "exclude"},
        )

    assert str(world.counted_video) in text and "(included)" in text
    assert "Nothing was changed" in text
