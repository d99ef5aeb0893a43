"""A small seeded program for the calendar, pool and alert tests, with answers known by construction.

Today is Tuesday 2026-03-10 12:00 UTC (the clock fixture); the organization's timezone is UTC. Weeks start Monday:
the week of 2 March is over, the week of 9 March is 1.5 days old.

* `steady` (weekly goal of 3 posts from 1 February): posts 24, 26, 28 February, 2, 4, 6 and 9 March; one post waits in
  the inbox (4 March) and one is excluded (5 March).
* `lagging` (weekly goal of 3 posts from 1 February): posts 23 February and 3 March only, so misses cadence.
* `spammer` (no goal; its description asks for "2 videos per week"): posts 7 videos on 8 March, two of them confirmed
  under 100 views 3 h after posting: an over-posting day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tests.domain._support import insert_video
from tests.goals._support import add_creator, add_goal, utc
from trackagoat_mcp.db.models import JobRun, PayoutAccrual, PayoutStructure, PayoutStructureVersion
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller


@dataclass
class Program:
    caller: Caller
    project: uuid.UUID
    ids: dict[str, uuid.UUID]


async def post(db: Database, caller: Caller, project: uuid.UUID, creator: uuid.UUID, when: datetime, **kw) -> uuid.UUID:
    async with db.write() as session:
        video = await insert_video(session, caller, project, creator_id=creator, posted_at=when, **kw)
    return video.id


async def seed_calendar(db: Database, caller: Caller, project: uuid.UUID, now: datetime) -> Program:
    ids = {
        "steady": await add_creator(db, caller, project, "steady", scraped_at=now),
        "lagging": await add_creator(db, caller, project, "lagging", scraped_at=now),
        "spammer": await add_creator(
            db, caller, project, "spammer", scraped_at=now, description="Please publish 2 videos per week."
        ),
    }
    for handle in ("steady", "lagging"):
        await add_goal(db, caller, ids[handle], "posts", "weekly", 3, now, start_date=date(2026, 2, 1))
    for day in ("02-24", "02-26", "02-28", "03-02", "03-04", "03-06", "03-09"):
        await post(db, caller, project, ids["steady"], utc(f"2026-{day}T15:00"), views=1000)
    await post(db, caller, project, ids["steady"], utc("2026-03-04T18:00"), status="pending_review")
    await post(db, caller, project, ids["steady"], utc("2026-03-05T18:00"), status="excluded")
    for day in ("02-23", "03-03"):
        await post(db, caller, project, ids["lagging"], utc(f"2026-{day}T10:00"), views=500)
    first = utc("2026-03-08T09:00")
    for i in range(7):
        posted = first + timedelta(hours=i)
        views = 50 if i < 2 else 5000
        await post(
            db, caller, project, ids["spammer"], posted, views=views, snapshots=[(posted + timedelta(hours=3), views)]
        )
    return Program(caller, project, ids)


async def owe(db: Database, caller: Caller, project: uuid.UUID, creator: uuid.UUID, *, cents: int, start: datetime):
    """An `earned` weekly accrual of `cents`, all outstanding, for the week starting `start`."""
    async with db.write() as session:
        structure = PayoutStructure(org_id=caller.org_id, project_id=project, name=f"s{uuid.uuid4().hex[:6]}")
        session.add(structure)
        await session.flush()
        version = PayoutStructureVersion(
            structure_id=structure.id, version=1, period="weekly", amount_cents=cents, criteria_type="recurring"
        )
        session.add(version)
        await session.flush()
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
                outstanding_cents=cents,
                status="earned",
            )  # fmt: skip
        )


async def seed_alerts(db: Database, caller: Caller, project: uuid.UUID, now: datetime) -> Program:
    """`seed_calendar` plus a blocked creator, an unpaid balance from 9 February and a scrape job 13 h behind.

    Expected findings: lagging's weekly goal at risk now and missed last week, spammer's over-posting day, the blocked
    creator, steady's unpaid balance (4 weeks old, past the 14-day threshold), the scrape job's lag.
    """
    program = await seed_calendar(db, caller, project, now)
    program.ids["blocked"] = await add_creator(
        db, caller, project, "blocked", scraped_at=now - timedelta(hours=6), state="blocked"
    )
    await owe(db, caller, project, program.ids["steady"], cents=2500, start=utc("2026-02-09T00:00"))
    await owe(db, caller, project, program.ids["lagging"], cents=900, start=utc("2026-03-02T00:00"))  # too recent
    async with db.write() as session:
        session.add(
            JobRun(job="scrape", slot="old", claimed_by="w", status="ok", finished_at=now - timedelta(hours=13))
        )
    return program
