"""What an idle hourly accrual run costs as history grows: walking from `settled_before` vs from `starts_on`.

The store (defaults): one organization in America/New_York (a year crosses both daylight-saving changes), one
project with `--creators` 1,000 creators, one DAILY `recurring` structure (5.00 a day, created with
`structures.create_structure`), every creator assigned (`payout_assignments` rows inserted directly) from `--days`
365 days before the run's day D = 2026-12-07. The history is what a year of hourly runs leaves: one `ok` job run
of `accruals` per UTC hour up to the run, and for every creator and every day up to D-2 the evaluation and the
accrual the job would have written (the ids of `accruals.evaluation_id` / `accrual_id`, the job run of the hour
the day ended, the `inputs_snapshot` the job computes), all inserted with Core `executemany` in one transaction
into a fresh migrated store (SQLite: `bench/.data/accrual_history_<creators>x<days>.db`; PostgreSQL: the
database `trackagoat_bench_accrual_history`, vacuumed and analysed after the build). Then ONE real `run_accruals`
at 00:15 local on D (marks still NULL) evaluates what is missing, yesterday's units, and sets every
`settled_before` to D.

Checked (exit status 1 otherwise): that run evaluates exactly one unit per creator (so the generated history has
exactly the keys the planner expects); its evaluation's `inputs_snapshot` and amount equal what the generator
writes for the same key; every mark is D after it and after every timed run; the timed runs evaluate nothing and
plan one day per creator with the marks, `--days` + 1 without.

Timed, each round an hour later than the last (`--runs` rounds, medians printed), wall time (`perf_counter`),
CPU time of this process (`process_time`: the planner's Python and, on SQLite, the database engine; not the
PostgreSQL server's) and the longest event-loop stall (a ticker task sleeping 5 ms, its worst lateness):

* after: an idle `run_accruals` with the marks set (what every idle hour costs now);
* `preview_accruals` of the structure with the marks set (it plans with the same code; one page of 25 units);
* before: the same preview and the same idle run after `UPDATE payout_assignments SET settled_before = NULL`, i.e.
  the walk from `starts_on` that every idle run made before the marks (the run sets the marks again).

    .venv/bin/python bench/accrual_history.py                                    # SQLite, 1,000 creators x 365 days
    .venv/bin/python bench/accrual_history.py --backend postgres
    .venv/bin/python bench/accrual_history.py --creators 20 --days 30 --runs 1   # quick (tests/test_bench_scripts.py)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
from sqlalchemy import func, insert, select, update
from sqlmodel import col

from _common import DEFAULT_PG_SERVER, fresh_sqlite_file, recreate_pg_database, settle
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import (
    Creator,
    JobRun,
    PayoutAccrual,
    PayoutAssignment,
    PayoutEvaluation,
    PayoutStructureVersion,
    table_of,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import orgs, projects
from trackagoat_mcp.domain.payouts import structures
from trackagoat_mcp.domain.payouts.accruals import accrual_id, evaluation_id
from trackagoat_mcp.domain.payouts.preview import DEFAULT_PREVIEW_LIMIT, preview_accruals
from trackagoat_mcp.domain.periods import local_midnight
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.jobs.accruals import AccrualReport, floor_hour, run_accruals

PG_DATABASE = "trackagoat_bench_accrual_history"
TIMEZONE = "America/New_York"
TODAY = date(2026, 12, 7)
"""D, the local day of the runs."""
AMOUNT_CENTS = 500
BATCH = 10_000
TICK = 0.005
MAX_RUNS = 10
"""Rounds take two hours each from 00:15 local, so they stay on day D."""

T = TypeVar("T")


@dataclass(frozen=True)
class Shape:
    creators: int
    days: int

    @property
    def starts_on(self) -> date:
        return TODAY - timedelta(days=self.days)

    @property
    def at(self) -> datetime:
        """The set-up run: 00:15 local on D, when yesterday's period has just become due."""
        return local_midnight(TODAY, TIMEZONE) + timedelta(minutes=15)


@dataclass(frozen=True)
class Program:
    org_id: uuid.UUID
    project_id: uuid.UUID
    structure_id: uuid.UUID
    version_id: uuid.UUID
    caller: Caller
    creator_ids: list[uuid.UUID]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


