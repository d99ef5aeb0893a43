"""Per-bucket values of every metric, from the edge figures, with the null rules of the reference guide (§6).

`Series` holds the figures at every edge of the requested buckets plus two leading buckets (the growth of
the first bucket needs the value before it, and its `new` value the edge before that). Index `j` below is
the bucket's position in that list; the buckets shown start at `j = LEADING`.

Rules (`new` = change within the bucket, `cumulative` = value at the bucket's end):

* raw metrics: null when no subject had a snapshot by the bucket's end (nothing known, not 0);
  `posts` is never null (it comes from post times, not snapshots);
* `engagement_rate_by_views` = (likes + comments + shares + saves) / views × 100, over the bucket's gains
  (`new`) or the totals at its end (`cumulative`); null when those views are null or ≤ 0;
* `engagement_rate_by_followers` = the same interactions / followers at the bucket's end × 100 (the last
  known follower count, carried forward); null without follower data or with 0 followers;
* `posts_per_week` = posts in the bucket × 7 / days in the bucket (`cumulative`: posts since the first
  bucket began × 7 / days since then);
* `avg_views_per_post` = views (gained, or total) / counted videos posted up to the bucket's end; null
  when there are no such videos or no views data;
* `growth_rate_pop` = (value − previous value) / |previous value| × 100 of the base metric's series;
  null when either is null or the previous one is 0.

Rates are rounded half-even to two decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from trackagoat_mcp.domain.analytics.edges import EdgeFigures
from trackagoat_mcp.domain.analytics.metrics import INTERACTIONS, SNAPSHOT_COLUMNS
from trackagoat_mcp.domain.periods import Period

__all__ = ["LEADING", "Number", "Series"]

LEADING = 2
PLACES = Decimal("0.01")
Number = int | float


def _rate(numerator: int | Decimal | None, denominator: int | Decimal | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return float((Decimal(numerator) * 100 / Decimal(denominator)).quantize(PLACES, ROUND_HALF_EVEN))


def _ratio(numerator: int | None, denominator: int) -> float | None:
    if numerator is None or denominator <= 0:
        return None
    return float((Decimal(numerator) / Decimal(denominator)).quantize(PLACES, ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Series:
    """Edge figures of one series request and the arithmetic on them."""

    periods: Sequence[Period]
    videos: Sequence[EdgeFigures]
    """Per bucket; empty when the metric needs no video data."""
    creators: Sequence[EdgeFigures]
    """Per bucket; empty when the metric needs no follower data."""
    mode: str

    def raw(self, metric: str, j: int) -> int | None:
        """A raw metric's value in bucket `j` (see the module docstring)."""
        if metric == "posts":
            now = self.videos[j].posts
            return now if self.mode == "cumulative" else now - self.videos[j - 1].posts
        figures, name = (self.creators, "follower_count") if metric == "followers" else (self.videos, "")
        name = name or SNAPSHOT_COLUMNS[metric]
        if figures[j].n_data == 0:
            return None
        if self.mode == "cumulative":
            return figures[j].cum[name]
        return figures[j].filled(name) - figures[j - 1].filled(name)

    def value(self, metric: str, j: int, base_metric: str | None = None) -> Number | None:
        """Any metric's value in bucket `j`."""
        if metric in (*SNAPSHOT_COLUMNS, "followers", "posts"):
            return self.raw(metric, j)
        if metric == "engagement_rate_by_views":
            return _rate(self._interactions(j), self.raw("views", j))
        if metric == "engagement_rate_by_followers":
            followers = self.creators[j].cum["follower_count"] if self.creators[j].n_data else None
            return _rate(self._interactions(j), followers)
        if metric == "posts_per_week":
            return self._posts_per_week(j)
        if metric == "avg_views_per_post":
            return _ratio(self.raw("views", j), self.videos[j].posts)
        if metric == "growth_rate_pop" and base_metric is not None:
            current, previous = self.value(base_metric, j), self.value(base_metric, j - 1)
            if current is None or previous is None or previous == 0:
                return None
            return _rate(Decimal(current) - Decimal(previous), abs(Decimal(previous)))
        raise ValueError(f"unknown metric {metric!r}")

    def _interactions(self, j: int) -> int | None:
        parts = [self.raw(name, j) for name in INTERACTIONS]
        return None if any(part is None for part in parts) else sum(part or 0 for part in parts)

    def _posts_per_week(self, j: int) -> float | None:
        if self.mode == "new":
            return _ratio(self.raw("posts", j) * 7, self.periods[j].days)  # type: ignore[operator]
        first = self.periods[LEADING]
        days = (self.periods[j].end_date - first.start_date).days
        return _ratio((self.videos[j].posts - self.videos[LEADING - 1].posts) * 7, days)
