"""Over-posting (reference §7): 7+ posts on one local day, 2+ of them confirmed under 100 views 2 h after posting.

The org timezone is America/New_York (UTC−5 before the DST change on 8 March 2026, UTC−4 after). Today is
10 March (the clock is 2026-03-10T12:00Z, 08:00 in New York).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.conftest import make_org
from tests.domain._support import insert_video
from tests.goals._support import add_creator, utc
from trackagoat_mcp.domain.overposting import find_incidents

TZ = "America/New_York"


async def post_day(
    session, caller, project, creator, first: datetime, count: int, low: dict[int, timedelta], *, status="auto_tracked"
):
    """`count` posts an hour apart from `first`; post i gets a snapshot of 50 views `low[i]` after posting (others
    get 5,000 views 3 h after). Returns the video ids in posting order."""
    ids = []
    for i in range(count):
        posted = first + timedelta(hours=i)
        delay = low.get(i, timedelta(hours=3))
        views = 50 if i in low else 5000
        video = await insert_video(
            session,
            caller,
            project,
            creator_id=creator,
            status=status,
            posted_at=posted,
            snapshots=[(posted + delay, views)],
        )
        ids.append(video.id)
    return ids


async def test_incidents_need_seven_posts_and_two_confirmed_low_ones_on_one_local_day(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone=TZ)
    c = {
        h: await add_creator(db, caller, project, h)
        for h in ("six", "one_low", "too_soon", "recent", "old", "night", "d7", "d8")
    }
    two_hours, three_hours = timedelta(hours=2), timedelta(hours=3)
    async with db.write() as session:
        day = utc("2026-03-08T14:00")  # 10:00 in New York
        await post_day(session, caller, project, c["six"], day, 6, {0: three_hours, 1: three_hours, 2: three_hours})
        await post_day(session, caller, project, c["one_low"], day, 7, {0: three_hours})
        # Two low readings, but one of them came 1 h 59 min after posting: that video was merely new.
        await post_day(
            session, caller, project, c["too_soon"], day, 7, {0: three_hours, 1: two_hours - timedelta(minutes=1)}
        )
        recent = await post_day(session, caller, project, c["recent"], day, 7, {2: two_hours, 5: three_hours})
        # A pending (inbox) post still counts towards the 7: the creator did publish it.
        await insert_video(session, caller, project, creator_id=c["recent"], status="pending_review", posted_at=day)
        old = await post_day(
            session, caller, project, c["old"], utc("2026-02-20T15:00"), 7, {0: three_hours, 6: three_hours}
        )
        # 20:00-02:00 UTC spans two UTC days but only one New York day (15:00-21:00 on 5 March).
        night = await post_day(
            session, caller, project, c["night"], utc("2026-03-05T20:00"), 7, {0: three_hours, 1: three_hours}
        )
        # A day 7 days before today is still recent; 8 days before is historical.
        await post_day(session, caller, project, c["d7"], utc("2026-03-03T14:00"), 7, {0: three_hours, 1: three_hours})
        await post_day(session, caller, project, c["d8"], utc("2026-03-02T14:00"), 7, {0: three_hours, 1: three_hours})
        # Seven posts in one UTC day split 3/4 across two New York days: no incident.
        await post_day(
            session, caller, project, c["six"], utc("2026-03-01T01:00"), 7, dict.fromkeys(range(7), three_hours)
        )

    async with db.read() as session:
        incidents = await find_incidents(session, project, tz=TZ, now=clock.now())

    assert [(i.tiktok_handle, i.day, i.posts, i.severity) for i in incidents] == [
        ("recent", date(2026, 3, 8), 8, "recent"),
        ("night", date(2026, 3, 5), 7, "recent"),
        ("d7", date(2026, 3, 3), 7, "recent"),
        ("d8", date(2026, 3, 2), 7, "historical"),
        ("old", date(2026, 2, 20), 7, "historical"),
    ]
    assert incidents[0].creator_id == c["recent"] and incidents[0].low_view_video_ids == [recent[2], recent[5]]
    assert incidents[1].low_view_video_ids == night[:2] and incidents[4].low_view_video_ids == [old[0], old[6]]
    assert incidents[4].video_ids == old


async def test_excluded_posts_do_not_count_and_the_lookback_bounds_the_scan(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone=TZ)
    ana = await add_creator(db, caller, project, "ana")
    low = {0: timedelta(hours=3), 1: timedelta(hours=3)}
    async with db.write() as session:
        await post_day(session, caller, project, ana, utc("2026-03-09T13:00"), 6, low)
        await post_day(session, caller, project, ana, utc("2026-03-09T20:00"), 1, {}, status="excluded")
        await post_day(session, caller, project, ana, utc("2026-02-02T13:00"), 7, low)  # 36 days ago

    async with db.read() as session:
        assert await find_incidents(session, project, tz=TZ, now=clock.now()) == []
        wide = await find_incidents(session, project, tz=TZ, now=clock.now(), lookback_days=60)
    assert [(i.day, i.severity) for i in wide] == [(date(2026, 2, 2), "historical")]
