"""The content calendar against a seeded program with known answers (`_support.seed_calendar`)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.insights._support import seed_calendar
from trackagoat_mcp.domain import campaigns
from trackagoat_mcp.domain.calendar import cadence_from_text, content_calendar
from trackagoat_mcp.errors import InvalidInput


@pytest.fixture
async def program(db, clock, acme):
    caller, project = acme
    return await seed_calendar(db, caller, project, clock.now())


async def calendar(db, program, clock, **kw):
    async with db.read() as session:
        return await content_calendar(session, program.caller, now=clock.now(), **kw)


def row(result, handle):
    return next(item for item in result.items if item.tiktok_handle == handle)


async def test_a_creator_who_misses_cadence_has_a_missed_week_a_gap_and_posts_still_due(db, clock, program):
    result = await calendar(db, program, clock, project_id=str(program.project))
    assert (result.range_from, result.range_to, result.creator_count) == (date(2026, 3, 1), date(2026, 3, 31), 3)
    lagging = row(result, "lagging")
    [cadence] = lagging.cadence
    assert (cadence.source, cadence.period, cadence.target) == ("goal", "weekly", 3)
    assert (cadence.current.counted, cadence.current.still_due, cadence.current.status) == (0, 3, "at_risk")
    # Weeks of 23 Feb (1 post) and 2 March (1 post) are over and below 3.
    assert lagging.missed_periods == 2 and lagging.still_due == 3
    # 3 empty days in a row break a 3-a-week cadence: 4..10 March (today) is one gap; 1-2 March is only two days.
    assert [(g.start, g.end, g.days) for g in lagging.gaps] == [(date(2026, 3, 4), date(2026, 3, 10), 7)]
    assert (lagging.counted, lagging.days_posted, lagging.current_streak, lagging.over_posting_days) == (1, 1, 0, [])


async def test_a_creator_on_cadence_has_no_gap_and_its_pending_and_excluded_posts_are_counted_apart(db, clock, program):
    result = await calendar(db, program, clock, project_id=str(program.project))
    steady = row(result, "steady")
    assert (steady.counted, steady.pending, steady.excluded) == (4, 1, 1)
    assert (steady.missed_periods, steady.gaps, steady.still_due) == (0, [], 2)
    assert steady.cadence[0].current.status == "on_track"  # 1 post 1.5 days into the week projects to 4.7
    # Today (10 March) has no post yet and is not over, so the streak ending yesterday counts.
    assert (steady.longest_streak, steady.current_streak, steady.days_posted) == (1, 1, 4)


async def test_an_over_posting_day_is_flagged_and_a_described_cadence_is_used_without_a_goal(db, clock, program):
    result = await calendar(db, program, clock, project_id=str(program.project))
    spammer = row(result, "spammer")
    assert spammer.over_posting_days == [date(2026, 3, 8)]
    [cadence] = spammer.cadence
    assert (cadence.source, cadence.goal_id, cadence.period, cadence.target) == ("description", None, "weekly", 2)
    assert (cadence.current.counted, cadence.current.still_due) == (0, 2)
    # Totals across the project, per day: 8 March holds the 7 posts, 4 March one counted and one pending.
    assert result.totals.counted[7] == 7 and result.creators_posted[7] == 1
    assert (result.totals.counted[3], result.totals.pending[3], result.totals.excluded[4]) == (1, 1, 1)
    assert sum(result.totals.counted) == 4 + 1 + 7


async def test_one_creator_shows_its_days_and_every_period(db, clock, program):
    result = await calendar(db, program, clock, creator_id=str(program.ids["steady"]), range_to=date(2026, 3, 15))
    [steady] = result.items
    assert (result.scope, result.range_from) == ("creator", date(2026, 3, 1))
    assert steady.days.counted[:10] == [0, 1, 0, 1, 0, 1, 0, 0, 1, 0]
    assert [(p.start, p.counted, p.status) for p in steady.periods] == [
        (date(2026, 2, 23), 3, "completed"),
        (date(2026, 3, 2), 3, "completed"),
        (date(2026, 3, 9), 1, "on_track"),
    ]


async def test_a_campaign_calendar_covers_the_creators_of_its_tree_and_pages_by_creator(db, clock, program):
    async with db.write() as session:
        outer = await campaigns.create_campaign(
            session, program.caller, project_id=program.project, name="Outer", now=clock.now()
        )
        inner = await campaigns.create_campaign(
            session, program.caller, project_id=program.project, name="Inner", now=clock.now()
        )
        await campaigns.set_campaign_items(
            session, program.caller, outer.id, add=[("campaign", inner.id)], now=clock.now()
        )
        await campaigns.set_campaign_items(
            session,
            program.caller,
            inner.id,
            add=[("creator", program.ids[h]) for h in ("spammer", "lagging")],
            now=clock.now(),
        )
    first = await calendar(db, program, clock, campaign_id=str(outer.id), limit=1)
    assert (first.scope, first.creator_count, [i.tiktok_handle for i in first.items]) == ("campaign", 2, ["lagging"])
    assert sum(first.totals.counted) == 1 + 7  # the tree's days cover every creator, not only the page's
    second = await calendar(db, program, clock, campaign_id=str(outer.id), limit=1, cursor=first.next_cursor)
    assert [i.tiktok_handle for i in second.items] == ["spammer"] and second.next_cursor is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no backend difference to see
async def test_bad_calendar_arguments_are_sentences(db, clock, program):
    with pytest.raises(InvalidInput, match="exactly one of project_id"):
        await calendar(db, program, clock, project_id=str(program.project), creator_id=str(program.ids["steady"]))
    with pytest.raises(InvalidInput, match="longer than 92 days"):
        await calendar(
            db, program, clock, project_id=str(program.project), range_from=date(2026, 1, 1), range_to=date(2026, 4, 30)
        )


def test_cadence_phrases_in_descriptions():
    assert cadence_from_text("Post 3 TikToks a week, never on Sundays") == ("weekly", 3)
    assert cadence_from_text("1 video per day") == ("daily", 1)
    assert cadence_from_text("12 posts/month") == ("monthly", 12)
    assert cadence_from_text("Exclude videos about X") is None
