"""`get_analytics`: a bucketed time series of one metric for a video, creator, campaign or project.

Everything comes from the append-only snapshots, never from the live counters alone:

* **What is summed.** The entity's counted videos (`auto_tracked`, `included`, `direct_add`); a campaign
  uses its whole tree with each video once (a creator item stands for all of that creator's videos).
  Excluded and pending videos add nothing in any bucket, so a video excluded midway disappears from the
  whole series. A video whose tracking was disabled at T counts up to T: it keeps the value of its last
  snapshot before T, so `new` shows no growth after T and `cumulative` keeps what it had reached.
  Followers are summed over the entity's active creators (a campaign's creator items; a creator itself).
* **Buckets** are calendar days, weeks (Monday start) or months in the organization's timezone; the
  requested range is widened to whole buckets (`range_from`/`range_to` say which days they cover). At
  most `MAX_BUCKETS` buckets per call; the default range is the last 30 local days up to today.
* **Modes.** `cumulative` is the sum of the latest snapshot values taken before the bucket's end. `new`
  is the growth within the bucket: per video, its latest value before the end minus its latest value
  before the start. A video's first snapshot is its baseline and adds 0 (the views it had when first
  scraped are in no bucket); the response says how many baselines fell into the range.
* **Honest gaps.** No point is invented: a bucket with no snapshot at all by its end is `null`, not 0, and
  a bucket whose data is incomplete is `partial` with the reasons (`why`), e.g. the bucket still in
  progress, videos without any snapshot by its end, or videos not scraped during it (their growth is
  then counted in the next bucket that has a snapshot).
* **Columns.** The result carries the buckets as columns (`AnalyticsBuckets`: start, value, partial, why), so
  400 daily buckets stay well inside a tool result's 20,000 characters.

Cost: one statement for the videos and, for follower metrics, one for the creators (`edges.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import cast, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import Creator, CreatorSnapshot, Video, VideoSnapshot, table_of
from trackagoat_mcp.db.types import UTCDateTime
from trackagoat_mcp.domain.analytics.derived import LEADING, Number, Series
from trackagoat_mcp.domain.analytics.edges import EdgeFigures, Subjects, edge_figures
from trackagoat_mcp.domain.analytics.metrics import (
    MODES,
    SNAPSHOT_COLUMNS,
    Needs,
    check_metric,
    needs_of,
    period_kind,
    unit_of,
)
from trackagoat_mcp.domain.analytics.schemas import AnalyticsBuckets, AnalyticsPoint, AnalyticsSeries
from trackagoat_mcp.domain.campaigns import get_campaign_row
from trackagoat_mcp.domain.creators import get_creator
from trackagoat_mcp.domain.periods import Period, PeriodKind, period_containing, periods_between
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import resolve_range
from trackagoat_mcp.domain.tree import COUNTED_STATUSES, tree_creator_ids, tree_video_ids
from trackagoat_mcp.domain.videos import get_video
from trackagoat_mcp.errors import InvalidInput

__all__ = ["MAX_BUCKETS", "REASONS", "get_analytics"]

MAX_BUCKETS = 400
REASONS = {
    "in_progress": "The bucket has not ended yet; its figures will still change.",
    "future": "The bucket starts after now; there is no data for it yet.",
    "videos_without_snapshot": "Counted videos posted before the bucket ended had no snapshot by its end; their "
    "figures are missing from it.",
    "videos_not_scraped": "Videos had snapshots before and after the bucket but none inside it; their growth "
    "during it is counted in the next bucket that has a snapshot.",
    "creators_without_snapshot": "Creators had no profile snapshot by the bucket's end; their followers are "
    "missing from it.",
    "creators_not_scraped": "Creators' profiles were not scraped during the bucket; their follower counts are "
    "carried forward from before it.",
    "previous_partial": "The previous bucket, which the growth rate compares with, is partial.",
}
_BUCKET_WORDS = {"daily": "days", "weekly": "weeks (Monday to Sunday)", "monthly": "months"}


@dataclass
class _Scope:
    """The rows an entity's series sums over."""

    entity_id: uuid.UUID
    videos: Any
    creators: Any | None
    notes: list[str] = field(default_factory=list)


