"""Helpers of the accrual tests: a program builder over the domain layer, row dumps, and a worker process.

`Program` creates structures, assignments and goals through the domain functions (so validation and versioning
are the real ones) and writes rows only the scraper would create (videos, scrape state) directly. `payout_rows`
dumps evaluations and accruals without the columns that name who or when wrote them (`job_run_id`,
`evaluated_at`, `created_at`, `updated_at`), which is what "identical rows" means across runs.

Run as a module, this file is an accrual worker process: `python -m tests.payouts.accrual_support URL AT WORKER
[KILL_AFTER]` runs one `run_accruals` as of `AT` on a frozen clock, and with `KILL_AFTER` sends itself SIGKILL
right after that many evaluations were committed (a crash mid-run, without any cleanup).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import delete, select, update

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator, Goal, JobRun, PayoutAccrual, PayoutEvaluation
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts import assignments, structures
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.jobs.accruals import AccrualReport, run_accruals

ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT = 60.0


@dataclass
class Program:
    """One organization's project, with builders for everything an accrual depends on."""

    db: Database
    clock: FrozenClock
    caller: Caller
    project: uuid.UUID

    async def creator(
        self, handle: str, *, scraped_at: datetime | None = None, state: str = "ok", project: uuid.UUID | None = None
    ) -> uuid.UUID:
        """A creator whose last scrape was at `scraped_at` (default: the clock's now) with `scrape_state`."""
        async with self.db.write() as session:
            row = Creator(
                org_id=self.caller.org_id,
                project_id=project or self.project,
                tiktok_handle=handle,
                tracking_start_date=date(2025, 1, 1),
                scrape_state=state,
                last_scraped_at=scraped_at or self.clock.now(),
                created_at=self.clock.now(),
                updated_at=self.clock.now(),
            )
            session.add(row)
        return row.id

    async def scraped(self, creator: uuid.UUID, at: datetime, state: str = "ok") -> None:
        """Record that the scraper refreshed the creator at `at`."""
        async with self.db.write() as session:
            await session.execute(
                update(Creator).where(Creator.id == creator).values(last_scraped_at=at, scrape_state=state)  # type: ignore[arg-type]
            )

    async def structure(
        self,
        *,
        period: str = "weekly",
        amount_cents: int = 7000,
        criteria_type: str = "recurring",
        params: dict[str, Any] | None = None,
        proration: str = "none",
        name: str = "Retainer",
        at: datetime | None = None,
    ) -> uuid.UUID:
        """A structure created at `at` (default now): its version 1 is in force from then."""
        async with self.db.write() as session:
            out = await structures.create_structure(
                session,
                self.caller,
                project_id=self.project,
                name=name,
                period=period,
                amount_cents=amount_cents,
                criteria_type=criteria_type,
                criteria_params=params,
                proration_mode=proration,
                now=at or self.clock.now(),
            )
        return out.id

    async def assign(
        self, structure: uuid.UUID, creators: list[uuid.UUID], starts_on: date, ends_on: date | None = None
    ) -> None:
        async with self.db.write() as session:
            await assignments.assign_creators(
                session, self.caller, structure, creators, now=self.clock.now(), starts_on=starts_on, ends_on=ends_on
            )

    async def video(
        self, creator: uuid.UUID, posted_at: datetime, views: int, status: str = "auto_tracked"
    ) -> uuid.UUID:
        from tests.domain._support import insert_video

        async with self.db.write() as session:
            row = await insert_video(
                session, self.caller, self.project, creator_id=creator, posted_at=posted_at, views=views, status=status
            )
        return row.id

    async def videos(self, rows: list[tuple[uuid.UUID, datetime, int]]) -> None:
        """Many counted videos (creator, posted_at, views) in one transaction."""
        from tests.domain._support import insert_video

        async with self.db.write() as session:
            for creator, posted_at, views in rows:
                await insert_video(
                    session, self.caller, self.project, creator_id=creator, posted_at=posted_at, views=views
                )

    async def goal(
        self,
        creator: uuid.UUID,
        metric: str,
        target: float,
        *,
        period: str = "weekly",
        start: date = date(2025, 1, 1),
        project: uuid.UUID | None = None,
    ) -> uuid.UUID:
        async with self.db.write() as session:
            row = Goal(
                org_id=self.caller.org_id,
                project_id=project or self.project,
                creator_id=creator,
                metric=metric,
                period=period,
                target_value=target,
                start_date=start,
                created_at=self.clock.now(),
                updated_at=self.clock.now(),
            )
            session.add(row)
        return row.id

    async def run(self, at: datetime | None = None, worker: str = "test") -> AccrualReport:
        """One accrual job run with the clock at `at` (default: where it is)."""
        if at is not None:
            self.clock.set(at)
        return await run_accruals(self.db, self.clock, worker_id=worker)


