"""A scrape cycle against the simulated site: creators fill in, videos land by tracking mode, numbers move.

Everything runs in-process (`httpx2.ASGITransport`) on a frozen clock, except one test that serves the
simulated site with uvicorn on a loopback port, so the same cycle also runs over a real HTTP connection.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import httpx2

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.demo import serve_site as serve
from trackagoat_mcp.jobs.scraper import ScrapeReport, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SimulatedTikTok

from .conftest import SETTINGS, Program, make_client
from .support import creator_row, creator_snapshots, scrape_runs, snapshot_total, video_snapshots, videos_of


async def cycle(
    db: Database,
    client: TikTokClient,
    clock: FrozenClock,
    *,
    creator_ids: list[uuid.UUID] | None = None,
    force: bool = False,
) -> ScrapeReport:
    with anyio.fail_after(30):
        return await run_scrape_cycle(
            db, client, clock, SETTINGS, worker_id="test", creator_ids=creator_ids, force=force
        )


async def test_a_first_cycle_fills_in_new_creators(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program
) -> None:
    report = await cycle(db, client, clock)

    alice = await creator_row(db, program.ids["alice"])
    assert alice.display_name == "Alice A." and alice.bio == "dance & food"
    assert alice.tiktok_user_id and alice.sec_uid and alice.avatar_url
    assert alice.follower_count == 12_000 and alice.video_count == 2
    assert alice.total_likes_count is not None and alice.total_likes_count > 0
    assert alice.scrape_state == "ok" and alice.last_scraped_at == clock.now()
    snapshots = await creator_snapshots(db, alice.id)
    assert [(s.follower_count, s.total_likes_count, s.video_count) for s in snapshots] == [
        (alice.follower_count, alice.total_likes_count, alice.video_count)
    ]
    assert report.creators_scraped == 2 and report.creator_snapshots == 2 and not report.failures


async def test_new_videos_land_by_tracking_mode_and_nothing_before_the_tracking_start(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program
) -> None:
    report = await cycle(db, client, clock)

    alice_videos = await videos_of(db, program.ids["alice"])
    sel_videos = await videos_of(db, program.ids["sel"])
    assert {caption: v.tracking_status for caption, v in alice_videos.items()} == {"fresh": "auto_tracked"}
    assert {caption: v.tracking_status for caption, v in sel_videos.items()} == {"needs review": "pending_review"}
    assert report.videos_discovered == 2 and report.videos_skipped_before_start == 1
    fresh = alice_videos["fresh"]
    assert fresh.view_count == 100 and fresh.like_count == 10 and fresh.scrape_state == "ok"
    assert fresh.url.endswith(f"/@alice/video/{fresh.tiktok_video_id}")


async def test_counters_move_on_the_next_cycle_and_snapshots_accumulate(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program
) -> None:
    await cycle(db, client, clock)
    clock.advance(timedelta(hours=7))
    report = await cycle(db, client, clock)

    alice = await creator_row(db, program.ids["alice"])
    assert alice.follower_count == 12_000 + 70 and alice.video_count == 3
    snapshots = await creator_snapshots(db, alice.id)
    assert [s.follower_count for s in snapshots] == [12_000, 12_070]
    videos = await videos_of(db, alice.id)
    fresh = videos["fresh"]
    assert fresh.view_count == 450  # 9 hours at 50 an hour
    history = await video_snapshots(db, fresh.id)
    assert [s.view_count for s in history] == [100, 450]
    assert (fresh.view_count, fresh.like_count, fresh.save_count) == (
        history[-1].view_count,
        history[-1].like_count,
        history[-1].save_count,
    )
    assert videos["later today"].tracking_status == "auto_tracked"  # posted between the two cycles
    assert report.videos_discovered == 1


async def test_a_second_cycle_right_away_scrapes_nothing_unless_forced(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await cycle(db, client, clock)
    served = sum(sim.requests.values())
    totals = await snapshot_total(db)

    idle = await cycle(db, client, clock)
    assert sum(sim.requests.values()) == served and await snapshot_total(db) == totals
    assert idle.creators_due == 0 and idle.creators_scraped == 0

    clock.advance(timedelta(hours=5))  # past the discovery and stats floors, not the profile floor
    partial = await cycle(db, client, clock)
    assert sim.count("/@alice") == 1 and partial.creators_scraped == 2 and partial.creator_snapshots == 0

    forced = await cycle(db, client, clock, force=True)
    assert forced.creators_scraped == 2 and sim.count("/@alice") == 2 and sim.count("/@sel") == 2


async def test_every_cycle_leaves_a_job_run_with_its_report(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program
) -> None:
    await cycle(db, client, clock)
    await cycle(db, client, clock)

    runs = await scrape_runs(db)
    assert len(runs) == 2 and len({run.slot for run in runs}) == 2
    assert all(run.status == "ok" and run.finished_at == clock.now() and run.claimed_by == "test" for run in runs)
    assert runs[0].report["creators_scraped"] + runs[1].report["creators_scraped"] == 2
    assert {"failures", "duration_seconds", "video_snapshots"} <= set(runs[0].report)


async def test_only_the_creators_asked_for_are_scraped(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    report = await cycle(db, client, clock, creator_ids=[program.ids["sel"]])

    assert report.creators_scraped == 1 and sim.count("/@alice") == 0 and sim.count("/@sel") == 1
    assert (await creator_row(db, program.ids["alice"])).scrape_state == "stale"


async def test_a_cycle_over_a_real_loopback_connection_fills_in_creators_and_videos(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    async with serve(sim) as base_url, httpx2.AsyncClient(base_url=base_url, timeout=10.0) as http:
        client = make_client(http, clock, base_url=base_url)
        first = await cycle(db, client, clock)
        clock.advance(timedelta(hours=7))
        second = await cycle(db, client, clock)

    alice = await creator_row(db, program.ids["alice"])
    assert alice.follower_count == 12_070 and alice.scrape_state == "ok"
    assert {c: v.tracking_status for c, v in (await videos_of(db, program.ids["sel"])).items()} == {
        "needs review": "pending_review"
    }
    assert first.creators_scraped == second.creators_scraped == 2 and not first.failures and not second.failures
    assert sim.count("/@alice") == 2