# --- the store -------------------------------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    return local_midnight(day, TIMEZONE), local_midnight(day + timedelta(days=1), TIMEZONE)


def inputs_of(program: Program, day: date) -> dict[str, Any]:
    """The `inputs_snapshot` the job writes for a full day of a daily 5.00 `recurring` structure (checked against a
    real evaluation after the set-up run)."""
    start, end = _day_bounds(day)
    return {
        "structure_version": 1,
        "structure_version_id": str(program.version_id),
        "criteria_type": "recurring",
        "criteria_params": {},
        "amount_cents": AMOUNT_CENTS,
        "currency": "USD",
        "period": "daily",
        "timezone": TIMEZONE,
        "period_start_at": start.isoformat(),
        "period_end_at": end.isoformat(),
        "days_in_period": 1,
        "days_covered": 1,
        "proration_mode": "none",
        "evaluation_due_at": end.isoformat(),
        "stale": False,
        "proration_factor": "1",
        "exact_cents": str(AMOUNT_CENTS),
        "rounding": "half_even",
    }


def history_rows(program: Program, shape: Shape, runs: dict[datetime, uuid.UUID]) -> Iterator[tuple[str, dict]]:
    """(table, row) for the evaluation and accrual of every creator and day from `starts_on` to D-2, day by day."""
    day = shape.starts_on
    while day <= TODAY - timedelta(days=2):
        start, end = _day_bounds(day)
        inputs = inputs_of(program, day)
        hour = floor_hour(end)
        evaluated_at = hour + timedelta(minutes=15)
        for creator_id in program.creator_ids:
            key = (program.structure_id, creator_id, start)
            common = {
                "id": None,
                "org_id": program.org_id,
                "structure_id": program.structure_id,
                "structure_version_id": program.version_id,
                "creator_id": creator_id,
                "period_start_at": start,
                "period_end_at": end,
                "amount_cents": AMOUNT_CENTS,
                "inputs_snapshot": inputs,
            }
            yield (
                "payout_evaluations",
                common
                | {"id": evaluation_id(*key), "accrual_id": accrual_id(*key), "job_run_id": runs[hour]}
                | {"evaluated_at": evaluated_at},
            )
            yield (
                "payout_accruals",
                common
                | {"id": accrual_id(*key), "project_id": program.project_id, "currency": "USD", "status": "earned"}
                | {"outstanding_cents": AMOUNT_CENTS, "metadata": {}, "created_at": evaluated_at}
                | {"updated_at": evaluated_at},
            )
        day += timedelta(days=1)


def job_run_rows(shape: Shape, creators: int) -> list[dict[str, Any]]:
    """One `ok` hourly run of `accruals` for every UTC hour from the first assigned day up to the set-up run's."""
    first, last = floor_hour(local_midnight(shape.starts_on, TIMEZONE)), floor_hour(shape.at)
    busy = {floor_hour(_day_bounds(shape.starts_on + timedelta(days=n))[1]) for n in range(shape.days - 1)}
    rows, hour = [], first
    while hour < last:
        n = creators if hour in busy else 0
        report = {"as_of": (hour + timedelta(minutes=15)).isoformat(), "units": n, "evaluated": n, "accrued": n}
        report |= {"zero": 0, "already_evaluated": 0, "accrued_cents": n * AMOUNT_CENTS, "waiting_for_stale": 0}
        finished = hour + timedelta(minutes=15, seconds=2)
        rows.append(
            {"id": uuid.uuid4(), "job": "accruals", "slot": hour.isoformat(), "status": "ok", "claimed_by": "bench"}
            | {"started_at": hour + timedelta(minutes=15), "heartbeat_at": finished, "finished_at": finished}
            | {"report": report | {"errors": 0, "failed": []}}
        )
        hour += timedelta(hours=1)
    return rows


