"""The daily retention job: old job runs pruned (the newest of each kind kept), old snapshots thinned to the
last of each local day when configured, nothing recent or money-related touched, once per day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import col

from tests.conftest import make_org
from tests.domain._support import insert_video
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.config import load_settings
from trackagoat_mcp.db.models import Creator, CreatorSnapshot, JobRun, VideoSnapshot
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.errors import ConfigError
from trackagoat_mcp.jobs import retention
from trackagoat_mcp.jobs.retention import run_retention
from trackagoat_mcp.jobs.scheduler import schedules

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOURS = (0, 6, 12, 18)  # snapshots every six hours, at half past


def every_six_hours(days: int) -> list[datetime]:
    start = (NOW - timedelta(days=days)).replace(hour=0, minute=30)
    return [start + timedelta(hours=6 * n) for n in range(days * 4) if start + timedelta(hours=6 * n) < NOW]


def end_of_day_figures(rows: Sequence[tuple[datetime, int]], zone: ZoneInfo) -> dict[object, int]:
    """Each local day's figure as daily analytics read it: the last snapshot of the day."""
    figures: dict[object, int] = {}
    for captured_at, views in sorted(rows):
        figures[captured_at.astimezone(zone).date()] = views
    return figures


async def seed_video(db: Database, timezone: str, times: list[datetime]) -> tuple[uuid.UUID, ZoneInfo]:
    caller, project_id = await make_org(db, FrozenClock(NOW), name=f"Org {timezone}", timezone=timezone)
    async with db.write() as session:
        video = await insert_video(session, caller, project_id, snapshots=[(t, 1_000 + n) for n, t in enumerate(times)])
    return video.id, ZoneInfo(timezone)


