"""The hourly accrual job (`run_accruals`) back-filling W weeks of a large program vs one set-based SQL statement.

The synthetic program (defaults): one organization in America/New_York (from 3 weeks on, the weeks cross the
start of daylight saving time on 2026-03-08), one project with `--creators` 1,000 creators, and four weekly
structures assigned to all of them from Monday 2026-02-16 (a tenth of the creators from the Thursday of that week,
so their first week is partial): `recurring` 70.00 with daily proration, `cpm` 2.50 per 1,000 views (`max_cents`
200.00, `min_views` 1,000), `view_threshold` 15.00 per video reaching 10,000 views (at most 3 per week) and `goals`
30.00 (each creator has a weekly `posts` goal, a `views` goal, or both). Every creator posts 0-6 videos a week
(Pareto-distributed views, like/comment/share/save counters; about 8% not counted: excluded, pending review or
tracking-disabled) over the W weeks, the four weeks before them and the week in progress, and has a daily creator
snapshot (the `followers` figure the goal metrics read). Every creator was scraped an hour before the run (`ok`), so no
evaluation waits for fresh stats. Accruals read the videos' current counters, not their snapshots, so the build
writes no video snapshots.

The structures are created with `structures.create_structure` (the real validation and versioning); everything
else is inserted with Core `executemany` in one transaction, into a fresh database migrated by
`trackagoat_mcp.db.migrate.upgrade` (SQLite: `bench/.data/accruals.db`; PostgreSQL: the database
`trackagoat_bench_accruals`, analysed after the build as autovacuum would).

Timed, with a `FrozenClock` at 00:15 local on the Wednesday after the last of the W weeks (48 h after its end, so
every week of every structure is due: 4 x creators x W units, the worst hourly case):

* `run_accruals` once (a back-fill into one hourly slot), then a second run an hour later, which must evaluate
  nothing (what an idle hour costs);
* the set-based baseline (the target): ONE hand-written `INSERT … SELECT` (`set_based_statement`) computing the
  amount of every unit of the W weeks from the same rows (assignments, counted videos, goals) into a scratch
  table, in integer SQL arithmetic with half-even rounding; the weeks' bounds and the local calendar are literal
  rows, the rules' numbers bound parameters. It writes no inputs snapshot and no accrual row: the floor of
  computing the same amounts in the store;
* the older baseline, in the same process on the same `Database`: as many `db.write()` transactions as there were
  units, each inserting one small row into a scratch table and committing: the floor of the design "one write
  transaction per unit".

The three run in turns (job, statement, transactions; then the other way round). Checked and printed:
evaluations == expected units; the accruals' count and total equal what the generator computes on its own from
the rows it wrote; the set-based statement's amount of every unit equals the evaluation the run wrote for it; the
second run evaluates 0 and writes nothing (the exit status is 1, with MISMATCH, if any check fails). `--runs`
repeats the timed part after deleting the evaluations, accruals and job runs (and clearing the assignments'
`settled_before` marks). `--breakdown` also times the job's parts alone: `load_units` (planning) and
`evaluate_unit` of every due unit in read sessions (the reads, one unit at a time). `--profile` runs the first
`run_accruals` under cProfile.

    .venv/bin/python bench/accruals.py --runs 3                         # SQLite, 1,000 creators x 4 weeks
    .venv/bin/python bench/accruals.py --backend postgres
    .venv/bin/python bench/accruals.py --creators 100 --weeks 2         # quick
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import resource
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    Uuid,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from _common import DEFAULT_PG_SERVER, fresh_sqlite_file, recreate_pg_database, settle
from trackagoat_mcp.clock import FrozenClock, ensure_utc
from trackagoat_mcp.db.migrate import upgrade
from trackagoat_mcp.db.models import (
    Creator,
    CreatorSnapshot,
    Goal,
    JobRun,
    PayoutAccrual,
    PayoutAssignment,
    PayoutEvaluation,
    PayoutStructureVersion,
    Video,
    table_of,
)
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import orgs, projects
from trackagoat_mcp.domain.payouts import structures
from trackagoat_mcp.domain.payouts.accruals import Scope, evaluate_unit, load_units
from trackagoat_mcp.domain.periods import local_midnight
from trackagoat_mcp.domain.scope import ALL_SCOPES, Caller
from trackagoat_mcp.jobs.accruals import run_accruals

PG_DATABASE = "trackagoat_bench_accruals"
TIMEZONE = "America/New_York"
FIRST_MONDAY = date(2026, 2, 16)
HISTORY_WEEKS = 4
LATE_SHARE = 0.1
"""Creators assigned from the Thursday of the first week (a partial first week)."""
BATCH = 10_000
COUNTED = ("auto_tracked", "included", "direct_add")

# The four structures: (name, create_structure arguments).
RECURRING: dict[str, Any] = {"criteria_type": "recurring", "amount_cents": 7000, "proration_mode": "daily"}
CPM: dict[str, Any] = {
    "criteria_type": "cpm",
    "amount_cents": 250,
    "criteria_params": {"max_cents": 20_000, "min_views": 1000},
}
THRESHOLD: dict[str, Any] = {
    "criteria_type": "view_threshold",
    "amount_cents": 1500,
    "criteria_params": {"threshold_views": 10_000, "max_videos": 3},
}
GOALS: dict[str, Any] = {"criteria_type": "goals", "amount_cents": 3000}
STRUCTURES: dict[str, dict[str, Any]] = {
    "Weekly retainer": RECURRING,
    "Weekly CPM": CPM,
    "Weekly 10k views": THRESHOLD,
    "Weekly goals": GOALS,
}

SCRATCH = Table(
    "bench_commit_floor",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("n", Integer, nullable=False),
)
"""The baseline's scratch table: one small row per write transaction."""