async def make_program(db: Database, clock: FrozenClock, *, timezone: str = "UTC", name: str = "Acme") -> Program:
    from tests.conftest import make_org  # imported here: worker processes must not load the MCP server

    caller, project = await make_org(db, clock, name, timezone=timezone)
    return Program(db, clock, caller, project)


# --- observing ----------------------------------------------------------------------------------------------


async def evaluations(db: Database, **where: Any) -> list[PayoutEvaluation]:
    """Evaluations (optionally filtered by column values), by period start then creator."""
    query = select(PayoutEvaluation).filter_by(**where)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
    return sorted(rows, key=lambda e: (e.period_start_at, str(e.structure_id), str(e.creator_id)))


async def accruals(db: Database, **where: Any) -> list[PayoutAccrual]:
    """Accruals (optionally filtered by column values), by period start then creator."""
    query = select(PayoutAccrual).filter_by(**where)
    async with db.read() as session:
        rows = (await session.scalars(query)).all()
    return sorted(rows, key=lambda a: (a.period_start_at, str(a.structure_id), str(a.creator_id)))


async def amounts(db: Database, creator: uuid.UUID) -> list[tuple[date, int]]:
    """(period start date in UTC, amount) of every evaluation of a creator, zero ones included."""
    return [(e.period_start_at.date(), e.amount_cents) for e in await evaluations(db, creator_id=creator)]


async def payout_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Evaluations and accruals without the who/when columns, in id order: equal dumps mean identical rows."""
    async with db.read() as session:
        evals = (await session.scalars(select(PayoutEvaluation))).all()
        accs = (await session.scalars(select(PayoutAccrual))).all()
    return {
        "evaluations": sorted(
            (
                str(e.id),
                str(e.structure_id),
                str(e.structure_version_id),
                str(e.creator_id),
                e.period_start_at,
                e.period_end_at,
                e.amount_cents,
                str(e.accrual_id),
                e.inputs_snapshot,
            )
            for e in evals
        ),
        "accruals": sorted(
            (
                str(a.id),
                str(a.structure_id),
                str(a.structure_version_id),
                str(a.creator_id),
                a.period_start_at,
                a.period_end_at,
                a.amount_cents,
                a.outstanding_cents,
                a.status,
                a.inputs_snapshot,
            )
            for a in accs
        ),
    }


async def forget_runs(db: Database) -> None:
    """Delete every evaluation, accrual and job run (to run the same store again from scratch)."""
    async with db.write() as session:
        for model in (PayoutAccrual, PayoutEvaluation, JobRun):
            await session.execute(delete(model))


# --- worker processes ---------------------------------------------------------------------------------------


def start_worker(url: str, at: datetime, worker: str, kill_after: int | None = None) -> subprocess.Popen[str]:
    """Start `run_accruals` in a separate Python process (see the module docstring)."""
    args = [sys.executable, "-m", "tests.payouts.accrual_support", url, at.isoformat(), worker]
    if kill_after is not None:
        args.append(str(kill_after))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any] | None, str]:
    """Wait for a worker; returns its exit code, its report (None if it died first) and its stderr."""
    out, err = process.communicate(timeout=WORKER_TIMEOUT)
    return process.returncode, (json.loads(out) if out.strip() else None), err


async def _work(url: str, at: datetime, worker: str, kill_after: int | None) -> None:
    db = Database.connect(url)

    def maybe_die(done: int) -> None:
        if kill_after is not None and done >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    try:
        report = await run_accruals(db, FrozenClock(at), worker_id=worker, on_evaluated=maybe_die)
    finally:
        await db.dispose()
    sys.stdout.write(json.dumps(report.as_json()) + "\n")  # the parent test reads the report


if __name__ == "__main__":
    _url, _at, _worker, *_rest = sys.argv[1:]
    anyio.run(_work, _url, datetime.fromisoformat(_at), _worker, int(_rest[0]) if _rest else None)
