"""Alerts as records: evaluated from the findings of every source, listed, acknowledged and resolved.

**Recording** (`evaluate_org`, run by the alert job). Every source (`findings.SOURCES`) looks at every project of the
organization; each finding is stored under its stable key, unique per organization:

* a key never seen before becomes an `open` alert with `first_seen_at` = `last_seen_at` = now;
* a key already recorded moves `last_seen_at` to now and takes the finding's latest message and details;
* a key whose alert was `resolved` is **reopened**: `open` again, `reopened_count` + 1, and sent to the webhook again.

Alerts are never resolved by the job: a person or agent resolves them (`last_seen_at` older than the last
evaluation tells that the condition has gone). An `acknowledged` alert stays acknowledged while it recurs.

**Statuses**: `open` → `acknowledged` (someone is on it) → `resolved`. Acknowledging a resolved alert is refused
(it is over; it reopens by itself if it recurs); resolving an acknowledged one is the usual path.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates
from trackagoat_mcp.db.models import Alert, Project, table_of
from trackagoat_mcp.domain.alerts.findings import SOURCES, Finding, Thresholds
from trackagoat_mcp.domain.pagination import Page, cursor_time, cursor_uuid, fetch_page
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, not_found, parse_id
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "STATUS_FILTERS",
    "AlertOut",
    "EvaluationReport",
    "acknowledge_alerts",
    "evaluate_org",
    "get_alerts",
    "list_alerts",
    "record_findings",
    "resolve_alerts",
]

AlertStatus = Literal["open", "acknowledged", "resolved"]
StatusFilter = Literal["active", "open", "acknowledged", "resolved", "all"]
STATUS_FILTERS: tuple[str, ...] = ("active", "open", "acknowledged", "resolved", "all")
MAX_IDS = 100


class AlertOut(BaseModel):
    """A recorded finding: what, since when, until when, and who has dealt with it."""

    id: uuid.UUID
    project_id: uuid.UUID | None = Field(description="null for organization-wide alerts (job lag).")
    key: str = Field(description="Stable: the same trouble keeps its key.")
    source: str
    kind: str
    severity: str
    subject_type: str | None
    subject_id: uuid.UUID | None
    message: str
    details: dict[str, Any]
    status: AlertStatus
    first_seen_at: datetime
    last_seen_at: datetime = Field(description="Last evaluation that found it; older = gone since.")
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    reopened_count: int
    notified_at: datetime | None = Field(description="When the webhook received it; null = not sent.")

    @classmethod
    def of(cls, row: Alert) -> AlertOut:
        return cls.model_validate(row, from_attributes=True)


class EvaluationReport(BaseModel):
    """What one evaluation of an organization recorded."""

    findings: int
    new: int
    reopened: int
    seen_again: int
    failed_sources: list[str]


async def record_findings(
    session: AsyncSession, org_id: uuid.UUID, findings: list[Finding], now: datetime
) -> EvaluationReport:
    """Store `findings` as alerts of `org_id` (module docstring); a key found twice in one batch counts once."""
    unique = {finding.key: finding for finding in findings}
    report = EvaluationReport(findings=len(unique), new=0, reopened=0, seen_again=0, failed_sources=[])
    keys = list(unique)
    existing: dict[str, Alert] = {}
    for first in range(0, len(keys), 500):
        rows = await session.scalars(
            select(Alert).where(col(Alert.org_id) == org_id, col(Alert.key).in_(keys[first : first + 500]))
        )
        existing |= {row.key: row for row in rows}
    for key, finding in unique.items():
        row = existing.get(key)
        if row is None:
            values = {
                "id": uuid.uuid4(), "org_id": org_id, "project_id": finding.project_id, "key": key,
                "source": finding.source, "kind": finding.kind, "severity": finding.severity,
                "subject_type": finding.subject_type, "subject_id": finding.subject_id, "message": finding.message,
                "details": finding.details, "status": "open", "first_seen_at": now, "last_seen_at": now,
                "reopened_count": 0, "created_at": now, "updated_at": now,
            }  # fmt: skip
            # Another evaluator may insert the same key at the same moment; the unique key keeps one row.
            statement = insert_ignoring_duplicates(session, table_of(Alert)).values(values)
            result = await session.execute(statement)
            report.new += int(result.rowcount or 0)  # type: ignore[attr-defined]
            continue
        row.last_seen_at = now
        row.updated_at = now
        row.message = finding.message
        row.details = finding.details
        row.severity = finding.severity
        if row.status == "resolved":
            row.status = "open"
            row.reopened_count += 1
            row.resolved_at = None
            row.acknowledged_at = None
            row.notified_at = None
            report.reopened += 1
        else:
            report.seen_again += 1
        session.add(row)
    return report


async def evaluate_org(
    session: AsyncSession, org_id: uuid.UUID, *, now: datetime, thresholds: Thresholds
) -> EvaluationReport:
    """Ask every source about every project of the organization and record the findings.

    A source that raises is named in `failed_sources` and the others still count (one broken source must not
    silence every alert).
    """
    caller = Caller(org_id, frozenset({"read"}))
    projects = list(await session.scalars(select(Project).where(col(Project.org_id) == org_id)))
    findings: list[Finding] = []
    failed: set[str] = set()
    for project in projects:
        for name, source in list(SOURCES.items()):
            try:
                async with session.begin_nested():
                    findings += await source(session, caller, project, now, thresholds)
            except Exception:
                failed.add(name)
    report = await record_findings(session, org_id, findings, now)
    return report.model_copy(update={"failed_sources": sorted(failed)})


def _status_filter(status: str) -> list[str]:
    if status not in STATUS_FILTERS:
        raise InvalidInput(f"status {status!r} is not one of {list(STATUS_FILTERS)!r}; pick one of them.")
    return {"active": ["open", "acknowledged"], "all": ["open", "acknowledged", "resolved"]}.get(status, [status])


async def list_alerts(
    session: AsyncSession,
    caller: Caller,
    *,
    status: str = "active",
    project_id: Any = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AlertOut]:
    """The organization's alerts, most recently seen first (`active` = open and acknowledged)."""
    caller.require("read")
    statuses = _status_filter(status)
    query = select(Alert).where(col(Alert.org_id) == caller.org_id, col(Alert.status).in_(statuses))
    order = status
    if project_id is not None:
        project = await get_project(session, caller, project_id)
        query = query.where(col(Alert.project_id) == project.id)
        order = f"{status}.{project.id}"
    rows, next_cursor = await fetch_page(
        session,
        query,
        kind="alerts",
        order=order,
        columns=[col(Alert.last_seen_at), col(Alert.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda row: [row.last_seen_at, row.id],
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return Page[AlertOut](items=[AlertOut.of(row) for row in rows], next_cursor=next_cursor)


async def get_alerts(session: AsyncSession, caller: Caller, alert_ids: list[str]) -> list[AlertOut]:
    """The caller's alerts with these ids, in the order given (NotFound names the first unknown one)."""
    caller.require("read")
    return [AlertOut.of(row) for row in await _rows(session, caller, alert_ids, lock=False)]


async def _rows(session: AsyncSession, caller: Caller, alert_ids: list[str], *, lock: bool = True) -> list[Alert]:
    if not 1 <= len(alert_ids) <= MAX_IDS:
        raise InvalidInput(f"alert_ids has {len(alert_ids)} ids; give 1 to {MAX_IDS} (from action list).")
    ids = [parse_id(raw, "alert") for raw in alert_ids]
    query = select(Alert).where(col(Alert.org_id) == caller.org_id, col(Alert.id).in_(ids))
    rows = {row.id: row for row in await session.scalars(query.with_for_update() if lock else query)}
    for raw, alert_id in zip(alert_ids, ids, strict=True):
        if alert_id not in rows:
            raise not_found("alert", raw)
    return [rows[alert_id] for alert_id in dict.fromkeys(ids)]


async def acknowledge_alerts(
    session: AsyncSession, caller: Caller, alert_ids: list[str], *, now: datetime
) -> list[AlertOut]:
    """Mark alerts `acknowledged` (already acknowledged ones are left as they are; resolved ones are refused)."""
    caller.require("write")
    rows = await _rows(session, caller, alert_ids)
    resolved = [str(row.id) for row in rows if row.status == "resolved"]
    if resolved:
        raise Conflict(
            f"Alert(s) {resolved!r} are resolved; nothing was changed. A resolved alert reopens by itself if it "
            "recurs; leave those ids out.",
            code="alert_resolved",
        )
    for row in rows:
        if row.status == "open":
            row.status = "acknowledged"
            row.acknowledged_at = now
            row.updated_at = now
            session.add(row)
    return [AlertOut.of(row) for row in rows]


async def resolve_alerts(
    session: AsyncSession, caller: Caller, alert_ids: list[str], *, now: datetime
) -> list[AlertOut]:
    """Mark alerts `resolved` (already resolved ones keep their time); a recurrence reopens them."""
    caller.require("write")
    rows = await _rows(session, caller, alert_ids)
    for row in rows:
        if row.status != "resolved":
            row.status = "resolved"
            row.resolved_at = now
            row.updated_at = now
            session.add(row)
    return [AlertOut.of(row) for row in rows]
