"""`GET /analytics`: the time series of `get_analytics`, as JSON or (`?format=csv`) one CSV row per bucket.

Parameter names are trackagoat's (`entity`, `entity_id`, `metric`, `mode`, `granularity`, `from`, `to`,
`base_metric`); the answer is the same `AnalyticsSeries` record the MCP tool returns.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from trackagoat_mcp.domain.analytics import AnalyticsSeries, BaseMetric, EntityType, Granularity, Metric, Mode
from trackagoat_mcp.domain.analytics import get_analytics as series_of
from trackagoat_mcp.http.rest.common import Day
from trackagoat_mcp.http.rest.common import Query as StrictQuery
from trackagoat_mcp.http.rest.csv_export import CSV_RESPONSE
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, success

router = APIRouter(tags=["analytics"])


class AnalyticsQuery(StrictQuery):
    """Which series: one metric of one entity, bucketed (range default: the last 30 days)."""

    entity: EntityType
    entity_id: Annotated[str, Field(min_length=1, max_length=64)]
    metric: Metric = "views"
    granularity: Granularity = "day"
    mode: Mode = "new"
    from_: Annotated[Day | None, Field(alias="from", description="First local day (YYYY-MM-DD).")] = None
    to: Annotated[Day | None, Field(description="Last local day, inclusive.")] = None
    base_metric: Annotated[BaseMetric | None, Field(description="Required by growth_rate_pop.")] = None
    format: Literal["json", "csv"] = "json"


def _csv(series: AnalyticsSeries) -> Response:
    """One row per bucket: start, value (empty = no data), partial, why (codes joined by ';'), and the series' ids."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["entity_type", "entity_id", "metric", "mode", "granularity", "unit", "start", "value", "partial", "why"]
    )
    for point in series.buckets.points():
        value = "" if point.value is None else point.value
        why = ";".join(point.why or [])
        row = [series.entity_type, series.entity_id, series.metric, series.mode, series.granularity, series.unit]
        writer.writerow([*row, point.start.isoformat(), value, "true" if point.partial else "false", why])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="analytics.csv"'},
    )


@router.get("/analytics", response_model=Envelope[AnalyticsSeries], responses=CSV_RESPONSE)
async def get_analytics(state: StateDep, caller: CallerDep, q: Annotated[AnalyticsQuery, Query()]) -> Response:
    """Time series of one metric for a video, creator, campaign (whole tree) or project, from stats snapshots."""
    async with state.db.read() as session:
        series = await series_of(
            session,
            caller,
            entity_type=q.entity,
            entity_id=q.entity_id,
            metric=q.metric,
            granularity=q.granularity,
            mode=q.mode,
            range_from=q.from_,
            range_to=q.to,
            base_metric=q.base_metric,
            now=state.clock.now(),
        )
    return _csv(series) if q.format == "csv" else success(series)
