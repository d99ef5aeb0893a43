"""The figures behind each chart, read through the same domain functions as the read tools, and the rows drawn.

Nothing here queries the store itself: views over time is `get_analytics`, the leaderboard `get_leaderboard`,
campaign progress `campaign_stats` plus the tree's cumulative `get_analytics`, the payout ledger the accrual and
payment records (`list_accruals`, `list_payout_payments`, `get_payout_payment` for adjustments), program health
`program_health`, the content calendar `content_calendar` (with every paged creator's day columns). Each gatherer
returns a `Drawn`: the domain result (the chart's structured data), the rows and the Vega-Lite spec (`specs.py`).

A chart has one subject, named by `entity_type` + `entity_id`: any of video, creator, campaign or project for
views over time; a project for the leaderboard and program health; a campaign for its progress; a creator for the
payout ledger; a creator, project or campaign (tree) for the content calendar. Any other pairing is refused with a
sentence saying which type the kind charts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.clock import local_today
from trackagoat_mcp.domain import health
from trackagoat_mcp.domain.analytics import AnalyticsSeries, get_analytics
from trackagoat_mcp.domain.calendar import content_calendar
from trackagoat_mcp.domain.campaigns import get_campaign_row
from trackagoat_mcp.domain.creators import get_creator
from trackagoat_mcp.domain.leaderboard import get_leaderboard
from trackagoat_mcp.domain.payouts.accrual_records import list_accruals
from trackagoat_mcp.domain.payouts.payment_records import get_payout_payment, list_payout_payments
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import campaign_stats
from trackagoat_mcp.domain.videos import get_video
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.server.charts import specs

__all__ = ["CHART_KINDS", "ChartKind", "ChartRequest", "Drawn", "gather"]

ChartKind = Literal[
    "views_over_time", "leaderboard", "campaign_progress", "payout_ledger", "program_health", "content_calendar"
]
CHART_KINDS: tuple[str, ...] = get_args(ChartKind)
SUBJECT = {
    "leaderboard": "project",
    "campaign_progress": "campaign",
    "payout_ledger": "creator",
    "program_health": "project",
}
"""The entity type each kind charts (views_over_time takes any)."""
LEDGER_DAYS = 365
"""The payout ledger's default range: the last year of periods and payments."""
LEDGER_ACCRUALS = 400
LEDGER_PAYMENTS = 100
"""At most this many accruals and payments are drawn (the newest); `data.truncated` says when there were more."""
PAGE = 100


@dataclass(frozen=True)
class ChartRequest:
    """What to chart (the tool's arguments, validated by their schema)."""

    kind: str
    entity_type: str
    entity_id: str
    metric: str = "views"
    granularity: str = "day"
    mode: str = "new"
    range_from: date | None = None
    range_to: date | None = None
    rank: str = "creators"
    limit: int = 10


@dataclass
class Drawn:
    """One chart: its figures (`data`, the domain result), the rows drawn and the Vega-Lite spec."""

    title: str
    data: dict[str, Any]
    spec: dict[str, Any]
    series: list[str]
    points: int
    notes: list[str] = field(default_factory=list)


async def gather(session: AsyncSession, caller: Caller, request: ChartRequest, *, now: datetime) -> Drawn:
    """Read the figures of `request` for `caller` and build its chart."""
    if request.kind not in CHART_KINDS:
        raise InvalidInput(f"kind {request.kind!r} is not one of {list(CHART_KINDS)!r}; pick one of them.")
    if request.kind == "content_calendar" and request.entity_type == "video":
        raise InvalidInput(
            "kind 'content_calendar' charts a creator, project or campaign, but entity_type is 'video'; pass the "
            "video's creator instead."
        )
    wanted = SUBJECT.get(request.kind)
    if wanted is not None and request.entity_type != wanted:
        raise InvalidInput(
            f"kind {request.kind!r} charts a {wanted}, but entity_type is {request.entity_type!r}; pass "
            f"entity_type {wanted!r} with that {wanted}'s id."
        )
    if request.kind == "views_over_time":
        return await _views_over_time(session, caller, request, now)
    if request.kind == "leaderboard":
        return await _leaderboard(session, caller, request, now)
    if request.kind == "campaign_progress":
        return await _campaign_progress(session, caller, request, now)
    if request.kind == "payout_ledger":
        return await _payout_ledger(session, caller, request, now)
    if request.kind == "content_calendar":
        return await _content_calendar(session, caller, request, now)
    return await _program_health(session, caller, request, now)


async def _subject_label(session: AsyncSession, caller: Caller, entity_type: str, entity_id: str) -> str:
    if entity_type == "video":
        return (await get_video(session, caller, entity_id)).url
    if entity_type == "creator":
        return f"@{(await get_creator(session, caller, entity_id)).tiktok_handle}"
    if entity_type == "campaign":
        return (await get_campaign_row(session, caller, entity_id)).name
    return (await get_project(session, caller, entity_id)).name


