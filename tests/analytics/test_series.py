"""get_analytics over the hand-made history of `world.py`; every expected number is worked out in comments.

Daily views of @ana's counted videos (A, C, E; B is excluded, D pending), mode `new`, per local day:

    day    A                 C (disabled 03-07)   E (posted 03-05)       total   partial because
    03-02  300-100 = 200     baseline 1000: 0     -                        200
    03-03  600-300 = 300     1100-1000 = 100      -                        400
    03-04  1000-600 = 400    100                  -                        500
    03-05  no snapshot: 0    1250-1200 = 50       posted, not scraped: 0    50   A not scraped, E no snapshot
    03-06  1500-1000 = 500   50                   baseline 400: 0          550
    03-07  200               disabled: 0          700-400 = 300            500
    03-08  1800-1700 = 100   (9000 ignored) 0     no snapshot: 0           100   E not scraped
    03-09  2100-1800 = 300   0                    900-700 = 200            500
    03-10  2200-2100 = 100   0                    0                        100   in progress

03-08 is 23 hours long (05:00Z to 04:00Z); A's snapshot at 03-09 04:30Z is 00:30 on 03-09 locally, so it
belongs to 03-09. Reading days as fixed UTC-5 would give 300 and 300 for 03-08 and 03-09 instead.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.analytics.world import World, build_world, d
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.analytics import AnalyticsSeries, get_analytics
from trackagoat_mcp.domain.analytics.derived import LEADING, Series
from trackagoat_mcp.domain.analytics.edges import EdgeFigures
from trackagoat_mcp.domain.periods import periods_between
from trackagoat_mcp.errors import InvalidInput, NotFound

MARCH = {"range_from": d(3, 2), "range_to": d(3, 10)}
ANA_NEW = [200, 400, 500, 50, 550, 500, 100, 500, 100]
ANA_CUMULATIVE = [1300, 1700, 2200, 2250, 3200, 3700, 3800, 4300, 4400]
ANA_PARTIAL = {
    d(3, 5): ["videos_without_snapshot:1", "videos_not_scraped:1"],
    d(3, 8): ["videos_not_scraped:1"],
    d(3, 10): ["in_progress"],
}


async def series(
    db: Database, clock: FrozenClock, world: World, entity_type: str, name: str, **kwargs: Any
) -> AnalyticsSeries:
    async with db.read() as session:
        return await get_analytics(
            session, world.caller, entity_type=entity_type, entity_id=world[name], now=clock.now(), **kwargs
        )


def values(result: AnalyticsSeries) -> list[Any]:
    return [point.value for point in result.buckets.points()]


def partial(result: AnalyticsSeries) -> dict[date, list[str]]:
    return {point.start: point.why or [] for point in result.buckets.points() if point.partial}


async def test_daily_new_views_follow_the_snapshots_across_a_missing_day_and_a_dst_change(db, clock, world):
    result = await series(db, clock, world, "creator", "ana", **MARCH)

    assert [p.start for p in result.buckets.points()] == [d(3, day) for day in range(2, 11)]
    assert values(result) == ANA_NEW
    assert partial(result) == ANA_PARTIAL
    assert all(p.why is None for p in result.buckets.points() if not p.partial)
    assert result.total == 2900
    assert result.videos == 3
    assert result.unit == "views gained (net)" and result.timezone == "America/New_York"
    assert set(result.reasons) == {"videos_without_snapshot", "videos_not_scraped", "in_progress"}
    baseline_note = next(note for note in result.notes if "baseline" in note)
    assert "2 video(s) had their first snapshot in this range, holding 1,400 views then" in baseline_note  # C, E


async def test_cumulative_views_are_the_latest_snapshots_before_each_local_midnight(db, clock, world):
    result = await series(db, clock, world, "creator", "ana", mode="cumulative", **MARCH)

    assert values(result) == ANA_CUMULATIVE
    assert partial(result) == ANA_PARTIAL
    assert result.total is None


async def test_a_video_excluded_midway_disappears_and_a_pending_one_counts_nowhere(db, clock, world):
    # B (excluded) jumped by 4950 views on 03-05 and D (pending) by 200 on 03-06: neither shows up in @ana's series.
    result = await series(db, clock, world, "creator", "ana", **MARCH)
    assert values(result)[3:5] == [50, 550]

    with pytest.raises(NotFound, match=str(world["B"])):
        await series(db, clock, world, "video", "B", **MARCH)
    pending = await series(db, clock, world, "video", "D", **MARCH)
    assert values(pending) == [None] * 9 and pending.videos == 0
    assert any("pending_review" in note for note in pending.notes)


async def test_a_tracking_disabled_video_counts_only_up_to_the_moment_it_was_disabled(db, clock, world):
    # C was disabled at 03-07 00:00Z; its snapshot of 9000 views on 03-08 is ignored.
    new = await series(db, clock, world, "video", "C", **MARCH)
    cumulative = await series(db, clock, world, "video", "C", mode="cumulative", **MARCH)

    assert values(new) == [0, 100, 100, 50, 50, 0, 0, 0, 0]
    assert values(cumulative) == [1000, 1100, 1200, 1250, 1300, 1300, 1300, 1300, 1300]
    assert any("disabled" in note for note in new.notes)


async def test_a_video_series_puts_the_snapshot_after_a_dst_midnight_on_the_next_local_day(db, clock, world):
    result = await series(db, clock, world, "video", "A", **MARCH)

    assert values(result) == [200, 300, 400, 0, 500, 200, 100, 300, 100]
    assert partial(result) == {d(3, 5): ["videos_not_scraped:1"], d(3, 10): ["in_progress"]}


async def test_weekly_buckets_start_on_monday_and_monthly_ones_on_the_first(db, clock, world):
    weekly = await series(db, clock, world, "creator", "ana", granularity="week", **MARCH)
    monthly = await series(
        db, clock, world, "creator", "ana", granularity="month", range_from=d(2, 1), range_to=d(3, 10)
    )
    monthly_total = await series(
        db,
        clock,
        world,
        "creator",
        "ana",
        granularity="month",
        mode="cumulative",
        range_from=d(2, 1),
        range_to=d(3, 10),
    )

    # Week of 03-02: the days 03-02..03-08 above add up to 2300; the week of 03-09 (in progress) to 600.
    assert [(p.start, p.value, p.partial) for p in weekly.buckets.points()] == [
        (d(3, 2), 2300, False),
        (d(3, 9), 600, True),
    ]
    assert (weekly.range_from, weekly.range_to) == (d(3, 2), d(3, 15))
    # February ends before any snapshot (null, and C was posted on 02-20 without one); March: A 2200-100,
    # C 1300-1000, E 900-400 (each from its baseline) = 2900, or 2200 + 1300 + 900 = 4400 at its end.
    assert values(monthly) == [None, 2900]
    assert partial(monthly) == {d(2, 1): ["videos_without_snapshot:1"], d(3, 1): ["in_progress"]}
    assert values(monthly_total) == [None, 4400]


async def test_a_campaign_tree_counts_a_video_reached_through_two_paths_once(db, clock, world):
    # Root = @ana's A, C, E + Sub's A (again) and F. F: 10 at its baseline (03-02), 110 on 03-09.
    root = await series(db, clock, world, "campaign", "Root", granularity="week", **MARCH)
    sub = await series(db, clock, world, "campaign", "Sub", granularity="week", **MARCH)

    assert values(root) == [2300, 700] and root.videos == 4
    assert values(sub) == [1700, 500] and sub.videos == 2


async def test_a_project_sums_every_counted_video(db, clock, world):
    # Root's [2300, 700] plus H: baseline 3000 on 03-04, 5000 on 03-08.
    async with db.read() as session:
        result = await get_analytics(
            session,
            world.caller,
            entity_type="project",
            entity_id=world.project,
            granularity="week",
            now=clock.now(),
            **MARCH,
        )

    assert values(result) == [4300, 700] and result.videos == 5


async def test_buckets_before_any_snapshot_are_null_not_zero(db, clock, world):
    result = await series(db, clock, world, "creator", "ana", range_from=d(2, 27), range_to=d(3, 2))

    # 03-01: A's first snapshot is its baseline (0); C, posted 02-20, still has none.
    assert values(result) == [None, None, 0, 200]
    assert partial(result) == {day: ["videos_without_snapshot:1"] for day in (d(2, 27), d(2, 28), d(3, 1))}


async def test_engagement_rate_by_views_is_null_when_the_bucket_gained_no_views(db, clock, world):
    video = await series(db, clock, world, "video", "A", metric="engagement_rate_by_views", **MARCH)
    creator = await series(db, clock, world, "creator", "ana", metric="engagement_rate_by_views", **MARCH)
    lifetime = await series(
        db, clock, world, "creator", "ana", metric="engagement_rate_by_views", mode="cumulative", **MARCH
    )

    # A's likes are a tenth of its views; on 03-05 it gained no views at all.
    assert values(video) == [10.0, 10.0, 10.0, None, 10.0, 10.0, 10.0, 10.0, 10.0]
    # 03-03: 30 likes (A) / 400 views (A 300 + C 100, C has no likes); 03-05: 0 likes / 50 views.
    assert values(creator)[1] == 7.5 and values(creator)[3] == 0.0
    # 03-10 end: likes 220 (A) + 0 (C) + 90 (E) = 310 over 4400 views = 7.045… → 7.05.
    assert values(lifetime)[-1] == 7.05
    assert video.unit == "percent"


async def test_engagement_rate_by_followers_uses_the_follower_count_carried_forward(db, clock, world):
    result = await series(
        db, clock, world, "creator", "ana", metric="engagement_rate_by_followers", range_from=d(2, 28), range_to=d(3, 4)
    )

    # Followers: 1000 from 03-01 18h, 1100 from 03-04 18h. Likes gained: 03-01 0 (baseline), 03-02 20, 03-03 30,
    # 03-04 40 (40 / 1100 = 3.636…). 02-28 has neither follower nor video data.
    assert values(result) == [None, 0.0, 2.0, 3.0, 3.64]
    assert result.creators == 1
    assert partial(result)[d(2, 28)] == ["videos_without_snapshot:1", "creators_without_snapshot:1"]
    # The follower count of 03-02 and 03-03 is carried forward from 03-01: flagged, still used.
    assert partial(result)[d(3, 2)] == ["creators_not_scraped:1"]


async def test_followers_are_carried_forward_and_summed_over_the_entitys_creators(db, clock, world):
    window = {"range_from": d(2, 27), "range_to": d(3, 5)}
    total = await series(db, clock, world, "creator", "ana", metric="followers", mode="cumulative", **window)
    gained = await series(db, clock, world, "creator", "ana", metric="followers", **window)
    async with db.read() as session:
        program = await get_analytics(
            session,
            world.caller,
            entity_type="project",
            entity_id=world.project,
            metric="followers",
            mode="cumulative",
            now=clock.now(),
            **window,
        )

    assert values(total) == [None, None, 1000, 1000, 1000, 1100, 1100]
    assert values(gained) == [None, None, 0, 0, 0, 100, 0]
    assert total.videos is None and total.creators == 1
    assert values(program)[-1] == 1600 and program.creators == 2  # @ana 1100 + @bo 500


async def test_posts_and_posts_per_week_count_counted_videos_by_local_post_day(db, clock, world):
    posts = await series(db, clock, world, "creator", "ana", metric="posts", **MARCH)
    posts_so_far = await series(db, clock, world, "creator", "ana", metric="posts", mode="cumulative", **MARCH)
    daily = await series(db, clock, world, "creator", "ana", metric="posts_per_week", **MARCH)
    weekly = await series(db, clock, world, "creator", "ana", metric="posts_per_week", granularity="week", **MARCH)
    running = await series(db, clock, world, "creator", "ana", metric="posts_per_week", mode="cumulative", **MARCH)

    # Only E (posted 03-05 10:00 local) falls in the range; C (02-20, disabled later) and A (03-01) came before it.
    assert values(posts) == [0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert values(posts_so_far)[3] == 3
    assert values(daily) == [0.0, 0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert values(weekly) == [1.0, 0.0]
    # Since 03-02: one post in 4 days by 03-05 (1.75 a week), in 9 days by 03-10 (0.777… → 0.78).
    assert values(running)[3] == 1.75 and values(running)[-1] == 0.78
    assert partial(daily) == {d(3, 10): ["in_progress"]}


async def test_avg_views_per_post_divides_by_the_videos_posted_so_far_and_is_null_without_any(db, clock, world):
    ana = await series(db, clock, world, "creator", "ana", metric="avg_views_per_post", **MARCH)
    ana_total = await series(
        db, clock, world, "creator", "ana", metric="avg_views_per_post", mode="cumulative", **MARCH
    )
    bo = await series(db, clock, world, "creator", "bo", metric="avg_views_per_post", **MARCH)

    # 03-03: 400 views / 2 videos (C, A); 03-05: 50 / 3 (E posted) = 16.67; at 03-10's end 4400 / 3.
    assert values(ana)[1] == 200.0 and values(ana)[3] == 16.67
    assert values(ana_total)[-1] == 1466.67
    # @bo's only video H was posted on 03-04: no posts (and no views data) before it.
    assert values(bo)[:3] == [None, None, 0.0]


async def test_growth_rate_pop_compares_each_bucket_with_the_one_before(db, clock, world):
    growth = await series(
        db,
        clock,
        world,
        "creator",
        "ana",
        metric="growth_rate_pop",
        base_metric="views",
        range_from=d(3, 3),
        range_to=d(3, 6),
    )
    early = await series(
        db,
        clock,
        world,
        "creator",
        "ana",
        metric="growth_rate_pop",
        base_metric="views",
        range_from=d(2, 28),
        range_to=d(3, 2),
    )

    # 03-02 200 → 03-03 400 → 500 → 50 → 550.
    assert values(growth) == [100.0, 25.0, -90.0, 1000.0]
    assert partial(growth)[d(3, 6)] == ["previous_partial"]
    # 02-27 and 02-28 are null and 03-01 is 0: no growth rate can be computed from them.
    assert values(early) == [None, None, None]
    assert growth.unit == "percent"


async def test_the_default_range_is_the_last_30_local_days_and_future_days_are_null(db, clock, world):
    result = await series(db, clock, world, "creator", "ana")
    ahead = await series(db, clock, world, "creator", "ana", range_from=d(3, 10), range_to=d(3, 12))

    assert (result.range_from, result.range_to) == (d(2, 9), d(3, 10))
    assert len(result.buckets.points()) == 30 and result.buckets.points()[-1].why == ["in_progress"]
    assert [(p.value, p.why) for p in ahead.buckets.points()] == [
        (100, ["in_progress"]),
        (None, ["future"]),
        (None, ["future"]),
    ]


BAD_ARGUMENTS = [
    ({"metric": "reach"}, "metric 'reach' is not one of"),
    ({"granularity": "hour"}, "granularity 'hour' is not one of"),
    ({"mode": "total"}, "mode 'total' is not one of"),
    ({"range_from": d(3, 9), "range_to": d(3, 1)}, "from '2026-03-09' is after to '2026-03-01'; swap them"),
    ({"metric": "growth_rate_pop"}, "growth_rate_pop needs base_metric"),
    ({"metric": "views", "base_metric": "likes"}, "base_metric 'likes' is only used with metric 'growth_rate_pop'"),
    ({"entity_type": "video", "metric": "followers"}, "metric 'followers' does not apply to a video"),
    ({"entity_type": "video", "metric": "engagement_rate_by_followers"}, "does not apply to a video"),
    ({"entity_type": "video", "metric": "growth_rate_pop", "base_metric": "posts"}, "'posts' does not apply"),
    ({"entity_type": "playlist"}, "entity_type 'playlist' is not one of"),
]


async def test_bad_arguments_are_refused_with_a_sentence_naming_the_value(db, clock, world):
    for kwargs, message in BAD_ARGUMENTS:
        args: dict[str, Any] = {"entity_type": "creator"} | kwargs
        name = "A" if args["entity_type"] == "video" else "ana"
        with pytest.raises(InvalidInput, match=re.escape(message)):
            await series(db, clock, world, args.pop("entity_type"), name, **args)


async def test_a_series_is_bounded_to_400_buckets(db, clock, world):
    with pytest.raises(InvalidInput, match="more than 400 day buckets; shorten it or use a coarser granularity"):
        await series(db, clock, world, "creator", "ana", range_from=date(2025, 2, 1))
    weeks = await series(db, clock, world, "creator", "ana", granularity="week", range_from=date(2025, 2, 1))

    # 2025-02-01 is a Saturday: weeks from Monday 2025-01-27 to Monday 2026-03-09.
    assert len(weeks.buckets.points()) == 59 and weeks.buckets.points()[0].start == date(2025, 1, 27)
    assert weeks.buckets.points()[0].value is None and weeks.buckets.points()[-1].value == 600


async def test_another_organizations_campaign_is_not_found_exactly_like_a_missing_one(db, clock, world):
    other = await build_world(db, clock, "Globex")
    missing = uuid.uuid4()
    errors = []
    for campaign_id in (other["Root"], missing):
        async with db.read() as session:
            with pytest.raises(NotFound) as caught:
                await get_analytics(
                    session, world.caller, entity_type="campaign", entity_id=campaign_id, now=clock.now()
                )
        errors.append(str(caught.value).replace(str(campaign_id), "<ID>"))

    assert (
        errors[0]
        == errors[1]
        == ("No campaign with id '<ID>' exists in this organization; check the id with the matching list tool.")
    )


def test_engagement_rate_adds_likes_comments_shares_and_saves():
    periods = list(periods_between("daily", d(3, 1), d(3, 3), "UTC"))
    columns = ("view_count", "like_count", "comment_count", "share_count", "save_count")

    def edge(views: int, likes: int, comments: int, shares: int, saves: int) -> EdgeFigures:
        cum = dict(zip(columns, (views, likes, comments, shares, saves), strict=True))
        return EdgeFigures(subjects=1, n_data=1, cum=cum, after=dict.fromkeys(columns, 0))

    figures = [edge(0, 0, 0, 0, 0), edge(100, 10, 2, 1, 1), edge(300, 30, 6, 3, 1)]
    new, total = Series(periods, figures, [], "new"), Series(periods, figures, [], "cumulative")

    # (20 + 4 + 2 + 0) / 200 = 13 %; at the end (30 + 6 + 3 + 1) / 300 = 13.33 %.
    assert new.value("engagement_rate_by_views", LEADING) == 13.0
    assert total.value("engagement_rate_by_views", LEADING) == 13.33
    assert Decimal("13.33") == Decimal(str(total.value("engagement_rate_by_views", LEADING)))
