"""Goal compliance: how each creator is doing against each active goal in one period, and how far to trust it.

**Which period.** `reference_date` (default: today in the organization's timezone) picks, for every goal, the
calendar period of the goal's kind that contains it. Every figure is measured *now*: actuals come from the
current counters of counted videos posted in that period (`domain/goal_metrics.py`, SPEC §5), and the
advisory's clock-relative fields (`period_in_progress`, `period_recently_ended`, hours until/since the end,
`scrape_stale`, `not_yet_started`) are relative to the injected clock's now, also when `reference_date` is in
the past. So `reference_date` only chooses the period; a date after today is refused.

**Which goals.** Active goals whose dates overlap the period (a goal applies to every whole calendar period that
overlaps `[start_date, end_date]`, like goal-based payouts). Goals that ended before the period are left out.
Goals that start after the period are listed only while their start date is still in the future: their
`status`, `actual` and `percentage` are null and `advisory.not_yet_started` says why.

**Statuses** (reference §5). Once the period has ended: `completed` if actual ≥ target, else `missed`. While it
runs, a projection to the period's end is compared with the target: `on_track` if projected ≥ target,
`behind_pace` if projected ≥ 70 % of it, `at_risk` below. The projection depends on the metric:

* `posts`, `views` accumulate over the period: projected = actual ÷ elapsed fraction of the period (elapsed
  fraction measured in real time, so a DST week of 167 or 169 hours is handled).
* `followers` is a level at period end: the *growth* since the period began is extrapolated, projected =
  followers at start + (followers now − followers at start) ÷ elapsed fraction. Without a snapshot from before
  the period there is no starting level, and the current level is compared as it is.
* `engagement` is a rate over the period's videos, not a sum: its current value is already the best estimate of
  its final value, so projected = actual.

A goal with nothing to measure (engagement with no views, followers never scraped) is `at_risk` while its period
runs and `missed` once it has ended. At the very first instant of a period (elapsed fraction 0) nothing is due yet,
so the status is `on_track`.

**A period that has just begun.** Early in a period the projection extrapolates from a few hours: an hour into the
week, a creator with no post yet is `at_risk` and one with one post is `on_track`, and neither means much. The
status keeps the documented rule (so it can be checked against any other client of the same numbers), but while
less than a seventh of the period has elapsed (a week's first day, a day's first 3.4 hours, a month's first four
days or so) `advisory.period_just_started` says so, and `previous` carries the goal's result in the period just
completed (`completed` or `missed`, with whether its 48 h of late data are still open), which is what a person
asking "how are my creators doing" on a Monday morning wants to hear about.

**Output size.** The result is paginated by creator (handle order; `limit` creators per page, default 10, at most
100), each with all of its matching goals; a judged goal is about 0.75 KB of JSON (0.2 KB more with `previous`), so
the default page of a program with two or three goals per creator stays under about 20 KB. Only creators with at
least one matching goal are listed; `creators_without_goals` counts the active creators left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, exists, false, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import describe_instant, local_today
from trackagoat_mcp.db.models import Creator, Goal
from trackagoat_mcp.domain.context import STALE_AFTER
from trackagoat_mcp.domain.goal_metrics import GoalMetric, PeriodFigures, parse_goal_metric, period_figures
from trackagoat_mcp.domain.pagination import cursor_text, cursor_uuid, fetch_page
from trackagoat_mcp.domain.periods import PERIOD_KINDS, Period, PeriodKind, parse_period_kind, period_containing
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import UNTRUSTED
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "JUST_STARTED",
    "PACE_THRESHOLD",
    "RECENTLY_ENDED",
    "Advisory",
    "ComplianceStatus",
    "CreatorCompliance",
    "GoalCompliance",
    "GoalRef",
    "GoalResult",
    "PreviousPeriod",
    "ScrapeFreshness",
    "evaluate_project",
    "goal_compliance",
    "judge",
]

PACE_THRESHOLD = Decimal("0.7")
RECENTLY_ENDED = timedelta(hours=48)
"""How long after a period's end late posts and views may still arrive (same window as goal-based payouts)."""
JUST_STARTED = Decimal(1) / 7
"""Elapsed share of a period below which its pace means little and the previous period is shown alongside."""
ComplianceStatus = Literal["on_track", "behind_pace", "at_risk", "completed", "missed"]
DEFAULT_CREATORS = 10
_HOUR = Decimal(3600)


