"""Output models of `get_analytics` (they become the tool's `outputSchema`; descriptions are read by models)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AnalyticsBuckets", "AnalyticsPoint", "AnalyticsSeries"]


class AnalyticsPoint(BaseModel):
    """One bucket of a series (how the domain computes it; results carry the buckets as `AnalyticsBuckets`)."""

    model_config = ConfigDict(frozen=True)

    start: date = Field(description="First local day of the bucket (organization timezone).")
    value: int | float | None = Field(description="null = no data for this bucket (not zero).")
    partial: bool = Field(description="true when the bucket's data is incomplete; `why` says how.")
    why: list[str] | None = Field(
        default=None, description="Codes from `reasons`, some with ':N' = how many videos or creators."
    )


class AnalyticsBuckets(BaseModel):
    """The buckets as columns, oldest first: entry i of every list is bucket i.

    Columns instead of one object per bucket: a year of days is 366 buckets, and repeating four key names in each
    would double the result a model reads.
    """

    model_config = ConfigDict(frozen=True)

    start: list[date] = Field(description="First local day of each bucket (organization timezone).")
    value: list[int | float | None] = Field(description="null = no data for that bucket (not zero).")
    partial: list[bool] = Field(description="true when that bucket's data is incomplete; `why` says how.")
    why: list[list[str] | None] = Field(
        description="Codes from `reasons` per bucket (null when complete), some with ':N' = how many videos or "
        "creators."
    )

    @classmethod
    def of(cls, points: list[AnalyticsPoint]) -> AnalyticsBuckets:
        return cls(
            start=[p.start for p in points],
            value=[p.value for p in points],
            partial=[p.partial for p in points],
            why=[p.why for p in points],
        )

    def points(self) -> list[AnalyticsPoint]:
        """The buckets one by one."""
        return [
            AnalyticsPoint(start=start, value=value, partial=partial, why=why)
            for start, value, partial, why in zip(self.start, self.value, self.partial, self.why, strict=True)
        ]


class AnalyticsSeries(BaseModel):
    """A bucketed time series of one metric for one entity, computed from stats snapshots."""

    model_config = ConfigDict(frozen=True)

    entity_type: str
    entity_id: uuid.UUID
    metric: str
    base_metric: str | None
    granularity: str
    mode: str
    unit: str
    timezone: str
    range_from: date = Field(description="First day of the first bucket (whole days, weeks or months).")
    range_to: date = Field(description="Last day of the last bucket, inclusive.")
    buckets: AnalyticsBuckets = Field(description="Every bucket, oldest first, as columns.")
    total: int | None = Field(description="Sum of the non-null values, for raw metrics in mode 'new'; else null.")
    videos: int | None = Field(
        description="Counted videos the series sums over (tracking-disabled ones included); null if not used."
    )
    creators: int | None = Field(description="Creators whose followers are summed; null if followers are not used.")
    reasons: dict[str, str] = Field(description="What each code used in `why` means.")
    notes: list[str] = Field(description="How the figures were computed and caveats; read before concluding.")