async def build(db: Database, shape: Shape) -> Program:
    """Create the organization, project and structure through the domain; bulk-insert creators, assignments, the
    hourly job runs and the year of evaluations and accruals in one transaction."""
    started = time.perf_counter()
    created = local_midnight(shape.starts_on - timedelta(days=1), TIMEZONE)
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench org", timezone=TIMEZONE, now=created)
        caller = Caller(org_id=org.id, scopes=frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=created)
        structure = await structures.create_structure(
            session,
            caller,
            project_id=project.id,
            name="Daily retainer",
            period="daily",
            criteria_type="recurring",
            amount_cents=AMOUNT_CENTS,
            now=created,
        )
        version_id = await session.scalar(
            select(col(PayoutStructureVersion.id)).where(col(PayoutStructureVersion.structure_id) == structure.id)
        )
    assert version_id is not None
    ids = [uuid.uuid5(uuid.NAMESPACE_OID, f"bench-creator/{i}") for i in range(shape.creators)]
    program = Program(org.id, project.id, structure.id, version_id, caller, ids)
    last_scraped = shape.at - timedelta(hours=1)
    creators = [
        {"id": cid, "org_id": org.id, "project_id": project.id, "tiktok_handle": f"creator{i:06d}", "metadata": {}}
        | {"tracking_mode": "auto", "tracking_start_date": created.date(), "follower_count": 0}
        | {"last_scraped_at": last_scraped, "scrape_state": "ok", "is_active": True}
        | {"created_at": created, "updated_at": last_scraped}
        for i, cid in enumerate(ids)
    ]
    assignments = [
        {"id": uuid.uuid5(uuid.NAMESPACE_OID, f"bench-assignment/{cid}"), "org_id": org.id}
        | {"structure_id": structure.id, "creator_id": cid, "starts_on": shape.starts_on, "ends_on": None}
        | {"settled_before": None, "created_at": created, "updated_at": created}
        for cid in ids
    ]
    job_runs = job_run_rows(shape, shape.creators)
    run_ids = {datetime.fromisoformat(row["slot"]): row["id"] for row in job_runs}
    counts: dict[str, int] = {}
    async with db.write() as session:
        for model, rows in ((Creator, creators), (PayoutAssignment, assignments), (JobRun, job_runs)):
            for first in range(0, len(rows), BATCH):
                await session.execute(insert(table_of(model)), rows[first : first + BATCH])
            counts[model.__tablename__] = len(rows)  # type: ignore[attr-defined]
        batches: dict[str, list[dict[str, Any]]] = {"payout_evaluations": [], "payout_accruals": []}
        tables = {"payout_evaluations": table_of(PayoutEvaluation), "payout_accruals": table_of(PayoutAccrual)}
        for name, row in history_rows(program, shape, run_ids):
            batch = batches[name]
            batch.append(row)
            counts[name] = counts.get(name, 0) + 1
            if len(batch) == BATCH:
                await session.execute(insert(tables[name]), batch)
                batch.clear()
        for name, batch in batches.items():
            if batch:
                await session.execute(insert(tables[name]), batch)
    await settle(db)
    print(
        f"built in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n:,} {name}" for name, n in counts.items())
        + f" ({_load()})"
    )
    return program


async def marks(db: Database) -> dict[date | None, int]:
    """How many assignments carry each `settled_before`."""
    mark = col(PayoutAssignment.settled_before)
    async with db.read() as session:
        rows = (await session.execute(select(mark, func.count()).group_by(mark))).all()
    return {row[0]: int(row[1]) for row in rows}


async def clear_marks(db: Database) -> None:
    async with db.write() as session:
        await session.execute(update(table_of(PayoutAssignment)).values(settled_before=None))


async def evaluation_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table_of(PayoutEvaluation))) or 0)


# --- timing ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    wall_s: float
    cpu_s: float
    stall_s: float


async def timed(call: Callable[[], Awaitable[T]]) -> tuple[Timed, T]:
    """Run `call` beside a ticker that sleeps 5 ms at a time and records its worst lateness (the longest stretch
    the event loop could not run anything else)."""
    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        while True:
            due = anyio.current_time() + TICK
            await anyio.sleep(TICK)
            worst = max(worst, anyio.current_time() - due)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await anyio.lowlevel.checkpoint()
        wall, cpu = time.perf_counter(), time.process_time()
        result = await call()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        tg.cancel_scope.cancel()
    return Timed(wall, cpu, worst), result


