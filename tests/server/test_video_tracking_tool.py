"""set_video_tracking and list_videos' caption filter through a real MCP client: applying a description's rule."""

from __future__ import annotations

from typing import Any

from mcp import Client

from tests.conftest import make_server
from tests.server.conftest import add_creator, add_video, dump_store, error_text, ok


async def _seed(db: Any, clock: Any, acme: Any) -> dict[str, Any]:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "maker")
    about = await add_video(db, clock, caller, project, creator, caption="Product X unboxing", views=900)
    cat = await add_video(db, clock, caller, project, creator, caption="my cat, 100% off-topic", views=5000)
    return {"project": str(project), "about": str(about), "cat": str(cat)}


async def _ids(client: Client, **arguments: Any) -> list[str]:
    page = ok(await client.call_tool("list_videos", arguments))
    return sorted(item["id"] for item in page["items"])


async def test_an_agent_excludes_an_off_topic_video_finds_it_again_and_restores_it(db, clock, acme) -> None:
    caller, _ = acme
    ids = await _seed(db, clock, acme)
    async with Client(make_server(db, clock, caller)) as client:
        assert await _ids(client, caption_contains="PRODUCT x") == [ids["about"]]
        assert await _ids(client, caption_contains="100%") == [ids["cat"]]

        excluded = ok(
            await client.call_tool(
                "set_video_tracking",
                {"action": "exclude", "video_ids": [ids["cat"]], "reason": "Not about Product X (campaign rule)"},
            )
        )
        assert [(v["video_id"], v["tracking_status"], v["counted"]) for v in excluded["videos"]] == [
            (ids["cat"], "excluded", False)
        ]
        assert await _ids(client, project_id=ids["project"]) == [ids["about"]]
        assert "[not_found]" in error_text(await client.call_tool("get_video", {"video_id": ids["cat"]}))

        listing = ok(
            await client.call_tool("set_video_tracking", {"action": "list_excluded", "project_id": ids["project"]})
        )
        assert [(e["video_id"], e["restores_to"], e["reason"]) for e in listing["excluded"]] == [
            (ids["cat"], "auto_tracked", "Not about Product X (campaign rule)")
        ]

        restored = ok(await client.call_tool("set_video_tracking", {"action": "restore", "video_ids": [ids["cat"]]}))
        assert restored["videos"][0]["tracking_status"] == "auto_tracked"
        assert await _ids(client, project_id=ids["project"]) == sorted([ids["about"], ids["cat"]])


async def test_misplaced_arguments_and_unknown_ids_are_refused_and_change_nothing(db, clock, acme) -> None:
    caller, _ = acme
    ids = await _seed(db, clock, acme)
    before = await dump_store(db)
    async with Client(make_server(db, clock, caller)) as client:
        refusals = [
            ({"action": "list_excluded"}, "[invalid_input] list_excluded takes a project_id"),
            ({"action": "list_excluded", "project_id": ids["project"], "video_ids": [ids["cat"]]}, "no video_ids"),
            ({"action": "restore", "video_ids": [ids["cat"]], "reason": "x"}, "reason goes with action 'exclude'"),
            ({"action": "exclude", "video_ids": [ids["cat"]], "project_id": ids["project"]}, "'list_excluded' only"),
            ({"action": "stop_tracking", "video_ids": []}, "[invalid_input] video_ids is empty"),
            ({"action": "exclude", "video_ids": [ids["cat"], "no-such-video"]}, "[not_found] 1 of 2 ids"),
        ]
        for arguments, expected in refusals:
            assert expected in error_text(await client.call_tool("set_video_tracking", arguments)), arguments
    assert await dump_store(db) == before
