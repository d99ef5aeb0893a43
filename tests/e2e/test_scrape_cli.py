"""`trackagoat-mcp scrape` runs one real scrape cycle against the site TRACKAGOAT_TIKTOK_BASE_URL names."""

import json
from datetime import date, timedelta

import anyio
import pytest
from sqlalchemy import select

from tests.e2e.support import Store
from tests.jobs.test_scrape_cycle import serve
from trackagoat_mcp.clock import SystemClock
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, projects
from trackagoat_mcp.domain.orgs import only_org
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

pytestmark = pytest.mark.slow


async def test_scrape_command_fills_in_a_creator_from_the_site_it_is_pointed_at(sqlite_store: Store) -> None:
    await anyio.to_thread.run_sync(sqlite_store.init)
    clock = SystemClock()
    now = clock.now()
    db = Database.connect(sqlite_store.url)
    async with db.write() as session:
        caller = Caller(org_id=(await only_org(session)).id, scopes=frozenset({"admin"}))
        project = (await projects.list_projects(session, caller)).items[0]
        await creators.add_creators(
            session, caller, project_id=project.id, handles=["@nova"], now=now, tracking_start_date=date(2020, 1, 1)
        )
    site = SimulatedTikTok(clock=clock)
    site.add_account(
        SimAccount(
            "nova",
            nickname="Nova",
            followers=5_000,
            videos=[SimVideo.posted(now - timedelta(hours=3), 1, description="launch day")],
        )
    )

    async with serve(site) as base_url:
        result = await anyio.to_thread.run_sync(
            lambda: sqlite_store.ok(
                "scrape", "--force", TRACKAGOAT_TIKTOK_BASE_URL=base_url, TRACKAGOAT_SCRAPE_RATE="1000"
            )
        )

    report = json.loads(result.stdout)
    assert report["creators_scraped"] == 1, report
    async with db.read() as session:
        nova = (await session.scalars(select(Creator))).one()
        video = (await session.scalars(select(Video))).one()
    await db.dispose()
    assert (nova.follower_count, nova.display_name, nova.scrape_state) == (5_000, "Nova", "ok")
    assert (video.tracking_status, video.caption) == ("auto_tracked", "launch day")
