"""Output models of `get_analytics` (they become the tool's `outputSchema`; descriptions are read by models)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AnalyticsPoint", "AnalyticsSeries"]


class AnalyticsPoint(BaseModel):
    """One bucket of a series."""

    model_config = ConfigDict(frozen=True)

    start: date = Field(description="First local day of the bucket (organization timezone).")
    value: int | float | None = Field(description="null = no data for this bucket (not zero).")
    partial: bool = Field(description="true when the bucket's data is incomplete; `why` says how.")
    why: list[str] | None = Field(
        default=None, description="Codes from `reasons`, some with ':N' = how many videos or creators."
    )


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
    points: list[AnalyticsPoint] = Field(description="Oldest first, one per bucket, none left out.")
    total: int | None = Field(description="Sum of the non-null values, for raw metrics in mode 'new'; else null.")
    videos: int | None = Field(
        description="Counted videos the series sums over (tracking-disabled ones included); null if not used."
    )
    creators: int | None = Field(description="Creators whose followers are summed; null if followers are not used.")
    reasons: dict[str, str] = Field(description="What each code used in `why` means.")
    notes: list[str] = Field(description="How the figures were computed and caveats; read before concluding.")