class ScrapeFreshness(BaseModel):
    """How fresh the creator's scraped numbers are."""

    last_scraped_at: datetime | None
    scrape_state: str = Field(description="ok, stale, private, not_found, banned, blocked or region_locked.")
    hours_since: float | None = Field(description="Hours since the last successful scrape; null if never scraped.")


class Advisory(BaseModel):
    """Why a compliance figure may still change or undercount. Ignore it when has_advisory is false."""

    period_in_progress: bool = Field(description="The period has not ended; counts are still growing.")
    period_just_started: bool = Field(
        description="Less than a seventh of the period has elapsed (a week's first day): status extrapolates from "
        "too little time to mean much; `previous` holds the period just completed."
    )
    period_recently_ended: bool = Field(description="The period ended less than 48 h ago; late posts may still arrive.")
    scrape_stale: bool = Field(
        description="The creator's last scrape failed or is over 48 h old; views/engagement/followers may undercount."
    )
    not_yet_started: bool = Field(description="The goal's start_date is in the future.")
    has_advisory: bool = Field(description="Any flag above is set; messages then has one line per flag.")
    messages: list[str]
    period_start: datetime = Field(description="UTC instant the period starts (local midnight).")
    period_end: datetime = Field(description="UTC instant the period ends (exclusive).")
    hours_until_period_end: float | None = Field(description="null once the period has ended.")
    hours_since_period_end: float | None = Field(description="null while the period is open.")
    scrape_freshness: ScrapeFreshness


class GoalRef(BaseModel):
    """The goal judged (its creator is the enclosing group's; only active goals are judged)."""

    id: uuid.UUID
    metric: GoalMetric
    period: PeriodKind
    start_date: date
    end_date: date | None


class PreviousPeriod(BaseModel):
    """The goal's result in the period just before the judged one."""

    period_start: datetime
    period_end: datetime
    actual: float | None
    percentage: float | None
    status: Literal["completed", "missed"]
    period_recently_ended: bool = Field(description="It ended less than 48 h ago; late posts may still change it.")


class GoalResult(BaseModel):
    """One goal judged over one period."""

    goal: GoalRef
    target: float
    actual: float | None = Field(description="The metric's value in the period so far; null when nothing to measure.")
    projected: float | None = Field(description="Projected value at period end (in-progress periods only).")
    percentage: float | None = Field(description="actual ÷ target × 100, one decimal.")
    status: ComplianceStatus | None = Field(
        description="on_track, behind_pace (projected ≥ 70 % of target), at_risk, completed, missed; null when the "
        "goal starts after this period (see advisory.not_yet_started)."
    )
    advisory: Advisory
    previous: PreviousPeriod | None = Field(
        description="The period just completed, while this one has just started (advisory.period_just_started); "
        "null otherwise, or when the goal did not apply then."
    )


class CreatorRef(BaseModel):
    """The creator a group of results belongs to."""

    id: uuid.UUID
    tiktok_handle: str
    display_name: str | None = Field(description=UNTRUSTED)
    avatar_url: str | None


class CreatorCompliance(BaseModel):
    """One creator's goals."""

    creator: CreatorRef
    compliance: list[GoalResult]


class GoalCompliance(BaseModel):
    """Goal compliance of a project's creators for the periods containing reference_date."""

    project_id: uuid.UUID
    reference_date: date
    timezone: str
    evaluated_at: datetime = Field(description="The moment every figure and advisory is relative to.")
    creators: list[CreatorCompliance]
    next_cursor: str | None
    creators_without_goals: int = Field(description="Active creators in scope with no matching goal (not listed).")


# --- the rule ----------------------------------------------------------------------------------------------------