# --- the synthetic program -----------------------------------------------------------------------------------


@dataclass
class Shape:
    """How big the synthetic program is, and the calendar it lives on."""

    creators: int
    weeks: int
    seed: int

    @property
    def at(self) -> datetime:
        """The run's moment: 00:15 local on the Wednesday after the last week (48 h + 15 min after its end)."""
        return local_midnight(FIRST_MONDAY + timedelta(days=7 * self.weeks + 2), TIMEZONE) + timedelta(minutes=15)

    def week(self, k: int) -> tuple[datetime, datetime]:
        """Week k (0 = the first assigned one; negative: before it) as UTC instants `[start, end)`."""
        monday = FIRST_MONDAY + timedelta(days=7 * k)
        return local_midnight(monday, TIMEZONE), local_midnight(monday + timedelta(days=7), TIMEZONE)


@dataclass
class Expected:
    """What the run must produce, computed by the generator from the rows it writes (not by the domain code)."""

    units: int = 0
    accruals: int = 0
    cents: int = 0
    by_structure: dict[str, int] = field(default_factory=dict)
    project_id: uuid.UUID | None = None
    structure_ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def add(self, name: str, cents: int) -> None:
        self.units += 1
        if cents > 0:
            self.accruals += 1
            self.cents += cents
            self.by_structure[name] = self.by_structure.get(name, 0) + cents


def _half_even(exact: Decimal) -> int:
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class _Video:
    posted_at: datetime
    views: int
    counted: bool


