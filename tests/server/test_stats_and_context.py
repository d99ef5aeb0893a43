"""get_campaign_stats over a small seeded tree, and get_agent_context's chain of instructions and caveats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mcp import Client

from tests.conftest import make_server
from tests.server.conftest import (
    add_campaign,
    add_creator,
    add_item,
    add_snapshot,
    add_video,
    describe,
    ok,
    text_of,
)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


async def seed_tree(db: Any, clock: Any, acme: Any) -> dict[str, Any]:
    """Root ⊃ {creator c1, Sub}; Sub ⊃ {video v1 (also c1's), creator c2, direct video v5}.

    Counted: v1 (c1, in range), v2 (c1, before range, gained 100 from a snapshot), v3 (c2, in range),
    v5 (direct add, in range). Not counted: v4 (c2, pending_review), v6 (c1, excluded).
    """
    caller, project = acme
    c1 = await add_creator(db, clock, caller, project, "c_one")
    c2 = await add_creator(db, clock, caller, project, "c_two", tracking_mode="selective")
    scraped = at("2026-03-09")
    v1 = await add_video(
        db,
        clock,
        caller,
        project,
        c1,
        views=1000,
        likes=100,
        comments=10,
        shares=5,
        saves=2,
        posted_at=at("2026-03-05"),
        last_scraped_at=scraped,
    )
    v2 = await add_video(
        db,
        clock,
        caller,
        project,
        c1,
        views=500,
        likes=50,
        comments=5,
        shares=1,
        saves=1,
        posted_at=at("2026-02-01"),
        last_scraped_at=scraped,
    )
    await add_snapshot(db, v2, at("2026-02-20"), 400)
    v3 = await add_video(
        db,
        clock,
        caller,
        project,
        c2,
        status="included",
        views=300,
        likes=30,
        comments=3,
        posted_at=at("2026-03-08"),
        last_scraped_at=scraped,
    )
    await add_video(
        db,
        clock,
        caller,
        project,
        c2,
        status="pending_review",
        views=9999,
        likes=999,
        posted_at=at("2026-03-08"),
        last_scraped_at=scraped,
    )
    v5 = await add_video(
        db,
        clock,
        caller,
        project,
        None,
        status="direct_add",
        views=200,
        likes=20,
        posted_at=at("2026-03-02"),
        last_scraped_at=scraped,
    )
    await add_video(db, clock, caller, project, c1, status="excluded", views=7777, posted_at=at("2026-03-06"))
    root = await add_campaign(db, clock, caller, project, "Root", target_views=4000)
    sub = await add_campaign(db, clock, caller, project, "Sub")
    await add_item(db, clock, root, "creator", c1)
    await add_item(db, clock, root, "campaign", sub)
    await add_item(db, clock, sub, "video", v1)
    await add_item(db, clock, sub, "creator", c2)
    await add_item(db, clock, sub, "video", v5)
    return {"root": root, "sub": sub, "c1": c1, "c2": c2, "v1": v1, "v3": v3, "v5": v5}


async def test_campaign_stats_take_from_and_to_and_count_the_whole_tree_once(db, clock, acme):
    ids = await seed_tree(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        stats = ok(
            await client.call_tool(
                "get_campaign_stats", {"campaign_id": str(ids["root"]), "from": "2026-03-01", "to": "2026-03-10"}
            )
        )

    assert (stats["range_from"], stats["range_to"], stats["timezone"]) == ("2026-03-01", "2026-03-10", "UTC")
    assert stats["campaigns_in_tree"] == 2
    assert stats["creators_in_tree"] == 2
    assert stats["lifetime"] == {"videos": 4, "views": 2000, "likes": 200, "comments": 18, "shares": 6, "saves": 3}
    assert stats["in_range"] == {"videos": 3, "views": 1500, "likes": 150, "comments": 13, "shares": 5, "saves": 2}
    assert stats["views_gained"] == 1000 + 300 + 200 + (500 - 400)
    assert stats["videos_without_baseline"] == 0
    assert stats["pending_review_videos"] == 1
    assert stats["target_views"] == 4000 and stats["target_progress_pct"] == 50.0
    assert stats["children_total"] == 2
    children = {child["item_id"]: child for child in stats["children"]}
    assert children[str(ids["c1"])]["item_type"] == "creator" and children[str(ids["c1"])]["label"] == "@c_one"
    assert children[str(ids["c1"])]["lifetime"]["videos"] == 2
    assert children[str(ids["c1"])]["lifetime"]["views"] == 1500
    assert children[str(ids["sub"])]["item_type"] == "campaign" and children[str(ids["sub"])]["label"] == "Sub"
    assert children[str(ids["sub"])]["lifetime"]["views"] == 1500
    assert children[str(ids["sub"])]["in_range"]["videos"] == 3


async def test_campaign_stats_default_to_the_last_30_days(db, clock, acme):
    ids = await seed_tree(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        stats = ok(await client.call_tool("get_campaign_stats", {"campaign_id": str(ids["sub"])}))

    assert (stats["range_from"], stats["range_to"]) == ("2026-02-09", "2026-03-10")
    assert stats["lifetime"]["views"] == 1500 and stats["in_range"]["videos"] == 3
    assert stats["campaigns_in_tree"] == 1 and stats["target_progress_pct"] is None


async def seed_context(db: Any, clock: Any, acme: Any) -> dict[str, Any]:
    caller, project = acme
    creator = await add_creator(db, clock, caller, project, "storyteller", tracking_mode="selective")
    other = await add_creator(db, clock, caller, project, "bystander")
    video = await add_video(db, clock, caller, project, creator, status="pending_review", caption="new drop")
    await add_video(db, clock, caller, project, creator, status="pending_review", caption="another")
    await add_video(db, clock, caller, project, other, status="auto_tracked")
    inner = await add_campaign(db, clock, caller, project, "A inner")
    side = await add_campaign(db, clock, caller, project, "B side")
    outer = await add_campaign(db, clock, caller, project, "Outer")
    unrelated = await add_campaign(db, clock, caller, project, "Unrelated")
    await add_item(db, clock, inner, "video", video)
    await add_item(db, clock, side, "creator", creator)
    await add_item(db, clock, outer, "campaign", inner)
    await add_item(db, clock, unrelated, "creator", other)
    org = caller.org_id
    for kind, entity_id, text in [
        ("video", video, "Video: this one is an outlier."),
        ("creator", creator, "Creator: only count product posts."),
        ("campaign", inner, "Inner: compare to last spring."),
        ("campaign", side, "Side: ignore duets."),
        ("campaign", outer, "Outer: the target is firm."),
        ("campaign", unrelated, "Unrelated: never shown."),
        ("project", project, "Project: report in USD."),
    ]:
        await describe(db, clock, org, kind, entity_id, text)
    return {"project": project, "creator": creator, "video": video, "inner": inner, "side": side, "outer": outer}


async def test_agent_context_of_a_video_runs_video_creator_campaigns_nearest_first_then_project(db, clock, acme):
    ids = await seed_context(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        ok(
            await client.call_tool(
                "write_readme",
                {"entity_type": "creator", "entity_id": str(ids["creator"]), "readme": "Prefers morning posts."},
            )
        )
        context = ok(
            await client.call_tool("get_agent_context", {"entity_type": "video", "entity_id": str(ids["video"])})
        )

    chain = [(link["entity_type"], link["id"], link["relation"], link["description"]) for link in context["chain"]]
    assert chain == [
        ("video", str(ids["video"]), "self", "Video: this one is an outlier."),
        ("creator", str(ids["creator"]), "creator", "Creator: only count product posts."),
        ("campaign", str(ids["inner"]), "campaign", "Inner: compare to last spring."),
        ("campaign", str(ids["side"]), "campaign", "Side: ignore duets."),
        ("campaign", str(ids["outer"]), "campaign", "Outer: the target is firm."),
        ("project", str(ids["project"]), "project", "Project: report in USD."),
    ]
    assert context["chain"][1]["readme"] == "Prefers morning posts."
    assert context["chain"][1]["label"] == "@storyteller"
    caveats = " ".join(context["caveats"])
    assert "inbox" in caveats and "does not count" in caveats
    assert "selective" in caveats


async def test_agent_context_of_a_project_counts_its_pending_review_videos(db, clock, acme):
    ids = await seed_context(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        context = ok(
            await client.call_tool("get_agent_context", {"entity_type": "project", "entity_id": str(ids["project"])})
        )

    assert [link["relation"] for link in context["chain"]] == ["self"]
    assert context["chain"][0]["description"] == "Project: report in USD."
    assert any("2 video(s)" in c and "pending_review" in c for c in context["caveats"]), context["caveats"]


async def test_agent_context_of_a_campaign_counts_the_pending_review_videos_of_its_creators(db, clock, acme):
    ids = await seed_context(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        context = ok(
            await client.call_tool("get_agent_context", {"entity_type": "campaign", "entity_id": str(ids["side"])})
        )

    assert [link["description"] for link in context["chain"]] == ["Side: ignore duets.", "Project: report in USD."]
    assert any("2 video(s)" in c and "pending_review" in c for c in context["caveats"]), context["caveats"]


async def test_agent_context_of_a_creator_reports_its_inbox_backlog(db, clock, acme):
    ids = await seed_context(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        context = ok(
            await client.call_tool("get_agent_context", {"entity_type": "creator", "entity_id": str(ids["creator"])})
        )

    assert [link["entity_type"] for link in context["chain"]] == ["creator", "campaign", "project"]
    assert any("2" in c and ("pending_review" in c or "inbox" in c) for c in context["caveats"]), context["caveats"]


async def test_agent_context_text_is_compact_json(db, clock, acme):
    ids = await seed_context(db, clock, acme)
    async with Client(make_server(db, clock, acme[0])) as client:
        result = await client.call_tool("get_agent_context", {"entity_type": "video", "entity_id": str(ids["video"])})

    assert "\n" not in text_of(result)