def judge(
    metric: GoalMetric,
    target: Decimal,
    actual: Decimal | None,
    *,
    elapsed: Decimal,
    baseline: Decimal | None = None,
) -> tuple[ComplianceStatus, Decimal | None]:
    """The status of a goal and its projected end value (see the module docstring for the rule).

    Args:
        metric: the goal's metric.
        target: the goal's target.
        actual: the metric's value so far (None: nothing to measure).
        elapsed: elapsed fraction of the period, 0..1; 1 means the period has ended.
        baseline: for `followers`, the count when the period began (None if unknown).
    """
    if elapsed >= 1:
        return ("completed" if actual is not None and actual >= target else "missed"), None
    if actual is None:
        return "at_risk", None
    if elapsed <= 0:
        return "on_track", actual
    if metric in ("posts", "views"):
        projected = actual / elapsed
    elif metric == "followers" and baseline is not None:
        projected = baseline + (actual - baseline) / elapsed
    else:
        projected = actual
    if projected >= target:
        return "on_track", projected
    return ("behind_pace" if projected >= target * PACE_THRESHOLD else "at_risk"), projected


def _hours(delta: timedelta) -> float:
    return float((Decimal(delta.total_seconds()) / _HOUR).quantize(Decimal("0.1"), ROUND_HALF_EVEN))


def _round(value: Decimal | None, places: str = "0.01") -> float | None:
    return None if value is None else float(value.quantize(Decimal(places), ROUND_HALF_EVEN))


def _freshness(creator: Creator, now: datetime) -> tuple[ScrapeFreshness, bool]:
    last = creator.last_scraped_at
    stale = last is None or creator.scrape_state != "ok" or now - last > STALE_AFTER
    fresh = ScrapeFreshness(
        last_scraped_at=last,
        scrape_state=creator.scrape_state,
        hours_since=None if last is None else _hours(now - last),
    )
    return fresh, stale


def _elapsed(period: Period, now: datetime) -> Decimal:
    """The elapsed fraction of `period` at `now`, 0..1, in real time (a DST week is 167 or 169 hours)."""
    part, whole = now - period.start_at, period.end_at - period.start_at
    fraction = Decimal(part.total_seconds()) / Decimal(whole.total_seconds())
    return min(Decimal(1), max(Decimal(0), fraction))


def _advisory(creator: Creator, goal: Goal, period: Period, now: datetime, today: date) -> Advisory:
    in_progress = now < period.end_at
    just_started = in_progress and _elapsed(period, now) < JUST_STARTED
    recently_ended = not in_progress and now - period.end_at < RECENTLY_ENDED
    freshness, stale = _freshness(creator, now)
    not_started = goal.start_date > today
    messages = []
    if in_progress:
        messages.append(f"The period runs until {period.end_at.isoformat()}; counts are still growing.")
    if just_started:
        messages.append(
            f"The period began {_hours(now - period.start_at)} h ago: the status extrapolates from too little time "
            "to mean much yet; previous has the period just completed."
        )
    if recently_ended:
        messages.append("The period ended less than 48 hours ago; late posts and views may still change the result.")
    if stale:
        when = "never" if creator.last_scraped_at is None else describe_instant(creator.last_scraped_at, now)
        messages.append(
            f"@{creator.tiktok_handle}'s stats are not fresh (scrape_state {creator.scrape_state}, last scraped "
            f"{when}); views, engagement and followers may undercount."
        )
    if not_started:
        messages.append(f"The goal starts on {goal.start_date.isoformat()}; it is not in force yet.")
    return Advisory(
        period_in_progress=in_progress,
        period_just_started=just_started,
        period_recently_ended=recently_ended,
        scrape_stale=stale,
        not_yet_started=not_started,
        has_advisory=bool(messages),
        messages=messages,
        period_start=period.start_at,
        period_end=period.end_at,
        hours_until_period_end=_hours(period.end_at - now) if in_progress else None,
        hours_since_period_end=None if in_progress else _hours(now - period.end_at),
        scrape_freshness=freshness,
    )


