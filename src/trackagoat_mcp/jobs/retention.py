"""The daily retention job: keeps the store from growing without bound, and never touches money.

* **Job runs.** Every scrape cycle leaves a `JobRun` row with its report (one every few minutes, for ever).
  Finished runs older than `TRACKAGOAT_JOB_RUN_RETENTION_DAYS` (default 90; 0 keeps them all) are deleted,
  except the newest run of each job in each status: `get_job_status` still shows when each job last ran, and
  the accrual job still finds its last `ok` hour (it back-fills from there, at most 31 days anyway).
* **Snapshots** (off by default: every snapshot is kept). With `TRACKAGOAT_SNAPSHOT_DETAIL_DAYS=N` (7 or more),
  snapshots captured more than N days ago are thinned to the last one of each day, per video and per creator,
  days counted in the organization's timezone. Daily analytics over those days are unchanged (a day's figure is
  its last snapshot); finer series and ranges that start mid-day see that day's last snapshot instead. Money
  is not affected: accruals are evaluated within days of their period's end, and every accrual keeps the
  figures it was computed from in `inputs_snapshot`.

Accruals, payments, evaluations and idempotency keys are never deleted. The job claims one `JobRun` slot per
UTC day, so replicas do the work once. Deletes go in batches of `BATCH` rows, each its own short write
transaction, so a first run over years of history does not hold SQLite's write lock for long. A run reads
snapshots only from where the last thinning run stopped (less two days), so the daily cost follows what crossed
the cut-off, not the history kept.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlmodel import col

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.db.models import Creator, CreatorSnapshot, JobRun, Organization, Video, VideoSnapshot
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs import runs

__all__ = ["BATCH", "JOB", "MIN_SNAPSHOT_DETAIL_DAYS", "RetentionReport", "run_retention"]

logger = logging.getLogger(__name__)

JOB = "retention"
BATCH = 2_000
GATHER = 50_000
"""Snapshot ids gathered (over many owners) before they are sorted and deleted."""
OWNERS_PER_READ = 100
"""Videos (or creators) whose old snapshots one read fetches."""
MIN_SNAPSHOT_DETAIL_DAYS = 7
"""Thinning never reaches snapshots an accrual evaluation may still read (48 h after a period, plus a day's
wait for stale stats)."""

Snapshot = type[VideoSnapshot] | type[CreatorSnapshot]
Owner = type[Video] | type[Creator]


@dataclass
class RetentionReport:
    """What one run deleted (its `JobRun.report`)."""

    slot: str
    skipped: bool = False
    job_runs_deleted: int = 0
    video_snapshots_deleted: int = 0
    creator_snapshots_deleted: int = 0
    job_runs_before: datetime | None = None
    snapshots_before: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


async def run_retention(
    db: Database, clock: Clock, *, worker_id: str, job_run_days: int, snapshot_detail_days: int
) -> RetentionReport:
    """Run today's retention (see the module docstring) unless another process already did.

    A run that fails keeps its day's slot (`failed`); the next day's run does the work, since every step only
    deletes what is still due.

    Args:
        db: the store.
        clock: the current time; the cut-offs count back from it.
        worker_id: who claims the day's slot (host:pid).
        job_run_days: finished job runs older than this many days go (0 keeps them all).
        snapshot_detail_days: snapshots older than this many days are thinned to one a day (0 keeps them all).
    """
    now = clock.now()
    report = RetentionReport(slot=f"{now:%Y-%m-%d}")
    run = await runs.claim_run(db, job=JOB, slot=report.slot, worker_id=worker_id, now=now)
    if run is None:
        report.skipped = True
        return report
    try:
        if job_run_days:
            report.job_runs_before = now - timedelta(days=job_run_days)
            report.job_runs_deleted = await _prune_job_runs(db, report.job_runs_before)
        if snapshot_detail_days:
            before = now - timedelta(days=max(snapshot_detail_days, MIN_SNAPSHOT_DETAIL_DAYS))
            since = await _thinned_until(db)
            report.snapshots_before = before
            report.video_snapshots_deleted = await _thin(
                db, VideoSnapshot, col(VideoSnapshot.video_id), Video, before, since
            )
            report.creator_snapshots_deleted = await _thin(
                db, CreatorSnapshot, col(CreatorSnapshot.creator_id), Creator, before, since
            )
    except BaseException:
        await runs.close_run(db, run, status="failed", now=clock.now(), report=report.as_json())
        raise
    await runs.close_run(db, run, status="ok", now=clock.now(), report=report.as_json())
    logger.info("Retention %s: %s", report.slot, report.as_json())
    return report


async def _prune_job_runs(db: Database, before: datetime) -> int:
    """Delete finished runs started before `before`, except the newest of each job in each status."""
    ranked = select(
        col(JobRun.id).label("id"),
        func.row_number()
        .over(partition_by=(col(JobRun.job), col(JobRun.status)), order_by=col(JobRun.started_at).desc())
        .label("rank"),
    ).subquery()
    async with db.read() as session:  # a handful of ids, found once rather than per batch
        kept = list((await session.scalars(select(ranked.c.id).where(ranked.c.rank == 1))).all())
    doomed = select(col(JobRun.id)).where(
        col(JobRun.started_at) < before, col(JobRun.finished_at).is_not(None), col(JobRun.id).not_in(kept)
    )
    deleted = 0
    while True:
        async with db.write() as session:
            ids = list((await session.scalars(doomed.limit(BATCH))).all())
            if ids:
                await session.execute(delete(JobRun).where(col(JobRun.id).in_(ids)))
        deleted += len(ids)
        if len(ids) < BATCH:
            return deleted


async def _thin(
    db: Database, model: Snapshot, owner_column: Any, owner: Owner, before: datetime, since: datetime | None
) -> int:
    """Keep only the last snapshot of each local day in [`since`, `before`), owner by owner (video or creator).

    Ids to delete are gathered over many owners and deleted in id order: scrapes write snapshots time-major, so
    one owner's rows are spread over the table, and id order touches each page once (twice as fast on SQLite).
    """
    window = [col(model.captured_at) < before]
    if since is not None:
        window.append(col(model.captured_at) >= since)
    deleted = 0
    pending: list[int] = []
    zones = await _owner_timezones(db, owner)
    owners = list(zones)
    for start in range(0, len(owners), OWNERS_PER_READ):
        async with db.read() as session:
            rows = (
                await session.execute(
                    select(owner_column, col(model.id), col(model.captured_at))
                    .where(owner_column.in_(owners[start : start + OWNERS_PER_READ]), *window)
                    .order_by(owner_column, col(model.captured_at), col(model.id))
                )
            ).all()
        for owner_id, owned in groupby(rows, key=itemgetter(0)):
            pending.extend(_all_but_last_of_each_day([(id_, at) for _, id_, at in owned], zones[owner_id]))
        if len(pending) >= GATHER:
            deleted += await _delete_snapshots(db, model, pending)
            pending = []
    return deleted + await _delete_snapshots(db, model, pending)


async def _thinned_until(db: Database) -> datetime | None:
    """Where the last run that thinned snapshots stopped, less two days: the local day that straddled its
    cut-off (any timezone) is read again whole; everything before it is already one snapshot a day."""
    for row in await runs.recent_runs(db, JOB, limit=30):
        stopped = row.report.get("snapshots_before") if row.status == "ok" else None
        if stopped:
            return datetime.fromisoformat(stopped) - timedelta(days=2)
    return None


async def _owner_timezones(db: Database, owner: Owner) -> dict[uuid.UUID, ZoneInfo]:
    """Every video (or creator) with its organization's timezone."""
    async with db.read() as session:
        rows = (
            await session.execute(
                select(col(owner.id), col(Organization.timezone)).join(
                    Organization, col(Organization.id) == col(owner.org_id)
                )
            )
        ).all()
    return {owner_id: ZoneInfo(name) for owner_id, name in rows}


def _all_but_last_of_each_day(rows: Sequence[Any], timezone: ZoneInfo) -> list[int]:
    """The ids in `rows` (id, captured_at; in time order) that are not the last of their local day."""
    doomed: list[int] = []
    day: date | None = None
    previous: int | None = None
    for snapshot_id, captured_at in rows:
        today = captured_at.astimezone(timezone).date()
        if today == day and previous is not None:
            doomed.append(previous)
        day, previous = today, snapshot_id
    return doomed


async def _delete_snapshots(db: Database, model: Snapshot, ids: list[int]) -> int:
    """Delete `ids` in id order, `BATCH` per transaction."""
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        async with db.write() as session:
            await session.execute(delete(model).where(col(model.id).in_(ids[start : start + BATCH])))
    return len(ids)
