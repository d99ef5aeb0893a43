"""Evaluating and recording many accrual units at once: the figures of a batch in a few queries, its rows in one
multi-row insert per table.

`evaluate_units` gives each unit the outcome it would get alone, whatever the batch: the counted videos posted in
the period (for `cpm` / `view_threshold` only those in the structure's project posted on a covered day; for goal
figures every one), the applicable goals and the follower figure, videos ordered by posting time then id and goals
by metric then id. The reads:

* videos: one query for every creator of the batch over the span of the batch's periods, split per unit here;
* goals: one query for the creators of the batch's `goals` units, the applicability rules applied here;
* followers (the latest creator snapshot at or before a period's end, however old): one query per distinct
  period end of the batch, returning one row per creator.

The queries only gather rows; every rule that turns them into an amount stays in `criteria.compute` and in the
filters here, so the job and `preview_accruals` share one implementation.

`record_units` writes the evaluations with one `INSERT … ON CONFLICT DO NOTHING … RETURNING id` (SQLAlchemy sends
the rows as multi-row `VALUES`, compiled once), then the `earned` accruals of the evaluations that took effect with
an `INSERT … SELECT` from those evaluations, in the caller's transaction: exactly once rests on the evaluation's
unique key (structure, creator, period start), and the ids are derived from that key. A unit's `inputs_snapshot`
is serialised and sent once.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Table, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates, json_dumper, json_text
from trackagoat_mcp.db.models import (
    Creator,
    CreatorSnapshot,
    Goal,
    PayoutAccrual,
    PayoutEvaluation,
    PayoutStructure,
    PayoutStructureVersion,
    Video,
    record_columns,
    table_of,
)
from trackagoat_mcp.domain.goal_metrics import PeriodFigures, parse_goal_metric
from trackagoat_mcp.domain.payouts.criteria import GoalResult, Outcome, VideoFigure, compute
from trackagoat_mcp.domain.payouts.planning import Unit
from trackagoat_mcp.domain.tree import is_counted

__all__ = ["CHUNK", "Recorded", "accrual_id", "evaluate_units", "evaluation_id", "record_units"]

Recorded = Literal["accrued", "zero", "already_evaluated"]
CHUNK = 500
"""Rows (or ids in an `IN` list) per statement: far below both databases' bound-parameter limits."""
_ID_NAMESPACE = uuid.UUID("6f1d2b3c-8a4e-5f60-9b7c-0d1e2f3a4b5c")


def _key_text(structure_id: uuid.UUID, creator_id: uuid.UUID, period_start_at: datetime) -> str:
    return f"{structure_id}/{creator_id}/{period_start_at.isoformat()}"


def _id_of(kind: Literal["evaluation", "accrual"], key_text: str) -> uuid.UUID:
    return uuid.uuid5(_ID_NAMESPACE, f"{kind}/{key_text}")


def evaluation_id(structure_id: uuid.UUID, creator_id: uuid.UUID, period_start_at: datetime) -> uuid.UUID:
    """The evaluation's id, a function of its unique key (identical rows whoever writes them)."""
    return _id_of("evaluation", _key_text(structure_id, creator_id, period_start_at))


def accrual_id(structure_id: uuid.UUID, creator_id: uuid.UUID, period_start_at: datetime) -> uuid.UUID:
    """The accrual's id, a function of its unique key."""
    return _id_of("accrual", _key_text(structure_id, creator_id, period_start_at))


@dataclass(frozen=True)
class _Video:
    id: uuid.UUID
    project_id: uuid.UUID
    posted_at: datetime
    views: int
    interactions: int


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


