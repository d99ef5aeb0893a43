"""Stopping a video's tracking stops the scraper's refreshes at the simulated site; its last numbers stay."""

from __future__ import annotations

from datetime import timedelta

import anyio

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import video_tracking, videos
from trackagoat_mcp.jobs.scraper import run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SimAccount, SimulatedTikTok, SimVideo

from .conftest import SETTINGS, Program
from .support import video_snapshots, videos_of


async def cycle(db: Database, client: TikTokClient, clock: FrozenClock) -> None:
    with anyio.fail_after(30):
        await run_scrape_cycle(db, client, clock, SETTINGS, worker_id="test")


async def _row(db: Database, program: Program, video_id: object) -> Video:
    async with db.read() as session:
        return await videos.get_video(session, program.caller, video_id)


async def _stop(db: Database, clock: FrozenClock, program: Program, video_id: object, *, enabled: bool) -> None:
    async with db.write() as session:
        await video_tracking.set_tracking(
            session, program.caller, video_ids=[video_id], enabled=enabled, now=clock.now()
        )


async def test_a_stopped_video_page_is_no_longer_requested_until_tracking_resumes(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    post = SimVideo.posted(clock.now() - timedelta(hours=1), 9, description="pasted", plays_per_hour=100)
    sim.add_account(SimAccount("dora", followers=10, videos=[post]))
    page = f"/@dora/video/{post.video_id}"
    async with db.write() as session:
        added = await videos.add_videos(
            session,
            program.caller,
            project_id=program.project_id,
            urls=[f"https://www.tiktok.com{page}"],
            now=clock.now(),
        )
    video_id = added.results[0].video_id
    await cycle(db, client, clock)
    assert sim.count(page) == 1 and (await _row(db, program, video_id)).view_count == 100

    await _stop(db, clock, program, video_id, enabled=False)
    for _ in range(3):
        clock.advance(timedelta(hours=5))  # past every scrape floor each time
        await cycle(db, client, clock)
    stopped = await _row(db, program, video_id)
    assert sim.count(page) == 1
    assert (stopped.view_count, len(await video_snapshots(db, video_id))) == (100, 1)

    await _stop(db, clock, program, video_id, enabled=True)
    await cycle(db, client, clock)
    assert sim.count(page) == 2 and (await _row(db, program, video_id)).view_count == 1600  # 16 hours at 100


async def test_a_stopped_creator_video_keeps_its_numbers_while_the_creators_list_is_read(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await cycle(db, client, clock)
    fresh = (await videos_of(db, program.ids["alice"]))["fresh"]
    await _stop(db, clock, program, fresh.id, enabled=False)
    listed = sim.count("/api/creator/item_list/")

    clock.advance(timedelta(hours=7))
    await cycle(db, client, clock)

    after = (await videos_of(db, program.ids["alice"]))["fresh"]
    assert sim.count("/api/creator/item_list/") > listed  # the creator's videos were listed again ...
    assert (after.view_count, after.like_count) == (fresh.view_count, fresh.like_count)  # ... this one not updated
    assert [s.view_count for s in await video_snapshots(db, fresh.id)] == [100]
    assert after.tracking_disabled_at is not None
