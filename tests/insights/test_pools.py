"""Similar creator pools against a seeded program with a clear outlier, the merge rule, and the leaderboard option."""

from __future__ import annotations

import uuid

import pytest

from tests.goals._support import add_creator, utc
from tests.insights._support import post
from trackagoat_mcp.db.models import Project
from trackagoat_mcp.domain.leaderboard import get_leaderboard
from trackagoat_mcp.domain.pools import creator_pools, pool_keys
from trackagoat_mcp.errors import InvalidInput

MICRO = {"amy": (20_000, [9_000, 10_000, 11_000]), "bob": (30_000, [12_000]), "cat": (50_000, [11_000, 11_000]),
         "dud": (40_000, [400, 500, 600]), "eve": (80_000, [])}  # fmt: skip
MEGA = {"gus": (2_000_000, [100_000]), "hal": (3_000_000, [120_000]), "ivy": (5_000_000, [300_000, 300_000])}


@pytest.fixture
async def program(db, clock, acme):
    caller, project = acme
    ids = {}
    for handle, (followers, views) in {**MICRO, **MEGA, "new": (None, [7_000])}.items():
        ids[handle] = await add_creator(db, caller, project, handle, scraped_at=clock.now(), follower_count=followers)
        for n, count in enumerate(views):
            await post(db, caller, project, ids[handle], utc(f"2026-03-0{n + 1}T12:00"), views=count, likes=count // 20)
    async with db.write() as session:
        row = await session.get_one(Project, project)
        row.meta = {"creator_pools": {"10k-100k": "Micro creators"}}
        session.add(row)
    return caller, project, ids


async def pools_of(db, clock, caller, project, **kw):
    async with db.read() as session:
        return await creator_pools(session, caller, project_id=str(project), now=clock.now(), **kw)


async def test_a_clear_outlier_is_under_its_pool_and_a_creator_without_posts_is_named(db, clock, program):
    caller, project, ids = program
    result = await pools_of(db, clock, caller, project)
    assert [(p.key, p.size) for p in result.pools] == [("10k-100k", 5), ("1M+", 3), ("unknown", 1)]
    micro, mega, unknown = result.pools
    # Members' median views: amy 10,000, bob 12,000, cat 11,000, dud 500 (eve has none) → pool median 10,500.
    assert (micro.name, micro.median_views, micro.median_followers, micro.under, micro.over) == (
        "Micro creators", 10_500, 40_000, 1, 0,
    )  # fmt: skip
    assert [(m.tiktok_handle, m.standing, m.views_index) for m in micro.members] == [
        ("eve", "no_posts", None),
        ("dud", "under", 0.05),
    ]
    assert micro.median_engagement_rate == 5.0  # likes are 5 % of views for everyone
    # 300,000 ÷ the pool median 120,000 = 2.5 > 2: a breakout, listed as over.
    assert [(m.tiktok_handle, m.standing, m.views_index) for m in mega.members] == [("ivy", "over", 2.5)]
    assert [(m.tiktok_handle, m.standing) for m in unknown.members] == []  # alone: nobody to compare with
    assert unknown.size == 1 and "follower band" in result.rule


async def test_a_creator_is_ranked_in_its_own_pool_with_every_member_listed(db, clock, program):
    caller, project, ids = program
    result = await pools_of(db, clock, caller, project, creator_id=str(ids["bob"]))
    assert result.pool_key == "10k-100k" and [p.key for p in result.pools] == ["10k-100k"]
    assert (result.creator.rank, result.creator.standing, result.creator.views_index) == (1, "in_line", 1.14)
    assert [m.tiktok_handle for m in result.pools[0].members] == ["eve", "dud", "amy", "cat", "bob"]
    with pytest.raises(InvalidInput, match="not a pool"):
        await pools_of(db, clock, caller, project, pool="nope")


async def test_the_leaderboard_compares_creators_with_their_pools_when_asked(db, clock, program):
    caller, project, ids = program
    async with db.read() as session:
        board = await get_leaderboard(
            session, caller, project_id=str(project), kind="creators", order_by="views", ascending=True, limit=100,
            now=clock.now(), pools=True,
        )  # fmt: skip
        with pytest.raises(InvalidInput, match="kind 'creators'"):
            await get_leaderboard(session, caller, project_id=str(project), kind="videos", now=clock.now(), pools=True)
    placed = {item.label: (item.pool, item.vs_pool) for item in board.items}
    assert placed["@dud"] == ("10k-100k", 0.05) and placed["@ivy"] == ("1M+", 2.5) and placed["@eve"][1] is None


def test_small_bands_merge_upward_and_a_remainder_joins_the_pool_below():
    one_each = {uuid.uuid4(): n for n in (500, 5_000, 50_000)}
    assert set(pool_keys(one_each).values()) == {"<100k"}
    ids = [uuid.uuid4() for _ in range(6)]
    followers = dict(zip(ids, [20_000, 30_000, 40_000, 50_000, 2_000_000, 3_000_000], strict=True))
    assert set(pool_keys(followers).values()) == {"10k+"}
    followers[uuid.uuid4()] = 4_000_000
    keys = pool_keys(followers)
    assert sorted(set(keys.values())) == ["10k-100k", "1M+"]
    never_scraped = uuid.uuid4()
    assert pool_keys({never_scraped: None}) == {never_scraped: "unknown"}
