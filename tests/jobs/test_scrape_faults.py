"""Faults on the simulated site: the last good numbers survive, `scrape_state` says why, everyone else is scraped.

Each test scrapes once cleanly, switches a fault on for `alice` only, moves the clock past every floor and
scrapes again. Transient faults (429, 5xx, timeouts) are retried by the client (three attempts); page states
and blocks are not.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
import httpx2
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.scraper import ScrapeReport, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import Fault, FaultKind, SimulatedTikTok

from .conftest import SETTINGS, Program, make_client
from .support import FAULTS, creator_row, creator_snapshots, video_snapshots, videos_of


async def cycle(db: Database, client: TikTokClient, clock: FrozenClock) -> ScrapeReport:
    with anyio.fail_after(30):
        return await run_scrape_cycle(db, client, clock, SETTINGS, worker_id="test")


@pytest.mark.parametrize("kind", list(FAULTS))
async def test_a_fault_keeps_the_last_good_numbers_and_says_why(
    db: Database,
    clock: FrozenClock,
    program: Program,
    sim: SimulatedTikTok,
    http: httpx2.AsyncClient,
    kind: FaultKind,
) -> None:
    # A short timeout so the `slow` fault (an answer that never comes) times out quickly in real time.
    client = make_client(http, clock, timeout=0.5)
    await cycle(db, client, clock)
    before = await creator_row(db, program.ids["alice"])
    fresh_before = (await videos_of(db, before.id))["fresh"]
    sel_before = await creator_row(db, program.ids["sel"])

    sim.set_fault(Fault(kind, retry_after=1), handle="alice")
    clock.advance(timedelta(hours=7))
    profile_requests = sim.count("/@alice")
    report = await cycle(db, client, clock)

    state, failure, attempts = FAULTS[kind]
    after = await creator_row(db, before.id)
    assert after.scrape_state == state
    assert (after.follower_count, after.total_likes_count, after.video_count, after.display_name) == (
        before.follower_count,
        before.total_likes_count,
        before.video_count,
        before.display_name,
    )
    assert after.last_scraped_at == before.last_scraped_at and after.is_active
    assert len(await creator_snapshots(db, before.id)) == 1
    fresh_after = (await videos_of(db, before.id))["fresh"]
    assert fresh_after.view_count == fresh_before.view_count and len(await video_snapshots(db, fresh_after.id)) == 1
    assert sim.count("/@alice") - profile_requests == attempts
    assert report.failures == {failure: 1}
    assert report.failed[0].subject == "@alice"
    # Everyone else was scraped as usual.
    sel_after = await creator_row(db, program.ids["sel"])
    assert sel_after.scrape_state == "ok" and sel_after.follower_count == (sel_before.follower_count or 0) + 14


async def test_a_blocked_video_list_keeps_video_numbers_and_marks_the_creator(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await cycle(db, client, clock)
    fresh_before = (await videos_of(db, program.ids["alice"]))["fresh"]
    sim.set_fault("challenge", handle="alice")
    clock.advance(timedelta(hours=5))  # the list is due again, the profile (6 h floor) is not

    report = await cycle(db, client, clock)

    creator = await creator_row(db, program.ids["alice"])
    fresh_after = (await videos_of(db, creator.id))["fresh"]
    assert sim.count("/@alice") == 1 and creator.scrape_state == "blocked"
    assert (
        fresh_after.view_count == fresh_before.view_count
        and fresh_after.last_scraped_at == fresh_before.last_scraped_at
    )
    assert report.failures == {"blocked": 1} and report.failed[0].message == "video list: blocked"


async def test_repeated_not_found_over_the_window_disables_the_creator(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    await cycle(db, client, clock)
    sim.set_fault("not_found", handle="alice")

    for _ in range(2):  # day 1 starts the streak; day 2 is still inside the two-day window
        clock.advance(timedelta(days=1))
        await cycle(db, client, clock)
        creator = await creator_row(db, program.ids["alice"])
        assert creator.is_active and creator.scrape_state == "not_found"

    clock.advance(timedelta(days=1))
    report = await cycle(db, client, clock)
    creator = await creator_row(db, program.ids["alice"])
    assert not creator.is_active and creator.disabled_reason and "not_found" in creator.disabled_reason
    assert creator.follower_count == 12_000  # the last good number is still there
    assert report.creators_disabled == 1

    clock.advance(timedelta(days=1))
    later = await cycle(db, client, clock)
    assert later.creators_due == 1  # only `sel`: a disabled creator is no longer scraped


async def test_a_found_account_breaks_the_not_found_streak(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    sim.set_fault("not_found", handle="alice")
    await cycle(db, client, clock)
    clock.advance(timedelta(days=1, hours=12))
    sim.set_fault(None, handle="alice")
    await cycle(db, client, clock)
    sim.set_fault("not_found", handle="alice")
    clock.advance(timedelta(days=1))
    await cycle(db, client, clock)

    creator = await creator_row(db, program.ids["alice"])
    assert creator.is_active and creator.scrape_state == "not_found" and creator.missing_since == clock.now()