async def _videos(session: AsyncSession, units: list[Unit]) -> dict[uuid.UUID, list[_Video]]:
    """Every counted video of the units' creators posted within the span of their periods, per creator, ordered by
    posting time then id."""
    wanted = [u for u in units if u.version.rule.criteria_type in ("cpm", "view_threshold", "goals")]
    if not wanted:
        return {}
    start, end = min(u.period.start_at for u in wanted), max(u.period.end_at for u in wanted)
    creators = sorted({u.creator.id for u in wanted})
    posted = col(Video.posted_at)
    interactions = col(Video.like_count) + col(Video.comment_count) + col(Video.share_count) + col(Video.save_count)
    out: dict[uuid.UUID, list[_Video]] = defaultdict(list)
    for chunk in _chunks(creators):
        rows: Any = await session.execute(
            select(
                col(Video.creator_id).label("creator_id"),
                col(Video.id).label("id"),
                col(Video.project_id).label("project_id"),
                posted.label("posted_at"),
                col(Video.view_count).label("views"),
                interactions.label("interactions"),
            )
            .where(col(Video.creator_id).in_(chunk), is_counted(), posted >= start, posted < end)
            .order_by(posted, col(Video.id))
        )
        for row in rows:
            out[row.creator_id].append(
                _Video(row.id, row.project_id, row.posted_at, int(row.views), int(row.interactions))
            )
    return out


def _in_period(videos: list[_Video], unit: Unit) -> list[_Video]:
    """The videos (ordered by posting time) posted in the unit's period."""
    times = [v.posted_at for v in videos]
    return videos[bisect.bisect_left(times, unit.period.start_at) : bisect.bisect_left(times, unit.period.end_at)]


@dataclass(frozen=True)
class _Goal:
    id: uuid.UUID
    project_id: uuid.UUID
    metric: str
    period: str
    target_value: float
    start_date: date
    end_date: date | None


_GOAL_FIELDS = tuple(field.name for field in fields(_Goal))
"""What a goal's row gives `_Goal`, in its order."""


async def _goals(session: AsyncSession, units: list[Unit]) -> dict[uuid.UUID, list[_Goal]]:
    """The active goals of the `goals` units' creators in those units' projects, per creator, ordered by metric
    then id (plain rows: a goal is only read here, never changed)."""
    wanted = [u for u in units if u.version.rule.criteria_type == "goals"]
    creators = sorted({u.creator.id for u in wanted})
    projects = sorted({u.structure.project_id for u in wanted})
    out: dict[uuid.UUID, list[_Goal]] = defaultdict(list)
    for chunk in _chunks(creators):
        rows: Any = await session.execute(
            select(*record_columns(Goal, ("creator_id", *_GOAL_FIELDS)))
            .where(col(Goal.project_id).in_(projects), col(Goal.creator_id).in_(chunk), col(Goal.is_active).is_(True))
            .order_by(col(Goal.metric), col(Goal.id))
        )
        for row in rows:
            out[row.creator_id].append(_Goal(*(getattr(row, name) for name in _GOAL_FIELDS)))
    return out


def _applicable(goals: list[_Goal], unit: Unit) -> list[_Goal]:
    """The goals a `goals` rule judges for this unit: the structure's project, the rule's period kind, in force
    during the period, and among the rule's `goal_ids` when it names some."""
    rule, period = unit.version.rule, unit.period
    ids = None if rule.goal_ids is None else set(rule.goal_ids)
    return [
        g
        for g in goals
        if g.project_id == unit.structure.project_id
        and g.period == rule.period
        and g.start_date <= period.last_date
        and (g.end_date is None or g.end_date >= period.start_date)
        and (ids is None or g.id in ids)
    ]


