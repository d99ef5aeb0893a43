"""The comment cycle against the simulated site: paging, pinned, replies, deleted, every fault, a 10,000-comment video.

Each test first runs a scrape cycle so `alice`'s fresh post is tracked, then gives that post comments on the
simulated site and runs comment cycles. Nothing is ever stored twice (the unique key on video and comment id is
checked by counting rows against distinct ids), and a failed read leaves what was stored before untouched.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import anyio
import httpx2
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from starlette.types import Receive, Scope, Send

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import JobRun, Video, VideoComment, VideoCommentFeed
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.comments import CommentReport, CommentSettings, run_comment_cycle
from trackagoat_mcp.jobs.scraper import run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.sim import Fault, FaultKind, SimulatedTikTok
from trackagoat_mcp.tiktok.sim_comments import SimComment, comment_id_for, make_comments

from .conftest import BASE_URL, SETTINGS, Program, make_client
from .support import FAULTS

COMMENTS = CommentSettings(min_video_comments_hours=6, comments_per_video=500, comments_per_cycle=5000)
LONG = os.environ.get("TRACKAGOAT_LONG_TESTS") == "1"
"""Long form: the 10,000-comment video is read to its oldest comment (about 10 s more per store)."""
WORDS = ["love this so much", "this is awful and bad", "ok", "great video", "hate it", "🔥🔥"]


async def comment_cycle(
    db: Database, client: TikTokClient, clock: FrozenClock, settings: CommentSettings = COMMENTS
) -> CommentReport:
    with anyio.fail_after(60):
        return await run_comment_cycle(db, client, clock, settings, worker_id="test")


async def tracked_fresh(db: Database, client: TikTokClient, clock: FrozenClock, sim: SimulatedTikTok) -> Video:
    """Scrape once; return the row of alice's fresh post (the one tracked video that gets comments)."""
    with anyio.fail_after(30):
        await run_scrape_cycle(db, client, clock, SETTINGS, worker_id="test")
    async with db.read() as session:
        return (await session.scalars(select(Video).where(col(Video.caption) == "fresh"))).one()


async def stored(db: Database, video_id: uuid.UUID) -> dict[str, VideoComment]:
    async with db.read() as session:
        rows = (await session.scalars(select(VideoComment).where(col(VideoComment.video_id) == video_id))).all()
        distinct = (
            await session.execute(
                select(func.count(func.distinct(VideoComment.cid))).where(col(VideoComment.video_id) == video_id)
            )
        ).scalar_one()
    assert len(rows) == distinct  # nothing doubled
    return {row.cid: row for row in rows}


async def feed(db: Database, video_id: uuid.UUID) -> VideoCommentFeed:
    async with db.read() as session:
        return await session.get_one(VideoCommentFeed, video_id)


def seeded(sim: SimulatedTikTok, video: Video, count: int, *, hours_ago: float = 1.5) -> list[SimComment]:
    start = sim.clock.now() - timedelta(hours=hours_ago)
    step = timedelta(seconds=hours_ago * 3600 * 0.9 / count)  # all of them written by now
    comments = make_comments([WORDS[i % len(WORDS)] for i in range(count)], start=start, step=step)
    sim.set_comments(video.tiktok_video_id, comments)
    return comments


