"""The daily retention job (`run_retention`) on a big store vs one hand-written SQL statement per table.

The store (defaults): one organization (`--timezone`, default UTC) with `--videos` 1,000 videos, each with a
snapshot every 6 hours (00:30, 06:30, 12:30, 18:30 UTC) over the `--days` 365 days before the run (~1.46M
`video_snapshots` rows, inserted time-major as a scraper would write them), and a finished `scrape` job run every
5 minutes over the same days (~105,000 `job_runs` rows). Everything but the organization and project is written
with Core `insert()` executemany in chunks, into a fresh store migrated by `trackagoat_mcp.db.migrate.upgrade`
(SQLite: `bench/.data/retention.db`; PostgreSQL: the database `trackagoat_bench_retention`, analysed after the
build as autovacuum would). That seeded store is never measured itself: each round copies it twice (SQLite: the
file; PostgreSQL: `CREATE DATABASE ... TEMPLATE`), so the job and the baseline start from identical stores.

Timed, with `job_run_days=90` and `snapshot_detail_days=30`:

* ours: `run_retention` at NOW (the first run, which thins 335 days of history), then at NOW + 1 day (the
  steady-state daily cost: one more day crosses the cut-off);
* the baseline, on the other copy: the same two days, each one `DELETE` keeping the last snapshot of each
  (video, day) before the cut-off (`row_number()` over the day), and one `DELETE` of the finished job runs before
  their cut-off except the newest of each (job, status). The baseline's days are UTC days on SQLite (it has no
  time zones) and days in the organization's timezone on PostgreSQL.

Checked: both ways delete the same number of rows each day and leave the same number of `video_snapshots` and
`job_runs` rows (exit status 1 otherwise; on SQLite with a non-UTC `--timezone` the snapshot counts may differ
because the baseline counts UTC days, which is reported but not an error). Also printed: rows deleted per
second and the store's size before and after (the SQLite file, or `pg_total_relation_size('video_snapshots')`).

    .venv/bin/python bench/retention.py                          # SQLite, 1,000 videos x 365 days
    .venv/bin/python bench/retention.py --backend postgres
    .venv/bin/python bench/retention.py --videos 50 --days 60    # quick (a few seconds)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import anyio
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from _common import DEFAULT_PG_SERVER, fresh_sqlite_file, recreate_pg_database, settle
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import JobRun, Video, VideoSnapshot, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.db.types import UTCDateTime
from trackagoat_mcp.domain import orgs, projects
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.jobs.retention import run_retention

PG_DATABASE = "trackagoat_bench_retention"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
"""The first run's moment; the second runs a day later."""
JOB_RUN_DAYS = 90
DETAIL_DAYS = 30
CHUNK = 20_000
"""Rows per executemany."""

SQLITE_DAY = "date(captured_at)"  # captured_at is naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff'): see UTCDateTime
PG_DAY = "(captured_at AT TIME ZONE :tz)::date"
THIN = """
DELETE FROM video_snapshots WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY video_id, {day} ORDER BY captured_at DESC, id DESC) AS rn
        FROM video_snapshots WHERE captured_at < :cutoff
    ) AS ranked WHERE rn > 1
)"""
PRUNE = """
DELETE FROM job_runs WHERE started_at < :cutoff AND finished_at IS NOT NULL AND id NOT IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY job, status ORDER BY started_at DESC) AS rn FROM job_runs
    ) AS ranked WHERE rn = 1
)"""


# --- the store -------------------------------------------------------------------------------------------------


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def _snapshots(video_ids: list[uuid.UUID], days: int) -> Iterator[dict[str, Any]]:
    """Every video's snapshots, scrape round by scrape round (6 hours apart), up to NOW."""
    at = (NOW - timedelta(days=days)).replace(hour=0, minute=30)
    n = 0
    while at < NOW:
        for i, video_id in enumerate(video_ids):
            views = 1_000 * (i + 1) + 37 * n
            yield {
                "video_id": video_id,
                "captured_at": at,
                "view_count": views,
                "like_count": views // 20,
                "comment_count": views // 300,
                "share_count": views // 400,
                "save_count": views // 350,
            }
        at += timedelta(hours=6)
        n += 1