@dataclass
class Round:
    after: Timed
    after_days: int
    preview_after: Timed
    preview_before: Timed
    before: Timed
    before_days: int


def _show(label: str, t: Timed, extra: str = "") -> None:
    print(
        f"  {label}: wall {t.wall_s * 1000:,.1f} ms, CPU {t.cpu_s * 1000:,.1f} ms, longest stall "
        f"{t.stall_s * 1000:,.1f} ms{extra}"
    )


async def one_round(db: Database, program: Program, shape: Shape, number: int, failures: list[str]) -> Round:
    evaluations = await evaluation_count(db)
    expected_mark = {TODAY: shape.creators}

    async def idle_run(at: datetime) -> AccrualReport:
        return await run_accruals(db, FrozenClock(at), worker_id="bench")

    def check_idle(label: str, report: AccrualReport) -> None:
        if report.totals.evaluated or report.totals.failed:
            failures.append(f"{label}: evaluated {report.totals.evaluated}, failed {len(report.totals.failed)}")

    async def preview(at: datetime) -> int:
        async with db.read() as session:
            out = await preview_accruals(session, program.caller, now=at, structure_id=program.structure_id)
        if len(out.items) != min(shape.creators, DEFAULT_PREVIEW_LIMIT) or any(i.state != "open" for i in out.items):
            failures.append(f"preview at {at.isoformat()}: {len(out.items)} items, states {out.total_cents}")
        return len(out.items)

    at = shape.at + timedelta(hours=2 * number - 1)
    print(f"round {number} at {at.isoformat()} ({_load()})")
    after, report = await timed(lambda: idle_run(at))
    check_idle("after", report)
    _show("after  (marks set)", after, f", {report.days_planned:,} days planned, slots {report.slots_run}")
    preview_after, items = await timed(lambda: preview(at))
    _show("preview_accruals, marks set", preview_after, f", {items} items")
    await clear_marks(db)
    preview_before, items = await timed(lambda: preview(at))
    _show("preview_accruals, marks NULL", preview_before, f", {items} items")
    later = at + timedelta(hours=1)
    before, report_before = await timed(lambda: idle_run(later))
    check_idle("before", report_before)
    _show(
        "before (marks NULL)", before, f", {report_before.days_planned:,} days planned, slots {report_before.slots_run}"
    )
    walked = (report.days_planned, report_before.days_planned)
    if walked != (shape.creators, shape.creators * (shape.days + 1)):
        failures.append(f"round {number}: days planned after/before {walked}")
    now_marks, now_evaluations = await marks(db), await evaluation_count(db)
    if now_marks != expected_mark or now_evaluations != evaluations:
        failures.append(f"round {number}: marks {now_marks}, evaluations {evaluations} -> {now_evaluations}")
    return Round(after, report.days_planned, preview_after, preview_before, before, report_before.days_planned)


async def setup_run(db: Database, program: Program, shape: Shape, failures: list[str]) -> None:
    """The one real run over the generated history: yesterday's units, then every mark set to D."""
    before = await evaluation_count(db)
    t, report = await timed(lambda: run_accruals(db, FrozenClock(shape.at), worker_id="bench"))
    after = await evaluation_count(db)
    found = await marks(db)
    ok_units = report.totals.evaluated == shape.creators == after - before and not report.totals.failed
    ok_marks = found == {TODAY: shape.creators}
    yesterday = TODAY - timedelta(days=1)
    key = (program.structure_id, program.creator_ids[0], _day_bounds(yesterday)[0])
    async with db.read() as session:
        real = await session.get(PayoutEvaluation, evaluation_id(*key))
    expected = inputs_of(program, yesterday)
    ok_inputs = real is not None and real.inputs_snapshot == expected and real.amount_cents == AMOUNT_CENTS
    print(
        f"set-up run at {shape.at.isoformat()} (marks NULL): evaluated {report.totals.evaluated:,} units (expected "
        f"{shape.creators:,}: yesterday's), {report.days_planned:,} days planned, slots {report.slots_run}, "
        f"wall {t.wall_s:.2f} s, CPU {t.cpu_s:.2f} s: {'OK' if ok_units else 'MISMATCH'}; evaluations now "
        f"{after:,} (= creators x days {shape.creators * shape.days:,}); marks {_marks_text(found)}: "
        f"{'OK' if ok_marks else 'MISMATCH'}; its inputs_snapshot and amount equal the generator's: "
        f"{'OK' if ok_inputs else 'MISMATCH'}"
    )
    if not ok_inputs and real is not None:
        diff = {
            k for k in expected.keys() | real.inputs_snapshot.keys() if expected.get(k) != real.inputs_snapshot.get(k)
        }
        print(f"  differing keys: {sorted(diff)}; real {real.inputs_snapshot}")
    for ok, what in ((ok_units, "set-up units"), (ok_marks, "set-up marks"), (ok_inputs, "generated inputs")):
        if not ok:
            failures.append(what)
    if after != shape.creators * shape.days:
        failures.append(f"evaluations {after} != {shape.creators * shape.days}")