# --- evaluation --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What every goal of one request is judged against."""

    tz: str
    now: datetime
    today: date
    periods: dict[str, Period]
    """The period of each goal kind in scope that contains the reference date."""

    def goal_applies(self) -> ColumnElement[bool]:
        """SQL: an active goal whose kind is in scope and that overlaps its period or has not started yet."""
        clauses = [
            and_(
                col(Goal.period) == kind,
                or_(col(Goal.end_date).is_(None), col(Goal.end_date) >= period.start_date),
                or_(col(Goal.start_date) <= period.last_date, col(Goal.start_date) > self.today),
            )
            for kind, period in self.periods.items()
        ]
        return and_(col(Goal.is_active).is_(True), or_(false(), *clauses))


def _scope(tz: str, now: datetime, reference_date: date | None, period: str | None) -> _Scope:
    today = local_today(now, tz)
    reference = reference_date or today
    if reference > today:
        raise InvalidInput(
            f"reference_date {reference.isoformat()!r} is after today ({today.isoformat()} in {tz}); compliance is "
            "measured for periods that have begun. Omit it for the current periods."
        )
    kinds: tuple[PeriodKind, ...] = (
        (parse_period_kind(period),) if period is not None else tuple(parse_period_kind(k) for k in PERIOD_KINDS)
    )
    return _Scope(tz, now, today, {kind: period_containing(kind, reference, tz) for kind in kinds})


async def _evaluate(
    session: AsyncSession, scope: _Scope, creator: Creator, goal: Goal, cache: dict[Any, PeriodFigures]
) -> GoalResult:
    metric = parse_goal_metric(goal.metric)
    period = scope.periods[goal.period]
    target = Decimal(str(goal.target_value))
    advisory = _advisory(creator, goal, period, scope.now, scope.today)
    ref = GoalRef(id=goal.id, metric=metric, period=period.kind, start_date=goal.start_date, end_date=goal.end_date)
    previous = None
    if advisory.period_just_started:
        previous = await _previous(session, scope, creator, goal, period.previous(scope.tz), cache)
    result = {"goal": ref, "target": goal.target_value, "advisory": advisory, "previous": previous}
    if goal.start_date > period.last_date:
        return GoalResult(**result, actual=None, projected=None, percentage=None, status=None)
    actual = (await _figures(session, creator, period, cache)).value(metric)
    elapsed = _elapsed(period, scope.now)
    baseline = None
    if metric == "followers" and elapsed < 1:
        # The follower count at the period's start: the latest snapshot at or before it (an empty range's figures).
        start_figures = await period_figures(session, creator.id, period.start_at, period.start_at)
        baseline = None if start_figures.followers is None else Decimal(start_figures.followers)
    status, projected = judge(metric, target, actual, elapsed=elapsed, baseline=baseline)
    percentage = None if actual is None else actual * 100 / target
    return GoalResult(
        **result,
        actual=_round(actual),
        projected=_round(projected),
        percentage=_round(percentage, "0.1"),
        status=status,
    )


async def _figures(
    session: AsyncSession, creator: Creator, period: Period, cache: dict[Any, PeriodFigures]
) -> PeriodFigures:
    key = (creator.id, period.start_at, period.end_at)
    if key not in cache:
        cache[key] = await period_figures(session, creator.id, period.start_at, period.end_at)
    return cache[key]


async def _previous(
    session: AsyncSession,
    scope: _Scope,
    creator: Creator,
    goal: Goal,
    previous: Period,
    cache: dict[Any, PeriodFigures],
) -> PreviousPeriod | None:
    """The goal's result in `previous` (which has ended), or None when the goal started after it."""
    if goal.start_date > previous.last_date:
        return None
    metric = parse_goal_metric(goal.metric)
    target = Decimal(str(goal.target_value))
    actual = (await _figures(session, creator, previous, cache)).value(metric)
    status, _ = judge(metric, target, actual, elapsed=Decimal(1))
    return PreviousPeriod(
        period_start=previous.start_at,
        period_end=previous.end_at,
        actual=_round(actual),
        percentage=None if actual is None else _round(actual * 100 / target, "0.1"),
        status="completed" if status == "completed" else "missed",
        period_recently_ended=scope.now - previous.end_at < RECENTLY_ENDED,
    )


