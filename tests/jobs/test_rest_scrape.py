"""The REST scrape routes (`POST /creators/{id}/scrape`, `/videos/{id}/scrape`) against the simulated TikTok site:
the same `scrape_now` job and result as the MCP tool, counted against the same daily cap."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from tests.http.rest.support import rest_client
from tests.http.support import make_key
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.tiktok.sim import SimulatedTikTok

from .conftest import BASE_URL, Program
from .test_jobs_tools import access, first_cycle, settings


async def test_scraping_a_creator_and_a_video_over_rest_reports_old_and_new_counters(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await first_cycle(db, clock, sim)
    clock.advance(timedelta(hours=2))
    async with db.read() as session:
        video_id = (
            await session.scalars(select(col(Video.id)).where(col(Video.creator_id) == program.ids["alice"]))
        ).first()
    key = await make_key(db, clock, program.caller.org_id)
    tiktok = access(sim, clock, settings())
    options = {"tiktok": tiktok, "tiktok_base_url": BASE_URL, "scrape_now_daily_cap": 2}
    try:
        async with rest_client(db, clock, key, **options) as client:
            creator = await client.post(f"/creators/{program.ids['alice']}/scrape")
            video = await client.post(f"/videos/{video_id}/scrape")
            capped = await client.post(f"/creators/{program.ids['sel']}/scrape")
    finally:
        await tiktok.aclose()
    [alice] = creator.json()["data"]["creators"]
    assert creator.status_code == 200 and alice["scraped"] and alice["followers"] == {"old": 12_000, "new": 12_020}
    assert video.status_code == 200 and [v["video_id"] for v in video.json()["data"]["videos"]] == [str(video_id)]
    assert capped.status_code == 409 and capped.json()["data"] is None