def _job_runs(days: int) -> Iterator[dict[str, Any]]:
    """A finished `scrape` run every 5 minutes over `days` days up to NOW."""
    first = NOW - timedelta(days=days)
    for n in range(days * 24 * 12):
        started = first + timedelta(minutes=5 * n)
        yield {
            "id": uuid.uuid4(),
            "job": "scrape",
            "slot": f"cycle-{n}",
            "status": "ok",
            "claimed_by": "bench:1",
            "started_at": started,
            "heartbeat_at": started + timedelta(minutes=1),
            "finished_at": started + timedelta(minutes=1),
            "report": {},
        }


async def seed(db: Database, videos: int, days: int, timezone: str) -> float:
    """The organization and project through the domain, then videos, snapshots and job runs by executemany."""
    started = time.perf_counter()
    created = NOW - timedelta(days=days + 1)
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench org", timezone=timezone, now=created)
        caller = Caller(org_id=org.id, scopes=frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=created)
    video_rows = [
        {
            "id": uuid.uuid4(),
            "org_id": org.id,
            "project_id": project.id,
            "creator_id": None,
            "tiktok_video_id": str(7_400_000_000_000_000_000 + i),
            "url": f"https://www.tiktok.com/@c/video/{7_400_000_000_000_000_000 + i}",
            "metadata": {},
            "posted_at": created,
            "last_scraped_at": NOW,
            "scrape_state": "ok",
            "tracking_status": "auto_tracked",
            "is_photo": False,
            "created_at": created,
            "updated_at": NOW,
        }
        for i in range(videos)
    ]
    counts = {"videos": len(video_rows), "video_snapshots": 0, "job_runs": 0}
    async with db.write() as session:
        await session.execute(insert(table_of(Video)), video_rows)
        for name, model, rows in (
            ("video_snapshots", VideoSnapshot, _snapshots([r["id"] for r in video_rows], days)),
            ("job_runs", JobRun, _job_runs(days)),
        ):
            for chunk in _chunks(rows):
                await session.execute(insert(table_of(model)), chunk)
                counts[name] += len(chunk)
    await settle(db)
    seconds = time.perf_counter() - started
    print(f"seeded in {seconds:.1f} s: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    return seconds


async def copy_store(args: argparse.Namespace, seeded: str, name: str) -> str:
    """A fresh copy of the seeded store (which must have no open connection) named after `name`; its URL."""
    if args.backend == "sqlite":
        target = fresh_sqlite_file(f"retention_{name}.db")
        source = make_url(seeded).database
        assert source is not None
        await anyio.to_thread.run_sync(shutil.copyfile, source, target)
        return f"sqlite+aiosqlite:///{target}"
    return await recreate_pg_database(args.pg_server, f"{PG_DATABASE}_{name}", template=PG_DATABASE)


async def store_size(db: Database) -> str:
    """SQLite: the file's size after a WAL checkpoint, and how much of it is free pages; PostgreSQL:
    `pg_total_relation_size('video_snapshots')`."""
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages, free, page_size = [
                (await conn.exec_driver_sql(f"PRAGMA {p}")).scalar_one()
                for p in ("page_count", "freelist_count", "page_size")
            ]
            return f"{pages * page_size / 2**20:.1f} MiB ({free * page_size / 2**20:.1f} MiB free pages)"
        size = (await conn.exec_driver_sql("SELECT pg_total_relation_size('video_snapshots')")).scalar_one()
        return f"{size / 2**20:.1f} MiB"


async def counts(db: Database) -> tuple[int, int]:
    """Rows of `video_snapshots`, and of `job_runs` other than the retention job's own."""
    async with db.read() as session:
        snapshots = await session.scalar(select(func.count()).select_from(table_of(VideoSnapshot)))
        runs = await session.scalar(select(func.count()).where(col(JobRun.job) != "retention"))
    return int(snapshots or 0), int(runs or 0)


# --- the two ways ----------------------------------------------------------------------------------------------


@dataclass
class Day:
    """One day's retention by one way: seconds, and rows deleted."""

    seconds: float
    snapshots: int
    job_runs: int

    @property
    def rows(self) -> int:
        return self.snapshots + self.job_runs


@dataclass
class Outcome:
    """One way's two days on its copy of the store."""

    first: Day
    next_day: Day
    size_before: str
    size_after: str
    left: tuple[int, int]


async def ours(db: Database) -> Outcome:
    """`run_retention` at NOW, then a day later."""
    size_before = await store_size(db)
    days = []
    for at in (NOW, NOW + timedelta(days=1)):
        started = time.perf_counter()
        report = await run_retention(
            db, FrozenClock(at), worker_id="bench:1", job_run_days=JOB_RUN_DAYS, snapshot_detail_days=DETAIL_DAYS
        )
        days.append(Day(time.perf_counter() - started, report.video_snapshots_deleted, report.job_runs_deleted))
        assert not report.skipped
    return Outcome(days[0], days[1], size_before, await store_size(db), await counts(db))


async def baseline(db: Database, timezone: str) -> Outcome:
    """One `DELETE` for the snapshots and one for the job runs, at NOW, then a day later."""
    cutoff = bindparam("cutoff", type_=UTCDateTime())
    thin = text(THIN.format(day=SQLITE_DAY if db.is_sqlite else PG_DAY)).bindparams(cutoff)
    prune = text(PRUNE).bindparams(cutoff)
    size_before = await store_size(db)
    days = []
    zone = {} if db.is_sqlite else {"tz": timezone}
    for at in (NOW, NOW + timedelta(days=1)):
        started = time.perf_counter()
        snapshots = await _delete(db, thin, {"cutoff": at - timedelta(days=DETAIL_DAYS), **zone})
        runs = await _delete(db, prune, {"cutoff": at - timedelta(days=JOB_RUN_DAYS)})
        days.append(Day(time.perf_counter() - started, snapshots, runs))
    return Outcome(days[0], days[1], size_before, await store_size(db), await counts(db))


async def _delete(db: Database, statement: Any, params: dict[str, Any]) -> int:
    """Run one DELETE in its own write transaction; the rows it deleted."""
    async with db.write() as session:
        return int((await session.execute(statement, params)).rowcount)  # type: ignore[attr-defined]


# --- running and reporting -------------------------------------------------------------------------------------


async def measure(url: str, way: str, timezone: str) -> Outcome:
    db = Database.connect(url)
    try:
        outcome = await (ours(db) if way == "ours" else baseline(db, timezone))
    finally:
        await db.dispose()
    print(
        f"  {way}: first run {outcome.first.seconds:.2f} s ({outcome.first.snapshots:,} snapshots + "
        f"{outcome.first.job_runs:,} job runs deleted), next day {outcome.next_day.seconds:.2f} s "
        f"({outcome.next_day.snapshots:,} + {outcome.next_day.job_runs:,}); left {outcome.left[0]:,} snapshots, "
        f"{outcome.left[1]:,} job runs"
    )
    return outcome


def check(job: Outcome, base: Outcome, exact_days: bool) -> bool:
    """Whether both ways deleted and left the same rows; prints why not."""
    same = {
        "video_snapshots deleted, first run": (job.first.snapshots, base.first.snapshots),
        "video_snapshots deleted, next day": (job.next_day.snapshots, base.next_day.snapshots),
        "video_snapshots left": (job.left[0], base.left[0]),
        "job_runs deleted, first run": (job.first.job_runs, base.first.job_runs),
        "job_runs deleted, next day": (job.next_day.job_runs, base.next_day.job_runs),
        "job_runs left (scrape)": (job.left[1], base.left[1]),
    }
    ok = True
    for what, (a, b) in same.items():
        if a != b:
            forgiven = not exact_days and what.startswith("video_snapshots")
            ok = ok and forgiven
            note = " (the baseline counts UTC days on SQLite: not an error)" if forgiven else ""
            print(f"  MISMATCH {what}: run_retention {a:,} vs baseline {b:,}{note}")
    print(
        f"  check: video_snapshots left {job.left[0]:,} (ours) vs {base.left[0]:,} (baseline): {'OK' if ok else 'FAIL'}"
    )
    return ok


def table(seed_s: float, rounds: list[tuple[Outcome, Outcome]]) -> None:
    """The summary: medians over the rounds."""

    def med(pick: Any) -> float:
        return statistics.median(pick(job, base) for job, base in rounds)

    job, base = rounds[0]
    label = "" if len(rounds) == 1 else f" (medians of {len(rounds)} rounds)"
    first = (med(lambda j, b: j.first.seconds), med(lambda j, b: b.first.seconds))
    nxt = (med(lambda j, b: j.next_day.seconds), med(lambda j, b: b.next_day.seconds))
    print(f"\n| step{label} | run_retention | baseline (one statement per table) | ratio |")
    print("|---|---|---|---|")
    print(f"| seeding | {seed_s:.1f} s | | |")
    for name, (a, b), day_j, day_b in (
        ("first run", first, job.first, base.first),
        ("next day", nxt, job.next_day, base.next_day),
    ):
        print(
            f"| {name}: {day_j.snapshots:,} snapshots + {day_j.job_runs:,} job runs deleted | {a:.2f} s "
            f"({day_j.rows / a:,.0f} rows/s) | {b:.2f} s ({day_b.rows / b:,.0f} rows/s) | **{a / b:.1f}x** |"
        )
    print(
        f"| store size before → after | {job.size_before} → {job.size_after} | "
        f"{base.size_before} → {base.size_after} | |"
    )


async def run(args: argparse.Namespace) -> None:
    if args.backend == "postgres":
        seeded = await recreate_pg_database(args.pg_server, PG_DATABASE)
    else:
        seeded = f"sqlite+aiosqlite:///{fresh_sqlite_file('retention.db')}"
    await upgrade(seeded)
    db = Database.connect(seeded)
    try:
        seed_s = await seed(db, args.videos, args.days, args.timezone)
    finally:
        await db.dispose()
    print(
        f"backend={args.backend}, timezone {args.timezone}, run at {NOW.isoformat()} and a day later, "
        f"job_run_days={JOB_RUN_DAYS}, snapshot_detail_days={DETAIL_DAYS}"
    )
    exact_days = args.timezone == "UTC" or args.backend == "postgres"
    rounds, ok = [], True
    for number in range(1, args.runs + 1):
        urls = {way: await copy_store(args, seeded, way) for way in ("ours", "baseline")}
        print(f"round {number}")
        order = ("ours", "baseline") if number % 2 == 1 else ("baseline", "ours")
        outcomes = {way: await measure(urls[way], way, args.timezone) for way in order}
        ok = check(outcomes["ours"], outcomes["baseline"], exact_days) and ok
        rounds.append((outcomes["ours"], outcomes["baseline"]))
    table(seed_s, rounds)
    if not ok:
        raise SystemExit("MISMATCH: run_retention and the baseline left different rows (see above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--videos", type=int, default=1000, help="Videos in the store (default 1000).")
    parser.add_argument("--days", type=int, default=365, help="Days of history before the run (default 365).")
    parser.add_argument("--timezone", default="UTC", help="The organization's IANA timezone (default UTC).")
    parser.add_argument("--runs", type=int, default=1, help="Timed rounds, each on fresh copies (default 1).")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    args = parser.parse_args()
    if args.videos < 1 or args.days <= DETAIL_DAYS or args.runs < 1:
        parser.error(f"--videos and --runs must be at least 1, --days more than {DETAIL_DAYS}")
    anyio.run(run, args)


if __name__ == "__main__":
    main()
