"""Accrual evaluation, store side: load the units to evaluate, read their figures, and record each exactly once.

The job (`jobs/accruals.py`) and `preview_accruals` share everything here except `record_unit`: the same
units (`planning.units_of`), the same figures and the same arithmetic (`criteria.compute`).

**Exactly once.** `record_unit` inserts the evaluation with `INSERT … ON CONFLICT DO NOTHING` on its unique
key (structure, creator, period start), and the accrual only when that insert took effect, in the same
transaction; the rows' ids are derived from the same key (UUID 5), so two processes, a rerun or a run after a
crash all write identical rows or nothing. An evaluation yielding zero is recorded with its inputs and no
accrual, so `status=earned` lists only money owed.

**Figures** come from the store as it is when the evaluation runs: each video's views are its row's counters
(the latest snapshot); goal figures come from `goal_metrics.period_figures`. `inputs_snapshot` records every
figure the amount came from: version, period bounds, days covered, proration, per-video views, qualifying ids,
goal results, staleness.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import ColumnElement, and_, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.db.models import (
    Creator,
    Organization,
    PayoutAssignment,
    PayoutEvaluation,
    PayoutStructure,
    PayoutStructureVersion,
    record_columns,
)
from trackagoat_mcp.domain.payouts.criteria import Outcome, Rule
from trackagoat_mcp.domain.payouts.planning import (
    CreatorState,
    Span,
    StructurePlan,
    Unit,
    VersionRule,
    units_of,
    walk_of,
)
from trackagoat_mcp.domain.payouts.unit_batches import (
    Recorded,
    accrual_id,
    evaluate_units,
    evaluation_id,
    record_units,
)
from trackagoat_mcp.domain.periods import parse_period_kind, period_containing

__all__ = [
    "ARCHIVE_GRACE",
    "Recorded",
    "Scope",
    "accrual_id",
    "evaluate_unit",
    "evaluate_units",
    "evaluation_id",
    "Planned",
    "Walk",
    "load_units",
    "plan_units",
    "settle_walks",
    "record_unit",
    "record_units",
    "rule_of",
]

ARCHIVE_GRACE = timedelta(days=35)
"""Archived structures are planned this long after `archived_at`: long enough for their last periods' 48 h delay,
24 h stale wait and a month of job downtime; every period they can still owe is evaluated within it."""


@dataclass(frozen=True)
class Scope:
    """Which units to load: everything (the hourly job), or one organization narrowed further (previews)."""

    org_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    structure_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None


def rule_of(version: PayoutStructureVersion) -> Rule:
    """The rule a stored version holds (validated when it was written)."""
    return Rule(
        period=parse_period_kind(version.period),
        amount_cents=version.amount_cents,
        currency=version.currency,
        criteria_type=version.criteria_type,  # type: ignore[arg-type]
        criteria_params=dict(version.criteria_params),
        proration_mode=version.proration_mode,  # type: ignore[arg-type]
    )


# --- loading the units ---------------------------------------------------------------------------------------


def _structure_filter(scope: Scope, now: datetime) -> ColumnElement[bool]:
    structure = PayoutStructure
    live = or_(col(structure.is_active).is_(True), col(structure.archived_at) >= now - ARCHIVE_GRACE)
    clauses = [live]
    if scope.org_id is not None:
        clauses.append(col(structure.org_id) == scope.org_id)
    if scope.project_id is not None:
        clauses.append(col(structure.project_id) == scope.project_id)
    if scope.structure_id is not None:
        clauses.append(col(structure.id) == scope.structure_id)
    return and_(*clauses)


@dataclass(frozen=True)
class Walk:
    """One creator's periods under one structure that a plan visited: the assignments they came from and the last
    local day visited."""

    structure_id: uuid.UUID
    creator_id: uuid.UUID
    assignment_ids: tuple[uuid.UUID, ...]
    first: date
    last: date


@dataclass
class Planned:
    """What a plan found: the units, and the walks they came from (the job advances `settled_before` by them)."""

    units: list[Unit] = field(default_factory=list)
    walks: list[Walk] = field(default_factory=list)

    @property
    def days_walked(self) -> int:
        """Local days of history visited, over every walk: the plan's cost, proportional to what is not settled."""
        return sum((w.last - w.first).days + 1 for w in self.walks)