def bucket_rows(series: AnalyticsSeries) -> list[dict[str, Any]]:
    """One row per bucket: its first day, the next bucket's first day, the value and how complete it is."""
    starts = series.buckets.start
    rows = []
    for i, point in enumerate(series.buckets.points()):
        end = starts[i + 1] if i + 1 < len(starts) else series.range_to + timedelta(days=1)
        status = "no data" if point.value is None else "partial" if point.partial else "complete"
        rows.append(
            {
                "start": point.start.isoformat(),
                "end": end.isoformat(),
                "value": point.value,
                "status": status,
                "why": ", ".join(point.why) if point.why else None,
            }
        )
    return rows


def _statuses(rows: list[dict[str, Any]]) -> list[str]:
    return [s for s in specs.STATUS_COLORS if any(row["status"] == s for row in rows)]


async def _views_over_time(session: AsyncSession, caller: Caller, request: ChartRequest, now: datetime) -> Drawn:
    series = await get_analytics(
        session,
        caller,
        entity_type=request.entity_type,
        entity_id=request.entity_id,
        metric=request.metric,
        granularity=request.granularity,
        mode=request.mode,
        range_from=request.range_from,
        range_to=request.range_to,
        now=now,
    )
    label = await _subject_label(session, caller, request.entity_type, request.entity_id)
    rows = bucket_rows(series)
    title = f"{request.metric} of {request.entity_type} {label}"
    subtitle = (
        f"{series.mode}, by {series.granularity}, {series.range_from} to {series.range_to} ({series.timezone}); "
        "orange = partial bucket, grey band = no data"
    )
    y_title = f"{request.metric} ({series.unit})" if series.unit else request.metric
    spec = specs.views_over_time_spec(
        title, subtitle, rows, y_title=y_title, timezone=series.timezone, monthly=series.granularity == "month"
    )
    return Drawn(title, series.model_dump(mode="json"), spec, _statuses(rows), len(rows))


async def _leaderboard(session: AsyncSession, caller: Caller, request: ChartRequest, now: datetime) -> Drawn:
    board = await get_leaderboard(
        session,
        caller,
        project_id=request.entity_id,
        kind=request.rank,
        order_by=request.metric,
        range_from=request.range_from,
        range_to=request.range_to,
        limit=request.limit,
        now=now,
    )
    rows = []
    for item in board.items:
        value = getattr(item, request.metric)
        rows.append(
            {
                "rank": item.rank,
                "row": f"{item.rank}. {item.label}",
                "label": item.label,
                "value": value,
                "caption": item.caption,
            }
        )
    project = await get_project(session, caller, request.entity_id)
    title = f"Top {len(rows)} {board.kind} of {project.name} by {board.order_by}"
    subtitle = f"{board.range_from} to {board.range_to} ({board.timezone}); {board.total} ranked"
    spec = specs.leaderboard_spec(title, subtitle, rows, x_title=board.order_by)
    return Drawn(title, board.model_dump(mode="json"), spec, [board.order_by], len(rows))


async def _campaign_progress(session: AsyncSession, caller: Caller, request: ChartRequest, now: datetime) -> Drawn:
    stats = await campaign_stats(
        session, caller, request.entity_id, now=now, range_from=request.range_from, range_to=request.range_to
    )
    series = await get_analytics(
        session,
        caller,
        entity_type="campaign",
        entity_id=request.entity_id,
        metric="views",
        granularity=request.granularity,
        mode="cumulative",
        range_from=stats.range_from,
        range_to=stats.range_to,
        now=now,
    )
    rows = bucket_rows(series)
    target = stats.target_views
    if target is None:
        headline = f"{stats.lifetime.views:,} views, no target set (update_campaign target_views)"
        target_label = ""
    else:
        headline = f"{stats.lifetime.views:,} of {target:,} target views ({stats.target_progress_pct}%)"
        target_label = f"target {target:,}"
    target_day = None
    if stats.target_at is not None:
        day = stats.target_at.date()
        target_day = day.isoformat() if stats.range_from <= day <= stats.range_to else None
    title = f"Campaign {stats.name}: {headline}"
    subtitle = (
        f"whole tree ({stats.campaigns_in_tree} campaigns, {stats.creators_in_tree} creators, each video once), "
        f"cumulative views by {series.granularity}, {series.range_from} to {series.range_to} ({series.timezone})"
    )
    spec = specs.campaign_progress_spec(
        title,
        subtitle,
        rows,
        target=target,
        target_label=target_label,
        target_day=target_day,
        timezone=series.timezone,
        monthly=series.granularity == "month",
    )
    data = {"stats": stats.model_dump(mode="json"), "series": series.model_dump(mode="json")}
    drawn_series = ["cumulative views", *(["target"] if target is not None else [])]
    marked = [status for status in _statuses(rows) if status != "complete"]
    return Drawn(title, data, spec, drawn_series + marked, len(rows))