def _marks_text(found: dict[date | None, int]) -> str:
    return ", ".join(f"{'NULL' if k is None else k.isoformat()}: {n:,}" for k, n in sorted(found.items(), key=str))


def median_of(timings: list[Timed]) -> Timed:
    """Field by field medians."""
    return Timed(*(statistics.median(getattr(t, name) for t in timings) for name in ("wall_s", "cpu_s", "stall_s")))


def report(rounds: list[Round], shape: Shape, backend: str) -> None:
    label = "" if len(rounds) == 1 else f" (medians of {len(rounds)} rounds)"
    after = median_of([r.after for r in rounds])
    before = median_of([r.before for r in rounds])
    preview_after = median_of([r.preview_after for r in rounds])
    preview_before = median_of([r.preview_before for r in rounds])
    print(f"after timing: {_load()}")
    print(f"{backend}, {shape.creators:,} creators x {shape.days} days of daily history{label}:")
    for name, t in (
        ("idle run_accruals, marks set (after)", after),
        ("idle run_accruals, marks NULL (before)", before),
        ("preview_accruals, marks set", preview_after),
        ("preview_accruals, marks NULL", preview_before),
    ):
        print(
            f"  {name}: wall {t.wall_s * 1000:,.1f} ms, CPU {t.cpu_s * 1000:,.1f} ms, "
            f"longest stall {t.stall_s * 1000:,.1f} ms"
        )
    print(f"  days planned: before {rounds[0].before_days:,}, after {rounds[0].after_days:,}")
    for name, b, a in (("idle run_accruals", before, after), ("preview_accruals", preview_before, preview_after)):
        print(f"ratio before/after, {name}: wall {b.wall_s / a.wall_s:.1f}x, CPU {b.cpu_s / a.cpu_s:.1f}x")
    print(f"ratio before/after, days planned: {rounds[0].before_days / max(rounds[0].after_days, 1):.1f}x")


async def run(args: argparse.Namespace) -> None:
    shape = Shape(creators=args.creators, days=args.days)
    if args.backend == "postgres":
        url = await recreate_pg_database(args.pg_server, PG_DATABASE)
    else:
        url = f"sqlite+aiosqlite:///{fresh_sqlite_file(f'accrual_history_{shape.creators}x{shape.days}.db')}"
    await upgrade(url)
    db = Database.connect(url)
    failures: list[str] = []
    try:
        program = await build(db, shape)
        await setup_run(db, program, shape, failures)
        await settle(db)
        rounds = [await one_round(db, program, shape, n, failures) for n in range(1, args.runs + 1)]
    finally:
        await db.dispose()
    report(rounds, shape, args.backend)
    if failures:
        raise SystemExit("MISMATCH: " + "; ".join(failures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--creators", type=int, default=1000, help="Creators assigned (default 1000).")
    parser.add_argument("--days", type=int, default=365, help="Days of history before the run (default 365).")
    parser.add_argument("--runs", type=int, default=3, help=f"Timed rounds (default 3, at most {MAX_RUNS}).")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    args = parser.parse_args()
    if args.creators < 1 or args.days < 2 or not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--creators must be at least 1, --days at least 2 and --runs between 1 and {MAX_RUNS}")
    anyio.run(run, args)


if __name__ == "__main__":
    main()
