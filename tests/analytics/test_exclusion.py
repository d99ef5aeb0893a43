"""Excluding a video takes its numbers out of every figure, restoring it puts them back (the world of `world.py`).

H is @bo's only video (auto_tracked, posted 03-04, 5000 views), the whole of campaign Other; E is @ana's included
video (posted 03-05, 900 views), A her auto_tracked one reached twice through Root.
"""

from __future__ import annotations

from typing import Any

from tests.analytics.world import World, d
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, goals, stats, video_tracking
from trackagoat_mcp.domain.analytics.series import get_analytics
from trackagoat_mcp.domain.compliance import goal_compliance
from trackagoat_mcp.domain.leaderboard import get_leaderboard

MARCH = {"range_from": d(3, 2), "range_to": d(3, 10)}


async def figures(db: Database, clock: FrozenClock, world: World) -> dict[str, Any]:
    """What a program manager reads about @bo, campaigns Other and Root, and the video leaderboard."""
    now = clock.now()
    async with db.read() as session:
        other = await stats.campaign_stats(session, world.caller, world["Other"], now=now, **MARCH)
        root = await stats.campaign_stats(session, world.caller, world["Root"], now=now, **MARCH)
        series = await get_analytics(
            session, world.caller, entity_type="creator", entity_id=world["bo"], now=now, **MARCH
        )
        creators = await get_leaderboard(
            session, world.caller, project_id=world.project, kind="creators", order_by="views", now=now, **MARCH
        )
        videos = await get_leaderboard(
            session, world.caller, project_id=world.project, kind="videos", order_by="views", now=now, **MARCH
        )
        compliance = await goal_compliance(
            session, world.caller, world.project, creator_id=world["bo"], reference_date=d(3, 4), now=now
        )
    names = {value: key for key, value in world.ids.items()}
    (bo,) = compliance.creators
    return {
        "other": (other.lifetime.videos, other.lifetime.views, other.views_gained),
        "root": (root.lifetime.videos, root.lifetime.views),
        "bo_series_total": series.total,
        "creators": {names[i.id]: (i.posts, i.views) for i in creators.items},
        "videos": [names[i.id] for i in videos.items],
        "bo_goals": sorted((r.goal.metric, r.actual) for r in bo.compliance),
    }


async def set_tracking(db: Database, clock: FrozenClock, world: World, action: str, *names: str) -> None:
    ids = [world[name] for name in names]
    async with db.write() as session:
        if action == "exclude":
            await video_tracking.exclude_videos(
                session, world.caller, video_ids=ids, reason="off topic", now=clock.now()
            )
        else:
            await video_tracking.restore_videos(session, world.caller, video_ids=ids, now=clock.now())


async def test_an_excluded_video_leaves_every_statistic_and_a_restored_one_comes_back(
    db: Database, clock: FrozenClock, world: World
) -> None:
    async with db.write() as session:
        for metric, target in (("posts", 1), ("views", 1000)):
            await goals.create_goal(
                session,
                world.caller,
                creator_id=world["bo"],
                metric=metric,
                period="weekly",
                target_value=target,
                start_date=d(3, 1),
                now=clock.now(),
            )
    before = await figures(db, clock, world)
    assert before == {
        "other": (1, 5000, 5000),
        "root": (3, 3210),  # A 2200 (reached twice, counted once) + E 900 + F 110
        "bo_series_total": 2000,  # H's growth after its first snapshot in the range (3000 -> 5000)
        "creators": {"bo": (1, 5000), "ana": (1, 900)},
        "videos": ["H", "E"],
        "bo_goals": [("posts", 1.0), ("views", 5000.0)],
    }

    await set_tracking(db, clock, world, "exclude", "H", "E")
    assert await figures(db, clock, world) == {
        "other": (0, 0, 0),
        "root": (2, 2310),
        "bo_series_total": 0,
        "creators": {"bo": (0, 0), "ana": (0, 0)},
        "videos": [],
        "bo_goals": [("posts", 0.0), ("views", 0.0)],
    }

    await set_tracking(db, clock, world, "restore", "H", "E")
    assert await figures(db, clock, world) == before


async def test_an_excluded_video_item_is_hidden_from_its_campaign_and_back_on_restore(
    db: Database, clock: FrozenClock, world: World
) -> None:
    async def sub() -> tuple[dict[str, int], list[str], list[str], int]:
        names = {value: key for key, value in world.ids.items()}
        async with db.read() as session:
            record = await campaigns.get_campaign(session, world.caller, world["Sub"])
            figures = await stats.campaign_stats(session, world.caller, world["Sub"], now=clock.now(), **MARCH)
            (listed,) = [
                c for c in (await campaigns.list_campaigns(session, world.caller)).items if c.id == world["Sub"]
            ]
        return (
            record.item_counts,
            sorted(names[i.item_id] for i in record.items),
            sorted(names[c.item_id] for c in figures.children),
            listed.item_count,
        )

    before = await sub()
    assert before == ({"creator": 0, "video": 2, "campaign": 0}, ["A", "F"], ["A", "F"], 2)

    await set_tracking(db, clock, world, "exclude", "F")  # F is a direct add
    assert await sub() == ({"creator": 0, "video": 1, "campaign": 0}, ["A"], ["A"], 1)

    await set_tracking(db, clock, world, "restore", "F")
    assert await sub() == before
