"""get_program_health: each kind of problem shows up with the ids needed for the next call, bounded, in summary."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from tests.conftest import make_org
from tests.domain._support import insert_video
from tests.goals._support import add_creator, add_goal, utc
from trackagoat_mcp.db.models import JobRun, PayoutAccrual, PayoutStructure, PayoutStructureVersion
from trackagoat_mcp.domain.creators import REMOVED_REASON
from trackagoat_mcp.domain.health import program_health

NOW = utc("2026-03-10T12:00")  # the clock fixture: Tuesday


async def add_accrual(db, caller, project, creator, *, cents, outstanding, status="earned", week=0):
    async with db.write() as session:
        structure = PayoutStructure(org_id=caller.org_id, project_id=project, name=f"s{uuid.uuid4().hex[:6]}")
        session.add(structure)
        await session.flush()
        version = PayoutStructureVersion(
            structure_id=structure.id, version=1, period="weekly", amount_cents=cents, criteria_type="recurring"
        )
        session.add(version)
        await session.flush()
        start = utc("2026-02-23T00:00") + timedelta(weeks=week)
        session.add(
            PayoutAccrual(
                org_id=caller.org_id,
                project_id=project,
                creator_id=creator,
                structure_id=structure.id,
                structure_version_id=version.id,
                period_start_at=start,
                period_end_at=start + timedelta(weeks=1),
                amount_cents=cents,
                outstanding_cents=outstanding,
                status=status,
            )
        )


async def seed_program(db, clock, acme, globex):
    """One project with one problem of every kind (and a few non-problems that must not show up)."""
    caller, project = acme
    fresh = clock.now() - timedelta(hours=1)
    ids = {
        "fine": await add_creator(db, caller, project, "fine", scraped_at=fresh),
        "blocked": await add_creator(
            db, caller, project, "blocked", scraped_at=utc("2026-03-09T06:00"), state="blocked"
        ),
        "overdue": await add_creator(db, caller, project, "overdue", scraped_at=utc("2026-03-07T12:00")),
        "never": await add_creator(db, caller, project, "never"),
        "gone": await add_creator(
            db,
            caller,
            project,
            "gone",
            scraped_at=utc("2026-03-01T00:00"),
            state="not_found",
            active=False,
            missing_since=utc("2026-02-25T08:00"),
            disabled_reason="TikTok said not found since 2026-02-25; reactivate it if it is back.",
        ),
        "removed": await add_creator(db, caller, project, "removed", active=False, disabled_reason=REMOVED_REASON),
        "busy": await add_creator(db, caller, project, "busy", scraped_at=fresh),
    }
    ids["daily_views"] = await add_goal(
        db, caller, ids["fine"], "views", "daily", 1000, clock.now() - timedelta(days=3)
    )
    ids["weekly_posts"] = await add_goal(db, caller, ids["fine"], "posts", "weekly", 10, clock.now())
    ids["met"] = await add_goal(db, caller, ids["busy"], "posts", "weekly", 7, clock.now())
    async with db.write() as session:
        ids["inbox"] = []
        for hours in (30, 20, 10):
            video = await insert_video(
                session,
                caller,
                project,
                creator_id=ids["fine"],
                status="pending_review",
                posted_at=clock.now() - timedelta(hours=hours + 1),
                created_at=clock.now() - timedelta(hours=hours),
            )
            ids["inbox"].append(video.id)
        ids["busy_videos"] = []
        for i in range(7):  # Monday 9 March, hourly; the first two stuck under 100 views 3 h later
            posted = utc("2026-03-09T08:00") + timedelta(hours=i)
            views = 40 if i < 2 else 900
            video = await insert_video(
                session, caller, project, creator_id=ids["busy"], posted_at=posted, views=views,
                snapshots=[(posted + timedelta(hours=3), views)],
            )  # fmt: skip
            ids["busy_videos"].append(video.id)
        session.add(JobRun(job="scrape", slot="s1", claimed_by="w", status="ok", finished_at=utc("2026-03-10T09:30")))
        session.add(JobRun(job="scrape", slot="s0", claimed_by="w", status="ok", finished_at=utc("2026-03-09T09:30")))
        session.add(JobRun(job="accruals", slot="h1", claimed_by="w", status="running"))  # not finished yet
    await add_accrual(db, caller, project, ids["busy"], cents=5000, outstanding=2500)
    await add_accrual(db, caller, project, ids["busy"], cents=5000, outstanding=5000, week=1)
    await add_accrual(db, caller, project, ids["fine"], cents=1999, outstanding=1999)
    await add_accrual(db, caller, project, ids["fine"], cents=7000, outstanding=0, status="paid", week=1)
    await add_accrual(db, caller, project, ids["fine"], cents=9000, outstanding=9000, status="voided", week=2)
    other_caller, other_project = globex
    stranger = await add_creator(db, other_caller, other_project, "stranger", state="blocked")
    await add_accrual(db, other_caller, other_project, stranger, cents=100_000, outstanding=100_000)
    return ids


async def test_program_health_lists_every_kind_of_problem_with_its_ids(db, clock, acme, globex):
    ids = await seed_program(db, clock, acme, globex)
    caller, project = acme

    async with db.read() as session:
        health = await program_health(session, caller, str(project), now=clock.now())

    creators = health.creators
    assert [(i.tiktok_handle, i.state) for i in creators.items] == [
        ("gone", "disabled"),
        ("blocked", "blocked"),
        ("never", "stale"),
        ("overdue", "overdue"),
    ]
    assert creators.count == 4 and creators.by_state == {"disabled": 1, "blocked": 1, "stale": 1, "overdue": 1}
    gone = creators.items[0]
    assert gone.creator_id == ids["gone"] and gone.since == utc("2026-02-25T08:00") and "not found" in gone.reason
    assert creators.items[1].since == utc("2026-03-09T06:00") and creators.items[1].scrape_freshness.hours_since == 30.0

    assert health.inbox.pending_review_count == 3
    assert health.inbox.oldest_video_ids == ids["inbox"] and health.inbox.oldest_pending_since == NOW - timedelta(
        hours=30
    )

    goals = health.goals
    assert (goals.at_risk_count, goals.missed_count) == (2, 1)
    assert [(g.goal_id, g.creator_id, g.status) for g in goals.items] == [
        (ids["daily_views"], ids["fine"], "missed"),  # yesterday: no counted views (inbox videos do not count)
        (ids["daily_views"], ids["fine"], "at_risk"),  # today, half gone, still 0
        (ids["weekly_posts"], ids["fine"], "at_risk"),  # 0 of 10 posts, 36 of 168 hours gone
    ]
    assert (goals.items[0].period_start, goals.items[0].actual, goals.items[0].target) == (
        utc("2026-03-09T00:00"),
        0,
        1000,
    )

    [incident] = health.over_posting.items
    assert (incident.creator_id, incident.severity, incident.low_view_video_ids) == (
        ids["busy"],
        "recent",
        ids["busy_videos"][:2],
    )
    assert (health.over_posting.recent_count, health.over_posting.historical_count) == (1, 0)

    owed = health.outstanding_payouts
    assert (owed.total_cents, owed.creator_count) == (9499, 2)
    assert [(i.creator_id, i.outstanding_cents, i.accrual_count) for i in owed.items] == [
        (ids["busy"], 7500, 2),
        (ids["fine"], 1999, 1),
    ]

    assert health.jobs.scrape is not None and health.jobs.accruals is None
    assert (health.jobs.scrape.last_finished_at, health.jobs.scrape.hours_since) == (utc("2026-03-10T09:30"), 2.5)

    summary = "\n".join(health.summary)
    for expected in (
        "4 creator(s) have unreliable or missing numbers (1 disabled, 1 blocked, 1 stale, 1 overdue)",
        "3 video(s) wait in the tracking inbox",
        "2 goal(s) at risk in the current period and 1 missed in the previous one",
        "1 over-posting incident(s) in the last 7 days",
        "$94.99 (9499 cents) earned and unpaid across 2 creator(s)",
        "The accruals job has never finished a run",
    ):
        assert expected in summary
    assert "scrape job" not in summary  # 2.5 h ago is normal


async def test_a_healthy_project_says_so(db, clock, acme):
    caller, project = acme
    await add_creator(db, caller, project, "fine", scraped_at=clock.now())
    async with db.write() as session:
        for job in ("scrape", "accruals"):
            session.add(JobRun(job=job, slot="x", claimed_by="w", status="ok", finished_at=clock.now()))

    async with db.read() as session:
        health = await program_health(session, caller, project, now=clock.now())

    assert health.summary == ["Nothing needs attention."]
    assert health.creators.count == 0 and health.inbox.pending_review_count == 0 and health.goals.items == []


async def test_an_hour_into_the_week_health_reports_last_weeks_misses_not_this_weeks_pace(db, clock):
    caller, project = await make_org(db, clock, "Acme", timezone="America/New_York")
    monday_1am = utc("2026-03-16T05:00")  # Monday 16 March, 01:00 in New York (EDT)
    lagging = await add_creator(db, caller, project, "lagging", scraped_at=monday_1am - timedelta(hours=1))
    steady = await add_creator(db, caller, project, "steady", scraped_at=monday_1am - timedelta(hours=1))
    missed = await add_goal(db, caller, lagging, "posts", "weekly", 2, clock.now(), start_date=date(2026, 3, 1))
    await add_goal(db, caller, steady, "posts", "weekly", 2, clock.now(), start_date=date(2026, 3, 1))
    async with db.write() as session:  # last week (9-15 March, New York): lagging posted once, steady twice
        await insert_video(session, caller, project, creator_id=lagging, posted_at=utc("2026-03-11T15:00"))
        for posted in ("2026-03-10T15:00", "2026-03-13T15:00"):
            await insert_video(session, caller, project, creator_id=steady, posted_at=utc(posted))
        await insert_video(
            session,
            caller,
            project,
            creator_id=steady,
            status="pending_review",
            posted_at=utc("2026-03-15T13:00"),
            created_at=datetime(2026, 3, 15, 14, 0, 12, 52724, tzinfo=UTC),
        )
        session.add(JobRun(job="scrape", slot="s", claimed_by="w", status="failed", finished_at=monday_1am))
        session.add(JobRun(job="accruals", slot="h", claimed_by="w", status="ok", finished_at=monday_1am))

    async with db.read() as session:
        health = await program_health(session, caller, project, now=monday_1am)

    goals = health.goals
    assert (goals.at_risk_count, goals.missed_count) == (0, 1)  # this week's 0 posts after 1 h is not a risk
    assert [(g.goal_id, g.status, g.actual, g.period_start) for g in goals.items] == [
        (missed, "missed", 1, utc("2026-03-09T04:00"))
    ]
    summary = "\n".join(health.summary)
    assert "0 goal(s) at risk in the current period and 1 missed in the previous one" in summary
    assert "the oldest since 2026-03-15 14:00 UTC (15 h ago);" in summary
    assert "The last scrape run, at 2026-03-16 05:00 UTC (just now), ended failed" in summary
    assert ".052724" not in summary and "+00:00" not in summary