async def _followers(
    session: AsyncSession, pairs: set[tuple[uuid.UUID, datetime]]
) -> dict[tuple[uuid.UUID, datetime], int | None]:
    """The follower count of each (creator, instant) pair: the latest creator snapshot at or before the instant (of
    two captured at the same instant, the one written last), however old; None when there is none.

    One row per pair: for each distinct instant, one query over the pairs' creators picks each one's snapshot
    through the (creator, captured_at) index, so a week of snapshots is not read to keep one of them."""
    by_instant: dict[datetime, set[uuid.UUID]] = defaultdict(set)
    for creator, at in pairs:
        by_instant[at].add(creator)
    out: dict[tuple[uuid.UUID, datetime], int | None] = {}
    for at, creators in by_instant.items():
        for chunk in _chunks(sorted(creators)):
            latest = (
                select(col(CreatorSnapshot.follower_count))
                .where(col(CreatorSnapshot.creator_id) == col(Creator.id), col(CreatorSnapshot.captured_at) <= at)
                .order_by(col(CreatorSnapshot.captured_at).desc(), col(CreatorSnapshot.id).desc())
                .limit(1)
                .scalar_subquery()
            )
            rows = await session.execute(
                select(col(Creator.id).label("creator_id"), latest.label("followers")).where(col(Creator.id).in_(chunk))
            )
            for row in rows:
                out[(row.creator_id, at)] = None if row.followers is None else int(row.followers)
    return out


def _figures(videos: list[_Video], followers: int | None) -> PeriodFigures:
    return PeriodFigures(
        posts=len(videos),
        views=sum(v.views for v in videos),
        interactions=sum(v.interactions for v in videos),
        followers=followers,
    )


async def evaluate_units(session: AsyncSession, units: list[Unit]) -> list[Outcome]:
    """Read the figures of `units` and compute each one's amount (in the same order); writes nothing."""
    videos = await _videos(session, units)
    goals = await _goals(session, units)
    judged = {
        id(u): applicable
        for u in units
        if u.version.rule.criteria_type == "goals" and (applicable := _applicable(goals.get(u.creator.id, []), u))
    }
    followers = await _followers(session, {(u.creator.id, u.period.end_at) for u in units if id(u) in judged})
    outcomes = []
    for unit in units:
        rule, period = unit.version.rule, unit.period
        extra: dict[str, Any] = {}
        if rule.criteria_type in ("cpm", "view_threshold"):
            figures = [
                VideoFigure(v.id, v.posted_at, v.views)
                for v in _in_period(videos.get(unit.creator.id, []), unit)
                if v.project_id == unit.structure.project_id and unit.coverage.contains(v.posted_at)
            ]
            outcome = compute(rule, period, unit.coverage.days_covered, videos=figures)
        elif rule.criteria_type == "goals":
            results: list[GoalResult] = []
            applicable = judged.get(id(unit), [])
            if applicable:
                figs = _figures(
                    _in_period(videos.get(unit.creator.id, []), unit), followers[(unit.creator.id, period.end_at)]
                )
                results = [
                    GoalResult(g.id, g.metric, Decimal(str(g.target_value)), figs.value(parse_goal_metric(g.metric)))
                    for g in applicable
                ]
                engagement = figs.engagement
                extra["figures"] = {
                    "posts": figs.posts,
                    "views": figs.views,
                    "interactions": figs.interactions,
                    "engagement_percent": None if engagement is None else str(engagement),
                    "followers": figs.followers,
                }
            else:
                extra["figures"] = {}
            outcome = compute(rule, period, unit.coverage.days_covered, goals=results)
        else:
            outcome = compute(rule, period, unit.coverage.days_covered)
        inputs = {
            "structure_version": unit.version.version,
            "structure_version_id": str(unit.version.id),
            "criteria_type": rule.criteria_type,
            "criteria_params": rule.criteria_params,
            "amount_cents": rule.amount_cents,
            "currency": rule.currency,
            "period": rule.period,
            "timezone": unit.structure.timezone,
            "period_start_at": period.start_at.isoformat(),
            "period_end_at": period.end_at.isoformat(),
            "days_in_period": period.days,
            "days_covered": unit.coverage.days_covered,
            "proration_mode": rule.proration_mode,
            "evaluation_due_at": unit.due_at.isoformat(),
            "stale": unit.stale,
            **extra,
            **outcome.inputs,
        }
        outcomes.append(Outcome(outcome.amount_cents, inputs))
    return outcomes


