"""Campaign statistics over a whole tree, checked against numbers worked out by hand.

The program (organization timezone Asia/Tokyo, UTC+9, no DST; now = 2026-03-10 12:00Z = 21:00 JST):

    Root (target 36,000 views)
    ├── Child (campaign)
    │   ├── Grandchild (campaign)
    │   │   ├── creator @xavier
    │   │   └── video d1 (direct add)
    │   └── creator @yolanda
    ├── creator @xavier          (again: his videos are reachable twice)
    └── video x1                 (and x1 a third time)

    @walter is in the project but not in the tree.

Counted videos (every figure below is views / likes / comments / shares / saves):

    x1  auto_tracked  posted 02-20 00:00Z  10000/1000/100/10/1
    x2  auto_tracked  posted 03-01 15:00Z   3000/300/30/3/0     (exactly local 03-02 00:00)
    x3  auto_tracked  posted 02-15 00:00Z    800/80/8/0/0       (views went down)
    x4  auto_tracked  posted 03-05 15:00Z    400/40/4/4/4       (exactly local 03-06 00:00)
    y1  included      posted 01-10 00:00Z   8000/800/80/8/8
    d1  direct_add    posted 02-01 00:00Z   2000/200/20/2/2
    lifetime: 6 videos, 24200 / 2420 / 242 / 27 / 15

Not counted: x_pend and y_pend (pending_review), x_excl (excluded), x_dis (tracking disabled), and
walter's w1 (outside the tree).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.conftest import make_org
from tests.domain._support import insert_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import campaigns, creators, stats
from trackagoat_mcp.domain.schemas import Totals
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import InvalidInput, NotFound

Org = tuple[Caller, uuid.UUID]


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def totals(videos: int, views: int, likes: int, comments: int, shares: int, saves: int) -> Totals:
    return Totals(videos=videos, views=views, likes=likes, comments=comments, shares=shares, saves=saves)


ZERO = totals(0, 0, 0, 0, 0, 0)
LIFETIME = totals(6, 24200, 2420, 242, 27, 15)
XAVIER_LIFETIME = totals(4, 14200, 1420, 142, 17, 5)  # x1 + x2 + x3 + x4
X1_LIFETIME = totals(1, 10000, 1000, 100, 10, 1)

# Past range: local days 2026-03-02..2026-03-05 = [03-01 15:00Z, 03-05 15:00Z); it ended before now.
PAST = (date(2026, 3, 2), date(2026, 3, 5))
# Default range: the 30 local days ending today (2026-03-10 JST) = [02-08 15:00Z, 03-10 15:00Z).
DEFAULT = (date(2026, 2, 9), date(2026, 3, 10))


async def _program(db: Database, clock: FrozenClock) -> tuple[Caller, dict[str, uuid.UUID]]:
    caller, project_id = await make_org(db, clock, "Tokyo Co", timezone="Asia/Tokyo")
    ids: dict[str, uuid.UUID] = {}
    async with db.write() as session:
        added = await creators.add_creators(
            session, caller, project_id=project_id, handles=["xavier", "yolanda", "walter"], now=clock.now()
        )
        x, y, w = (r.creator_id for r in added.results)
        ids |= {"X": x, "Y": y, "W": w}

        async def video(name: str, **kwargs: Any) -> None:
            ids[name] = (await insert_video(session, caller, project_id, **kwargs)).id

        await video(
            "x1",
            creator_id=x,
            posted_at=at(2, 20),
            views=10000,
            likes=1000,
            comments=100,
            shares=10,
            saves=1,
            last_scraped_at=at(3, 10, 6),
            snapshots=[
                (at(2, 28), 4000),
                (at(3, 1, 14, 59), 5000),
                (at(3, 1, 15), 5500),
                (at(3, 3), 6000),
                (at(3, 5, 14, 59, 59), 7000),
                (at(3, 5, 15), 9999),
                (at(3, 10, 6), 10000),
            ],
        )
        await video(
            "x2",
            creator_id=x,
            posted_at=at(3, 1, 15),
            views=3000,
            likes=300,
            comments=30,
            shares=3,
            last_scraped_at=at(3, 8),
            snapshots=[(at(3, 3, 12), 500), (at(3, 5, 12), 1200), (at(3, 8), 3000)],
        )
        await video(
            "x3",
            creator_id=x,
            posted_at=at(2, 15),
            views=800,
            likes=80,
            comments=8,
            last_scraped_at=at(3, 4),
            snapshots=[(at(3, 1), 900), (at(3, 4), 800)],
        )
        await video(
            "x4",
            creator_id=x,
            posted_at=at(3, 5, 15),
            views=400,
            likes=40,
            comments=4,
            shares=4,
            saves=4,
            last_scraped_at=at(3, 8),
            snapshots=[(at(3, 8), 400)],
        )
        noise = {
            "posted_at": at(3, 4),
            "likes": 5000,
            "comments": 500,
            "shares": 50,
            "saves": 5,
            "last_scraped_at": at(3, 8),
            "snapshots": [(at(3, 1), 1000), (at(3, 8), 50000)],
        }
        await video("x_pend", creator_id=x, status="pending_review", views=50000, **noise)
        await video("x_excl", creator_id=x, status="excluded", views=70000, **noise)
        await video("x_dis", creator_id=x, tracking_disabled_at=at(3, 6), views=90000, **noise)
        await video(
            "y1",
            creator_id=y,
            status="included",
            posted_at=at(1, 10),
            views=8000,
            likes=800,
            comments=80,
            shares=8,
            saves=8,
            last_scraped_at=at(3, 9),
            snapshots=[(at(3, 2), 6500), (at(3, 4), 7000), (at(3, 9), 8000)],
        )
        await video("y_pend", creator_id=y, status="pending_review", views=100, **noise)
        await video(
            "d1",
            status="direct_add",
            posted_at=at(2, 1),
            views=2000,
            likes=200,
            comments=20,
            shares=2,
            saves=2,
            last_scraped_at=at(2, 25),
            snapshots=[(at(2, 1, 12), 1000), (at(2, 25), 2000)],
        )
        await video("w1", creator_id=w, views=123456, **{k: v for k, v in noise.items() if k != "views"})
        await video("w_pend", creator_id=w, status="pending_review", views=1, **noise)

        async def campaign(name: str, **kwargs: Any) -> uuid.UUID:
            out = await campaigns.create_campaign(
                session, caller, project_id=project_id, name=name, now=clock.now(), **kwargs
            )
            ids[name] = out.id
            return out.id

        root = await campaign("Root", target_views=36000)
        child = await campaign("Child")
        grandchild = await campaign("Grandchild")
        await campaigns.set_campaign_items(
            session, caller, grandchild, add=[("creator", x), ("video", ids["d1"])], now=clock.now()
        )
        await campaigns.set_campaign_items(
            session, caller, child, add=[("campaign", grandchild), ("creator", y)], now=clock.now()
        )
        await campaigns.set_campaign_items(
            session, caller, root, add=[("campaign", child), ("creator", x), ("video", ids["x1"])], now=clock.now()
        )
    return caller, ids


async def _stats(
    db: Database, clock: FrozenClock, caller: Caller, campaign_id: uuid.UUID, range_: tuple[date, date] | None = None
) -> Any:
    async with db.read() as session:
        if range_ is None:
            return await stats.campaign_stats(session, caller, campaign_id, now=clock.now())
        return await stats.campaign_stats(
            session, caller, campaign_id, now=clock.now(), range_from=range_[0], range_to=range_[1]
        )


async def test_lifetime_totals_count_each_counted_video_once(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"], PAST)
    assert result.lifetime == LIFETIME
    assert result.campaigns_in_tree == 3
    assert result.creators_in_tree == 2
    assert result.children_total == 3


async def test_target_progress_is_lifetime_views_over_target_to_one_decimal(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"])
    assert result.target_views == 36000
    assert result.target_progress_pct == 67.2  # 24200 / 36000 = 67.22 %
    assert (await _stats(db, clock, caller, ids["Child"])).target_progress_pct is None


async def test_pending_review_videos_of_the_trees_creators_are_reported_not_counted(
    db: Database, clock: FrozenClock
) -> None:
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"])
    assert result.pending_review_videos == 2  # x_pend and y_pend; walter's is outside the tree


async def test_past_range_totals_and_views_gained(db: Database, clock: FrozenClock) -> None:
    """Local 2026-03-02..03-05 in Tokyo = [03-01 15:00Z, 03-05 15:00Z), which ended before now.

    Posted inside: only x2 (at exactly the start instant); x4 was posted at exactly the end instant.
    Views gained, per video (end = latest snapshot strictly before 03-05 15:00Z):
      x1: 7000 (03-05 14:59:59; the 9999 at exactly 15:00 is after the end) - 5000 (latest strictly before the
          start; the 5500 at exactly 15:00 is not before it) = 2000
      x2: posted inside, so from 0: 1200
      x3: 800 - 900 = -100, never negative: 0
      x4: posted at the end, so nothing inside the range: 0
      y1: no snapshot before the start, so from its first one inside (6500) to 7000 = 500, without baseline
      d1: last scraped 02-25, before the range: 0
    """
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"], PAST)
    assert (result.range_from, result.range_to, result.timezone) == (*PAST, "Asia/Tokyo")
    assert result.in_range == totals(1, 3000, 300, 30, 3, 0)
    assert result.views_gained == 2000 + 1200 + 500
    assert result.videos_without_baseline == 1


async def test_default_range_is_the_last_30_local_days_and_uses_current_counters(
    db: Database, clock: FrozenClock
) -> None:
    """[02-08 15:00Z, 03-10 15:00Z): the range reaches now, so the end value is each video's current counter.

    Posted inside: x1, x2, x3, x4 (gain = their whole views). y1: from its first snapshot (6500) to 8000 = 1500,
    without baseline. d1: 2000 - 1000 (02-01 12:00Z, before the start) = 1000.
    """
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"])
    assert (result.range_from, result.range_to) == DEFAULT
    assert result.in_range == totals(4, 14200, 1420, 142, 17, 5)
    assert result.views_gained == 10000 + 3000 + 800 + 400 + 1500 + 1000
    assert result.videos_without_baseline == 1
    assert result.lifetime == LIFETIME


async def test_children_are_broken_down_most_viewed_first(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"], PAST)
    assert [(c.item_type, c.item_id, c.label) for c in result.children] == [
        ("campaign", ids["Child"], "Child"),
        ("creator", ids["X"], "@xavier"),
        ("video", ids["x1"], result.children[2].label),
    ]
    assert result.children[2].label.startswith("https://www.tiktok.com/")
    child, xavier, x1 = result.children
    assert child.lifetime == LIFETIME  # Child reaches every counted video (xavier through Grandchild)
    assert xavier.lifetime == XAVIER_LIFETIME
    assert x1.lifetime == X1_LIFETIME
    assert (child.in_range, xavier.in_range, x1.in_range) == (totals(1, 3000, 300, 30, 3, 0),) * 2 + (ZERO,)
    assert (child.views_gained, xavier.views_gained, x1.views_gained) == (3700, 2000 + 1200, 2000)


async def test_children_breakdown_in_the_default_range(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Root"])
    by_id = {c.item_id: c for c in result.children}
    assert by_id[ids["Child"]].views_gained == 16700
    assert by_id[ids["X"]].views_gained == 14200
    assert by_id[ids["x1"]].views_gained == 10000
    assert by_id[ids["X"]].in_range == totals(4, 14200, 1420, 142, 17, 5)
    assert by_id[ids["x1"]].in_range == X1_LIFETIME


async def test_direct_items_without_counted_videos_come_last_with_zero_totals(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    async with db.write() as session:
        root = await campaigns.get_campaign_row(session, caller, ids["Root"])
        added = await creators.add_creators(
            session, caller, project_id=root.project_id, handles=["zoe"], now=clock.now()
        )
        zoe = added.results[0].creator_id
        await insert_video(session, caller, root.project_id, creator_id=zoe, status="pending_review", views=999)
        quiet = await campaigns.create_campaign(
            session, caller, project_id=root.project_id, name="Quiet", now=clock.now()
        )
        await campaigns.set_campaign_items(session, caller, quiet.id, add=[("creator", zoe)], now=clock.now())
        await campaigns.set_campaign_items(
            session, caller, root.id, add=[("creator", zoe), ("campaign", quiet.id)], now=clock.now()
        )
    result = await _stats(db, clock, caller, ids["Root"], PAST)
    quiet_last = sorted([("creator", zoe), ("campaign", quiet.id)], key=lambda item: str(item[1]))
    assert [(c.item_type, c.item_id) for c in result.children] == [
        ("campaign", ids["Child"]),
        ("creator", ids["X"]),
        ("video", ids["x1"]),
        *quiet_last,
    ]
    assert all((c.lifetime, c.in_range, c.views_gained) == (ZERO, ZERO, 0) for c in result.children[3:])
    assert (result.lifetime, result.creators_in_tree, result.pending_review_videos) == (LIFETIME, 3, 3)


async def test_a_sub_campaign_reports_only_its_own_tree(db: Database, clock: FrozenClock) -> None:
    caller, ids = await _program(db, clock)
    result = await _stats(db, clock, caller, ids["Grandchild"], PAST)
    assert result.campaigns_in_tree == 1
    assert result.creators_in_tree == 1
    assert result.lifetime == totals(5, 16200, 1620, 162, 19, 7)  # xavier's four + d1
    assert result.views_gained == 2000 + 1200
    assert result.videos_without_baseline == 0
    assert result.pending_review_videos == 1
    child = await _stats(db, clock, caller, ids["Child"], PAST)
    assert [(c.item_type, c.lifetime.views) for c in child.children] == [("campaign", 16200), ("creator", 8000)]


async def test_an_empty_campaign_has_zero_totals(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        empty = await campaigns.create_campaign(
            session, caller, project_id=project_id, name="Empty", target_views=1000, now=clock.now()
        )
    result = await _stats(db, clock, caller, empty.id)
    assert (result.lifetime, result.in_range) == (ZERO, ZERO)
    assert (result.views_gained, result.videos_without_baseline, result.pending_review_videos) == (0, 0, 0)
    assert result.target_progress_pct == 0.0
    assert result.children == [] and result.campaigns_in_tree == 1


async def test_a_backwards_range_is_refused(db: Database, clock: FrozenClock, acme: Org) -> None:
    caller, project_id = acme
    async with db.write() as session:
        campaign = await campaigns.create_campaign(session, caller, project_id=project_id, name="C", now=clock.now())
    with pytest.raises(InvalidInput) as exc:
        await _stats(db, clock, caller, campaign.id, (date(2026, 3, 5), date(2026, 3, 1)))
    assert "'2026-03-05'" in exc.value.message


async def test_another_organizations_campaign_has_no_stats(
    db: Database, clock: FrozenClock, acme: Org, globex: Org
) -> None:
    caller, project_id = acme
    outsider, _ = globex
    async with db.write() as session:
        campaign = await campaigns.create_campaign(session, caller, project_id=project_id, name="C", now=clock.now())
    with pytest.raises(NotFound):
        await _stats(db, clock, outsider, campaign.id)
