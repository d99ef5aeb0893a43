"""The alert job: evaluate every organization's findings, record them as alerts, send new ones to webhooks.

Every `TRACKAGOAT_ALERT_INTERVAL_MINUTES` (default 15) each replica tries to claim the interval's `JobRun` slot;
exactly one runs it. A run, organization by organization:

1. **Evaluate** (`domain/alerts/records.evaluate_org`) in one write transaction: every source's findings on every
   project become alerts (new, seen again, or reopened after a resolve).
2. **Deliver**: if the organization has a webhook, its alerts not yet sent (`notified_at` null, not resolved) go in
   batches of up to `BATCH` (oldest first) as one signed POST each (`jobs/webhooks.deliver`, retried with backoff);
   every attempt is a row of `alert_deliveries`, and a delivered batch's alerts get `notified_at`. A batch that
   still fails stays unsent and is tried again by the next run (one delivery per run, so a dead receiver costs
   `webhook_attempts` requests per interval, not a storm).

Body: `{"organization_id", "delivery_id", "sent_at", "alerts": [AlertOut…]}`.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlmodel import col, select

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.db.models import Alert, AlertDelivery, AlertWebhook, Organization
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.alerts import AlertOut, Thresholds, UrlPolicy, evaluate_org
from trackagoat_mcp.jobs import runs
from trackagoat_mcp.jobs.webhooks import RetryPolicy, Sleep, deliver

__all__ = ["BATCH", "JOB", "AlertRunReport", "AlertSettings", "run_alerts"]

logger = logging.getLogger(__name__)

JOB = "alerts"
BATCH = 100
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AlertSettings:
    """What a run needs from the settings."""

    interval: timedelta = timedelta(minutes=15)
    thresholds: Thresholds = field(default_factory=Thresholds)
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class AlertRunReport:
    """What one run did (its `JobRun.report`)."""

    slot: str
    skipped: bool = False
    organizations: int = 0
    new: int = 0
    reopened: int = 0
    delivered: int = 0
    failed_deliveries: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _slot(now: datetime, interval: timedelta) -> str:
    ticks = int((now - _EPOCH) / interval)
    return (_EPOCH + ticks * interval).isoformat()


async def run_alerts(
    db: Database,
    clock: Clock,
    http: httpx2.AsyncClient,
    *,
    worker_id: str,
    settings: AlertSettings,
    sleep: Sleep | None = None,
    slot: str | None = None,
) -> AlertRunReport:
    """Run the interval's evaluation and deliveries unless another process holds its slot (module docstring).

    Args:
        db: the store.
        clock: the current time (first/last seen, delivery times).
        http: the client webhooks are POSTed with.
        worker_id: who claims the slot (host:pid).
        settings: thresholds, URL policy, retries.
        sleep: how to wait between retries (default `anyio.sleep`; tests record instead).
        slot: the slot to claim (default: the interval containing now).
    """
    now = clock.now()
    report = AlertRunReport(slot=slot or _slot(now, settings.interval))
    run = await runs.claim_run(db, job=JOB, slot=report.slot, worker_id=worker_id, now=now)
    if run is None:
        report.skipped = True
        return report
    try:
        async with db.read() as session:
            org_ids = list(await session.scalars(select(col(Organization.id)).order_by(col(Organization.id))))
        for org_id in org_ids:
            report.organizations += 1
            try:
                async with db.write() as session:
                    result = await evaluate_org(session, org_id, now=clock.now(), thresholds=settings.thresholds)
                report.new += result.new
                report.reopened += result.reopened
                for name in result.failed_sources:
                    report.failed.append({"kind": "source", "message": f"source {name} raised", "org_id": str(org_id)})
                await _deliver_org(db, clock, http, org_id, settings, report, sleep)
            except Exception as exc:  # one organization's trouble must not stop the others' alerts
                logger.exception("Alert evaluation of organization %s failed", org_id)
                report.failed.append({"kind": "organization", "message": str(exc)[:300], "org_id": str(org_id)})
    except BaseException:
        await runs.close_run(db, run, status="failed", now=clock.now(), report=report.as_json())
        raise
    await runs.close_run(db, run, status="ok", now=clock.now(), report=report.as_json())
    return report


async def _deliver_org(
    db: Database,
    clock: Clock,
    http: httpx2.AsyncClient,
    org_id: uuid.UUID,
    settings: AlertSettings,
    report: AlertRunReport,
    sleep: Sleep | None,
) -> None:
    async with db.read() as session:
        hook = await session.get(AlertWebhook, org_id)
        if hook is None:
            return
        url, secret = hook.url, hook.secret
        pending = list(
            await session.scalars(
                select(Alert)
                .where(col(Alert.org_id) == org_id, col(Alert.notified_at).is_(None), col(Alert.status) != "resolved")
                .order_by(col(Alert.first_seen_at), col(Alert.id))
                .limit(BATCH)
            )
        )
    if not pending:
        return
    delivery_id = uuid.uuid4()
    payload = {
        "organization_id": str(org_id),
        "delivery_id": str(delivery_id),
        "sent_at": clock.now().isoformat(),
        "alerts": [AlertOut.of(row).model_dump(mode="json") for row in pending],
    }
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    options: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    attempts = await deliver(
        http, url=url, body=body, secret=secret, delivery_id=delivery_id, url_policy=settings.url_policy,
        clock=clock, retry=settings.retry, **options,
    )  # fmt: skip
    async with db.write() as session:
        for attempt in attempts:
            session.add(
                AlertDelivery(
                    org_id=org_id,
                    delivery_id=delivery_id,
                    attempt=attempt.attempt,
                    url=url,
                    alert_count=len(pending),
                    ok=attempt.ok,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    attempted_at=attempt.attempted_at,
                    duration_ms=attempt.duration_ms,
                )  # fmt: skip
            )
        if attempts and attempts[-1].ok:
            sent_at = clock.now()
            for row in await session.scalars(select(Alert).where(col(Alert.id).in_([a.id for a in pending]))):
                row.notified_at = sent_at
                session.add(row)
    if attempts and attempts[-1].ok:
        report.delivered += len(pending)
    else:
        report.failed_deliveries += 1
        report.failed.append({"kind": "webhook", "message": attempts[-1].error or "failed", "org_id": str(org_id)})