def _accruals_from(session: AsyncSession, evaluations: Table, ids: list[uuid.UUID], now: datetime) -> Any:
    """`INSERT … SELECT` of the `earned` accrual of each evaluation in `ids` (all with a positive amount): every
    column is the evaluation's (its `inputs_snapshot` copied in the store, not sent again) or its structure's and
    version's, so the accrual is the one the evaluation names, whatever wrote it."""
    e = evaluations.c
    accruals = table_of(PayoutAccrual)
    structure, version = table_of(PayoutStructure).c, table_of(PayoutStructureVersion).c
    stamp = bindparam("now", now, type_=accruals.c.created_at.type)
    columns = {
        "id": e.accrual_id,
        "org_id": e.org_id,
        "project_id": structure.project_id,
        "creator_id": e.creator_id,
        "structure_id": e.structure_id,
        "structure_version_id": e.structure_version_id,
        "period_start_at": e.period_start_at,
        "period_end_at": e.period_end_at,
        "amount_cents": e.amount_cents,
        "currency": version.currency,
        "status": literal("earned", accruals.c.status.type),
        "outstanding_cents": e.amount_cents,
        "inputs_snapshot": e.inputs_snapshot,
        "metadata": bindparam("metadata", {}, type_=accruals.c["metadata"].type),
        "created_at": stamp,
        "updated_at": stamp,
    }
    rows = (
        select(*columns.values())
        .join_from(evaluations, table_of(PayoutStructure), structure.id == e.structure_id)
        .join(table_of(PayoutStructureVersion), version.id == e.structure_version_id)
        .where(e.id.in_(ids))
    )
    return insert_ignoring_duplicates(session, accruals).from_select(list(columns), rows)


async def record_units(
    session: AsyncSession,
    evaluated: Sequence[tuple[Unit, Outcome]],
    *,
    now: datetime,
    job_run_id: uuid.UUID | None,
) -> list[Recorded]:
    """Write each unit's evaluation and (for a positive amount) its `earned` accrual, unless already evaluated;
    returns what happened to each unit, in order.

    Each unit's `inputs_snapshot` is serialised and sent once, with its evaluation; the accruals are copied from
    the evaluations in the store (`_accruals_from`). The evaluations' `RETURNING id` says which of them took
    effect: only those get their accrual, so a unit another writer evaluated meanwhile (possibly to another amount)
    never gets a second, different accrual.
    """
    if not evaluated:
        return []
    evaluations = table_of(PayoutEvaluation)
    dump = json_dumper(session, evaluations.c.inputs_snapshot)
    rows: list[dict[str, Any]] = []
    for unit, outcome in evaluated:
        structure, creator, period = unit.structure, unit.creator, unit.period
        key = _key_text(structure.id, creator.id, period.start_at)
        rows.append(
            {
                "id": _id_of("evaluation", key),
                "org_id": structure.org_id,
                "structure_id": structure.id,
                "structure_version_id": unit.version.id,
                "creator_id": creator.id,
                "period_start_at": period.start_at,
                "period_end_at": period.end_at,
                "amount_cents": outcome.amount_cents,
                "accrual_id": _id_of("accrual", key) if outcome.amount_cents > 0 else None,
                "job_run_id": job_run_id,
                "inputs_json": dump(outcome.inputs),
                "evaluated_at": now,
            }
        )
    # One statement compiled once; SQLAlchemy sends the rows as multi-row VALUES (`insertmanyvalues`).
    statement = (
        insert_ignoring_duplicates(session, evaluations)
        .values(inputs_snapshot=json_text(session, "inputs_json"))
        .returning(evaluations.c.id)
    )
    inserted = set((await session.execute(statement, rows)).scalars())
    earned = [row["id"] for row in rows if row["id"] in inserted and row["amount_cents"] > 0]
    for chunk in _chunks(earned):
        await session.execute(_accruals_from(session, evaluations, list(chunk), now))
    return [
        "already_evaluated" if row["id"] not in inserted else "accrued" if outcome.amount_cents > 0 else "zero"
        for row, (_unit, outcome) in zip(rows, evaluated, strict=True)
    ]