async def test_comments_are_read_newest_first_with_pinned_replies_and_deleted_ones_left_out(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    video = await tracked_fresh(db, client, clock, sim)
    comments = seeded(sim, video, 120)
    comments[0].pinned = True  # the oldest, pinned on top of the first page
    comments[5].deleted = True
    reply_at = comments[10].created_at + timedelta(seconds=5)
    comments[10].replies.append(SimComment(comment_id_for(reply_at, 999), "so true, love it", reply_at, "replier"))

    report = await comment_cycle(db, client, clock)

    rows = await stored(db, video.id)
    assert len(rows) == 120  # 119 shown + 1 reply; the deleted one never stored
    assert comments[5].cid not in rows
    assert rows[comments[0].cid].is_pinned
    reply = rows[comment_id_for(reply_at, 999)]
    assert reply.parent_cid == comments[10].cid and reply.commenter == "replier"
    assert rows[comments[10].cid].reply_count == 1
    love, awful, emoji = rows[comments[0].cid], rows[comments[1].cid], rows[comments[11].cid]
    assert love.score is not None and love.score > 0
    assert awful.score is not None and awful.score < 0
    assert emoji.text == "🔥🔥" and emoji.score is None  # nothing to score: counted, not analyzed
    assert report.top_level_read == 120 and report.fetches == 3  # pages of 50, 50, 20
    assert (await feed(db, video.id)).total == 119 and (await feed(db, video.id)).state == "ok"
    async with db.read() as session:
        run = (await session.scalars(select(JobRun).where(col(JobRun.job) == "comments"))).one()
    assert run.status == "ok" and run.report["comments_new"] == 120


async def test_the_next_refresh_reads_only_new_comments_and_marks_deleted_ones(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    video = await tracked_fresh(db, client, clock, sim)
    comments = seeded(sim, video, 120)
    await comment_cycle(db, client, clock)
    assert (await comment_cycle(db, client, clock)).videos_due == 0  # the floor holds

    clock.advance(timedelta(hours=7))
    comments[-1].deleted = True
    comments.extend(make_comments(["new and lovely", "new and terrible"], start=clock.now() - timedelta(minutes=5)))
    before = sim.count("/api/comment/list/")
    report = await comment_cycle(db, client, clock)

    rows = await stored(db, video.id)
    assert len(rows) == 122 and rows[comments[-1].cid].text == "new and terrible"
    assert rows[comments[119].cid].deleted_at == clock.now()
    assert sim.count("/api/comment/list/") - before == 1  # one page reached what was stored
    assert report.comments_new == 2 and report.comments_deleted == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the store plays no part in how a fault is met
@pytest.mark.parametrize("kind", list(FAULTS))
async def test_a_fault_keeps_the_stored_comments_and_the_next_cycle_catches_up(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok, http: httpx2.AsyncClient, kind: FaultKind
) -> None:
    client = make_client(http, clock, timeout=0.5)  # `slow` never answers: time out quickly in real time
    video = await tracked_fresh(db, client, clock, sim)
    comments = seeded(sim, video, 60)
    await comment_cycle(db, client, clock)
    first = {cid: (row.text, row.score, row.like_count) for cid, row in (await stored(db, video.id)).items()}

    clock.advance(timedelta(hours=7))
    comments.extend(
        make_comments(["fresh praise, great", "fresh rage, awful"], start=clock.now() - timedelta(minutes=3))
    )
    sim.set_fault(Fault(kind, retry_after=1), handle="alice")
    report = await comment_cycle(db, client, clock)

    after = {cid: (row.text, row.score, row.like_count) for cid, row in (await stored(db, video.id)).items()}
    assert after == first  # last good data kept, nothing zeroed, nothing added
    assert report.failures == {FAULTS[kind][1]: 1} and (await feed(db, video.id)).state == FAULTS[kind][1]

    sim.set_fault(None, handle="alice")
    clock.advance(timedelta(hours=7))
    await comment_cycle(db, client, clock)
    rows = await stored(db, video.id)
    assert len(rows) == 62 and (await feed(db, video.id)).state == "ok"


async def test_a_fault_midway_keeps_the_pages_read_and_resumes_there(
    db: Database, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    seen = 0

    async def blocks_the_second_comment_page(scope: Scope, receive: Receive, send: Send) -> None:
        # In front of the site: the second comment page of the first cycle meets a challenge.
        nonlocal seen
        if scope["type"] == "http" and scope["path"] == "/api/comment/list/":
            seen += 1
            if seen == 2:
                sim.set_fault(Fault("challenge", times=1), handle="alice")
        await sim.app(scope, receive, send)

    transport = httpx2.ASGITransport(app=blocks_the_second_comment_page)
    async with httpx2.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        client = make_client(http, clock)
        video = await tracked_fresh(db, client, clock, sim)
        seeded(sim, video, 150)
        report = await comment_cycle(db, client, clock)

        assert report.failures == {"blocked": 1} and len(await stored(db, video.id)) == 50
        assert (await feed(db, video.id)).backfill_cursor == 50
        clock.advance(timedelta(hours=7))
        await comment_cycle(db, client, clock)
    assert len(await stored(db, video.id)) == 150 and (await feed(db, video.id)).backfill_cursor is None


@pytest.mark.parametrize(
    "db_url", ["sqlite"], indirect=True
)  # the bound is the scraper's; other tests cover both stores
async def test_a_video_with_ten_thousand_comments_stays_within_the_cycle_bound_and_backfills(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    video = await tracked_fresh(db, client, clock, sim)
    seeded(sim, video, 10_000, hours_ago=1.9)
    bounded = CommentSettings(min_video_comments_hours=6, comments_per_video=5000, comments_per_cycle=1000)

    report = await comment_cycle(db, client, clock, bounded)

    assert report.top_level_read == 1000 and report.fetches == 20
    rows = await stored(db, video.id)
    assert len(rows) == 1000
    newest = sorted(rows.values(), key=lambda row: row.posted_at)[0].posted_at
    assert newest == sim.comments_of(video.tiktok_video_id)[9000].created_at  # the newest thousand
    assert (await feed(db, video.id)).backfill_cursor == 1000

    clock.advance(timedelta(hours=7))  # the next cycle goes on where this one stopped, towards the oldest
    assert (await comment_cycle(db, client, clock, bounded)).top_level_read == 1000
    # One head page (50, all known) meets what was stored; the other 950 of the bound go to the backfill.
    assert len(await stored(db, video.id)) == 1950 and (await feed(db, video.id)).backfill_cursor == 1950
    if not LONG:
        return
    wide = CommentSettings(min_video_comments_hours=6, comments_per_video=5000, comments_per_cycle=5000)
    for _ in range(2):
        clock.advance(timedelta(hours=7))
        assert (await comment_cycle(db, client, clock, wide)).top_level_read <= 5000
    assert len(await stored(db, video.id)) == 10_000 and (await feed(db, video.id)).backfill_cursor is None


def test_the_comment_settings_come_from_the_environment_and_bad_values_are_refused() -> None:
    from trackagoat_mcp.config import load_settings
    from trackagoat_mcp.errors import ConfigError

    env = {
        "TRACKAGOAT_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        "TRACKAGOAT_MIN_VIDEO_COMMENTS_HOURS": "2.5",
        "TRACKAGOAT_COMMENTS_PER_VIDEO": "40",
        "TRACKAGOAT_COMMENTS_PER_CYCLE": "0",
    }
    settings = CommentSettings.from_settings(load_settings(env))
    assert (settings.min_video_comments_hours, settings.comments_per_video, settings.comments_per_cycle) == (2.5, 40, 0)
    with pytest.raises(ConfigError, match="TRACKAGOAT_COMMENTS_PER_VIDEO '0'|TRACKAGOAT_COMMENTS_PER_VIDEO 0"):
        load_settings({**env, "TRACKAGOAT_COMMENTS_PER_VIDEO": "0"})
    with pytest.raises(ConfigError, match="page_size"):
        CommentSettings(page_size=51)


async def test_comment_scraping_switched_off_reads_nothing(
    db: Database, client: TikTokClient, clock: FrozenClock, program: Program, sim: SimulatedTikTok
) -> None:
    video = await tracked_fresh(db, client, clock, sim)
    seeded(sim, video, 10)
    report = await comment_cycle(db, client, clock, CommentSettings(comments_per_cycle=0))
    assert (report.videos_due, report.fetches, sim.count("/api/comment/list/")) == (0, 0, 0)
