"""The scraper facing every fault of the simulated site at once: requests fail cleanly, nothing is lost, all recovers.

The world: one creator per `FaultKind` (`f_<kind>`) and three healthy ones, each with two fresh posts, all `auto`.
Shape faults (`SHAPE_FAULTS`: the same data in another page shape) must leave their creator scraped like a
healthy one.
After one clean cycle every fault is switched on together, each on its own creator's pages, plus a site-wide 429
for two requests (fewer than the three attempts a request gets, so the healthy creators survive it by retrying).
A seeded-random variant then throws random faults, with random lifetimes, at random creators over several cycles
and checks after each one what must always hold: no snapshot lost or doubled, counters never going backwards,
and every creator's state and numbers explained by the faults it could have met.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import get_args

import anyio
import httpx2
import pytest

from tests.conftest import make_org
from tests.jobs.conftest import BASE_URL, SETTINGS, NeverDone, add_creator, make_client
from tests.jobs.support import FAULTS, creator_row, creator_snapshots, scrape_runs, video_snapshots, videos_of
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.scraper import ScrapeReport, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import SHAPE_FAULTS, Fault, FaultKind, SimAccount, SimulatedTikTok, SimVideo

KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
FAILING: tuple[FaultKind, ...] = tuple(kind for kind in KINDS if kind not in SHAPE_FAULTS)
TRANSPORT: tuple[FaultKind, ...] = ("rate_limited", "server_error", "slow")
HEALTHY = ("ok_a", "ok_b", "ok_c")
READABLE = HEALTHY + tuple(f"f_{kind}" for kind in KINDS if kind in SHAPE_FAULTS)
"""Creators every cycle reads: the healthy ones and those whose pages only change shape."""
STEP = timedelta(hours=7)  # past every floor in SETTINGS; four steps stay inside its two-day disable window


def faulted(kind: FaultKind) -> str:
    return f"f_{kind}"


@dataclass
class World:
    db: Database
    clock: FrozenClock
    sim: SimulatedTikTok
    client: TikTokClient
    ids: dict[str, uuid.UUID]


@dataclass(frozen=True)
class Seen:
    """What the store says about one creator: its row's numbers, its videos' views and how many snapshots of each."""

    state: str
    active: bool
    numbers: tuple[int | None, int | None, int | None, str | None]
    scraped_at: datetime | None
    snaps: int
    views: dict[str, int | None]
    video_snaps: dict[str, int]


@pytest.fixture
async def world(db: Database, clock: FrozenClock) -> AsyncIterator[World]:
    sim = SimulatedTikTok(clock=clock, sleep=NeverDone())
    now = clock.now()
    handles = [faulted(kind) for kind in KINDS] + list(HEALTHY)
    for n, handle in enumerate(handles):
        posts = [  # distinct ids per account (the seq), all after today's tracking start
            SimVideo.posted(now - timedelta(minutes=30 + n), 10 * n + 1, description="one", plays_per_hour=40 + n),
            SimVideo.posted(now - timedelta(minutes=10), 10 * n + 2, description="two", plays_per_hour=7),
        ]
        sim.add_account(SimAccount(handle, followers=1_000 * (n + 1), followers_per_hour=3 + n, videos=posts))
    caller, project_id = await make_org(db, clock)
    ids = {handle: await add_creator(db, clock, caller, project_id, handle, "auto") for handle in handles}
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sim.app), base_url=BASE_URL) as http:
        # A short timeout: a `slow` answer never comes, and each of its attempts costs this much real time.
        yield World(db, clock, sim, make_client(http, clock, timeout=0.3), ids)


async def cycle(world: World) -> ScrapeReport:
    with anyio.fail_after(30):
        return await run_scrape_cycle(world.db, world.client, world.clock, SETTINGS, worker_id="faults")


async def look(world: World, handle: str) -> Seen:
    row = await creator_row(world.db, world.ids[handle])
    videos = await videos_of(world.db, row.id)
    return Seen(
        row.scrape_state,
        row.is_active,
        (row.follower_count, row.total_likes_count, row.video_count, row.display_name),
        row.last_scraped_at,
        len(await creator_snapshots(world.db, row.id)),
        {caption: video.view_count for caption, video in videos.items()},
        {caption: len(await video_snapshots(world.db, video.id)) for caption, video in videos.items()},
    )


async def look_all(world: World) -> dict[str, Seen]:
    return {handle: await look(world, handle) for handle in world.ids}


def is_fresh(world: World, handle: str, seen: Seen) -> bool:
    """Whether the row holds exactly what the site shows now (profile and both posts)."""
    now = world.clock.now()
    account = world.sim.account(handle)
    views = {video.description: video.plays_at(now) for video in account.videos}
    return seen.scraped_at == now and seen.numbers[0] == account.followers_at(now) and seen.views == views


async def check_ledgers(world: World) -> None:
    """No snapshot doubled, counters never went backwards, and every row equals its latest snapshot."""
    for creator_id in world.ids.values():
        row, snaps = await creator_row(world.db, creator_id), await creator_snapshots(world.db, creator_id)
        assert len({s.captured_at for s in snaps}) == len(snaps)
        assert [s.follower_count for s in snaps] == sorted(s.follower_count for s in snaps)
        assert (row.follower_count, row.total_likes_count) == (snaps[-1].follower_count, snaps[-1].total_likes_count)
        for video in (await videos_of(world.db, creator_id)).values():
            history = await video_snapshots(world.db, video.id)
            assert len({s.captured_at for s in history}) == len(history)
            assert [s.view_count for s in history] == sorted(s.view_count for s in history)
            assert [s.like_count for s in history] == sorted(s.like_count for s in history)
            assert video.view_count == history[-1].view_count and video.last_scraped_at == history[-1].captured_at


async def test_every_fault_at_once_keeps_the_last_good_numbers_and_everything_recovers(world: World) -> None:
    sim, clock = world.sim, world.clock
    await cycle(world)
    before = await look_all(world)
    assert all(seen.state == "ok" and seen.snaps == 1 for seen in before.values())

    for kind in KINDS:
        sim.set_fault(Fault(kind, retry_after=1), handle=faulted(kind))
    sim.set_fault(Fault("rate_limited", times=2, retry_after=1))  # site-wide, below the three-attempt budget
    clock.advance(STEP)
    served = sim.requests.copy()
    report = await cycle(world)

    seen_now = sim.requests - served
    assert {kind: seen_now[f"/@{faulted(kind)}"] for kind in FAILING} == {k: e[2] for k, e in FAULTS.items()}
    assert seen_now["/login"] == 1  # where the login redirect led; nothing else was asked of faulted creators
    # Readable creators: a profile and one list page each, plus the two refused requests they retried.
    assert sum(seen_now[f"/@{h}"] for h in READABLE) + seen_now["/api/creator/item_list/"] == 2 * len(READABLE) + 2
    failures = Counter(FAULTS[kind][1] for kind in FAILING)
    assert report.failures == failures and {f.subject for f in report.failed} == {f"@{faulted(k)}" for k in FAILING}
    counts = (report.creators_scraped, report.creator_snapshots, report.video_snapshots)
    assert counts == (len(world.ids), len(READABLE), 2 * len(READABLE))
    # challenge and script_challenge are challenge pages, empty_shell a shell, forbidden a 403.
    assert report.blocked == {"challenge": 2, "shell": 1, "http_403": 1} and report.browser_passed == 0
    after = await look_all(world)
    for kind in FAILING:
        assert after[faulted(kind)] == replace(before[faulted(kind)], state=FAULTS[kind][0])
        missing = (await creator_row(world.db, world.ids[faulted(kind)])).missing_since
        assert missing == (clock.now() if kind in ("not_found", "banned", "missing") else None)
    for handle in READABLE:
        assert after[handle].state == "ok" and after[handle].snaps == 2 and is_fresh(world, handle, after[handle])
        assert after[handle].video_snaps == {"one": 2, "two": 2}
    await check_ledgers(world)

    sim.clear_faults()
    clock.advance(STEP)  # 14 h after the first not_found/banned: inside the two-day window, so they just recover
    report = await cycle(world)

    assert not report.failures and report.creators_disabled == 0 and report.creator_snapshots == len(world.ids)
    for handle, seen in (await look_all(world)).items():
        assert seen.state == "ok" and seen.active and is_fresh(world, handle, seen)
        assert seen.snaps == (3 if handle in READABLE else 2)
        assert (await creator_row(world.db, world.ids[handle])).missing_since is None
    await check_ledgers(world)
    runs = await scrape_runs(world.db)
    assert [run.status for run in runs] == ["ok"] * 3
    assert [run.report["failures"] for run in runs] == [{}, dict(sorted(failures.items())), {}]
    assert [run.report["blocks"]["blocked"] for run in runs] == [0, 4, 0]


# Seeds whose draws, between them, include slow creators, a site-wide slow fault and healthy creators retried out.
@pytest.mark.parametrize("seed", [11, 12, 15])
async def test_random_faults_over_several_cycles_never_lose_or_rewind_numbers(world: World, seed: int) -> None:
    rng, sim = random.Random(seed), world.sim
    await cycle(world)
    for _ in range(4):
        before = await look_all(world)
        sim.clear_faults()
        own: dict[str, Fault] = {}
        for handle in world.ids:
            if rng.random() < 0.5:
                own[handle] = Fault(rng.choice(KINDS), times=rng.choice([None, 1, 2, 3]), retry_after=1)
                sim.set_fault(own[handle], handle=handle)
        site = Fault(rng.choice(TRANSPORT), times=rng.randint(1, 4), retry_after=1) if rng.random() < 0.6 else None
        sim.set_fault(site)
        world.clock.advance(STEP)
        report = await cycle(world)

        after = await look_all(world)
        certain: Counter[str] = Counter()
        for handle, seen in after.items():
            was, fault = before[handle], own.get(handle)
            assert seen.active
            # The creator's own fault answers its first request; only a short-lived transport one can be retried
            # past, and then the site-wide fault (shared by whoever asks first) may or may not catch it.
            readable = fault is None or fault.kind in SHAPE_FAULTS
            if (
                fault is not None
                and not readable
                and (fault.kind not in TRANSPORT or fault.times is None or fault.times >= 3)
            ):
                assert seen == replace(was, state=FAULTS[fault.kind][0])
                certain[FAULTS[fault.kind][1]] += 1
            elif site is None or seen.state == "ok":
                assert seen.state == "ok" and seen.snaps == was.snaps + 1 and is_fresh(world, handle, seen)
                assert all(seen.video_snaps[c] == n + 1 for c, n in was.video_snaps.items())
            else:  # a retried-out transport fault: profile kept or refreshed, the list (and videos) kept
                assert seen.state == "stale" and (seen.views, seen.video_snaps) == (was.views, was.video_snaps)
                kept = seen.snaps == was.snaps and seen.numbers == was.numbers and seen.scraped_at == was.scraped_at
                refreshed = seen.snaps == was.snaps + 1 and seen.numbers[0] == sim.account(handle).followers_at(
                    world.clock.now()
                )
                assert kept or refreshed
        assert not certain - report.failures
        assert report.failures.total() == sum(seen.state != "ok" for seen in after.values())
        assert report.creators_scraped == len(world.ids) and report.creators_disabled == 0
        await check_ledgers(world)

    sim.clear_faults()
    world.clock.advance(STEP)
    assert not (await cycle(world)).failures
    for handle, seen in (await look_all(world)).items():
        assert seen.state == "ok" and is_fresh(world, handle, seen)
    await check_ledgers(world)
    assert {run.status for run in await scrape_runs(world.db)} == {"ok"}
