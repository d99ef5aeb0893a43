"""`get_job_status`: the background jobs' last and next runs, their failures, and creators gone stale.

Scrape, accrual and retention runs serve the whole store, so their rows are shared by every organization: a caller
sees when they ran and how they ended, but of their failures only those about its own creators and
videos (by the `creator_id`/`video_id` a report's failures carry, see `runs`). `scrape_now` runs belong to
one organization (their slot starts with its id) and are shown only to it. Which process ran a run (host name and
process id) says something about the deployment, not about anyone's data, so only `admin` keys see it.

The next run is the next tick of the job's schedule. It happens only if a process runs the jobs (`serve`
without `--no-jobs`, or `worker`); a last run much older than the interval says none does.

A creator is stale when it is active and its last scrape failed, never happened, or is older than
`STALE_AFTER` (the same rule `get_agent_context` uses for its caveats); `since` is its last good scrape
(or when it was added, if it never had one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select, true
from sqlmodel import col

from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.models import Creator, JobRun, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import projects
from trackagoat_mcp.domain.context import STALE_AFTER
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.jobs import runs, scrape_now
from trackagoat_mcp.jobs.scheduler import schedules

__all__ = ["MAX_STALE", "JobOut", "JobStatus", "RunFailure", "RunOut", "StaleCreator", "job_status"]

MAX_STALE = 20
"""Stale creators listed (oldest first); `stale_creator_count` counts them all."""
MAX_FAILURES_SHOWN = 5
"""Failures listed for the newest run of each job (older runs give their count only): an outage fails every fetch
of every run, and listing them all would not fit a tool result."""
MESSAGE_CHARS = 200


class RunFailure(BaseModel):
    """One failed fetch of a run, about one of your creators or videos."""

    kind: str = Field(description="not_found, private, banned, region_locked, blocked, rate_limited, unavailable, …")
    message: str
    creator_id: uuid.UUID | None
    video_id: uuid.UUID | None


class RunOut(BaseModel):
    """One run of a job."""

    started_at: datetime
    finished_at: datetime | None = Field(description="null while it runs (or if its process died mid-run).")
    status: str = Field(description="running, ok or failed (failed: the run itself broke off).")
    worker: str | None = Field(description="host:pid of the process that ran it (admin keys only; null otherwise).")
    failure_count: int = Field(description="Failed fetches about your organization's creators and videos.")
    failures: list[RunFailure] = Field(
        description=f"The first {MAX_FAILURES_SHOWN} of them, for the newest run of each job only."
    )


class JobOut(BaseModel):
    """A background job: its schedule and its recent runs."""

    job: str
    schedule: str
    next_run_at: datetime = Field(description="Next tick of the schedule (a jobs process must be running).")
    runs: list[RunOut] = Field(description="Newest first.")


class ScrapeNowUsage(BaseModel):
    """This organization's scrape_now calls today (UTC)."""

    daily_cap: int
    used_today: int
    remaining_today: int
    runs: list[RunOut] = Field(description="Your latest scrape_now calls, newest first.")


class StaleCreator(BaseModel):
    """An active creator whose numbers are not fresh."""

    creator_id: uuid.UUID
    project_id: uuid.UUID
    tiktok_handle: str
    scrape_state: str = Field(description="Why: the failure of its last scrape, or ok when it is merely old.")
    since: datetime = Field(description="Its last good scrape, or when it was added if it never had one.")
    never_scraped: bool


class JobStatus(BaseModel):
    """The background jobs as this organization sees them."""

    checked_at: datetime
    jobs: list[JobOut] = Field(description="scrape, accruals, retention and alerts.")
    scrape_now: ScrapeNowUsage
    stale_after_hours: int
    stale_creators: list[StaleCreator] = Field(description=f"Oldest first; at most {MAX_STALE}.")
    stale_creator_count: int


