"""Creator goals: create, update, list and (soft) delete a per-creator target for every period.

A goal says "creator C should reach `target_value` of `metric` in every `period`" from `start_date` (default:
today in the organization's timezone) to `end_date` (inclusive; null = open-ended). Periods are calendar
periods of the organization's timezone (`domain/periods.py`); a goal applies to every whole period that
overlaps its dates. Metrics are the four of SPEC §5 (`domain/goal_metrics.py`): `posts` and `views`
(whole numbers), `engagement` (percent, at most 100) and `followers` (a whole follower count).

Deleting a goal deactivates it (`is_active = false`) instead of removing the row: goal-based payouts record
the ids of the goals they judged in their `inputs_snapshot`, and those ids must keep resolving. An inactive
goal is ignored by compliance and by payouts; `update_goal(is_active=true)` brings it back.

Two active goals of one creator with the same metric and period whose dates overlap would contradict each
other (and make "met all goals" ambiguous for payouts), so that is refused as `duplicate_goal`; change the
existing goal's target instead.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select

from trackagoat_mcp.clock import local_today
from trackagoat_mcp.db.models import Creator, Goal
from trackagoat_mcp.domain.goal_metrics import GoalMetric, parse_goal_metric
from trackagoat_mcp.domain.pagination import Page, cursor_time, cursor_uuid, fetch_page
from trackagoat_mcp.domain.periods import PeriodKind, parse_period_kind
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "MAX_TARGETS",
    "GoalOut",
    "check_target",
    "create_goal",
    "delete_goal",
    "get_goal_row",
    "list_goals",
    "update_goal",
]

MAX_TARGETS: dict[str, float] = {"posts": 10_000, "views": 1e12, "engagement": 100, "followers": 1e10}
"""Upper bound of `target_value` per metric: far above anything real, low enough to catch a typo's extra zeros."""
WHOLE_METRICS = frozenset({"posts", "views", "followers"})
_UNSET: Any = object()


class GoalOut(BaseModel):
    """A creator goal: reach `target_value` of `metric` in every `period` between `start_date` and `end_date`."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    project_id: uuid.UUID
    creator_id: uuid.UUID
    metric: GoalMetric = Field(
        description="posts (counted videos posted in the period), views (their views), engagement (their "
        "engagement rate by views, percent), followers (follower count at period end)."
    )
    period: PeriodKind = Field(description="Calendar period in the organization's timezone (weeks start Monday).")
    target_value: float
    start_date: date = Field(description="First local day the goal applies to.")
    end_date: date | None = Field(description="Last local day (inclusive); null = open-ended.")
    is_active: bool = Field(description="false once deleted (kept for payout history).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Goal) -> GoalOut:
        return cls(
            id=row.id,
            project_id=row.project_id,
            creator_id=row.creator_id,
            metric=parse_goal_metric(row.metric),
            period=parse_period_kind(row.period),
            target_value=row.target_value,
            start_date=row.start_date,
            end_date=row.end_date,
            is_active=row.is_active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def check_target(metric: GoalMetric, target_value: float) -> float:
    """Validate a target for `metric`: positive, finite, within `MAX_TARGETS`, whole for counted metrics."""
    if not math.isfinite(target_value) or target_value <= 0:
        raise InvalidInput(f"target_value {target_value!r} must be a positive number.")
    limit = MAX_TARGETS[metric]
    if target_value > limit:
        unit = " (a percentage)" if metric == "engagement" else ""
        raise InvalidInput(
            f"target_value {target_value!r} is too large for metric {metric!r}{unit}; the limit is {limit:g}."
        )
    if metric in WHOLE_METRICS and target_value != int(target_value):
        raise InvalidInput(f"target_value {target_value!r} for metric {metric!r} must be a whole number.")
    return float(target_value)


def _check_dates(start_date: date, end_date: date | None) -> None:
    if end_date is not None and end_date < start_date:
        raise InvalidInput(
            f"end_date {end_date.isoformat()!r} is before start_date {start_date.isoformat()!r}; the end date must "
            "be on or after the start date (or null for an open-ended goal)."
        )


async def get_goal_row(session: AsyncSession, caller: Caller, goal_id: Any) -> Goal:
    """A goal of the caller's organization, active or not (NotFound otherwise)."""
    return await get_in_org(session, caller, Goal, goal_id, "goal")


async def _check_no_overlap(session: AsyncSession, goal: Goal) -> None:
    """Refuse a second active goal of the same creator, metric and period with overlapping dates."""
    query = select(Goal).where(
        col(Goal.creator_id) == goal.creator_id,
        col(Goal.metric) == goal.metric,
        col(Goal.period) == goal.period,
        col(Goal.is_active).is_(True),
        col(Goal.id) != goal.id,
        or_(col(Goal.end_date).is_(None), col(Goal.end_date) >= goal.start_date),
    )
    if goal.end_date is not None:
        query = query.where(col(Goal.start_date) <= goal.end_date)
    clash = (await session.scalars(query.limit(1))).first()
    if clash is not None:
        raise Conflict(
            f"Creator {str(goal.creator_id)!r} already has an active {goal.period} {goal.metric!r} goal "
            f"({str(clash.id)!r}, target {clash.target_value:g}) whose dates overlap; change that goal with "
            "update_goal, or end or delete it first.",
            code="duplicate_goal",
        )


