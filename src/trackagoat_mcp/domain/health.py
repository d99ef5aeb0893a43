"""`get_program_health`: everything in a project that needs a person or an agent, each with the ids to act on.

Six checks, each bounded (the first `TOP_N` items plus counts) so the answer stays small in large programs:

* **creators**: active creators whose last scrape failed (`private`, `not_found`, `banned`, `blocked`,
  `region_locked`), never succeeded or is pending (`stale`), or succeeded more than 48 h ago (`overdue`), and
  creators the scraper disabled (`disabled`; creators a person removed are not an issue). `since` is when the
  trouble began as far as the store knows: the first "not found" answer, else the last good scrape.
* **inbox**: videos waiting in the tracking inbox (`pending_review`), the oldest first.
* **goals**: goals `at_risk` in their current period and goals `missed` in the period just before it (see
  `domain/compliance.py`). A goal whose period has just started (`advisory.period_just_started`) is not counted
  at risk: its pace rests on a few hours, and the period just before, where it may be `missed`, is listed instead.
* **over_posting**: incidents of the last 30 days (`domain/overposting.py`), recent (≤ 7 days) first.
* **outstanding_payouts**: `earned` accruals still owed, summed per creator (largest first).
* **jobs**: the last finished run of the `scrape` and `accruals` jobs and how long ago (null: never ran). Jobs
  serve every organization of the store, so this is one of the two parts not specific to the project.
* **scrape_blocks**: the share of fetches TikTok blocked over the latest scrape cycles, by kind, with a hint
  (`domain/scrape_blocks.py`); a finding in `summary` once the share passes the threshold
  (`TRACKAGOAT_BLOCK_RATE_THRESHOLD`, over `TRACKAGOAT_BLOCK_RATE_CYCLES` cycles). Store-wide like `jobs`.

`summary` turns the non-empty checks into sentences that name the tool to call next.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import describe_instant, local_today
from trackagoat_mcp.db.models import Creator, JobRun, PayoutAccrual, Video
from trackagoat_mcp.domain.compliance import CreatorCompliance, ScrapeFreshness, evaluate_project
from trackagoat_mcp.domain.context import STALE_AFTER
from trackagoat_mcp.domain.creators import REMOVED_REASON
from trackagoat_mcp.domain.goal_metrics import GoalMetric
from trackagoat_mcp.domain.overposting import DEFAULT_LOOKBACK_DAYS, OverpostingIncident, find_incidents
from trackagoat_mcp.domain.periods import PERIOD_KINDS, PeriodKind, parse_period_kind, period_containing
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.scrape_blocks import BlockRate, recent_block_rate

__all__ = ["JOBS", "TOP_N", "ProgramHealth", "program_health"]

TOP_N = 20
INBOX_IDS = 5
JOBS = ("scrape", "accruals")
JOB_LAG_WARNING = {"scrape": timedelta(hours=12), "accruals": timedelta(hours=2)}
"""Lag after which `summary` mentions a job: the scrape cycle runs every few hours, accruals every hour."""
FAILED_STATES = ("private", "not_found", "banned", "blocked", "region_locked")
CreatorState = Literal["disabled", "private", "not_found", "banned", "blocked", "region_locked", "stale", "overdue"]
_STATE_ORDER = {state: rank for rank, state in enumerate(("disabled", *FAILED_STATES, "stale", "overdue"))}


class CreatorIssue(BaseModel):
    """A creator whose numbers cannot be trusted or who is no longer tracked."""

    creator_id: uuid.UUID
    tiktok_handle: str
    state: CreatorState = Field(
        description="disabled (by the scraper), a failed scrape_state, stale (pending or never scraped), or "
        "overdue (last good scrape over 48 h ago)."
    )
    since: datetime | None = Field(description="When the trouble began, as far as known.")
    reason: str | None = Field(description="Why it was disabled (disabled creators only).")
    scrape_freshness: ScrapeFreshness


class CreatorIssues(BaseModel):
    """Creators needing attention: counts per state and the first items (disabled, failing, then stale)."""

    count: int
    by_state: dict[str, int]
    items: list[CreatorIssue]


class InboxBacklog(BaseModel):
    """Videos waiting in the tracking inbox (review_videos)."""

    pending_review_count: int
    oldest_pending_since: datetime | None = Field(description="When the oldest waiting video entered the inbox.")
    oldest_video_ids: list[uuid.UUID] = Field(description="Up to 5 waiting videos, oldest first.")


class GoalIssue(BaseModel):
    """A goal at risk in its current period or missed in the previous one."""

    creator_id: uuid.UUID
    tiktok_handle: str
    goal_id: uuid.UUID
    metric: GoalMetric
    period: PeriodKind
    status: Literal["at_risk", "missed"]
    target: float
    actual: float | None
    period_start: datetime
    period_end: datetime


class GoalIssues(BaseModel):
    """Goals needing attention (get_goal_compliance has the full picture)."""

    at_risk_count: int
    missed_count: int
    items: list[GoalIssue] = Field(description="Missed first, then at risk.")


class OverpostingSummary(BaseModel):
    """Over-posting incidents of the last `lookback_days` local days."""

    lookback_days: int
    recent_count: int = Field(description="Incidents at most 7 days old (actionable).")
    historical_count: int
    items: list[OverpostingIncident] = Field(description="Newest first.")


class OutstandingCreator(BaseModel):
    """Money a creator has earned and not been paid."""

    creator_id: uuid.UUID
    tiktok_handle: str
    outstanding_cents: int
    accrual_count: int
    oldest_period_start_at: datetime


class OutstandingPayouts(BaseModel):
    """Outstanding (`earned`) accruals, per creator, largest first."""

    total_cents: int
    creator_count: int
    items: list[OutstandingCreator]


class JobLag(BaseModel):
    """The last finished run of a background job."""

    job: str
    last_finished_at: datetime
    status: str = Field(description="ok, failed, … as the job recorded it.")
    hours_since: float


class JobLags(BaseModel):
    """Background jobs (shared by every organization of the store); null = the job never finished a run."""

    scrape: JobLag | None
    accruals: JobLag | None


class ProgramHealth(BaseModel):
    """What in a project needs attention now, each item with the ids for the next call."""

    project_id: uuid.UUID
    generated_at: datetime
    timezone: str
    summary: list[str] = Field(description="One sentence per problem found, naming the tool to use next.")
    creators: CreatorIssues
    inbox: InboxBacklog
    goals: GoalIssues
    over_posting: OverpostingSummary
    outstanding_payouts: OutstandingPayouts
    jobs: JobLags
    scrape_blocks: BlockRate | None = Field(
        description="Share of fetches TikTok blocked in the latest scrape cycles; null before any fetch."
    )


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


# --- the checks --------------------------------------------------------------------------------------------------


def _creator_issue(creator: Creator, now: datetime) -> CreatorIssue:
    state: CreatorState
    if not creator.is_active:
        state = "disabled"
    elif creator.scrape_state in FAILED_STATES or creator.scrape_state == "stale":
        state = creator.scrape_state  # type: ignore[assignment]
    elif creator.last_scraped_at is None:
        state = "stale"
    else:
        state = "overdue"
    last = creator.last_scraped_at
    return CreatorIssue(
        creator_id=creator.id,
        tiktok_handle=creator.tiktok_handle,
        state=state,
        since=creator.missing_since or last,
        reason=creator.disabled_reason if state == "disabled" else None,
        scrape_freshness=ScrapeFreshness(
            last_scraped_at=last,
            scrape_state=creator.scrape_state,
            hours_since=None if last is None else _hours(now - last),
        ),
    )


async def _creator_issues(session: AsyncSession, project_id: uuid.UUID, now: datetime, top_n: int) -> CreatorIssues:
    failing = (
        (col(Creator.scrape_state) != "ok")
        | col(Creator.last_scraped_at).is_(None)
        | (col(Creator.last_scraped_at) < now - STALE_AFTER)
    )
    disabled = or_(col(Creator.disabled_reason).is_(None), col(Creator.disabled_reason) != REMOVED_REASON)
    rows = await session.scalars(
        select(Creator).where(
            col(Creator.project_id) == project_id,
            or_(col(Creator.is_active).is_(True) & failing, col(Creator.is_active).is_(False) & disabled),
        )
    )
    issues = [_creator_issue(creator, now) for creator in rows]
    issues.sort(
        key=lambda i: (_STATE_ORDER[i.state], i.since or datetime.min.replace(tzinfo=now.tzinfo), i.tiktok_handle)
    )
    by_state: dict[str, int] = {}
    for issue in issues:
        by_state[issue.state] = by_state.get(issue.state, 0) + 1
    return CreatorIssues(count=len(issues), by_state=by_state, items=issues[:top_n])


async def _inbox(session: AsyncSession, project_id: uuid.UUID) -> InboxBacklog:
    pending = (col(Video.project_id) == project_id, col(Video.tracking_status) == "pending_review")
    count = int((await session.execute(select(func.count()).select_from(Video).where(*pending))).scalar_one())
    oldest = (
        await session.execute(
            select(col(Video.id), col(Video.created_at))
            .where(*pending)
            .order_by(col(Video.created_at), col(Video.id))
            .limit(INBOX_IDS)
        )
    ).all()
    return InboxBacklog(
        pending_review_count=count,
        oldest_pending_since=oldest[0][1] if oldest else None,
        oldest_video_ids=[video_id for video_id, _ in oldest],
    )


def _goal_issues_of(groups: list[CreatorCompliance], status: Literal["at_risk", "missed"]) -> list[GoalIssue]:
    return [
        GoalIssue(
            creator_id=group.creator.id,
            tiktok_handle=group.creator.tiktok_handle,
            goal_id=result.goal.id,
            metric=result.goal.metric,
            period=result.goal.period,
            status=status,
            target=result.target,
            actual=result.actual,
            period_start=result.advisory.period_start,
            period_end=result.advisory.period_end,
        )
        for group in groups
        for result in group.compliance
        if result.status == status and not (status == "at_risk" and result.advisory.period_just_started)
    ]


async def _goal_issues(session: AsyncSession, project_id: uuid.UUID, tz: str, now: datetime, top_n: int) -> GoalIssues:
    at_risk = _goal_issues_of(await evaluate_project(session, project_id, tz=tz, now=now), "at_risk")
    missed: list[GoalIssue] = []
    today = local_today(now, tz)
    for kind in PERIOD_KINDS:
        previous_day: date = period_containing(parse_period_kind(kind), today, tz).start_date - timedelta(days=1)
        groups = await evaluate_project(session, project_id, tz=tz, now=now, reference_date=previous_day, period=kind)
        missed += _goal_issues_of(groups, "missed")
    return GoalIssues(at_risk_count=len(at_risk), missed_count=len(missed), items=(missed + at_risk)[:top_n])


async def _over_posting(
    session: AsyncSession, project_id: uuid.UUID, tz: str, now: datetime, top_n: int
) -> OverpostingSummary:
    incidents = await find_incidents(session, project_id, tz=tz, now=now)
    recent = sum(incident.severity == "recent" for incident in incidents)
    return OverpostingSummary(
        lookback_days=DEFAULT_LOOKBACK_DAYS,
        recent_count=recent,
        historical_count=len(incidents) - recent,
        items=incidents[:top_n],
    )


async def _outstanding(session: AsyncSession, caller: Caller, project_id: uuid.UUID, top_n: int) -> OutstandingPayouts:
    owed = func.sum(col(PayoutAccrual.outstanding_cents))
    rows = (
        await session.execute(
            core_select(
                col(PayoutAccrual.creator_id),
                col(Creator.tiktok_handle),
                owed,
                func.count(),
                func.min(col(PayoutAccrual.period_start_at)),
            )
            .join(Creator, col(Creator.id) == col(PayoutAccrual.creator_id))
            .where(
                col(PayoutAccrual.org_id) == caller.org_id,
                col(PayoutAccrual.project_id) == project_id,
                col(PayoutAccrual.status) == "earned",
                col(PayoutAccrual.outstanding_cents) > 0,
            )
            .group_by(col(PayoutAccrual.creator_id), col(Creator.tiktok_handle))
        )
    ).all()
    items = [
        OutstandingCreator(
            creator_id=creator_id,
            tiktok_handle=handle,
            outstanding_cents=int(cents),
            accrual_count=int(count),
            oldest_period_start_at=oldest,
        )
        for creator_id, handle, cents, count, oldest in rows
    ]
    items.sort(key=lambda i: (-i.outstanding_cents, i.tiktok_handle))
    return OutstandingPayouts(
        total_cents=sum(i.outstanding_cents for i in items), creator_count=len(items), items=items[:top_n]
    )


async def _job_lag(session: AsyncSession, job: str, now: datetime) -> JobLag | None:
    run = (
        await session.scalars(
            select(JobRun)
            .where(col(JobRun.job) == job, col(JobRun.finished_at).is_not(None))
            .order_by(col(JobRun.finished_at).desc())
            .limit(1)
        )
    ).first()
    if run is None or run.finished_at is None:
        return None
    return JobLag(
        job=job, last_finished_at=run.finished_at, status=run.status, hours_since=_hours(now - run.finished_at)
    )


# --- the summary -------------------------------------------------------------------------------------------------


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def _summary(health: ProgramHealth) -> list[str]:
    lines = []
    creators = health.creators
    if creators.count:
        parts = ", ".join(
            f"{n} {state}" for state, n in sorted(creators.by_state.items(), key=lambda s: _STATE_ORDER[s[0]])
        )
        lines.append(
            f"{creators.count} creator(s) have unreliable or missing numbers ({parts}); see creators.items, then "
            "get_creator, scrape_now, or update_creator(is_active=true) for disabled ones."
        )
    inbox = health.inbox
    if inbox.pending_review_count and inbox.oldest_pending_since is not None:
        lines.append(
            f"{inbox.pending_review_count} video(s) wait in the tracking inbox, the oldest since "
            f"{describe_instant(inbox.oldest_pending_since, health.generated_at)}; they do not count until reviewed "
            "with review_videos."
        )
    goals = health.goals
    if goals.at_risk_count or goals.missed_count:
        lines.append(
            f"{goals.at_risk_count} goal(s) at risk in the current period and {goals.missed_count} missed in the "
            "previous one; get_goal_compliance(project_id) has targets, actuals and advisories."
        )
    posting = health.over_posting
    if posting.recent_count:
        lines.append(
            f"{posting.recent_count} over-posting incident(s) in the last 7 days (7+ posts in a day, 2+ stuck under "
            "100 views): TikTok likely throttled those days; advise the creators to spread posts over 2-3 days."
        )
    if posting.historical_count:
        lines.append(
            f"{posting.historical_count} older over-posting incident(s) in the last {posting.lookback_days} days."
        )
    owed = health.outstanding_payouts
    if owed.total_cents:
        lines.append(
            f"{_money(owed.total_cents)} ({owed.total_cents} cents) earned and unpaid across {owed.creator_count} "
            "creator(s); list_payout_accruals(status=earned) then create_payout_payment."
        )
    for job in JOBS:
        lag: JobLag | None = getattr(health.jobs, job)
        if lag is None:
            lines.append(
                f"The {job} job has never finished a run in this store; is `trackagoat-mcp serve` or `worker` running?"
            )
        elif lag.status == "failed":
            lines.append(
                f"The last {job} run, at {describe_instant(lag.last_finished_at, health.generated_at)}, ended "
                f"{lag.status}; see get_job_status."
            )
        elif timedelta(hours=lag.hours_since) > JOB_LAG_WARNING[job]:
            lines.append(f"The {job} job last finished {lag.hours_since} h ago; see get_job_status.")
    blocks = health.scrape_blocks
    if blocks is not None and blocks.alert:
        lines.append(
            f"TikTok blocked {blocks.share:.0%} of fetches in the last {blocks.cycles} scrape cycle(s), above the "
            f"{blocks.threshold:.0%} threshold; numbers go stale until this changes. {blocks.hint}"
        )
    return lines or ["Nothing needs attention."]


async def program_health(
    session: AsyncSession,
    caller: Caller,
    project_id: object,
    *,
    now: datetime,
    top_n: int = TOP_N,
    block_rate_cycles: int = 6,
    block_rate_threshold: float = 0.2,
) -> ProgramHealth:
    """Check a project of the caller's organization (see the module docstring); lists hold at most `top_n` items
    (`TOP_N` for people and models; the alert job asks for more, since it records every finding); the block-rate
    finding counts the latest `block_rate_cycles` scrape cycles and fires above `block_rate_threshold`."""
    project = await get_project(session, caller, project_id)
    tz = (await get_org(session, caller)).timezone
    health = ProgramHealth(
        project_id=project.id,
        generated_at=now,
        timezone=tz,
        summary=[],
        creators=await _creator_issues(session, project.id, now, top_n),
        inbox=await _inbox(session, project.id),
        goals=await _goal_issues(session, project.id, tz, now, top_n),
        over_posting=await _over_posting(session, project.id, tz, now, top_n),
        outstanding_payouts=await _outstanding(session, caller, project.id, top_n),
        jobs=JobLags(scrape=await _job_lag(session, "scrape", now), accruals=await _job_lag(session, "accruals", now)),
        scrape_blocks=await recent_block_rate(session, cycles=block_rate_cycles, threshold=block_rate_threshold),
    )
    return health.model_copy(update={"summary": _summary(health)})
