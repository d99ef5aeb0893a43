"""The metrics `get_analytics` knows: names, which entities they apply to, what data they need, and their units.

Raw metrics are sums over the entity's counted videos (`views`, `likes`, `comments`, `shares`, `saves`,
from video snapshots), its creators' follower counts (`followers`, from creator snapshots) or its posts
(`posts`, counted videos by post time). Derived metrics are computed per bucket from those sums, with the
null rules of the reference guide (§6); see `derived.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from trackagoat_mcp.domain.periods import PeriodKind
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "BASE_METRICS",
    "ENTITY_TYPES",
    "GRANULARITIES",
    "INTERACTIONS",
    "METRICS",
    "MODES",
    "SNAPSHOT_COLUMNS",
    "BaseMetric",
    "EntityType",
    "Granularity",
    "Metric",
    "Mode",
    "Needs",
    "check_metric",
    "needs_of",
    "period_kind",
    "unit_of",
]

EntityType = Literal["video", "creator", "campaign", "project"]
Granularity = Literal["day", "week", "month"]
Mode = Literal["new", "cumulative"]
BaseMetric = Literal["views", "likes", "comments", "shares", "saves", "followers", "posts"]
Metric = Literal[
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "followers",
    "posts",
    "engagement_rate_by_views",
    "engagement_rate_by_followers",
    "posts_per_week",
    "avg_views_per_post",
    "growth_rate_pop",
]
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)
GRANULARITIES: tuple[str, ...] = get_args(Granularity)
MODES: tuple[str, ...] = get_args(Mode)
METRICS: tuple[str, ...] = get_args(Metric)
BASE_METRICS: tuple[str, ...] = get_args(BaseMetric)

SNAPSHOT_COLUMNS: dict[str, str] = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
    "saves": "save_count",
}
"""Video-snapshot metrics and the `VideoSnapshot` column each one reads."""
INTERACTIONS = ("likes", "comments", "shares", "saves")
"""The numerator of both engagement rates."""
VIDEO_ONLY_BASES = ("views", "likes", "comments", "shares", "saves")
_NOT_FOR_VIDEOS = {
    "followers": "followers are a creator figure; ask for the video's creator (creator_id from get_video) instead",
    "posts": "posts are counted for creators, campaigns and projects",
    "engagement_rate_by_followers": "a video has no followers; use engagement_rate_by_views, or the creator",
    "posts_per_week": "posts are counted for creators, campaigns and projects",
    "avg_views_per_post": "posts are counted for creators, campaigns and projects",
}
_UNITS = {
    "followers": "followers",
    "posts": "posts",
    "engagement_rate_by_views": "percent",
    "engagement_rate_by_followers": "percent",
    "posts_per_week": "posts per week",
    "avg_views_per_post": "views per post",
    "growth_rate_pop": "percent",
}
_PERIOD_KINDS: dict[str, PeriodKind] = {"day": "daily", "week": "weekly", "month": "monthly"}


@dataclass(frozen=True)
class Needs:
    """What a metric is computed from: video-snapshot columns, follower counts, post counts."""

    columns: tuple[str, ...] = ()
    """Metric names of `SNAPSHOT_COLUMNS` whose sums are needed."""
    followers: bool = False
    posts: bool = False

    @property
    def videos(self) -> bool:
        """Whether the video query has to run at all."""
        return bool(self.columns) or self.posts


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{what} {value!r} is not one of {list(allowed)!r}; pick one of them.")
    return value


def check_metric(entity_type: str, metric: str, base_metric: str | None) -> None:
    """Raise `InvalidInput` unless `metric` (with `base_metric`) applies to `entity_type`."""
    _choice(entity_type, ENTITY_TYPES, "entity_type")
    _choice(metric, METRICS, "metric")
    if metric == "growth_rate_pop":
        if base_metric is None:
            raise InvalidInput(
                f"growth_rate_pop needs base_metric, the series whose period-over-period change is measured: one of "
                f"{list(BASE_METRICS)!r}."
            )
        _choice(base_metric, BASE_METRICS, "base_metric")
        if entity_type == "video" and base_metric not in VIDEO_ONLY_BASES:
            raise InvalidInput(
                f"base_metric {base_metric!r} does not apply to a video; use one of {list(VIDEO_ONLY_BASES)!r}."
            )
    elif base_metric is not None:
        raise InvalidInput(f"base_metric {base_metric!r} is only used with metric 'growth_rate_pop'; leave it out.")
    if entity_type == "video" and metric in _NOT_FOR_VIDEOS:
        raise InvalidInput(f"metric {metric!r} does not apply to a video: {_NOT_FOR_VIDEOS[metric]}.")


def needs_of(metric: str, base_metric: str | None = None) -> Needs:
    """The data `metric` is computed from."""
    if metric in SNAPSHOT_COLUMNS:
        return Needs(columns=(metric,))
    if metric == "followers":
        return Needs(followers=True)
    if metric in ("posts", "posts_per_week"):
        return Needs(posts=True)
    if metric == "engagement_rate_by_views":
        return Needs(columns=("views", *INTERACTIONS))
    if metric == "engagement_rate_by_followers":
        return Needs(columns=INTERACTIONS, followers=True)
    if metric == "avg_views_per_post":
        return Needs(columns=("views",), posts=True)
    if metric == "growth_rate_pop" and base_metric is not None:
        return needs_of(base_metric)
    raise InvalidInput(f"metric {metric!r} is not one of {list(METRICS)!r}; pick one of them.")


def unit_of(metric: str, mode: str) -> str:
    """The unit of the series' values, in words."""
    unit = _UNITS.get(metric, metric)
    if mode == "new" and metric in (*SNAPSHOT_COLUMNS, "followers"):
        return f"{unit} gained (net)"
    return unit


def period_kind(granularity: str) -> PeriodKind:
    """The calendar period a granularity buckets by."""
    return _PERIOD_KINDS[_choice(granularity, GRANULARITIES, "granularity")]
