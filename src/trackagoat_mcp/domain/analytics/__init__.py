"""Analytics: bucketed time series of raw and derived metrics, computed from stats snapshots.

`series.py` holds the rules (`get_analytics`), `metrics.py` the metric names and what each needs,
`edges.py` the one SQL statement per series, `derived.py` the per-bucket formulas and null rules.
"""

from trackagoat_mcp.domain.analytics.metrics import (
    BaseMetric,
    EntityType,
    Granularity,
    Metric,
    Mode,
)
from trackagoat_mcp.domain.analytics.schemas import AnalyticsBuckets, AnalyticsPoint, AnalyticsSeries
from trackagoat_mcp.domain.analytics.series import MAX_BUCKETS, get_analytics

__all__ = [
    "MAX_BUCKETS",
    "AnalyticsBuckets",
    "AnalyticsPoint",
    "AnalyticsSeries",
    "BaseMetric",
    "EntityType",
    "Granularity",
    "Metric",
    "Mode",
    "get_analytics",
]