async def create_goal(
    session: AsyncSession,
    caller: Caller,
    *,
    creator_id: Any,
    metric: str,
    period: str,
    target_value: float,
    now: datetime,
    start_date: date | None = None,
    end_date: date | None = None,
) -> GoalOut:
    """Create a goal for an active creator of the caller's organization (in the creator's project).

    Raises `InvalidInput` for an unknown metric or period, a target out of bounds or an end before the start,
    `NotFound` for a creator of another organization, and `Conflict` (`creator_inactive`, `duplicate_goal`).
    """
    caller.require("write")
    creator = await get_in_org(session, caller, Creator, creator_id, "creator")
    kind_metric = parse_goal_metric(metric)
    kind_period = parse_period_kind(period)
    target = check_target(kind_metric, target_value)
    if not creator.is_active:
        raise Conflict(
            f"Creator @{creator.tiktok_handle} ({str(creator.id)!r}) is inactive "
            f"({creator.disabled_reason or 'disabled'}); re-enable it with update_creator(is_active=true) or "
            "add_creators before giving it goals.",
            code="creator_inactive",
        )
    start = start_date or local_today(now, (await get_org(session, caller)).timezone)
    _check_dates(start, end_date)
    goal = Goal(
        org_id=caller.org_id,
        project_id=creator.project_id,
        creator_id=creator.id,
        metric=kind_metric,
        period=kind_period,
        target_value=target,
        start_date=start,
        end_date=end_date,
        created_at=now,
        updated_at=now,
    )
    await _check_no_overlap(session, goal)
    session.add(goal)
    await session.flush()
    return GoalOut.of(goal)


async def update_goal(
    session: AsyncSession,
    caller: Caller,
    goal_id: Any,
    *,
    now: datetime,
    target_value: float | None = None,
    start_date: date | None = None,
    end_date: date | None = _UNSET,
    is_active: bool | None = None,
) -> GoalOut:
    """Change a goal's target or dates, or (re)activate it; only the arguments given change.

    `end_date=None` makes the goal open-ended. Metric and period cannot change: a different metric or period is a
    different goal (create it, and delete this one), which keeps goal-based payout history readable.
    """
    caller.require("write")
    goal = await get_goal_row(session, caller, goal_id)
    metric = parse_goal_metric(goal.metric)
    if target_value is not None:
        goal.target_value = check_target(metric, target_value)
    if start_date is not None:
        goal.start_date = start_date
    if end_date is not _UNSET:
        goal.end_date = end_date
    _check_dates(goal.start_date, goal.end_date)
    if is_active is not None:
        if is_active and not goal.is_active:
            creator = await session.get(Creator, goal.creator_id)
            if creator is None or not creator.is_active:
                raise Conflict(
                    f"Goal {str(goal.id)!r} belongs to an inactive creator; re-enable the creator first.",
                    code="creator_inactive",
                )
        goal.is_active = is_active
    if goal.is_active:
        await _check_no_overlap(session, goal)
    goal.updated_at = now
    session.add(goal)
    await session.flush()
    return GoalOut.of(goal)


async def delete_goal(session: AsyncSession, caller: Caller, goal_id: Any, *, now: datetime) -> GoalOut:
    """Deactivate a goal (soft delete; see the module docstring). Deleting an inactive goal changes nothing."""
    caller.require("write")
    goal = await get_goal_row(session, caller, goal_id)
    if goal.is_active:
        goal.is_active = False
        goal.updated_at = now
        session.add(goal)
        await session.flush()
    return GoalOut.of(goal)


async def list_goals(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    creator_id: Any | None = None,
    is_active: bool | None = True,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[GoalOut]:
    """Goals, oldest first, optionally of one project and/or creator; active ones unless `is_active` says otherwise
    (`None` = all)."""
    query = select(Goal).where(col(Goal.org_id) == caller.org_id)
    if project_id is not None:
        query = query.where(col(Goal.project_id) == (await get_project(session, caller, project_id)).id)
    if creator_id is not None:
        query = query.where(
            col(Goal.creator_id) == (await get_in_org(session, caller, Creator, creator_id, "creator")).id
        )
    if is_active is not None:
        query = query.where(col(Goal.is_active).is_(is_active))
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="goals",
        order="created",
        columns=[col(Goal.created_at), col(Goal.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda g: [g.created_at, g.id],
        cursor=cursor,
        limit=limit,
    )
    return Page[GoalOut](items=[GoalOut.of(g) for g in page], next_cursor=next_cursor)