async def snapshots_of(db: Database, video_id: uuid.UUID) -> list[tuple[datetime, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(VideoSnapshot.captured_at, VideoSnapshot.view_count)
            .where(col(VideoSnapshot.video_id) == video_id)
            .order_by(col(VideoSnapshot.captured_at))
        )
        return [(t.astimezone(UTC), v) for t, v in rows.all()]


async def test_old_snapshots_are_thinned_to_the_last_of_each_local_day_and_recent_ones_kept(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 7)  # several delete batches
    monkeypatch.setattr(retention, "OWNERS_PER_READ", 2)  # and several reads
    times = every_six_hours(20)
    videos = [await seed_video(db, tz, times) for tz in ("UTC", "Asia/Tokyo", "America/Los_Angeles")]
    before = {video_id: await snapshots_of(db, video_id) for video_id, _ in videos}

    report = await run_retention(db, FrozenClock(NOW), worker_id="t:1", job_run_days=90, snapshot_detail_days=7)

    cutoff = NOW - timedelta(days=7)
    assert report.snapshots_before == cutoff and not report.skipped
    deleted = 0
    for video_id, zone in videos:
        after = await snapshots_of(db, video_id)
        old_before = [row for row in before[video_id] if row[0] < cutoff]
        old_after = [row for row in after if row[0] < cutoff]
        assert [row for row in after if row[0] >= cutoff] == [row for row in before[video_id] if row[0] >= cutoff]
        assert end_of_day_figures(old_after, zone) == end_of_day_figures(old_before, zone)
        days = {t.astimezone(zone).date() for t, _ in old_before}
        assert len(old_after) == len(days), "one snapshot per local day, no more"
        deleted += len(before[video_id]) - len(after)
    assert report.video_snapshots_deleted == deleted > 0
    # Tokyo keeps 12:30 UTC (21:30 local, the day's last); UTC keeps 18:30.
    tokyo_hours = {t.hour for t, _ in await snapshots_of(db, videos[1][0]) if t < cutoff - timedelta(days=1)}
    utc_hours = {t.hour for t, _ in await snapshots_of(db, videos[0][0]) if t < cutoff - timedelta(days=1)}
    assert (tokyo_hours, utc_hours) == ({12}, {18})


async def test_creator_snapshots_are_thinned_the_same_way(db: Database) -> None:
    caller, project_id = await make_org(db, FrozenClock(NOW))
    async with db.write() as session:
        creator = Creator(
            org_id=caller.org_id, project_id=project_id, tiktok_handle="someone", tracking_start_date=NOW.date()
        )
        session.add(creator)
        await session.flush()
        for n, when in enumerate(every_six_hours(10)):
            session.add(CreatorSnapshot(creator_id=creator.id, captured_at=when, follower_count=n))
    report = await run_retention(db, FrozenClock(NOW), worker_id="t:1", job_run_days=0, snapshot_detail_days=7)
    async with db.read() as session:
        kept = (
            await session.scalars(
                select(CreatorSnapshot.captured_at).where(col(CreatorSnapshot.creator_id) == creator.id)
            )
        ).all()
    old = sorted(t.astimezone(UTC) for t in kept if t.astimezone(UTC) < NOW - timedelta(days=7))
    assert [t.hour for t in old] == [18, 18, 18, 6]  # 28 Feb to 2 March: 18:30; 3 March before the noon cut-off: 06:30
    assert report.creator_snapshots_deleted == 3 * 3 + 1


async def test_by_default_every_snapshot_is_kept(db: Database) -> None:
    video_id, _ = await seed_video(db, "UTC", every_six_hours(60))
    before = await snapshots_of(db, video_id)
    settings = load_settings({})
    report = await run_retention(
        db,
        FrozenClock(NOW),
        worker_id="t:1",
        job_run_days=settings.job_run_retention_days,
        snapshot_detail_days=settings.snapshot_detail_days,
    )
    assert await snapshots_of(db, video_id) == before
    assert report.video_snapshots_deleted == report.creator_snapshots_deleted == 0 and report.snapshots_before is None


async def test_old_job_runs_go_but_the_newest_of_each_job_and_status_stays(db: Database) -> None:
    def run(job: str, slot: str, status: str, days_ago: float) -> JobRun:
        started = NOW - timedelta(days=days_ago)
        finished = None if status == "running" else started + timedelta(minutes=1)
        return JobRun(
            job=job,
            slot=slot,
            status=status,
            claimed_by="w",
            started_at=started,
            heartbeat_at=started,
            finished_at=finished,
        )

    rows = [run("scrape", f"cycle-{n}", "ok", 200 - n) for n in range(150)]  # 200 … 51 days ago
    rows += [
        run("accruals", "2025-09-01T00:00:00Z", "ok", 190),  # the newest ok accrual hour: kept although old
        run("accruals", "2025-08-01T00:00:00Z", "ok", 220),
        run("accruals", "2025-08-02T00:00:00Z", "failed", 219),  # the only failed accrual run: kept
        run("scrape", "abandoned", "running", 300),  # never finished: not pruned
    ]
    async with db.write() as session:
        session.add_all(rows)

    report = await run_retention(db, FrozenClock(NOW), worker_id="t:1", job_run_days=90, snapshot_detail_days=0)

    async with db.read() as session:
        left = {(r.job, r.slot) for r in (await session.scalars(select(JobRun))).all()}
    scrape_kept = {slot for job, slot in left if job == "scrape"}
    assert scrape_kept == {f"cycle-{n}" for n in range(110, 150)} | {"abandoned"}  # started 90 days ago or later
    assert {slot for job, slot in left if job == "accruals"} == {"2025-09-01T00:00:00Z", "2025-08-02T00:00:00Z"}
    assert ("retention", "2026-03-10") in left
    assert report.job_runs_deleted == 110 + 1


async def test_the_job_runs_once_a_day_whichever_process_gets_there_first(db: Database) -> None:
    video_id, _ = await seed_video(db, "UTC", every_six_hours(30))
    first = await run_retention(db, FrozenClock(NOW), worker_id="a:1", job_run_days=90, snapshot_detail_days=7)
    second = await run_retention(db, FrozenClock(NOW), worker_id="b:2", job_run_days=90, snapshot_detail_days=7)
    assert not first.skipped and second.skipped and first.video_snapshots_deleted > 0
    thinned = await snapshots_of(db, video_id)
    tomorrow = await run_retention(
        db, FrozenClock(NOW + timedelta(days=1)), worker_id="b:2", job_run_days=90, snapshot_detail_days=7
    )
    assert not tomorrow.skipped
    assert tomorrow.video_snapshots_deleted == 3  # only the day that crossed the cut-off overnight
    assert len(await snapshots_of(db, video_id)) == len(thinned) - 3
    async with db.read() as session:
        reports = (await session.scalars(select(JobRun.report).where(col(JobRun.job) == "retention"))).all()
    assert sorted(r["slot"] for r in reports) == ["2026-03-10", "2026-03-11"]


def test_the_retention_job_is_scheduled_daily() -> None:
    timing = schedules(load_settings({}))["retention"]
    assert timing.next_run(NOW) == datetime(2026, 3, 11, tzinfo=UTC)
    assert timing.text == "daily at 00:00 UTC"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRACKAGOAT_SNAPSHOT_DETAIL_DAYS", "3"),
        ("TRACKAGOAT_SNAPSHOT_DETAIL_DAYS", "-1"),
        ("TRACKAGOAT_JOB_RUN_RETENTION_DAYS", "-5"),
        ("TRACKAGOAT_JOB_RUN_RETENTION_DAYS", "a week"),
    ],
)
def test_bad_retention_settings_are_refused_with_a_sentence_naming_them(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name) as refused:
        load_settings({name: value})
    assert value in str(refused.value)
