"""The four goal metrics of a creator over a period (shared by compliance and goal-based payouts)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.domain._support import insert_video
from trackagoat_mcp.db.models import CreatorSnapshot
from trackagoat_mcp.domain import creators
from trackagoat_mcp.domain.goal_metrics import parse_goal_metric, period_figures
from trackagoat_mcp.errors import InvalidInput

WEEK_START = datetime(2026, 3, 2, tzinfo=UTC)
WEEK_END = WEEK_START + timedelta(days=7)


async def test_only_counted_videos_posted_in_the_period_count(db, clock, acme):
    caller, project_id = acme
    async with db.write() as session:
        added = await creators.add_creators(session, caller, project_id=project_id, handles=["ana"], now=clock.now())
        creator_id = added.results[0].creator_id
        inside = WEEK_START + timedelta(days=1)

        async def video(**kw):
            return await insert_video(session, caller, project_id, creator_id=creator_id, **kw)

        await video(posted_at=inside, views=1000, likes=50, comments=20, shares=20, saves=10)
        await video(posted_at=inside, status="included", views=3000, likes=100)
        await video(posted_at=inside, status="direct_add", views=500)
        await video(posted_at=inside, status="pending_review", views=99_000)
        await video(posted_at=inside, status="excluded", views=99_000)
        await video(posted_at=inside, views=99_000, tracking_disabled_at=inside)
        await video(posted_at=WEEK_END, views=99_000)  # the next period starts at WEEK_END
        await video(posted_at=WEEK_START - timedelta(seconds=1), views=99_000)
        session.add(CreatorSnapshot(creator_id=creator_id, captured_at=WEEK_START, follower_count=10))
        session.add(CreatorSnapshot(creator_id=creator_id, captured_at=WEEK_END, follower_count=42))
        session.add(CreatorSnapshot(creator_id=creator_id, captured_at=WEEK_END + timedelta(hours=1), follower_count=7))

    async with db.read() as session:
        figures = await period_figures(session, creator_id, WEEK_START, WEEK_END)

    assert (figures.posts, figures.views, figures.interactions, figures.followers) == (3, 4500, 200, 42)
    assert figures.value("engagement") == Decimal("4.44")  # 200 / 4500 × 100
    assert figures.value("posts") == 3 and figures.value("views") == 4500 and figures.value("followers") == 42


async def test_no_videos_and_no_snapshots_give_zero_posts_and_nothing_to_measure(db, clock, acme):
    caller, project_id = acme
    async with db.write() as session:
        added = await creators.add_creators(session, caller, project_id=project_id, handles=["ben"], now=clock.now())
    async with db.read() as session:
        figures = await period_figures(session, added.results[0].creator_id, WEEK_START, WEEK_END)
    assert figures.value("posts") == 0 and figures.value("views") == 0
    assert figures.value("engagement") is None and figures.value("followers") is None


def test_an_unknown_metric_is_refused_with_the_allowed_ones():
    with pytest.raises(InvalidInput, match="'likes' is not one of"):
        parse_goal_metric("likes")
