"""Whole scrape cycles over the page shapes of issue 18: right numbers from new shapes, never zeros from odd ones,
the right `scrape_state`, and the block rate in the run report and in `get_program_health`."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
from sqlmodel import col, select

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import videos
from trackagoat_mcp.domain.health import program_health
from trackagoat_mcp.jobs.scraper import ScrapeReport, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import Fault, SimAccount, SimulatedTikTok, SimVideo

from .conftest import SETTINGS, Program
from .support import creator_row, creator_snapshots, scrape_runs, video_snapshots


async def cycle(db: Database, client: TikTokClient, clock: FrozenClock) -> ScrapeReport:
    with anyio.fail_after(30):
        return await run_scrape_cycle(db, client, clock, SETTINGS, worker_id="shapes")


async def test_mobile_post_pages_refresh_a_directly_added_post(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    post = SimVideo.posted(clock.now() - timedelta(hours=3), 1, description="slides", is_photo=True)
    sim.add_account(SimAccount("loner", videos=[post]))
    sim.set_fault("mobile_pages", handle="loner")
    async with db.write() as session:
        await videos.add_videos(
            session,
            program.caller,
            project_id=program.project_id,
            urls=[f"https://www.tiktok.com/@loner/photo/{post.video_id}"],
            now=clock.now(),
        )

    report = await cycle(db, client, clock)

    async with db.read() as session:
        row = (await session.scalars(select(Video).where(col(Video.tiktok_video_id) == post.video_id))).one()
    assert sim.count(f"/@loner/video/{post.video_id}") == 1
    assert row.view_count == post.plays_at(clock.now()) and row.like_count == post.plays_at(clock.now()) // 10
    assert len(await video_snapshots(db, row.id)) == 1 and not report.failures


async def test_the_sigi_script_form_refreshes_a_creator(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.set_fault("sigi_script", handle="alice")

    report = await cycle(db, client, clock)

    alice = await creator_row(db, program.ids["alice"])
    assert (alice.scrape_state, alice.follower_count, alice.video_count) == ("ok", 12_000, 2)
    assert len(await creator_snapshots(db, alice.id)) == 1 and not report.failures


async def test_a_handle_answered_10221_with_nobody_is_not_found_and_keeps_its_numbers(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await cycle(db, client, clock)
    sim.set_fault("missing", handle="alice")
    clock.advance(timedelta(hours=7))

    report = await cycle(db, client, clock)

    alice = await creator_row(db, program.ids["alice"])
    assert (alice.scrape_state, alice.missing_since, alice.follower_count) == ("not_found", clock.now(), 12_000)
    assert alice.is_active and len(await creator_snapshots(db, alice.id)) == 1
    assert report.failures == {"not_found": 1} and report.blocked == {}


async def test_a_private_profile_never_overwrites_the_known_video_count(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await cycle(db, client, clock)
    sim.set_fault("private", handle="alice")
    clock.advance(timedelta(hours=7))

    report = await cycle(db, client, clock)

    alice = await creator_row(db, program.ids["alice"])
    assert (alice.scrape_state, alice.video_count, alice.follower_count) == ("private", 2, 12_000)
    snapshots = await creator_snapshots(db, alice.id)
    assert [s.video_count for s in snapshots] == [2]
    assert report.failures == {"private": 1}


@pytest.mark.parametrize(
    ("fault", "kind"), [(Fault("forbidden", status=451), "http_451"), (Fault("challenge"), "challenge")]
)
async def test_blocks_are_counted_by_kind_in_the_report_and_raise_a_health_finding(
    db: Database,
    client: TikTokClient,
    clock: FrozenClock,
    program: Program,
    sim: SimulatedTikTok,
    fault: Fault,
    kind: str,
) -> None:
    sim.set_fault(fault)  # the whole site

    report = await cycle(db, client, clock)

    blocks = report.blocks_json()
    assert (blocks["blocked"], blocks["share"], blocks["by_kind"]) == (2, 1.0, {kind: 2})
    assert blocks["browser_fetcher"] is False and blocks["hint"].startswith("TikTok blocked 2 of 2 fetches (100%)")
    first_step = "browser fetcher" if kind == "challenge" else "proxy"
    assert first_step in blocks["hint"].split("Try, in order: ")[1].split(";")[0]
    assert (await scrape_runs(db))[0].report["blocks"] == blocks

    sim.clear_faults()
    clock.advance(timedelta(hours=7))
    await cycle(db, client, clock)  # 2 profiles + 2 lists, none blocked
    async with db.read() as session:
        health = await program_health(
            session, program.caller, program.project_id, now=clock.now(), block_rate_threshold=0.3
        )
        quiet = await program_health(session, program.caller, program.project_id, now=clock.now(), block_rate_cycles=1)

    rate = health.scrape_blocks
    assert rate is not None and (rate.cycles, rate.fetches, rate.blocked, rate.share) == (2, 6, 2, 0.3333)
    assert rate.alert and rate.by_kind == {kind: 2}
    assert any(
        line.startswith("TikTok blocked 33% of fetches in the last 2 scrape cycle(s)") for line in health.summary
    )
    assert quiet.scrape_blocks is not None and not quiet.scrape_blocks.alert and quiet.scrape_blocks.hint is None
    assert not any("TikTok blocked" in line for line in quiet.summary)
