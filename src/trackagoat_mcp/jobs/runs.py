"""`JobRun` rows: opening, claiming and closing runs, and reading them back (every job's audit trail).

A run is one row of `job_runs`, unique by `(job, slot)`. Two ways to start one:

* `open_run` for work that is never contended by slot (each scrape cycle gets a fresh random slot);
* `claim_run` for work that must happen once per slot across processes (the accrual hour, the n-th
  `scrape_now` of an organization's day): one `INSERT … ON CONFLICT DO NOTHING`, and whoever inserted the
  row owns the slot. It is the portable leader election of `reference/tiktok-ledgers-jobs.md` §4.4.

`close_run` records the outcome (`ok` or `failed`) and the report, a JSON object. By convention a report's
`failed` list holds objects with `kind` and `message` and, where the failure concerns one, the `creator_id`
or `video_id` it is about: `get_job_status` shows a caller only the failures of its own organization's ids.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates
from trackagoat_mcp.db.models import JobRun, table_of
from trackagoat_mcp.db.session import Database

__all__ = ["RunRef", "claim_run", "close_run", "count_runs", "open_run", "process_name", "recent_runs"]


def process_name() -> str:
    """This process's name in claims and run rows: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RunRef:
    """An open run: its row id and its `(job, slot)` key."""

    id: uuid.UUID
    job: str
    slot: str


async def open_run(db: Database, *, job: str, slot: str, worker_id: str, now: datetime) -> RunRef:
    """Insert a `running` run for a slot nobody else can hold; raises if the slot is taken after all."""
    run = JobRun(job=job, slot=slot, claimed_by=worker_id, started_at=now, heartbeat_at=now)
    async with db.write() as session:
        session.add(run)
    return RunRef(run.id, job, slot)


async def claim_run(db: Database, *, job: str, slot: str, worker_id: str, now: datetime) -> RunRef | None:
    """Insert a `running` run for `(job, slot)` unless one exists; returns it, or `None` if another holds the slot."""
    run_id = uuid.uuid4()
    values = {
        "id": run_id,
        "job": job,
        "slot": slot,
        "status": "running",
        "claimed_by": worker_id,
        "started_at": now,
        "heartbeat_at": now,
        "report": {},
    }
    async with db.write() as session:
        statement = insert_ignoring_duplicates(session, table_of(JobRun), unique=["job", "slot"]).values(values)
        result = await session.execute(statement)
    return RunRef(run_id, job, slot) if result.rowcount == 1 else None  # type: ignore[attr-defined]


async def close_run(db: Database, run: RunRef, *, status: str, now: datetime, report: dict[str, Any]) -> None:
    """Finish a run with its status (`ok` or `failed`) and report."""
    async with db.write() as session:
        row = await session.get_one(JobRun, run.id)
        row.status = status
        row.finished_at = now
        row.heartbeat_at = now
        row.report = report
        session.add(row)


async def recent_runs(db: Database, job: str, *, limit: int, slot_prefix: str | None = None) -> list[JobRun]:
    """The newest `limit` runs of `job` (optionally only slots starting with `slot_prefix`), newest first."""
    query = select(JobRun).where(col(JobRun.job) == job)
    if slot_prefix is not None:
        query = query.where(col(JobRun.slot).startswith(slot_prefix, autoescape=True))
    query = query.order_by(col(JobRun.started_at).desc(), col(JobRun.slot).desc()).limit(limit)
    async with db.read() as session:
        return list((await session.scalars(query)).all())


async def count_runs(db: Database, job: str, *, slot_prefix: str) -> int:
    """How many runs of `job` have a slot starting with `slot_prefix`."""
    query = (
        select(func.count())
        .select_from(JobRun)
        .where(col(JobRun.job) == job, col(JobRun.slot).startswith(slot_prefix, autoescape=True))
    )
    async with db.read() as session:
        return int((await session.execute(query)).scalar_one())