async def job_status(
    db: Database,
    settings: Settings,
    caller: Caller,
    *,
    now: datetime,
    runs_per_job: int,
    project_id: str | None = None,
) -> JobStatus:
    """Build the caller's view of the jobs (see the module docstring); `project_id` narrows the stale creators."""
    caller.require("read")
    project = None
    if project_id is not None:
        async with db.read() as session:
            project = (await projects.get_project(session, caller, project_id)).id
    timings = schedules(settings)
    shared = {name: await runs.recent_runs(db, name, limit=runs_per_job) for name in timings}
    prefix = f"{caller.org_id.hex}/"
    own = await runs.recent_runs(db, scrape_now.JOB, limit=runs_per_job, slot_prefix=prefix)
    used = await runs.count_runs(db, scrape_now.JOB, slot_prefix=f"{prefix}{now:%Y-%m-%d}/")
    mine = await _own_ids(db, caller, [row for rows in [*shared.values(), own] for row in rows])
    show = _RunView(mine, show_worker=caller.can("admin"))
    stale, stale_count = await _stale_creators(db, caller, now, project)
    return JobStatus(
        checked_at=now,
        jobs=[
            JobOut(
                job=name,
                schedule=timing.text,
                next_run_at=timing.next_run(now),
                runs=[show.run(row, newest=i == 0) for i, row in enumerate(shared[name])],
            )
            for name, timing in timings.items()
        ],
        scrape_now=ScrapeNowUsage(
            daily_cap=settings.scrape_now_daily_cap,
            used_today=used,
            remaining_today=max(0, settings.scrape_now_daily_cap - used),
            runs=[show.run(row, newest=i == 0) for i, row in enumerate(own)],
        ),
        stale_after_hours=int(STALE_AFTER.total_seconds() // 3600),
        stale_creators=stale,
        stale_creator_count=stale_count,
    )


def _failures(row: JobRun) -> list[dict[str, Any]]:
    failed = row.report.get("failed") if isinstance(row.report, dict) else None
    return [f for f in failed if isinstance(f, dict)] if isinstance(failed, list) else []


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


async def _own_ids(db: Database, caller: Caller, rows: list[JobRun]) -> set[uuid.UUID]:
    """Which creator and video ids named in these runs' failures belong to the caller's organization."""
    named = {_uuid(f.get(key)) for row in rows for f in _failures(row) for key in ("creator_id", "video_id")}
    named.discard(None)
    if not named:
        return set()
    async with db.read() as session:
        creators = await session.scalars(
            select(col(Creator.id)).where(col(Creator.org_id) == caller.org_id, col(Creator.id).in_(named))
        )
        videos = await session.scalars(
            select(col(Video.id)).where(col(Video.org_id) == caller.org_id, col(Video.id).in_(named))
        )
        return {*creators.all(), *videos.all()}


@dataclass(frozen=True)
class _RunView:
    """How a run reads to this caller: failures about its own creators and videos, the worker to admins only."""

    mine: set[uuid.UUID]
    show_worker: bool

    def run(self, row: JobRun, *, newest: bool) -> RunOut:
        failures = []
        for failure in _failures(row):
            creator_id, video_id = _uuid(failure.get("creator_id")), _uuid(failure.get("video_id"))
            subject = video_id or creator_id
            if subject is None or subject not in self.mine:
                continue
            failures.append(
                RunFailure(
                    kind=str(failure.get("kind", "unknown"))[:MESSAGE_CHARS],
                    message=str(failure.get("message", ""))[:MESSAGE_CHARS],
                    creator_id=creator_id,
                    video_id=video_id,
                )
            )
        return RunOut(
            started_at=row.started_at,
            finished_at=row.finished_at,
            status=row.status,
            worker=row.claimed_by if self.show_worker else None,
            failure_count=len(failures),
            failures=failures[:MAX_FAILURES_SHOWN] if newest else [],
        )


async def _stale_creators(
    db: Database, caller: Caller, now: datetime, project_id: uuid.UUID | None
) -> tuple[list[StaleCreator], int]:
    since = func.coalesce(col(Creator.last_scraped_at), col(Creator.created_at))
    where = (
        col(Creator.org_id) == caller.org_id,
        true() if project_id is None else col(Creator.project_id) == project_id,
        col(Creator.is_active).is_(True),
        or_(
            col(Creator.scrape_state) != "ok",
            col(Creator.last_scraped_at).is_(None),
            col(Creator.last_scraped_at) < now - STALE_AFTER,
        ),
    )
    async with db.read() as session:
        count = (await session.execute(select(func.count()).select_from(Creator).where(*where))).scalar_one()
        rows = (
            await session.scalars(select(Creator).where(*where).order_by(since, col(Creator.id)).limit(MAX_STALE))
        ).all()
    return [
        StaleCreator(
            creator_id=row.id,
            project_id=row.project_id,
            tiktok_handle=row.tiktok_handle,
            scrape_state=row.scrape_state,
            since=row.last_scraped_at or row.created_at,
            never_scraped=row.last_scraped_at is None,
        )
        for row in rows
    ], int(count)
