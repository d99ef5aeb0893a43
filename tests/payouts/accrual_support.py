"""Helpers of the accrual tests: a program builder over the domain layer, row dumps, and a worker process.

`Program` creates structures, assignments and goals through the domain functions (so validation and versioning
are the real ones) and writes rows only the scraper would create (videos, scrape state) directly. `payout_rows`
dumps evaluations and accruals without the columns that name who or when wrote them (`job_run_id`,
`evaluated_at`, `created_at`, `updated_at`), which is what "identical rows" means across runs.

Run as a module, this file is an accrual worker process: `python -m tests.payouts.accrual_support URL AT WORKER
[KILL_AFTER [DELAY]]` runs one `run_accruals` as of `AT` on a frozen clock, and with `KILL_AFTER` sends itself
SIGKILL once that many evaluations were committed (a crash mid-run, without any cleanup): at once, or `DELAY`
seconds later from another thread, wherever the run is by then (inside a transaction, between two statements...).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import delete, select, update

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Creator, Goal, JobRun, PayoutAccrual, PayoutAssignment, PayoutEvaluation
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
        self,
        structure: uuid.UUID,
        creators: list[uuid.UUID],
        starts_on: date,
        ends_on: date | None = None,
        *,
        backdate_days: int = assignments.DEFAULT_BACKDATE_DAYS,
    ) -> None:
        async with self.db.write() as session:
            await assignments.assign_creators(
                session,
                self.caller,
                structure,
                creators,
                now=self.clock.now(),
                starts_on=starts_on,
                ends_on=ends_on,
                backdate_days=backdate_days,
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


async def seed_busy_program(program: Program) -> int:
    """Two creators on five structures of every kind since early February; returns the number of due units."""
    creators = [await program.creator(f"creator{i}") for i in range(2)]
    for i, creator in enumerate(creators):
        await program.goal(creator, "posts", 1 + i % 2)
    await program.videos(
        [
            (creator, datetime(2026, 2, 1, 10, tzinfo=UTC) + timedelta(days=day), 1000 * (i + 1) + day * 37)
            for i, creator in enumerate(creators)
            for day in range(2, 38, 3)
        ]
    )
    kinds = [
        {"amount_cents": 7000, "proration": "daily"},
        {"criteria_type": "cpm", "amount_cents": 250, "params": {"max_cents": 5000, "min_views": 1100}},
        {"criteria_type": "view_threshold", "amount_cents": 1500, "params": {"threshold_views": 2500}},
        {"criteria_type": "goals", "amount_cents": 3000},
    ]
    for n, kind in enumerate(kinds):
        structure = await program.structure(name=f"s{n}", at=datetime(2026, 1, 1, tzinfo=UTC), **kind)  # type: ignore[arg-type]
        await program.assign(structure, creators, date(2026, 2, 4))
    daily = await program.structure(period="daily", amount_cents=100, name="daily", at=datetime(2026, 1, 1, tzinfo=UTC))
    await program.assign(daily, creators, date(2026, 3, 5))
    # Weekly: 5 weeks (Feb 2 - Mar 8) × 2 creators × 4 structures, but the 3 non-recurring ones of the week of
    # Mar 2 are not due until Mar 11. Daily: Mar 5 - Mar 9 × 2 creators.
    return 5 * 2 * 4 - 3 * 2 + 5 * 2


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
    """Delete every evaluation, accrual and job run, and forget how far assignments are settled (to run the same
    store again from scratch)."""
    async with db.write() as session:
        for model in (PayoutAccrual, PayoutEvaluation, JobRun):
            await session.execute(delete(model))
        await session.execute(update(PayoutAssignment).values(settled_before=None))


# --- worker processes ---------------------------------------------------------------------------------------


def start_worker(
    url: str, at: datetime, worker: str, kill_after: int | None = None, delay: float = 0.0
) -> subprocess.Popen[str]:
    """Start `run_accruals` in a separate Python process (see the module docstring)."""
    args = [sys.executable, "-m", "tests.payouts.accrual_support", url, at.isoformat(), worker]
    if kill_after is not None:
        args += [str(kill_after), repr(delay)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKAGOAT_")}
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any] | None, str]:
    """Wait for a worker; returns its exit code, its report (None if it died first) and its stderr."""
    out, err = process.communicate(timeout=WORKER_TIMEOUT)
    return process.returncode, (json.loads(out) if out.strip() else None), err


async def _work(url: str, at: datetime, worker: str, kill_after: int | None, delay: float) -> None:
    db = Database.connect(url)

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    timer = threading.Timer(delay, die)

    def maybe_die(done: int) -> None:
        if kill_after is None or done < kill_after or timer.is_alive():
            return
        if delay <= 0:
            die()
        timer.start()

    try:
        report = await run_accruals(db, FrozenClock(at), worker_id=worker, on_evaluated=maybe_die)
    finally:
        await db.dispose()
    sys.stdout.write(json.dumps(report.as_json()) + "\n")  # the parent test reads the report


if __name__ == "__main__":
    _url, _at, _worker, *_rest = sys.argv[1:]
    _kill_after = int(_rest[0]) if _rest else None
    anyio.run(_work, _url, datetime.fromisoformat(_at), _worker, _kill_after, float(_rest[1]) if _rest else 0.0)
