"""The demo's goal summary, printed from a real get_goal_compliance call through mcp.Client on a frozen clock."""

from __future__ import annotations

from datetime import date, timedelta

from mcp import Client

from tests.conftest import make_org, make_server
from tests.domain._support import insert_video
from tests.goals._support import add_creator, add_goal, utc
from tests.server.conftest import ok
from trackagoat_mcp.demo import compliance_lines

MONDAY_1AM = utc("2026-03-16T05:00")  # Monday 16 March, 01:00 in New York (EDT)


async def seeded_summary(db, clock, moment):
    caller, project = await make_org(db, clock, "Acme", timezone="America/New_York")
    clock.set(moment)
    ana = await add_creator(db, caller, project, "ana", scraped_at=moment - timedelta(hours=1))
    for minutes, metric, target in ((2, "posts", 2), (1, "views", 5000)):  # created in this order
        created = moment - timedelta(minutes=minutes)
        await add_goal(db, caller, ana, metric, "weekly", target, created, start_date=date(2026, 3, 1))
    async with db.write() as session:  # last week (9-15 March in New York): two posts, 3,000 views
        for posted in ("2026-03-10T15:00", "2026-03-14T15:00"):
            await insert_video(session, caller, project, creator_id=ana, posted_at=utc(posted), views=1500)
    async with Client(make_server(db, clock, caller)) as client:
        result = ok(await client.call_tool("get_goal_compliance", {"project_id": str(project), "period": "weekly"}))
    return compliance_lines(result)


async def test_an_hour_into_the_week_the_demo_summary_shows_the_week_just_completed_first(db, clock):
    head, line = await seeded_summary(db, clock, MONDAY_1AM)

    assert head == (
        "> get_goal_compliance weekly → 1 creators with goals this week (as of 2026-03-16), 0 without; this week "
        "began 1 h ago, so the week just completed comes first"
    )
    assert line == (
        "    @ana            last week: posts 2/2 completed, views 3,000/5,000 missed; this week so far: posts 0/2, "
        "views 0/5,000"
    )
    assert "at_risk" not in line


async def test_later_in_the_week_the_demo_summary_shows_this_weeks_statuses(db, clock):
    head, line = await seeded_summary(db, clock, MONDAY_1AM + timedelta(days=1))

    assert head.endswith("(as of 2026-03-17), 0 without")
    assert line == "    @ana            posts 0/2 at_risk, views 0/5,000 at_risk"
