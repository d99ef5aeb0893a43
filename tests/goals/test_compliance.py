"""Goal compliance: the five statuses, the pace rule per metric, and every advisory flag around period boundaries.

The org timezone is Europe/Berlin (UTC+1 in March 2026, before the DST change on the 29th), so the week of
Monday 9 March runs from 2026-03-08T23:00Z to 2026-03-15T23:00Z.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.conftest import make_org
from tests.domain._support import insert_video
from tests.goals._support import add_creator, add_followers, add_goal, set_scrape, utc
from trackagoat_mcp.domain import goals, projects
from trackagoat_mcp.domain.compliance import goal_compliance, judge
from trackagoat_mcp.errors import InvalidInput, NotFound

WEEK_START = utc("2026-03-08T23:00")
WEEK_END = utc("2026-03-15T23:00")
THURSDAY = date(2026, 3, 12)
D = Decimal

JUDGEMENTS = [
    # metric, target, actual, elapsed, baseline, status, projected
    ("posts", "10", "5", "0.5", None, "on_track", "10"),
    ("posts", "10", "3.5", "0.5", None, "behind_pace", "7"),  # exactly 70 % of the target
    ("posts", "10", "3", "0.5", None, "at_risk", "6"),
    ("views", "1000", "1000", "0.1", None, "on_track", "10000"),
    ("posts", "10", "0", "0", None, "on_track", "0"),  # the first instant: nothing is due yet
    ("posts", "10", "10", "1", None, "completed", None),
    ("posts", "10", "9", "1", None, "missed", None),
    ("engagement", "5", None, "1", None, "missed", None),
    ("engagement", "5", None, "0.5", None, "at_risk", None),
    ("engagement", "5", "4", "0.1", None, "behind_pace", "4"),  # a rate is not extrapolated
    ("followers", "1100", "1050", "0.5", "1000", "on_track", "1100"),  # growth is extrapolated
    ("followers", "1100", "1050", "0.5", None, "behind_pace", "1050"),  # no baseline: the level as it is
    ("followers", "1100", "990", "0.5", "1000", "behind_pace", "980"),  # losing followers projects a loss
]


@pytest.mark.parametrize(("metric", "target", "actual", "elapsed", "baseline", "status", "projected"), JUDGEMENTS)
def test_the_pace_rule(metric, target, actual, elapsed, baseline, status, projected):
    got = judge(
        metric,
        D(target),
        None if actual is None else D(actual),
        elapsed=D(elapsed),
        baseline=None if baseline is None else D(baseline),
    )
    assert got == (status, None if projected is None else D(projected))


async def compliance_of(db, caller, project, clock, **kw):
    async with db.read() as session:
        return await goal_compliance(session, caller, project, now=clock.now(), **kw)


async def test_a_weekly_goal_in_berlin_counts_only_counted_videos_of_its_local_week_and_flags_each_boundary(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone="Europe/Berlin")
    ana = await add_creator(db, caller, project, "ana")
    goal_id = await add_goal(db, caller, ana, "posts", "weekly", 4, clock.now(), start_date=date(2026, 3, 1))
    async with db.write() as session:

        async def video(posted, **kw):
            await insert_video(session, caller, project, creator_id=ana, posted_at=utc(posted), **kw)

        await video("2026-03-08T23:30")  # Monday 00:30 in Berlin: counts
        await video("2026-03-10T10:00", status="included")
        await video("2026-03-15T22:30", status="direct_add")  # Sunday 23:30 in Berlin: counts
        await video("2026-03-08T22:30")  # Sunday 23:30 of the week before
        await video("2026-03-15T23:00")  # Monday 00:00 of the next week
        await video("2026-03-11T10:00", status="pending_review")
        await video("2026-03-11T10:00", status="excluded")
        await video("2026-03-11T10:00", tracking_disabled_at=utc("2026-03-12T00:00"))

    async def at(moment, posts=3):
        clock.set(moment)
        await set_scrape(db, ana, moment - timedelta(hours=1))  # keep the scrape fresh: only period flags move
        result = await compliance_of(db, caller, project, clock, reference_date=THURSDAY)
        [group] = result.creators
        [entry] = group.compliance
        assert entry.goal.id == goal_id and entry.actual == posts and entry.target == 4
        assert (entry.advisory.period_start, entry.advisory.period_end) == (WEEK_START, WEEK_END)
        assert entry.advisory.scrape_stale is False and entry.advisory.not_yet_started is False
        return entry

    just_before = await at(WEEK_END - timedelta(minutes=1))
    assert just_before.status == "behind_pace" and just_before.percentage == 75.0  # projected 3.0003 < 4
    advisory = just_before.advisory
    assert (advisory.period_in_progress, advisory.period_recently_ended, advisory.has_advisory) == (True, False, True)
    assert (advisory.hours_until_period_end, advisory.hours_since_period_end) == (0.0, None)
    assert advisory.messages == ["The period runs until 2026-03-15T23:00:00+00:00; counts are still growing."]

    just_after = await at(WEEK_END + timedelta(minutes=1))
    assert just_after.status == "missed" and just_after.projected is None
    advisory = just_after.advisory
    assert (advisory.period_in_progress, advisory.period_recently_ended, advisory.has_advisory) == (False, True, True)
    assert (advisory.hours_until_period_end, advisory.hours_since_period_end) == (None, 0.0)
    assert len(advisory.messages) == 1 and "less than 48 hours ago" in advisory.messages[0]

    still_settling = await at(WEEK_END + timedelta(hours=47))
    assert still_settling.advisory.period_recently_ended is True
    assert still_settling.advisory.hours_since_period_end == 47.0

    final = await at(WEEK_END + timedelta(hours=49))
    assert final.status == "missed"
    assert final.advisory.period_recently_ended is False and final.advisory.hours_since_period_end == 49.0
    assert final.advisory.has_advisory is False and final.advisory.messages == []

    async with db.write() as session:  # a late post inside the week arrives: the ended period is now met
        await insert_video(session, caller, project, creator_id=ana, posted_at=utc("2026-03-12T09:00"))
    assert (await at(WEEK_END + timedelta(hours=49), posts=4)).status == "completed"


async def test_goals_not_started_ended_or_deleted_and_a_past_reference_date_measured_from_now(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone="Europe/Berlin")
    ana = await add_creator(db, caller, project, "ana", scraped_at=clock.now() - timedelta(hours=1), state="blocked")
    later_this_week = await add_goal(
        db, caller, ana, "views", "weekly", 1000, clock.now(), start_date=date(2026, 3, 12)
    )
    next_week = await add_goal(db, caller, ana, "posts", "weekly", 5, clock.now(), start_date=date(2026, 3, 16))
    ended = await add_goal(
        db, caller, ana, "engagement", "weekly", 5, clock.now(), start_date=date(2026, 2, 1), end_date=date(2026, 3, 8)
    )
    deleted = await add_goal(db, caller, ana, "followers", "daily", 10, clock.now())
    async with db.write() as session:
        await goals.delete_goal(session, caller, deleted, now=clock.now())

    now = await compliance_of(db, caller, project, clock)  # Tuesday 10 March, 13:00 in Berlin
    by_goal = {entry.goal.id: entry for entry in now.creators[0].compliance}
    assert set(by_goal) == {later_this_week, next_week} and now.reference_date == date(2026, 3, 10)
    starting = by_goal[later_this_week]
    assert starting.status == "at_risk" and starting.actual == 0  # measured over the whole week it overlaps
    assert starting.advisory.not_yet_started is True
    upcoming = by_goal[next_week]
    assert (upcoming.status, upcoming.actual, upcoming.percentage) == (None, None, None)
    assert upcoming.advisory.not_yet_started is True
    assert "The goal starts on 2026-03-16; it is not in force yet." in upcoming.advisory.messages
    stale = upcoming.advisory
    assert stale.scrape_stale is True and stale.scrape_freshness.scrape_state == "blocked"
    assert stale.scrape_freshness.hours_since == 1.0
    assert any("scrape_state blocked" in line for line in stale.messages)
    assert len(stale.messages) == 3  # in progress, stale, not yet started: one line per flag

    past = await compliance_of(db, caller, project, clock, reference_date=date(2026, 3, 2))
    by_goal = {entry.goal.id: entry for entry in past.creators[0].compliance}
    assert set(by_goal) == {later_this_week, next_week, ended}
    last_week = by_goal[ended]
    assert last_week.status == "missed" and last_week.actual is None  # no views: nothing to measure
    assert last_week.advisory.period_end == WEEK_START
    assert last_week.advisory.period_recently_ended is True  # "now" is the clock's: 37 h after that week's end
    assert last_week.advisory.hours_since_period_end == 37.0
    assert last_week.advisory.not_yet_started is False


async def test_an_hour_into_the_week_compliance_says_the_week_just_began_and_shows_the_week_just_completed(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone="Europe/Berlin")
    monday_1am = WEEK_END + timedelta(hours=1)  # Monday 16 March, 01:00 in Berlin
    clock.set(monday_1am)
    ana = await add_creator(db, caller, project, "ana", scraped_at=monday_1am - timedelta(minutes=30))
    posts = await add_goal(db, caller, ana, "posts", "weekly", 2, clock.now(), start_date=date(2026, 3, 1))
    views = await add_goal(db, caller, ana, "views", "weekly", 5000, clock.now(), start_date=date(2026, 3, 1))
    new = await add_goal(db, caller, ana, "followers", "weekly", 900, clock.now(), start_date=date(2026, 3, 16))
    async with db.write() as session:  # last week: two posts, 3,000 views in all; this week: nothing yet
        for posted in ("2026-03-10T10:00", "2026-03-14T18:00"):
            await insert_video(session, caller, project, creator_id=ana, posted_at=utc(posted), views=1500)

    async def judged(moment):
        clock.set(moment)
        result = await compliance_of(db, caller, project, clock)
        return {entry.goal.id: entry for entry in result.creators[0].compliance}

    monday = await judged(monday_1am)
    for entry in monday.values():
        assert entry.status == "at_risk"  # the documented pace rule, unchanged: nothing posted or scraped yet
        assert entry.advisory.period_just_started is True
        assert entry.advisory.period_start == WEEK_END
        assert "The period began 1.0 h ago: the status extrapolates from too little time" in entry.advisory.messages[1]
    done = monday[posts].previous
    assert done is not None and (done.period_start, done.period_end) == (WEEK_START, WEEK_END)
    assert (done.actual, done.percentage, done.status, done.period_recently_ended) == (2, 100.0, "completed", True)
    short = monday[views].previous
    assert short is not None and (short.actual, short.percentage, short.status) == (3000, 60.0, "missed")
    assert monday[new].previous is None  # the goal did not apply last week

    late_monday = await judged(WEEK_END + timedelta(hours=23, minutes=59))
    assert late_monday[posts].advisory.period_just_started is True and late_monday[posts].previous is not None
    tuesday = await judged(WEEK_END + timedelta(hours=24))  # a seventh of the week has gone
    assert tuesday[posts].advisory.period_just_started is False and tuesday[posts].previous is None
    assert not any("began" in line for line in tuesday[posts].advisory.messages)


async def test_followers_growth_is_extrapolated_and_engagement_is_compared_as_a_level(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone="Europe/Berlin")
    clock.set(utc("2026-03-12T11:00"))  # Thursday noon in Berlin: half the week has passed
    ana = await add_creator(db, caller, project, "ana", scraped_at=clock.now())
    await add_followers(db, ana, (utc("2026-03-08T20:00"), 1000), (utc("2026-03-12T10:00"), 1050))
    followers = await add_goal(db, caller, ana, "followers", "weekly", 1100, clock.now())
    engagement = await add_goal(db, caller, ana, "engagement", "weekly", 5, clock.now())
    async with db.write() as session:
        await insert_video(
            session, caller, project, creator_id=ana, posted_at=utc("2026-03-10T09:00"), views=1000, likes=30, saves=10
        )

    result = await compliance_of(db, caller, project, clock)
    by_goal = {entry.goal.id: entry for entry in result.creators[0].compliance}

    grown = by_goal[followers]
    assert (grown.actual, grown.projected, grown.percentage, grown.status) == (1050, 1100, 95.5, "on_track")
    rate = by_goal[engagement]
    assert (rate.actual, rate.projected, rate.percentage, rate.status) == (4.0, 4.0, 80.0, "behind_pace")


async def test_compliance_pages_by_creator_filters_and_refuses_bad_arguments(db, clock, acme, globex):
    caller, project = acme
    ids = {}
    for handle in ("ana", "ben", "cat", "dan"):
        ids[handle] = await add_creator(db, caller, project, handle, scraped_at=clock.now())
    for handle in ("ana", "ben", "cat"):
        await add_goal(db, caller, ids[handle], "posts", "daily", 2, clock.now())
    await add_goal(db, caller, ids["cat"], "views", "monthly", 5000, clock.now())
    async with db.write() as session:
        other = await projects.create_project(session, caller, name="Other", now=clock.now())
    outsider = await add_creator(db, caller, other.id, "eve")

    first = await compliance_of(db, caller, project, clock, limit=2)
    second = await compliance_of(db, caller, project, clock, limit=2, cursor=first.next_cursor)
    assert [g.creator.tiktok_handle for g in first.creators + second.creators] == ["ana", "ben", "cat"]
    assert second.next_cursor is None and first.creators_without_goals == 1  # dan
    monthly = await compliance_of(db, caller, project, clock, period="monthly")
    assert [(g.creator.id, len(g.compliance)) for g in monthly.creators] == [(ids["cat"], 1)]
    one = await compliance_of(db, caller, project, clock, creator_id=str(ids["cat"]))
    assert [len(g.compliance) for g in one.creators] == [2]

    with pytest.raises(InvalidInput, match=r"reference_date '2026-03-11' is after today \(2026-03-10 in UTC\)"):
        await compliance_of(db, caller, project, clock, reference_date=date(2026, 3, 11))
    with pytest.raises(InvalidInput, match="period 'quarterly' is not one of"):
        await compliance_of(db, caller, project, clock, period="quarterly")
    with pytest.raises(InvalidInput, match=f"Creator '{outsider}' belongs to another project"):
        await compliance_of(db, caller, project, clock, creator_id=outsider)
    with pytest.raises(NotFound):
        await compliance_of(db, globex[0], project, clock)