async def plan_units(session: AsyncSession, scope: Scope, *, now: datetime, horizon: datetime) -> Planned:
    """Every not-yet-evaluated unit in `scope` whose period ends by `horizon`, plus the periods in progress.

    Five queries whatever the number of structures and creators: structures (with their organization's
    timezone), versions, assignments, the creators' scrape state, and the keys already evaluated since the earliest
    day still to visit. Each creator's periods are walked from the first one its assignments do not know to be
    settled (see `planning`), in a worker thread.
    """
    where = _structure_filter(scope, now)
    structure_ids = select(col(PayoutStructure.id)).where(where)
    creator_clause = true() if scope.creator_id is None else col(PayoutAssignment.creator_id) == scope.creator_id

    rows = (
        await session.execute(
            select(PayoutStructure, col(Organization.timezone))
            .join(Organization, col(Organization.id) == col(PayoutStructure.org_id))
            .where(where)
            .order_by(col(PayoutStructure.created_at), col(PayoutStructure.id))
        )
    ).all()
    if not rows:
        return Planned()
    versions: dict[uuid.UUID, list[VersionRule]] = defaultdict(list)
    for v in (
        await session.scalars(
            select(PayoutStructureVersion)
            .where(col(PayoutStructureVersion.structure_id).in_(structure_ids))
            .order_by(col(PayoutStructureVersion.structure_id), col(PayoutStructureVersion.version))
        )
    ).all():
        versions[v.structure_id].append(VersionRule(v.id, v.version, v.created_at, rule_of(v)))
    spans: dict[uuid.UUID, dict[uuid.UUID, list[Span]]] = defaultdict(lambda: defaultdict(list))
    assignments: Any = await session.execute(  # plain rows, not ORM objects: thousands of them, only read
        select(
            *record_columns(
                PayoutAssignment, ("id", "structure_id", "creator_id", "starts_on", "ends_on", "settled_before")
            )
        ).where(col(PayoutAssignment.structure_id).in_(structure_ids), creator_clause)
    )
    for a in assignments:
        spans[a.structure_id][a.creator_id].append(Span(a.starts_on, a.ends_on, a.settled_before, a.id))
    assigned = select(col(PayoutAssignment.creator_id)).where(
        col(PayoutAssignment.structure_id).in_(structure_ids), creator_clause
    )
    creators = {
        row.id: CreatorState(row.id, row.tiktok_handle, row.scrape_state, row.last_scraped_at)
        for row in (
            await session.execute(
                select(
                    col(Creator.id), col(Creator.tiktok_handle), col(Creator.scrape_state), col(Creator.last_scraped_at)
                ).where(col(Creator.id).in_(assigned))
            )
        ).all()
    }
    plans = [
        StructurePlan(
            id=structure.id,
            org_id=structure.org_id,
            project_id=structure.project_id,
            name=structure.name,
            timezone=timezone,
            archived_at=structure.archived_at,
            versions=tuple(versions[structure.id]),
        )
        for structure, timezone in rows
    ]
    walks = [
        (plan, creator_id, creator_spans, walk)
        for plan in plans
        for creator_id, creator_spans in sorted(spans[plan.id].items(), key=lambda kv: str(kv[0]))
        if creator_id in creators and (walk := walk_of(plan, creator_spans, horizon)) is not None
    ]
    if not walks:
        return Planned()
    # Evaluations before the first period any walk visits cannot matter: read the keys from there on.
    since = min(
        period_containing(plan.versions[-1].rule.period, first, plan.timezone).start_at
        for plan, _, _, (first, _last) in walks
    )
    evaluated: dict[tuple[uuid.UUID, uuid.UUID], set[datetime]] = defaultdict(set)
    eval_creator = true() if scope.creator_id is None else col(PayoutEvaluation.creator_id) == scope.creator_id
    for row in (
        await session.execute(
            select(
                col(PayoutEvaluation.structure_id),
                col(PayoutEvaluation.creator_id),
                col(PayoutEvaluation.period_start_at),
            ).where(
                col(PayoutEvaluation.structure_id).in_(structure_ids),
                eval_creator,
                col(PayoutEvaluation.period_start_at) >= since,
            )
        )
    ).all():
        evaluated[(row.structure_id, row.creator_id)].add(row.period_start_at)

    planned = Planned()
    planned.units = await anyio.to_thread.run_sync(_walk_all, walks, creators, evaluated, now, horizon)
    for plan, creator_id, creator_spans, (first, last) in walks:
        ids = tuple(span.assignment_id for span in creator_spans if span.assignment_id is not None)
        planned.walks.append(Walk(plan.id, creator_id, ids, first, last))
    return planned