class Builder:
    """Generates the program's rows (deterministic for a seed) and what the accrual run must make of them."""

    def __init__(self, shape: Shape, org_id: uuid.UUID, project_id: uuid.UUID) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.org_id, self.project_id = org_id, project_id
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.expected = Expected()
        self._video_no = 0

    def _row(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def build(self, structure_ids: dict[str, uuid.UUID]) -> None:
        shape, rng, at = self.shape, self.rng, self.shape.at
        created = shape.week(-HISTORY_WEEKS)[0] - timedelta(days=7)
        late_start = FIRST_MONDAY + timedelta(days=3)
        for i in range(shape.creators):
            cid = _uuid(rng)
            self._row(
                "creators",
                {
                    "id": cid,
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "tiktok_handle": f"creator{i:06d}",
                    "metadata": {},
                    "tracking_mode": "auto",
                    "tracking_start_date": created.date(),
                    "follower_count": 0,
                    "last_scraped_at": at - timedelta(hours=1),
                    "scrape_state": "ok",
                    "is_active": True,
                    "created_at": created,
                    "updated_at": at - timedelta(hours=1),
                },
            )
            self._snapshots(cid, created)
            starts_on = late_start if rng.random() < LATE_SHARE else FIRST_MONDAY
            for sid in structure_ids.values():
                self._row(
                    "payout_assignments",
                    {
                        "id": _uuid(rng),
                        "org_id": self.org_id,
                        "structure_id": sid,
                        "creator_id": cid,
                        "starts_on": starts_on,
                        "ends_on": None,
                        "created_at": created,
                        "updated_at": created,
                    },
                )
            goals = self._goals(cid, created)
            weeks = {k: self._videos(cid, k) for k in range(-HISTORY_WEEKS, shape.weeks + 1)}
            for k in range(shape.weeks):
                self._expect(weeks[k], k, starts_on, goals)

    def _snapshots(self, cid: uuid.UUID, created: datetime) -> None:
        rng = self.rng
        followers = int(min(rng.paretovariate(1.1) * 2_000, 50_000_000))
        day = created
        while day < self.shape.at:
            followers = max(0, followers + int(followers * rng.uniform(-0.002, 0.01)))
            self._row(
                "creator_snapshots",
                {
                    "creator_id": cid,
                    "captured_at": day + timedelta(hours=rng.uniform(0, 20)),
                    "follower_count": followers,
                    "following_count": 100,
                    "total_likes_count": followers * 7,
                    "video_count": 0,
                },
            )
            day += timedelta(days=1)

    def _goals(self, cid: uuid.UUID, created: datetime) -> dict[str, int]:
        """A weekly posts goal, views goal, or both (40/30/30)."""
        rng, draw = self.rng, self.rng.random()
        goals = {}
        if draw < 0.7:
            goals["posts"] = rng.randint(1, 3)
        if draw >= 0.4:
            goals["views"] = rng.choice((5_000, 20_000, 50_000))
        for metric, target in goals.items():
            self._row(
                "goals",
                {
                    "id": _uuid(rng),
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "creator_id": cid,
                    "metric": metric,
                    "period": "weekly",
                    "target_value": float(target),
                    "start_date": created.date(),
                    "end_date": None,
                    "is_active": True,
                    "created_at": created,
                    "updated_at": created,
                },
            )
        return goals

    def _videos(self, cid: uuid.UUID, k: int) -> list[_Video]:
        """The creator's videos of week k (the week in progress only up to an hour before the run)."""
        rng = self.rng
        start, end = self.shape.week(k)
        end = min(end, self.shape.at - timedelta(hours=1))
        out = []
        for _ in range(rng.choices(range(7), weights=(10, 20, 25, 20, 12, 8, 5))[0]):
            posted = start + (end - start) * rng.random()
            views = int(min(rng.paretovariate(1.2) * 800, 20_000_000))
            likes = int(views * rng.uniform(0.02, 0.12))
            draw = rng.random()
            status = "excluded" if draw < 0.03 else "pending_review" if draw < 0.06 else "auto_tracked"
            if status == "auto_tracked" and rng.random() < 0.06:
                status = "included" if rng.random() < 0.7 else "direct_add"
            disabled = status in COUNTED and rng.random() < 0.02
            self._video_no += 1
            tiktok_id = str(7_400_000_000_000_000_000 + self._video_no)
            self._row(
                "videos",
                {
                    "id": _uuid(rng),
                    "org_id": self.org_id,
                    "project_id": self.project_id,
                    "creator_id": cid,
                    "tiktok_video_id": tiktok_id,
                    "url": f"https://www.tiktok.com/@c/video/{tiktok_id}",
                    "metadata": {},
                    "view_count": views,
                    "like_count": likes,
                    "comment_count": views // 300,
                    "share_count": views // 400,
                    "save_count": views // 350,
                    "posted_at": posted,
                    "last_scraped_at": self.shape.at - timedelta(hours=1),
                    "scrape_state": "ok",
                    "tracking_status": status,
                    "tracking_disabled_at": posted + timedelta(days=1) if disabled else None,
                    "is_photo": False,
                    "created_at": posted,
                    "updated_at": self.shape.at - timedelta(hours=1),
                },
            )
            out.append(_Video(posted, views, status in COUNTED and not disabled))
        return out

    def _expect(self, videos: list[_Video], k: int, starts_on: date, goals: dict[str, int]) -> None:
        """The four units of week k, from the definitions in SPEC §5."""
        monday = FIRST_MONDAY + timedelta(days=7 * k)
        assigned_from = local_midnight(starts_on, TIMEZONE)
        counted = [v for v in videos if v.counted]
        while_assigned = [v for v in counted if v.posted_at >= assigned_from]
        days = 7 - max(0, (starts_on - monday).days)
        self.expected.add("recurring", _half_even(Decimal(RECURRING["amount_cents"]) * days / 7))
        params = CPM["criteria_params"]
        views = sum(v.views for v in while_assigned if v.views >= params["min_views"])
        self.expected.add(
            "cpm", _half_even(min(Decimal(CPM["amount_cents"]) * views / 1000, Decimal(params["max_cents"])))
        )
        params = THRESHOLD["criteria_params"]
        qualifying = sum(v.views >= params["threshold_views"] for v in while_assigned)
        self.expected.add("view_threshold", THRESHOLD["amount_cents"] * min(qualifying, params["max_videos"]))
        figures = {"posts": len(counted), "views": sum(v.views for v in counted)}  # goals: the whole period
        met = all(figures[metric] >= target for metric, target in goals.items())
        self.expected.add("goals", GOALS["amount_cents"] if met else 0)


async def build(db: Database, shape: Shape) -> Expected:
    """Create the organization, project and structures through the domain, then bulk-insert the rest."""
    started = time.perf_counter()
    created = shape.week(-HISTORY_WEEKS)[0] - timedelta(days=7)
    async with db.write() as session:
        org = await orgs.create_org(session, name="Bench org", timezone=TIMEZONE, now=created)
        caller = Caller(org_id=org.id, scopes=frozenset(ALL_SCOPES))
        project = await projects.create_project(session, caller, name="Bench program", now=created)
        structure_ids = {}
        for name, rule in STRUCTURES.items():
            out = await structures.create_structure(
                session, caller, project_id=project.id, name=name, period="weekly", now=created, **rule
            )
            structure_ids[name] = out.id
    builder = Builder(shape, org.id, project.id)
    builder.build(structure_ids)
    builder.expected.project_id, builder.expected.structure_ids = project.id, structure_ids
    tables = {t: table_of(m) for t, m in (("creators", Creator), ("creator_snapshots", CreatorSnapshot))}
    tables |= {"goals": table_of(Goal), "videos": table_of(Video), "payout_assignments": table_of(PayoutAssignment)}
    async with db.write() as session:
        for name, table in tables.items():
            rows = builder.rows.get(name, [])
            for first in range(0, len(rows), BATCH):
                await session.execute(insert(table), rows[first : first + BATCH])
    counts = ", ".join(f"{len(builder.rows.get(name, [])):,} {name}" for name in tables)
    print(f"built in {time.perf_counter() - started:.1f} s: {counts}")
    async with db.engine.connect() as conn:
        await conn.run_sync(SCRATCH.metadata.create_all)
        await conn.commit()
    await settle(db)
    return builder.expected


async def forget_runs(db: Database) -> None:
    """Delete every evaluation, accrual and job run and the baselines' rows, and clear the assignments'
    `settled_before` marks: the program as before any run."""
    async with db.write() as session:
        for table in (table_of(PayoutAccrual), table_of(PayoutEvaluation), table_of(JobRun), SCRATCH, SET_BASED):
            await session.execute(delete(table))
        # The run marks how far each assignment is settled; unmarked, the next round walks every period again.
        await session.execute(update(table_of(PayoutAssignment)).values(settled_before=None))
    await settle(db)


# --- the set-based baseline ------------------------------------------------------------------------------------

SET_BASED = Table(
    "bench_set_based",
    SCRATCH.metadata,
    Column("structure_id", Uuid, nullable=False),
    Column("creator_id", Uuid, nullable=False),
    Column("period_start_at", table_of(Video).c.posted_at.type, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
)
"""The set-based baseline's output: every unit's amount, keyed like an evaluation."""


def _sql_half_even(numerator: Any, denominator: int) -> Any:
    """`numerator / denominator` rounded half-even to an integer, in integer SQL arithmetic (numerator ≥ 0)."""
    quotient = numerator // denominator
    twice_rest = 2 * (numerator - quotient * denominator)
    return case(
        (or_(twice_rest > denominator, and_(twice_rest == denominator, quotient % 2 == 1)), quotient + 1),
        else_=quotient,
    )


def set_based_statement(shape: Shape, project_id: uuid.UUID, structure_ids: dict[str, uuid.UUID]) -> Any:
    """ONE `INSERT … SELECT` computing the amount of every unit of the program's W weeks, by hand for this program.

    The weeks' bounds and the calendar (each day's local midnight as a UTC instant and its ordinal) are literal
    rows, the rules' numbers are bound parameters; everything else (who is assigned from which day, the counted
    videos, their views, the goals) is read by the statement. Amounts use integer arithmetic with half-even
    rounding, so they must equal the `Decimal` amounts of the real run to the cent.
    """
    instant = table_of(Video).c.posted_at.type
    assignments = table_of(PayoutAssignment)
    v, a, g = table_of(Video).c, assignments.c, table_of(Goal).c
    sv = table_of(PayoutStructureVersion).c
    periods = union_all(
        *(
            select(
                literal(shape.week(k)[0], instant).label("start_at"),
                literal(shape.week(k)[1], instant).label("end_at"),
                literal(FIRST_MONDAY + timedelta(days=7 * k), Date).label("first_day"),
                literal(FIRST_MONDAY + timedelta(days=7 * k + 6), Date).label("last_day"),
                literal((FIRST_MONDAY + timedelta(days=7 * k)).toordinal(), Integer).label("first_n"),
            )
            for k in range(shape.weeks)
        )
    ).cte("periods")
    first_day = FIRST_MONDAY - timedelta(days=7 * (HISTORY_WEEKS + 2))
    days = [first_day + timedelta(days=n) for n in range((shape.at.date() - first_day).days + 1)]
    calendar = union_all(
        *(
            select(
                literal(day, Date).label("day"),
                literal(local_midnight(day, TIMEZONE), instant).label("midnight"),
                literal(day.toordinal(), Integer).label("n"),
            )
            for day in days
        )
    ).cte("calendar")
    late = case((calendar.c.n > periods.c.first_n, calendar.c.n - periods.c.first_n), else_=0)
    units = (
        select(
            a.structure_id,
            a.creator_id,
            periods.c.start_at,
            periods.c.end_at,
            periods.c.first_day,
            periods.c.last_day,
            calendar.c.midnight.label("from_at"),
            (7 - late).label("days"),
        )
        .select_from(assignments)
        .join(calendar, calendar.c.day == a.starts_on)
        .join(periods, calendar.c.n <= periods.c.first_n + 6)
        .where(a.structure_id.in_(list(structure_ids.values())), a.ends_on.is_(None))
        .cte("units")
    )
    weeks = (
        select(
            units.c.creator_id, units.c.start_at, units.c.end_at, units.c.first_day, units.c.last_day, units.c.from_at
        )
        .distinct()
        .cte("creator_weeks")
    )
    counted = and_(v.tracking_status.in_(COUNTED), v.tracking_disabled_at.is_(None))
    assigned = v.posted_at >= weeks.c.from_at
    cpm, threshold = CPM["criteria_params"], THRESHOLD["criteria_params"]

    def whole(expression: Any) -> Any:
        return cast(func.coalesce(func.sum(expression), 0), BigInteger)

    def goals_of_week(measure: Any, *where: Any) -> Any:
        """A figure of the creator's goals applicable to the week (an indexed look-up per creator and week)."""
        applicable = and_(
            g.creator_id == weeks.c.creator_id,
            g.project_id == project_id,
            g.is_active.is_(True),
            g.period == "weekly",
            g.start_date <= weeks.c.last_day,
            or_(g.end_date.is_(None), g.end_date >= weeks.c.first_day),
        )
        return select(measure).where(applicable, *where).scalar_subquery()

    figures = (
        select(
            weeks.c.creator_id,
            weeks.c.start_at,
            whole(case((and_(assigned, v.view_count >= cpm["min_views"]), v.view_count), else_=0)).label("cpm_views"),
            whole(case((and_(assigned, v.view_count >= threshold["threshold_views"]), 1), else_=0)).label("hits"),
            cast(func.count(v.id), BigInteger).label("posts"),
            whole(v.view_count).label("views"),
            goals_of_week(func.count(g.id)).label("goals"),
            goals_of_week(func.count(g.id), g.metric.not_in(("posts", "views"))).label("other_goals"),
            goals_of_week(func.max(g.target_value), g.metric == "posts").label("posts_target"),
            goals_of_week(func.max(g.target_value), g.metric == "views").label("views_target"),
        )
        .select_from(weeks)
        .outerjoin(
            table_of(Video),
            and_(
                v.creator_id == weeks.c.creator_id,
                v.project_id == project_id,
                counted,
                v.posted_at >= weeks.c.start_at,
                v.posted_at < weeks.c.end_at,
            ),
        )
        .group_by(*weeks.c)
        .cte("figures")
    )
    # Every applicable goal met: at least one goal, all on posts or views, and each figure at its highest target.
    goals_met = and_(
        figures.c.goals > 0,
        figures.c.other_goals == 0,
        or_(figures.c.posts_target.is_(None), figures.c.posts >= figures.c.posts_target),
        or_(figures.c.views_target.is_(None), figures.c.views >= figures.c.views_target),
    )
    cpm_cents = _sql_half_even(sv.amount_cents * figures.c.cpm_views, 1000)
    paid = case((figures.c.hits > threshold["max_videos"], threshold["max_videos"]), else_=figures.c.hits)
    amount = case(
        (sv.criteria_type == "recurring", _sql_half_even(sv.amount_cents * units.c.days, 7)),
        (sv.criteria_type == "cpm", case((cpm_cents > cpm["max_cents"], cpm["max_cents"]), else_=cpm_cents)),
        (sv.criteria_type == "view_threshold", sv.amount_cents * paid),
        (and_(sv.criteria_type == "goals", goals_met), sv.amount_cents),
        else_=0,
    )
    rows = (
        select(units.c.structure_id, units.c.creator_id, units.c.start_at, amount)
        .select_from(units)
        .join(table_of(PayoutStructureVersion), sv.structure_id == units.c.structure_id)
        .join(figures, and_(figures.c.creator_id == units.c.creator_id, figures.c.start_at == units.c.start_at))
    )
    return insert(SET_BASED).from_select(["structure_id", "creator_id", "period_start_at", "amount_cents"], rows)


async def set_based(db: Database, statement: Any) -> float:
    """Seconds for the set-based statement in one write transaction (its scratch table emptied first, untimed)."""
    async with db.write() as session:
        await session.execute(delete(SET_BASED))
    started = time.perf_counter()
    async with db.write() as session:
        await session.execute(statement)
    return time.perf_counter() - started


ROW_COPIES = {"payout_evaluations": "bench_rows_evaluations", "payout_accruals": "bench_rows_accruals"}
"""Where `rows_alone` keeps the run's rows while it writes them again (evaluations first: accruals need them)."""


async def rows_alone(db: Database) -> float:
    """Seconds to write the run's own evaluations and accruals again, set-based: one `INSERT … SELECT` per table
    from a copy, in one write transaction, into the same tables with their keys, indexes and foreign keys.

    What any implementation that records these rows pays at least, however it computes them. The rows are copied
    aside, deleted (untimed, committed), then written back, so the store ends as the run left it.
    """
    async with db.write() as session:
        for table, copy in ROW_COPIES.items():
            await session.execute(text(f"DROP TABLE IF EXISTS {copy}"))
            await session.execute(text(f"CREATE TABLE {copy} AS SELECT * FROM {table}"))
        for table in reversed(ROW_COPIES):
            await session.execute(text(f"DELETE FROM {table}"))
    await settle(db)
    started = time.perf_counter()
    async with db.write() as session:
        for table, copy in ROW_COPIES.items():
            await session.execute(text(f"INSERT INTO {table} SELECT * FROM {copy}"))
    elapsed = time.perf_counter() - started
    async with db.write() as session:
        for copy in ROW_COPIES.values():
            await session.execute(text(f"DROP TABLE {copy}"))
    return elapsed


async def same_amounts(db: Database) -> tuple[bool, str]:
    """Whether the set-based statement's amounts equal the evaluations the real run wrote, unit by unit."""
    e = table_of(PayoutEvaluation).c
    async with db.read() as session:
        ours = {
            (r.structure_id, r.creator_id, ensure_utc(r.period_start_at)): int(r.amount_cents)
            for r in await session.execute(select(e.structure_id, e.creator_id, e.period_start_at, e.amount_cents))
        }
        theirs = {
            (r.structure_id, r.creator_id, ensure_utc(r.period_start_at)): int(r.amount_cents)
            for r in await session.execute(select(SET_BASED))
        }
    differing = [key for key in ours.keys() | theirs.keys() if ours.get(key) != theirs.get(key)]
    summary = (
        f"{len(theirs):,} units totalling ${sum(theirs.values()) / 100:,.2f} vs the run's {len(ours):,} totalling "
        f"${sum(ours.values()) / 100:,.2f}, {len(differing)} differing"
    )
    if differing:
        key = sorted(differing, key=str)[0]
        summary += f" (e.g. {key}: run {ours.get(key)}, set-based {theirs.get(key)})"
    return not differing, summary


# --- timing ----------------------------------------------------------------------------------------------------


def _rss_mib(field_name: str) -> float:
    """A memory figure of /proc/self/status in MiB (Linux); elsewhere the process's peak RSS from getrusage."""
    match = re.search(rf"^{field_name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> bool:
    """Reset the process's peak RSS (VmHWM) so that it measures what follows; False where Linux cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as session:
        evaluations = await session.scalar(select(func.count()).select_from(table_of(PayoutEvaluation)))
        accrual_table = table_of(PayoutAccrual)
        accruals, cents = (
            await session.execute(select(func.count(), func.coalesce(func.sum(accrual_table.c.amount_cents), 0)))
        ).one()
    return int(evaluations or 0), int(accruals), int(cents)


@dataclass
class Round:
    job_s: float
    baseline_s: float
    set_based_s: float
    rows_s: float
    idle_s: float
    units: int
    checks_ok: bool


async def baseline(db: Database, transactions: int) -> float:
    """Seconds for `transactions` write transactions, each inserting one small row and committing."""
    started = time.perf_counter()
    for n in range(transactions):
        async with db.write() as session:
            await session.execute(insert(SCRATCH).values(n=n))
    return time.perf_counter() - started


async def one_round(db: Database, shape: Shape, expected: Expected, number: int, profile: bool) -> Round:
    """One timed run of the job and of the baseline (alternating which goes first), with the checks."""
    at = shape.at
    timings: dict[str, float] = {}

    async def job() -> None:
        before = _rss_mib("VmRSS")
        peak_reset = _reset_peak_rss()
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = await run_accruals(db, FrozenClock(at), worker_id="bench")
        if profiler is not None:
            profiler.disable()
        timings["job"] = time.perf_counter() - started
        scope = "" if peak_reset else " (whole process)"
        peak = (
            f"peak RSS{scope} {_rss_mib('VmHWM'):.0f} MiB (RSS {before:.0f} MiB before the run; after it "
            f"{_rss_mib('RssAnon'):.0f} MiB anonymous + {_rss_mib('RssFile'):.0f} MiB of mapped files)"
        )
        totals = report.totals
        units = totals.evaluated
        print(
            f"  run_accruals: {units:,} units evaluated, {totals.accrued:,} accruals written "
            f"(${totals.accrued_cents / 100:,.2f}), {totals.zero:,} zero, {len(totals.failed)} failed, "
            f"slots {report.slots_run}, {timings['job']:.2f} s, {units / timings['job']:,.0f} units/s, "
            f"{timings['job'] / max(units, 1) * 1000:.2f} ms/unit, {peak}"
        )
        evaluations, accruals, cents = await _counts(db)
        ok_units = units == expected.units == evaluations
        ok_money = (totals.accrued, totals.accrued_cents) == (expected.accruals, expected.cents) == (accruals, cents)
        print(
            f"  check: evaluations {units:,} (rows {evaluations:,}) == expected units {expected.units:,}: "
            f"{'OK' if ok_units else 'MISMATCH'}; accruals {accruals:,} totalling ${cents / 100:,.2f} == the "
            f"generator's {expected.accruals:,} totalling ${expected.cents / 100:,.2f}: "
            f"{'OK' if ok_money else 'MISMATCH'}"
        )
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats("trackagoat_mcp", 15)  # our functions, time inside them
            stats.sort_stats("tottime").print_stats(20)  # where the interpreter spent its own time
            print(out.getvalue())
        started = time.perf_counter()
        again = await run_accruals(db, FrozenClock(at + timedelta(hours=1)), worker_id="bench")
        timings["idle"] = time.perf_counter() - started
        after = await _counts(db)
        idle_ok = again.totals.evaluated == again.totals.accrued == 0 and after == (evaluations, accruals, cents)
        print(
            f"  check: a run an hour later evaluated {again.totals.evaluated} and wrote {after[0] - evaluations} "
            f"evaluations and {after[1] - accruals} accruals (slots {again.slots_run}): "
            f"{'OK' if idle_ok else 'MISMATCH'}; it took {timings['idle']:.2f} s"
        )
        timings["units"] = units
        timings["ok"] = float(ok_units and ok_money and idle_ok)

    async def floor() -> None:
        transactions = expected.units
        timings["baseline"] = await baseline(db, transactions)
        print(
            f"  baseline: {transactions:,} write transactions of one small row each, {timings['baseline']:.2f} s, "
            f"{timings['baseline'] / transactions * 1000:.2f} ms/transaction"
        )

    async def rows() -> None:
        timings["rows"] = await rows_alone(db)
        print(
            f"  rows alone: the run's {timings['units']:,.0f} evaluations and {expected.accruals:,} accruals written "
            f"again by one INSERT … SELECT per table, {timings['rows']:.2f} s"
        )

    async def statement() -> None:
        timings["set_based"] = await set_based(db, set_based_statement(shape, project_id, expected.structure_ids))
        print(
            f"  set-based: one INSERT … SELECT of every unit's amount, {timings['set_based']:.2f} s, "
            f"{timings['set_based'] / expected.units * 1000:.3f} ms/unit"
        )

    assert expected.project_id is not None
    project_id = expected.project_id
    print(f"round {number} ({_load()})")
    for step in (job, rows, statement, floor) if number % 2 == 1 else (floor, statement, job, rows):
        await step()
    same, summary = await same_amounts(db)
    print(
        f"  check: the set-based statement's amounts == the run's evaluations: {summary}: "
        f"{'OK' if same else 'MISMATCH'}"
    )
    return Round(
        timings["job"],
        timings["baseline"],
        timings["set_based"],
        timings["rows"],
        timings["idle"],
        int(timings["units"]),
        timings["ok"] == 1 and same,
    )


async def breakdown(db: Database, shape: Shape) -> None:
    """Time the job's parts alone on a fresh copy: planning (`load_units`) and the reads of every due unit
    (`evaluate_unit`, each in its own read session, as the job does inside its write transactions)."""
    await forget_runs(db)
    at = shape.at
    started = time.perf_counter()
    async with db.read() as session:
        units = await load_units(session, Scope(), now=at, horizon=at)
    plan_s = time.perf_counter() - started
    due = [u for u in units if u.state == "due"]
    by_type: dict[str, list[float]] = {}
    for unit in due:
        started = time.perf_counter()
        async with db.read() as session:
            await evaluate_unit(session, unit)
        by_type.setdefault(unit.version.rule.criteria_type, []).append(time.perf_counter() - started)
    reads_s = sum(sum(ts) for ts in by_type.values())
    kinds = ", ".join(f"{kind} {statistics.median(ts) * 1000:.2f}" for kind, ts in sorted(by_type.items()))
    print(
        f"breakdown: load_units {plan_s:.2f} s ({len(units):,} units, {len(due):,} due); evaluate_unit of every due "
        f"unit, one read session each, {reads_s:.2f} s ({reads_s / max(len(due), 1) * 1000:.2f} ms/unit; median ms "
        f"by criteria: {kinds})"
    )


async def run(args: argparse.Namespace) -> None:
    shape = Shape(creators=args.creators, weeks=args.weeks, seed=args.seed)
    if args.backend == "postgres":
        url = await recreate_pg_database(args.pg_server, PG_DATABASE)
    else:
        url = f"sqlite+aiosqlite:///{fresh_sqlite_file('accruals.db')}"
    await upgrade(url)
    db = Database.connect(url)
    try:
        expected = await build(db, shape)
        print(
            f"backend={args.backend}, {shape.creators:,} creators x 4 weekly structures x {shape.weeks} weeks due at "
            f"{shape.at.isoformat()} ({TIMEZONE}): {expected.units:,} units expected, {expected.accruals:,} accruals "
            f"(${expected.cents / 100:,.2f}: "
            + ", ".join(f"{k} ${v / 100:,.2f}" for k, v in expected.by_structure.items())
            + ")"
        )
        rounds = []
        for number in range(1, args.runs + 1):
            if number > 1:
                await forget_runs(db)
            rounds.append(await one_round(db, shape, expected, number, args.profile and number == 1))
        if args.breakdown:
            await breakdown(db, shape)
    finally:
        await db.dispose()
    report(rounds)
    if not all(r.checks_ok for r in rounds):
        raise SystemExit("MISMATCH: a check above failed (see the lines marked MISMATCH)")


def report(rounds: list[Round]) -> None:
    job_s = statistics.median(r.job_s for r in rounds)
    base_s = statistics.median(r.baseline_s for r in rounds)
    units = rounds[0].units
    label = "" if len(rounds) == 1 else f" (medians of {len(rounds)} runs)"
    print(f"after timing: {_load()}")
    print(
        f"run_accruals {job_s:.2f} s ({job_s / units * 1000:.2f} ms/unit, {units / job_s:,.0f} units/s) vs baseline "
        f"{base_s:.2f} s ({base_s / units * 1000:.2f} ms/unit){label}"
    )
    print(f"ratio = run_accruals time / baseline time = {job_s / base_s:.2f}x")
    set_s = statistics.median(r.set_based_s for r in rounds)
    print(
        f"set-based statement {set_s:.2f} s{label}; ratio = run_accruals time / set-based statement time = "
        f"{job_s / set_s:.2f}x"
    )
    rows_s = statistics.median(r.rows_s for r in rounds)
    print(
        f"the run's rows alone, written set-based {rows_s:.2f} s{label} = {rows_s / set_s:.2f}x the statement: the "
        f"least any implementation recording them pays; run_accruals / (statement + rows alone) = "
        f"{job_s / (set_s + rows_s):.2f}x"
    )
    print(
        f"an idle hourly run (nothing due) over the same program: {statistics.median(r.idle_s for r in rounds):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--creators", type=int, default=1000, help="Creators in the program (default 1000).")
    parser.add_argument("--weeks", type=int, default=4, help="Weeks due at the run (default 4).")
    parser.add_argument("--runs", type=int, default=1, help="Timed rounds (default 1); the median counts.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--breakdown", action="store_true", help="Also time load_units and the units' reads alone.")
    parser.add_argument("--profile", action="store_true", help="cProfile the first run_accruals (slows it down).")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="Any database URL on the PostgreSQL server.")
    args = parser.parse_args()
    if args.creators < 1 or args.weeks < 1 or args.runs < 1:
        parser.error("--creators, --weeks and --runs must be at least 1")
    anyio.run(run, args)


if __name__ == "__main__":
    main()
