"""The Sentiment Radar and the comment stream, checked against an independent computation on a seeded program.

The world and the independent computation are in `radar_world`. The alert's boundaries are seeded exactly:
4 negative of 10 and 40 of 100 (40 %: fire), 39 of 100 (39 %: not), 9 of 9 and 9 of 9 + 1 unscored (9 analyzed:
not).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trackagoat_mcp.clock import FrozenClock, local_today
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.comment_stream import list_comments
from trackagoat_mcp.domain.radar import SentimentRadar, get_sentiment_radar, negative_vibes
from trackagoat_mcp.domain.sentiment import comparative_score, sentiment_of
from trackagoat_mcp.errors import InvalidInput, NotFound

from ..conftest import make_org
from .radar_world import TZ, Seeded, expected, seed


def default_range(clock: FrozenClock) -> tuple[date, date]:
    today = local_today(clock.now(), TZ)
    return today - timedelta(days=29), today


def check(radar: SentimentRadar, want: dict, seeded: Seeded) -> None:
    assert (radar.total, radar.analyzed, radar.positive, radar.negative) == (
        want["total"],
        want["analyzed"],
        want["positive"],
        want["negative"],
    )
    assert radar.neutral == want["analyzed"] - want["positive"] - want["negative"]
    assert radar.positive_share == pytest.approx(round(100 * want["positive"] / want["analyzed"], 1))
    assert radar.negative_share == pytest.approx(round(100 * want["negative"] / want["analyzed"], 1))
    assert radar.average_score == pytest.approx(want["average"], abs=1e-4)
    assert radar.negative_vibes_total == len(want["alert"])
    listed = {item.video_id: item.negative_share for item in radar.negative_vibes}
    assert listed == {video: pytest.approx(share) for video, share in want["alert"].items()}
    by_day = dict(zip(radar.over_time.start, radar.over_time.total, strict=True))
    assert {day: n for day, n in by_day.items() if n} == dict(want["by_day"])
    assert sum(radar.over_time.analyzed) == want["analyzed"]


async def test_a_projects_radar_matches_an_independent_computation(db: Database, clock: FrozenClock) -> None:
    seeded = await seed(db, clock)
    first, last = default_range(clock)
    async with db.read() as session:
        radar = await get_sentiment_radar(session, seeded.caller, project_id=seeded.project_id, now=clock.now())
    want = expected(seeded.rows, lambda row: True, first, last)
    check(radar, want, seeded)
    assert (radar.range_from, radar.range_to, radar.timezone) == (first, last, TZ)
    assert set(want["alert"]) == {seeded.videos["a_forty"], seeded.videos["b_forty"]}
    assert radar.total == 229  # 10 + 100 + 100 + 9 + 10: no deleted, old, excluded or foreign comment
    assert [c.handle for c in radar.top_creators] == ["bob", "alice", "carol"]  # best average first
    assert "Negative vibes on 2 video(s)" in radar.summary


async def test_the_alert_fires_at_forty_percent_and_ten_analyzed_and_not_below(
    db: Database, clock: FrozenClock
) -> None:
    seeded = await seed(db, clock)
    async with db.read() as session:
        hits = await negative_vibes(session, seeded.caller, project_id=seeded.project_id, now=clock.now())
    by_video = {hit.video_id: (hit.negative, hit.analyzed, hit.negative_share) for hit in hits}
    assert by_video == {
        seeded.videos["a_forty"]: (4, 10, 40.0),  # 40 % of exactly 10
        seeded.videos["b_forty"]: (40, 100, 40.0),
    }
    # 39 of 100 (39 %), 9 of 9 and 9 analyzed + 1 unscored are all below a boundary.
    for name in ("a_thirty_nine", "b_nine", "c_nine_scored"):
        assert seeded.videos[name] not in by_video


async def test_a_campaign_tree_and_a_creator_are_scopes_of_their_own(db: Database, clock: FrozenClock) -> None:
    seeded = await seed(db, clock)
    first, last = default_range(clock)
    alice, b_nine = seeded.creators["alice"], seeded.videos["b_nine"]
    async with db.read() as session:
        tree = await get_sentiment_radar(session, seeded.caller, campaign_id=seeded.campaign_id, now=clock.now())
        carol = await get_sentiment_radar(
            session, seeded.caller, creator_id=seeded.creators["carol"], granularity="week", now=clock.now()
        )
    check(
        tree, expected(seeded.rows, lambda row: row["creator"] == alice or row["video"] == b_nine, first, last), seeded
    )
    assert [item.video_id for item in tree.negative_vibes] == [seeded.videos["a_forty"]]
    assert (carol.total, carol.analyzed, carol.negative_vibes_total) == (10, 9, 0)  # the emoji counts, unscored
    assert sum(carol.over_time.total) == 10 and all(day.weekday() == 0 for day in carol.over_time.start)


async def test_a_shorter_range_counts_comments_by_their_local_tiktok_day(db: Database, clock: FrozenClock) -> None:
    seeded = await seed(db, clock)
    last = local_today(clock.now(), TZ)
    first = last - timedelta(days=2)
    async with db.read() as session:
        radar = await get_sentiment_radar(
            session, seeded.caller, project_id=seeded.project_id, range_from=first, range_to=last, now=clock.now()
        )
    check(radar, expected(seeded.rows, lambda row: True, first, last), seeded)
    assert len(radar.over_time.start) == 3


async def test_bad_scopes_and_ranges_are_refused_and_other_organizations_are_invisible(
    db: Database, clock: FrozenClock
) -> None:
    seeded = await seed(db, clock)
    stranger, _ = await make_org(db, clock, "Stranger")
    async with db.read() as session:
        with pytest.raises(InvalidInput, match="exactly one"):
            await get_sentiment_radar(session, seeded.caller, now=clock.now())
        with pytest.raises(InvalidInput, match="exactly one"):
            await get_sentiment_radar(
                session, seeded.caller, project_id=seeded.project_id, creator_id=seeded.creators["bob"], now=clock.now()
            )
        with pytest.raises(InvalidInput, match="week"):
            await get_sentiment_radar(
                session, seeded.caller, project_id=seeded.project_id, range_from=date(2020, 1, 1), now=clock.now()
            )
        with pytest.raises(NotFound):
            await get_sentiment_radar(session, stranger, project_id=seeded.project_id, now=clock.now())
        with pytest.raises(NotFound):
            await list_comments(session, stranger, video_id=seeded.videos["a_forty"])


async def test_the_comment_stream_filters_by_sentiment_and_keyword_and_pages_newest_first(
    db: Database, clock: FrozenClock
) -> None:
    seeded = await seed(db, clock)
    async with db.read() as session:
        negative = await _all(session, seeded, sentiment="negative")
        good = await _all(session, seeded, contains="GOOD")
        unscored = await _all(session, seeded, sentiment="unscored")
        one_video = await _all(session, seeded, video_id=seeded.videos["a_forty"], project_id=None)
    counted = [row for row in seeded.rows if row["counted"] and not row["deleted"]]
    assert len(negative) == sum(1 for row in counted if (comparative_score(row["text"]) or 0) < 0)
    assert all(item.sentiment == "negative" and item.score is not None and item.score < 0 for item in negative)
    assert len(good) == sum(1 for row in counted if row["text"] == "good")
    assert [item.comment_text for item in unscored] == ["🔥🔥"]
    assert len(one_video) == 10
    times = [item.posted_at for item in negative]
    assert times == sorted(times, reverse=True) and len({item.id for item in negative}) == len(negative)
    assert sentiment_of(None) is None and sentiment_of(0.0) == "neutral"


async def _all(session, seeded: Seeded, **filters):  # type: ignore[no-untyped-def]
    """Every page of the stream, 7 at a time (so paging is exercised)."""
    args = {"project_id": seeded.project_id, **filters}
    items, cursor = [], None
    while True:
        page = await list_comments(session, seeded.caller, limit=7, cursor=cursor, **args)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def test_the_comparative_score_is_the_afinn_sum_over_the_word_count() -> None:
    assert comparative_score("good") == 3.0  # AFINN: good = +3, one word
    assert comparative_score("this is bad") == -1.0  # bad = -3 over three words
    assert comparative_score("fresh praise, great") == pytest.approx(7 / 3)  # praise +4, great +3
    assert comparative_score("the video") == 0.0
    assert comparative_score("🔥🔥 !!") is None