def _walk_all(
    walks: list[tuple[StructurePlan, uuid.UUID, list[Span], tuple[date, date]]],
    creators: dict[uuid.UUID, CreatorState],
    evaluated: dict[tuple[uuid.UUID, uuid.UUID], set[datetime]],
    now: datetime,
    horizon: datetime,
) -> list[Unit]:
    """The units of every walk: pure computation, run in a worker thread so a long history never holds the event
    loop (other tenants' calls go on between the interpreter's thread switches)."""
    units: list[Unit] = []
    for plan, creator_id, creator_spans, _walk in walks:
        done = evaluated.get((plan.id, creator_id), set())
        units.extend(units_of(plan, creators[creator_id], creator_spans, done, now=now, horizon=horizon))
    return units


async def load_units(session: AsyncSession, scope: Scope, *, now: datetime, horizon: datetime) -> list[Unit]:
    """The units of `plan_units`, for callers that need no walks (previews, benchmarks)."""
    return (await plan_units(session, scope, now=now, horizon=horizon)).units


async def settle_walks(
    session: AsyncSession, planned: Planned, done: set[tuple[uuid.UUID, uuid.UUID, datetime]]
) -> int:
    """Advance `settled_before` of the planned assignments past every period now evaluated; returns how many rows.

    `done` holds the keys (structure, creator, period start) evaluated since planning, by this run or another. A
    walk settles up to its first unit still not done; a walk with none left settles past its last visited day.
    Only ever moves forward, and only on the assignments the plan read, so an assignment added meanwhile (its own
    row, `settled_before` NULL) is walked in full next time.
    """
    first_open: dict[tuple[uuid.UUID, uuid.UUID], date] = {}
    for unit in planned.units:
        key = (unit.structure.id, unit.creator.id)
        if (unit.structure.id, unit.creator.id, unit.period.start_at) in done:
            continue
        if key not in first_open or unit.period.start_date < first_open[key]:
            first_open[key] = unit.period.start_date
    moves: dict[date, list[uuid.UUID]] = defaultdict(list)
    for walk in planned.walks:
        mark = first_open.get((walk.structure_id, walk.creator_id), walk.last + timedelta(days=1))
        moves[mark].extend(walk.assignment_ids)
    changed = 0
    for mark, ids in moves.items():
        for chunk in range(0, len(ids), 500):
            result = await session.execute(
                update(PayoutAssignment)
                .where(
                    col(PayoutAssignment.id).in_(ids[chunk : chunk + 500]),
                    or_(col(PayoutAssignment.settled_before).is_(None), col(PayoutAssignment.settled_before) < mark),
                )
                .values(settled_before=mark)
            )
            changed += result.rowcount  # type: ignore[attr-defined]
    return changed


# --- evaluating one unit -------------------------------------------------------------------------------------


async def evaluate_unit(session: AsyncSession, unit: Unit) -> Outcome:
    """Read the figures of one unit and compute its amount; writes nothing (previews use it as is)."""
    return (await evaluate_units(session, [unit]))[0]


async def record_unit(
    session: AsyncSession, unit: Unit, outcome: Outcome, *, now: datetime, job_run_id: uuid.UUID | None
) -> Recorded:
    """Write the unit's evaluation and (for a positive amount) its `earned` accrual, unless already evaluated."""
    return (await record_units(session, [(unit, outcome)], now=now, job_run_id=job_run_id))[0]