def _dollars(cents: int) -> float:
    return cents / 100


async def _payout_ledger(session: AsyncSession, caller: Caller, request: ChartRequest, now: datetime) -> Drawn:
    creator = await get_creator(session, caller, request.entity_id)
    tz = (await get_org(session, caller)).timezone
    last = request.range_to or local_today(now, tz)
    first = request.range_from or last - timedelta(days=LEDGER_DAYS - 1)
    if first > last:
        raise InvalidInput(f"from {first.isoformat()!r} is after to {last.isoformat()!r}; swap them.")
    accruals: list[Any] = []
    cursor: str | None = None
    truncated = False
    while True:
        page = await list_accruals(
            session,
            caller,
            creator_id=creator.id,
            period_from=first,
            period_to=last,
            newest_first=True,
            limit=PAGE,
            cursor=cursor,
        )
        accruals += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        if len(accruals) >= LEDGER_ACCRUALS:
            truncated = True
            break
    payments: list[Any] = []
    cursor = None
    while True:
        paid = await list_payout_payments(
            session, caller, creator_id=creator.id, paid_from=first, paid_to=last, cursor=cursor, limit=PAGE
        )
        payments += paid.items
        cursor = paid.next_cursor
        if cursor is None:
            break
        if len(payments) >= LEDGER_PAYMENTS:
            truncated = True
            break
    rows: list[dict[str, Any]] = []
    for accrual in accruals:
        series = "earned (owed)" if accrual.status == "earned" else accrual.status
        rows.append(
            {
                "record": "accrual",
                "series": series,
                "start": accrual.period_start_at.date().isoformat(),
                "end": accrual.period_end_at.date().isoformat(),
                "amount": _dollars(accrual.amount_cents),
                "detail": f"{accrual.structure_name} v{accrual.structure_version}",
            }
        )
    adjustments: list[dict[str, Any]] = []
    for payment in payments:
        rows.append(
            {
                "record": "payment",
                "series": "payment" if payment.status == "paid" else "payment (voided)",
                "start": payment.paid_at.date().isoformat(),
                "end": None,
                "amount": _dollars(payment.total_amount_cents),
                "detail": payment.method_name_snapshot,
            }
        )
        if payment.status != "paid":
            continue  # a voided payment's adjustments count for nothing (see domain/payouts/balance.py)
        for adjustment in (await get_payout_payment(session, caller, payment.id)).payout_adjustments:
            adjustments.append({"payment_id": str(payment.id), **adjustment.model_dump(mode="json")})
            rows.append(
                {
                    "record": "adjustment",
                    "series": adjustment.kind,
                    "start": payment.paid_at.date().isoformat(),
                    "end": None,
                    "amount": _dollars(adjustment.amount_cents),
                    "detail": adjustment.reason,
                }
            )
    currency = next((a.currency for a in accruals), None) or next((p.currency for p in payments), "USD")
    totals = {
        status: sum(a.amount_cents for a in accruals if a.status == status)
        for status in ("earned", "paid", "rejected", "voided")
    }
    paid_cents = sum(p.total_amount_cents for p in payments if p.status == "paid")
    title = f"Payout ledger of @{creator.tiktok_handle}"
    subtitle = (
        f"{first} to {last}: earned and owed {totals['earned'] / 100:,.2f}, paid accruals {totals['paid'] / 100:,.2f}, "
        f"payments {paid_cents / 100:,.2f} {currency}"
    )
    spec = specs.payout_ledger_spec(title, subtitle, rows, currency=currency)
    data = {
        "creator_id": str(creator.id),
        "tiktok_handle": creator.tiktok_handle,
        "range_from": first.isoformat(),
        "range_to": last.isoformat(),
        "currency": currency,
        "accrual_cents_by_status": totals,
        "payments_cents": paid_cents,
        "accruals": [
            a.model_dump(mode="json", exclude={"inputs_snapshot", "readme", "metadata", "created_at", "updated_at"})
            for a in accruals
        ],
        "payments": [p.model_dump(mode="json") for p in payments],
        "adjustments": adjustments,
        "truncated": truncated,
    }
    drawn = [s for s in specs.LEDGER_COLORS if any(row["series"] == s for row in rows)]
    notes = (
        [f"Only the newest {LEDGER_ACCRUALS} accruals and {LEDGER_PAYMENTS} payments are drawn."] if truncated else []
    )
    return Drawn(title, data, spec, drawn, len(rows), notes)


