"""get_leaderboard per kind over the history of `world.py`, range 03-02..03-10 (local days, now 03-10 12:00Z).

Counted videos: A, E, F, H (C is tracking-disabled, B excluded, D pending). Current counters (views,
likes a tenth of them): A 2200, E 900, F 110, H 5000. Posted within the range: E (03-05) and H (03-04).
Views gained within the range, as get_campaign_stats computes it:

    A  posted before the range, last snapshot before it 100 (03-01 18h)    2200 - 100 = 2100
    E  posted inside the range, counts from 0                                     900
    F  posted before the range, no snapshot before it: from its first (10)  110 - 10 = 100  (no baseline)
    H  posted inside the range                                                    5000
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.analytics.world import World, d
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import stats
from trackagoat_mcp.domain.leaderboard import Leaderboard, get_leaderboard
from trackagoat_mcp.errors import InvalidInput, NotFound

MARCH = {"range_from": d(3, 2), "range_to": d(3, 10)}


async def board(db: Database, clock: FrozenClock, world: World, **kwargs: Any) -> Leaderboard:
    async with db.read() as session:
        return await get_leaderboard(session, world.caller, project_id=world.project, now=clock.now(), **kwargs)


def ranking(result: Leaderboard, world: World, *fields: str) -> list[tuple[Any, ...]]:
    names = {value: key for key, value in world.ids.items()}
    return [(names[item.id], *(getattr(item, f) for f in fields)) for item in result.items]


async def test_videos_rank_by_their_counters_among_those_posted_in_the_range(db, clock, world):
    by_views = await board(db, clock, world, kind="videos", order_by="views", **MARCH)
    by_gain = await board(db, clock, world, kind="videos", order_by="views_gained", **MARCH)

    assert ranking(by_views, world, "rank", "views", "likes", "engagement_rate_by_views", "views_gained") == [
        ("H", 1, 5000, 500, 10.0, 5000),
        ("E", 2, 900, 90, 10.0, 900),
    ]
    assert by_views.total == 2 and by_views.items[0].posts is None
    assert by_views.items[0].caption is not None and by_views.items[0].label.startswith("https://www.tiktok.com/")
    assert ranking(by_gain, world, "views_gained") == [("H", 5000), ("A", 2100), ("E", 900), ("F", 100)]
    assert by_gain.videos_without_baseline == 1  # F


async def test_creators_rank_by_their_posts_in_range_or_by_views_gained(db, clock, world):
    by_views = await board(db, clock, world, kind="creators", order_by="views", **MARCH)
    behind_first = await board(db, clock, world, kind="creators", order_by="views_gained", ascending=True, **MARCH)

    assert ranking(by_views, world, "label", "posts", "views", "engagement_rate_by_views") == [
        ("bo", "@bo", 1, 5000, 10.0),
        ("ana", "@ana", 1, 900, 10.0),  # only E was posted in the range; C is disabled, B excluded, D pending
    ]
    assert ranking(behind_first, world, "rank", "views_gained") == [("ana", 1, 3000), ("bo", 2, 5000)]  # A + E


async def test_campaigns_count_their_whole_tree_once_and_match_get_campaign_stats(db, clock, world):
    result = await board(db, clock, world, kind="campaigns", order_by="views_gained", limit=2, **MARCH)
    everything = await board(db, clock, world, kind="campaigns", order_by="posts", **MARCH)
    async with db.read() as session:
        root = await stats.campaign_stats(session, world.caller, world["Root"], now=clock.now(), **MARCH)

    # Root = A, E (via @ana) + A (again), F (via Sub): 2100 + 900 + 100; Sub = A + F; Other = H.
    assert ranking(result, world, "views_gained") == [("Other", 5000), ("Root", 3100)]
    assert result.total == 3 and len(result.items) == 2
    assert root.views_gained == 3100
    assert {name: (posts, views) for name, posts, views in ranking(everything, world, "posts", "views")} == {
        "Root": (1, 900),
        "Other": (1, 5000),
        "Sub": (0, 0),
    }


async def test_ranks_continue_on_the_next_page_and_a_cursor_only_fits_its_own_ranking(db, clock, world):
    whole = await board(db, clock, world, kind="videos", order_by="views_gained", **MARCH)
    first = await board(db, clock, world, kind="videos", order_by="views_gained", limit=3, **MARCH)
    rest = await board(
        db, clock, world, kind="videos", order_by="views_gained", limit=3, cursor=first.next_cursor, **MARCH
    )

    assert ranking(first, world, "rank") + ranking(rest, world, "rank") == ranking(whole, world, "rank")
    assert [len(first.items), rest.total, rest.next_cursor] == [3, 4, None]
    with pytest.raises(InvalidInput, match="belongs to another list or ordering"):
        await board(db, clock, world, kind="videos", order_by="views", cursor=first.next_cursor, **MARCH)


async def test_bad_leaderboard_arguments_are_refused_with_a_sentence(db, clock, world, globex):
    cases = [
        ({"kind": "videos", "order_by": "posts"}, InvalidInput, "order_by 'posts' ranks creators or campaigns"),
        ({"kind": "hashtags"}, InvalidInput, "kind 'hashtags' is not one of"),
        ({"order_by": "reach"}, InvalidInput, "order_by 'reach' is not one of"),
        ({"limit": 101}, InvalidInput, "limit 101 is out of range; use 1 to 100"),
        ({"range_from": d(3, 9), "range_to": d(3, 1)}, InvalidInput, "from '2026-03-09' is after to '2026-03-01'"),
        ({"project_id": globex[1]}, NotFound, f"No project with id '{globex[1]}' exists in this organization"),
    ]
    for kwargs, error, message in cases:
        async with db.read() as session:
            with pytest.raises(error, match=message):
                args = {"project_id": world.project} | kwargs
                await get_leaderboard(session, world.caller, now=clock.now(), **args)