def _video_rows(*where: Any) -> Any:
    videos = table_of(Video).c
    return select(
        videos.id.label("id"), videos.posted_at.label("born_at"), videos.tracking_disabled_at.label("cutoff")
    ).where(videos.tracking_status.in_(COUNTED_STATUSES), *where)


def _creator_rows(*where: Any) -> Any:
    creators = table_of(Creator).c
    # A typed NULL: PostgreSQL would take a bare NULL in a subquery for text and refuse to compare it with times.
    no_cutoff = cast(null(), UTCDateTime()).label("cutoff")
    return select(creators.id.label("id"), creators.created_at.label("born_at"), no_cutoff).where(*where)


async def _scope(session: AsyncSession, caller: Caller, entity_type: str, entity_id: Any) -> _Scope:
    videos, creators = table_of(Video).c, table_of(Creator).c
    if entity_type == "video":
        video = await get_video(session, caller, entity_id)
        notes = []
        if video.tracking_status not in COUNTED_STATUSES:
            notes.append(
                f"This video is {video.tracking_status}: it does not count, so every bucket is null until it is "
                "included (review_videos)."
            )
        return _Scope(video.id, _video_rows(videos.id == video.id), None, notes)
    if entity_type == "creator":
        creator = await get_creator(session, caller, entity_id)
        return _Scope(
            creator.id, _video_rows(videos.creator_id == creator.id), _creator_rows(creators.id == creator.id)
        )
    if entity_type == "campaign":
        campaign = await get_campaign_row(session, caller, entity_id)
        return _Scope(
            campaign.id,
            _video_rows(videos.project_id == campaign.project_id, videos.id.in_(tree_video_ids(campaign.id))),
            _creator_rows(creators.is_active, creators.id.in_(tree_creator_ids(campaign.id))),
        )
    project = await get_project(session, caller, entity_id)
    return _Scope(
        project.id,
        _video_rows(videos.project_id == project.id),
        _creator_rows(creators.is_active, creators.project_id == project.id),
    )


def _periods(kind: PeriodKind, first: date, last: date, tz: str, granularity: str) -> list[Period]:
    """The buckets covering `first`..`last`, preceded by `LEADING` more (bounded by `MAX_BUCKETS`)."""
    shown: list[Period] = []
    for period in periods_between(kind, first, last, tz):
        shown.append(period)
        if len(shown) > MAX_BUCKETS:
            raise InvalidInput(
                f"The range {first.isoformat()}..{last.isoformat()} has more than {MAX_BUCKETS} {granularity} "
                f"buckets; shorten it or use a coarser granularity ('week' or 'month')."
            )
    leading: list[Period] = []
    for _ in range(LEADING):
        before = (leading[0] if leading else shown[0]).start_date - timedelta(days=1)
        leading.insert(0, period_containing(kind, before, tz))
    return leading + shown


def _why(
    needs: Needs, videos: list[EdgeFigures], creators: list[EdgeFigures], period: Period, j: int, now: datetime
) -> list[str]:
    """Codes saying why bucket `j` is partial (empty when it is complete)."""
    if period.start_at >= now:
        return ["future"]
    why = ["in_progress"] if period.end_at > now else []
    for prefix, figures, used in (("videos", videos, bool(needs.columns)), ("creators", creators, needs.followers)):
        if used and figures[j].missing:
            why.append(f"{prefix}_without_snapshot:{figures[j].missing}")
        if used and figures[j].not_scraped:
            why.append(f"{prefix}_not_scraped:{figures[j].not_scraped}")
    return why