async def _goals_of(session: AsyncSession, scope: _Scope, creator_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Goal]]:
    by_creator: dict[uuid.UUID, list[Goal]] = {cid: [] for cid in creator_ids}
    if creator_ids:
        rows = await session.scalars(
            select(Goal)
            .where(col(Goal.creator_id).in_(creator_ids), scope.goal_applies())
            .order_by(col(Goal.created_at), col(Goal.id))
        )
        for goal in rows:
            by_creator[goal.creator_id].append(goal)
    return by_creator


async def _judge_creators(session: AsyncSession, scope: _Scope, creators: list[Creator]) -> list[CreatorCompliance]:
    goals = await _goals_of(session, scope, [c.id for c in creators])
    cache: dict[Any, PeriodFigures] = {}
    out = []
    for creator in creators:
        results = [await _evaluate(session, scope, creator, goal, cache) for goal in goals[creator.id]]
        ref = CreatorRef(
            id=creator.id,
            tiktok_handle=creator.tiktok_handle,
            display_name=creator.display_name,
            avatar_url=creator.avatar_url,
        )
        out.append(CreatorCompliance(creator=ref, compliance=results))
    return out


def _creators_query(project_id: uuid.UUID, scope: _Scope, creator_id: uuid.UUID | None, *, with_goals: bool) -> Any:
    has_goal = exists().where(col(Goal.creator_id) == col(Creator.id), scope.goal_applies())
    query = select(Creator).where(col(Creator.project_id) == project_id)
    query = query.where(col(Creator.id) == creator_id) if creator_id else query.where(col(Creator.is_active).is_(True))
    return query.where(has_goal if with_goals else ~has_goal)


async def goal_compliance(
    session: AsyncSession,
    caller: Caller,
    project_id: Any,
    *,
    now: datetime,
    creator_id: Any | None = None,
    period: str | None = None,
    reference_date: date | None = None,
    limit: int = DEFAULT_CREATORS,
    cursor: str | None = None,
) -> GoalCompliance:
    """Per-creator, per-goal compliance of a project for the periods containing `reference_date`.

    All active creators of the project with a matching goal, or only `creator_id` (which must be in the project;
    it is evaluated even if inactive). `period` keeps only goals of that kind.
    """
    project = await get_project(session, caller, project_id)
    tz = (await get_org(session, caller)).timezone
    scope = _scope(tz, now, reference_date, period)
    only: uuid.UUID | None = None
    if creator_id is not None:
        creator = await get_in_org(session, caller, Creator, creator_id, "creator")
        if creator.project_id != project.id:
            raise InvalidInput(
                f"Creator {str(creator.id)!r} belongs to another project than {str(project.id)!r}; pass that "
                "creator's own project_id, or leave creator_id out."
            )
        only = creator.id
    page, next_cursor = await fetch_page(
        session,
        _creators_query(project.id, scope, only, with_goals=True),
        kind="goal_compliance",
        order="handle",
        columns=[col(Creator.tiktok_handle), col(Creator.id)],
        parsers=[cursor_text, cursor_uuid],
        key=lambda c: [c.tiktok_handle, c.id],
        cursor=cursor,
        limit=limit,
    )
    without = _creators_query(project.id, scope, only, with_goals=False).subquery()
    without_count = int((await session.execute(select(func.count()).select_from(without))).scalar_one())
    return GoalCompliance(
        project_id=project.id,
        reference_date=reference_date or scope.today,
        timezone=tz,
        evaluated_at=now,
        creators=await _judge_creators(session, scope, list(page)),
        next_cursor=next_cursor,
        creators_without_goals=without_count,
    )


async def evaluate_project(
    session: AsyncSession,
    project_id: uuid.UUID,
    *,
    tz: str,
    now: datetime,
    reference_date: date | None = None,
    period: str | None = None,
) -> list[CreatorCompliance]:
    """Compliance of every active creator of a project (already scoped by the caller) with a matching goal, all at
    once: for program health, which summarises instead of listing."""
    scope = _scope(tz, now, reference_date, period)
    query = _creators_query(project_id, scope, None, with_goals=True)
    creators = (await session.scalars(query.order_by(col(Creator.tiktok_handle), col(Creator.id)))).all()
    return await _judge_creators(session, scope, list(creators))