async def _program_health(session: AsyncSession, caller: Caller, request: ChartRequest, now: datetime) -> Drawn:
    report = await health.program_health(session, caller, request.entity_id, now=now)
    rows: list[dict[str, Any]] = []
    for state, count in sorted(report.creators.by_state.items()):
        rows.append({"check": f"creators {state}", "area": "creators", "count": count, "detail": None})
    if not report.creators.by_state:
        rows.append({"check": "creators with trouble", "area": "creators", "count": 0, "detail": None})
    rows.append(
        {
            "check": "videos waiting in the inbox",
            "area": "inbox",
            "count": report.inbox.pending_review_count,
            "detail": None,
        }
    )
    rows.append({"check": "goals at risk", "area": "goals", "count": report.goals.at_risk_count, "detail": None})
    rows.append({"check": "goals missed", "area": "goals", "count": report.goals.missed_count, "detail": None})
    rows.append(
        {
            "check": "over-posting (last 7 days)",
            "area": "over-posting",
            "count": report.over_posting.recent_count,
            "detail": f"{report.over_posting.historical_count} older in {report.over_posting.lookback_days} days",
        }
    )
    owed = report.outstanding_payouts
    rows.append(
        {
            "check": "creators owed payouts",
            "area": "payouts",
            "count": owed.creator_count,
            "detail": f"{owed.total_cents / 100:,.2f} outstanding",
        }
    )
    project = await get_project(session, caller, request.entity_id)
    problems = sum(row["count"] for row in rows)
    title = f"Program health of {project.name}: {problems} item{'s' if problems != 1 else ''} need attention"
    subtitle = f"as of {report.generated_at:%Y-%m-%d %H:%M} UTC; get_program_health lists each with its ids"
    spec = specs.program_health_spec(title, subtitle, rows)
    areas = [a for a in specs.HEALTH_COLORS if any(row["area"] == a for row in rows)]
    return Drawn(title, report.model_dump(mode="json"), spec, areas, len(rows))


async def _content_calendar(session: AsyncSession, caller: Caller, request: ChartRequest, now: datetime) -> Drawn:
    """One creator's calendar, or the first `limit` creators (handle order) of a project or campaign tree."""
    scope = {f"{request.entity_type}_id": request.entity_id}
    calendar = await content_calendar(
        session, caller, now=now, range_from=request.range_from, range_to=request.range_to, limit=request.limit,
        day_columns=True, **scope,
    )  # fmt: skip
    width = (calendar.range_to - calendar.range_from).days + 1
    days = [(calendar.range_from + timedelta(days=i)).isoformat() for i in range(width)]
    rows: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    for item in calendar.items:
        if item.days is None:  # never: day_columns=True gives every creator its days
            continue
        label = f"@{item.tiktok_handle}"
        over = {day.isoformat() for day in item.over_posting_days}
        for i, day in enumerate(days):
            cell = {
                "creator": label,
                "day": day,
                "counted": item.days.counted[i],
                "pending": item.days.pending[i],
                "excluded": item.days.excluded[i],
                "over_posting": day in over,
            }
            rows.append({"record": "day", **cell})
            marked = (("pending", cell["pending"]), ("excluded", cell["excluded"]), ("over-posting", int(day in over)))
            markers += [{"record": "marker", **cell, "marker": m, "count": n} for m, n in marked if n]
    rows += markers
    creators = [f"@{item.tiktok_handle}" for item in calendar.items]
    if calendar.scope == "creator":
        subject = creators[0]
    else:
        subject = f"{calendar.scope} {await _subject_label(session, caller, request.entity_type, request.entity_id)}"
    due = [item.still_due for item in calendar.items if item.still_due is not None]
    if not due:
        still_due = "no posts cadence"
    elif calendar.scope == "creator":
        still_due = f"{due[0]} post{'s' if due[0] != 1 else ''} still due this period"
    else:
        still_due = f"{sum(due)} posts still due this period ({len(due)} creators with a cadence)"
    shown = f"; {len(creators)} of {calendar.creator_count} creators" if calendar.next_cursor else ""
    title = f"Content calendar of {subject}"
    range_text = f"{calendar.range_from} to {calendar.range_to} ({calendar.timezone})"
    subtitle = f"{range_text}, colour = counted posts; {still_due}{shown}"
    spec = specs.content_calendar_spec(title, subtitle, rows, creators=creators, days=days)
    series = ["counted posts", *(m for m in specs.CALENDAR_MARKERS if any(r.get("marker") == m for r in markers))]
    notes = [f"Only the first {len(creators)} creators (handle order) are drawn."] if calendar.next_cursor else []
    return Drawn(title, calendar.model_dump(mode="json"), spec, series, len(rows), notes)