async def get_analytics(
    session: AsyncSession,
    caller: Caller,
    *,
    entity_type: str,
    entity_id: Any,
    metric: str = "views",
    granularity: str = "day",
    mode: str = "new",
    range_from: date | None = None,
    range_to: date | None = None,
    base_metric: str | None = None,
    now: datetime,
) -> AnalyticsSeries:
    """A time series of `metric` for the entity (see the module docstring for every rule)."""
    check_metric(entity_type, metric, base_metric)
    if mode not in MODES:
        raise InvalidInput(f"mode {mode!r} is not one of {list(MODES)!r}; pick one of them.")
    kind = period_kind(granularity)
    scope = await _scope(session, caller, entity_type, entity_id)
    org = await get_org(session, caller)
    first, last = resolve_range(now, org.timezone, range_from, range_to)
    periods = _periods(kind, first, last, org.timezone, granularity)
    needs = needs_of(metric, base_metric)

    videos: list[EdgeFigures] = []
    creators: list[EdgeFigures] = []
    if needs.videos:
        columns = tuple(SNAPSHOT_COLUMNS[name] for name in needs.columns)
        videos = await edge_figures(session, Subjects(scope.videos, VideoSnapshot, columns), periods)
    if needs.followers and scope.creators is not None:
        creators = await edge_figures(session, Subjects(scope.creators, CreatorSnapshot, ("follower_count",)), periods)
    series = Series(periods=periods, videos=videos, creators=creators, mode=mode)

    points: list[AnalyticsPoint] = []
    for j in range(LEADING, len(periods)):
        why = _why(needs, videos, creators, periods[j], j, now)
        future = why == ["future"]
        value: Number | None = None if future else series.value(metric, j, base_metric)
        if metric == "growth_rate_pop" and not future and _why(needs, videos, creators, periods[j - 1], j - 1, now):
            why.append("previous_partial")
        points.append(AnalyticsPoint(start=periods[j].start_date, value=value, partial=bool(why), why=why or None))

    raw = metric in (*SNAPSHOT_COLUMNS, "followers", "posts")
    values = [p.value for p in points if p.value is not None]
    used_codes = {code.split(":")[0] for p in points for code in p.why or []}
    return AnalyticsSeries(
        entity_type=entity_type,
        entity_id=scope.entity_id,
        metric=metric,
        base_metric=base_metric,
        granularity=granularity,
        mode=mode,
        unit="percent" if metric == "growth_rate_pop" else unit_of(metric, mode),
        timezone=org.timezone,
        range_from=periods[LEADING].start_date,
        range_to=periods[-1].last_date,
        buckets=AnalyticsBuckets.of(points),
        total=int(sum(values)) if raw and mode == "new" else None,
        videos=videos[LEADING].subjects if videos else None,
        creators=creators[LEADING].subjects if needs.followers else None,
        reasons={code: text for code, text in REASONS.items() if code in used_codes},
        notes=scope.notes + _notes(kind, org.timezone, needs, mode, videos, creators, values),
    )


def _notes(
    kind: PeriodKind,
    tz: str,
    needs: Needs,
    mode: str,
    videos: list[EdgeFigures],
    creators: list[EdgeFigures],
    values: list[Number],
) -> list[str]:
    notes = [
        f"Buckets are calendar {_BUCKET_WORDS[kind]} in {tz}; each bucket's figures come from the latest snapshots "
        "taken before it ends."
    ]
    shown = videos[LEADING:]
    if needs.columns and mode == "new":
        baselines = sum(f.base_n for f in shown)
        text = (
            "new = growth between snapshots within each bucket; each video's first snapshot is its baseline and "
            "adds 0, so what a video had when first scraped is in no bucket."
        )
        if baselines:
            views = sum(f.base.get("view_count", 0) for f in shown)
            held = f", holding {views:,} views then" if "views" in needs.columns else ""
            text += f" {baselines} video(s) had their first snapshot in this range{held}."
        notes.append(text)
    if videos and videos[LEADING].subjects == 0:
        notes.append("No counted videos: only auto_tracked, included and direct_add videos count.")
    if videos and videos[LEADING].disabled:
        notes.append(
            f"{videos[LEADING].disabled} video(s) had tracking disabled; each counts only up to the moment it was "
            "disabled (no growth after it)."
        )
    if creators:
        notes.append(
            f"Followers are summed over {creators[LEADING].subjects} creator(s), each carried forward from "
            "its latest profile snapshot."
        )
    if mode == "new" and any(v < 0 for v in values):
        notes.append("Counts can drop (TikTok removes views, people unfollow), so new values can be negative.")
    return notes
