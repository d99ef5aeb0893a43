"""Alert findings and where they come from: a registry of sources, each a function that looks at one project.

A **finding** is something that needs a person now, with a stable `key` (the same trouble gives the same key on
every evaluation, so it is recorded once and its `last_seen_at` moves). A **source** is an async function
`(session, caller, project, now, thresholds) -> list[Finding]`; `SOURCES` holds them by name and
`register_source(name, fn)` adds one, so a new kind of finding is one line where its module is imported (for example
`register_source("negative_vibes", negative_vibe_findings)` beside the Sentiment Radar's rule, or the scraper's block
rate). Findings must not carry third-party text (captions, comments, bios): messages and details are read by chat
receivers of the webhook, outside any fence.

The built-in source `health` turns `get_program_health` (`domain/health.py`, the same rules, no copy of them) into
findings:

| kind | key | when |
|---|---|---|
| `creator_failing` | `creator_failing:<creator>` | last scrape failed (private, not_found, banned, blocked, …) |
| `creator_stale` | `creator_stale:<creator>` | never scraped, pending, or last good scrape over 48 h ago |
| `creator_disabled` | `creator_disabled:<creator>` | the scraper disabled the creator |
| `goal_at_risk` | `goal_at_risk:<goal>:<period start>` | under 70 % of pace now (not in a period's first 7th) |
| `goal_missed` | `goal_missed:<goal>:<period start>` | the period just before ended below target |
| `over_posting` | `over_posting:<creator>:<day>` | an over-posting incident at most 7 days old |
| `unpaid_balance` | `unpaid_balance:<creator>` | unpaid ≥ `unpaid_cents`, oldest period begun ≥ `unpaid_days` ago |
| `job_lag` | `job_lag:<job>` | last run failed, or finished too long ago (scrape 12 h, accruals 2 h) |

A job that never finished a run is not a finding (a fresh install would otherwise alert before its first cycle).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import Project
from trackagoat_mcp.domain.health import JOB_LAG_WARNING, JOBS, JobLag, program_health
from trackagoat_mcp.domain.scope import Caller

__all__ = ["SOURCES", "AlertSource", "Finding", "Thresholds", "health_findings", "register_source"]

ALERT_TOP_N = 500
"""Items per health check an evaluation records (health lists show 20; alerts keep every finding up to this)."""
Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Thresholds:
    """Limits of the findings that take one (from the settings)."""

    unpaid_days: int = 14
    unpaid_cents: int = 1
    block_rate_cycles: int = 6
    block_rate_threshold: float = 0.2


@dataclass(frozen=True)
class Finding:
    """One thing that needs attention, with a key that stays the same while it lasts."""

    key: str
    kind: str
    message: str
    severity: Severity = "warning"
    project_id: uuid.UUID | None = None
    subject_type: str | None = None
    subject_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)
    source: str = "health"


AlertSource = Callable[[AsyncSession, Caller, Project, datetime, Thresholds], Awaitable[list[Finding]]]
SOURCES: dict[str, AlertSource] = {}


def register_source(name: str, source: AlertSource) -> None:
    """Add (or replace) the source `name`; every later evaluation asks it for findings on every project."""
    SOURCES[name] = source


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


def _job_finding(job: str, lag: JobLag | None, now: datetime) -> Finding | None:
    if lag is None:
        return None
    if lag.status == "failed":
        message = f"The last {job} run failed (finished {lag.last_finished_at.isoformat()}); see get_job_status."
    elif now - lag.last_finished_at > JOB_LAG_WARNING[job]:
        message = f"The {job} job last finished {lag.hours_since} h ago; is a worker running? See get_job_status."
    else:
        return None
    details = {"job": job, "status": lag.status, "hours_since": lag.hours_since}
    return Finding(key=f"job_lag:{job}", kind="job_lag", message=message, severity="critical", details=details)


async def health_findings(
    session: AsyncSession, caller: Caller, project: Project, now: datetime, thresholds: Thresholds
) -> list[Finding]:
    """The `health` source (module docstring table)."""
    health = await program_health(session, caller, project.id, now=now, top_n=ALERT_TOP_N)
    pid = project.id
    found: list[Finding] = []
    for issue in health.creators.items:
        kind = {"disabled": "creator_disabled", "stale": "creator_stale", "overdue": "creator_stale"}.get(
            issue.state, "creator_failing"
        )
        since = "" if issue.since is None else f" since {issue.since.isoformat()}"
        found.append(
            Finding(
                key=f"{kind}:{issue.creator_id}",
                kind=kind,
                severity="critical" if kind == "creator_disabled" else "warning",
                message=f"@{issue.tiktok_handle}: {issue.state}{since}; numbers may be missing or old.",
                project_id=pid,
                subject_type="creator",
                subject_id=issue.creator_id,
                details={"state": issue.state, "reason": issue.reason},
            )
        )
    for goal in health.goals.items:
        kind = f"goal_{goal.status}"
        found.append(
            Finding(
                key=f"{kind}:{goal.goal_id}:{goal.period_start.isoformat()}",
                kind=kind,
                severity="critical" if goal.status == "missed" else "warning",
                message=f"@{goal.tiktok_handle}: {goal.period} {goal.metric} goal {goal.status.replace('_', ' ')} "
                f"({goal.actual if goal.actual is not None else 'no data'} of {goal.target:g}).",
                project_id=pid,
                subject_type="goal",
                subject_id=goal.goal_id,
                details={
                    "creator_id": str(goal.creator_id),
                    "metric": goal.metric,
                    "period": goal.period,
                    "target": goal.target,
                    "actual": goal.actual,
                    "period_start": goal.period_start.isoformat(),
                    "period_end": goal.period_end.isoformat(),
                },
            )
        )
    for incident in health.over_posting.items:
        if incident.severity != "recent":
            continue
        found.append(
            Finding(
                key=f"over_posting:{incident.creator_id}:{incident.day.isoformat()}",
                kind="over_posting",
                message=f"@{incident.tiktok_handle} posted {incident.posts} videos on {incident.day.isoformat()}, "
                f"{len(incident.low_view_video_ids)} stuck under 100 views: likely throttled.",
                project_id=pid,
                subject_type="creator",
                subject_id=incident.creator_id,
                details={"day": incident.day.isoformat(), "posts": incident.posts},
            )
        )
    for owed in health.outstanding_payouts.items:
        if owed.outstanding_cents < thresholds.unpaid_cents:
            continue
        if now - owed.oldest_period_start_at < timedelta(days=thresholds.unpaid_days):
            continue
        found.append(
            Finding(
                key=f"unpaid_balance:{owed.creator_id}",
                kind="unpaid_balance",
                message=f"@{owed.tiktok_handle} is owed {_money(owed.outstanding_cents)} across {owed.accrual_count} "
                f"accrual(s), the oldest from {owed.oldest_period_start_at.date().isoformat()}.",
                project_id=pid,
                subject_type="creator",
                subject_id=owed.creator_id,
                details={"outstanding_cents": owed.outstanding_cents, "accrual_count": owed.accrual_count},
            )
        )
    for job in JOBS:
        finding = _job_finding(job, getattr(health.jobs, job), now)
        if finding is not None:
            found.append(finding)  # organization-wide: no project, one key per job
    return found


register_source("health", health_findings)
