"""The Sentiment Radar: comment sentiment across a project, a campaign tree or a creator over a range of days.

Scope: exactly one of a project, a campaign (its whole tree, each video once) or a creator; only counted videos
(`auto_tracked`, `included`, `direct_add`, tracking not disabled). Range: local days in the organization's
timezone, default the last 30; comments are matched on their TikTok time (`posted_at`), not on when they were
scraped. Comments TikTok showed as deleted are left out of everything.

Figures (`domain.sentiment` scores each comment once, when it is stored):

* `total` = comments in scope and range; `analyzed` = those with a score (a text with at least one word).
* `positive` / `neutral` / `negative` = analyzed comments scoring above / at / below zero; the shares are
  percentages of `analyzed` (one decimal), null when nothing was analyzed.
* `average_score` = the mean AFINN comparative score of the analyzed comments (4 decimals); above zero leans positive.
* `over_time`: the same per day or week (weeks start on Monday) in the organization's timezone, every bucket listed.
* `top_creators`: creators with analyzed comments, best average score first (more analyzed comments break ties).
* **Negative vibes** (`negative_vibes`): every in-scope video with at least `MIN_ANALYZED` (10) analyzed comments in
  the range of which at least `NEGATIVE_SHARE` (40) % are negative, compared in integers (4 of 10 is in, 39 of 100
  is not); worst share first. The radar lists the first `LISTED_VIDEOS` (3) and says how many there are.

One statement per radar: the comments of the scoped videos in the range are read once (an index covers them), then
summed per video and per bucket; totals, creators and the alert are added up from the per-video rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, Uuid, case, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.models import Creator, Video, VideoComment, table_of
from trackagoat_mcp.domain.campaigns import get_campaign_row
from trackagoat_mcp.domain.creators import get_creator
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import resolve_range
from trackagoat_mcp.domain.tree import is_counted, tree_video_ids
from trackagoat_mcp.domain.videos import get_video
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "LISTED_VIDEOS",
    "MIN_ANALYZED",
    "NEGATIVE_SHARE",
    "CreatorSentiment",
    "Granularity",
    "NegativeVideo",
    "RadarScope",
    "SentimentBuckets",
    "SentimentRadar",
    "get_sentiment_radar",
    "negative_vibes",
    "resolve_scope",
]

NEGATIVE_SHARE = 40
"""Percent of analyzed comments that must be negative for a video to raise the negative-vibes alert."""
MIN_ANALYZED = 10
"""Analyzed comments a video needs in the range before its share counts (fewer is noise)."""
LISTED_VIDEOS = 3
TOP_CREATORS = 5
MAX_BUCKETS = 400
Granularity = Literal["day", "week"]


@dataclass(frozen=True)
class RadarScope:
    """What a radar or comment list covers: its kind, the id, and the SQL condition on `Video` rows."""

    kind: Literal["project", "campaign", "creator", "video"]
    id: uuid.UUID
    where: Any


async def resolve_scope(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    campaign_id: Any | None = None,
    creator_id: Any | None = None,
    video_id: Any | None = None,
    allow_video: bool = False,
) -> RadarScope:
    """The one scope given (another organization's id is not found), as a condition on counted videos."""
    given = {"project_id": project_id, "campaign_id": campaign_id, "creator_id": creator_id}
    if allow_video:
        given["video_id"] = video_id
    chosen = [(name, value) for name, value in given.items() if value is not None]
    if len(chosen) != 1:
        names = ", ".join(given)
        raise InvalidInput(
            f"Give exactly one of {names} (got {[name for name, _ in chosen]!r}); ids come from list tools."
        )
    name, value = chosen[0]
    videos = table_of(Video).c
    base = [videos.org_id == caller.org_id]
    if name == "project_id":
        project = await get_project(session, caller, value)
        return RadarScope("project", project.id, [*base, videos.project_id == project.id])
    if name == "campaign_id":
        campaign = await get_campaign_row(session, caller, value)
        return RadarScope("campaign", campaign.id, [*base, videos.id.in_(tree_video_ids(campaign.id))])
    if name == "creator_id":
        creator = await get_creator(session, caller, value)
        return RadarScope("creator", creator.id, [*base, videos.creator_id == creator.id])
    video = await get_video(session, caller, value)
    return RadarScope("video", video.id, [*base, videos.id == video.id])


class SentimentBuckets(BaseModel):
    """Sentiment over time as columns, oldest first: entry i of every list is bucket i."""

    model_config = ConfigDict(frozen=True)

    start: list[date] = Field(description="First local day of each bucket.")
    total: list[int]
    analyzed: list[int]
    positive: list[int]
    negative: list[int]
    average_score: list[float | None] = Field(description="null = nothing analyzed in that bucket.")


class CreatorSentiment(BaseModel):
    """One creator's comment sentiment in the range."""

    model_config = ConfigDict(frozen=True)

    creator_id: uuid.UUID
    handle: str
    analyzed: int
    positive_share: float
    negative_share: float
    average_score: float


class NegativeVideo(BaseModel):
    """A video raising the negative-vibes alert: its negative share among its analyzed comments in the range."""

    model_config = ConfigDict(frozen=True)

    video_id: uuid.UUID
    tiktok_video_id: str
    url: str
    creator_id: uuid.UUID | None
    analyzed: int
    negative: int
    negative_share: float = Field(description="Percent of analyzed comments that are negative.")


class SentimentRadar(BaseModel):
    """Comment sentiment of a project, campaign tree or creator over a range of local days."""

    model_config = ConfigDict(frozen=True)

    scope: str
    scope_id: uuid.UUID
    range_from: date
    range_to: date
    timezone: str
    granularity: str
    total: int = Field(description="Comments in range (TikTok time), deleted ones left out.")
    analyzed: int = Field(description="Comments with a score (text with words).")
    positive: int
    neutral: int
    negative: int
    positive_share: float | None = Field(description="% of analyzed; null if none.")
    negative_share: float | None
    average_score: float | None = Field(description="Mean AFINN comparative score; > 0 leans positive.")
    over_time: SentimentBuckets
    top_creators: list[CreatorSentiment]
    negative_vibes: list[NegativeVideo] = Field(description=f"Up to {LISTED_VIDEOS}, worst first.")
    negative_vibes_total: int = Field(
        description=f"Videos with >= {NEGATIVE_SHARE}% negative among >= {MIN_ANALYZED} analyzed comments."
    )
    summary: str


@dataclass(frozen=True)
class _Sums:
    total: int
    analyzed: int
    positive: int
    negative: int
    score: float


def _sum_columns(comments: Any) -> list[Any]:
    return [
        func.count().label("total"),
        func.count(comments.score).label("analyzed"),
        func.coalesce(func.sum(case((comments.score > 0, 1), else_=0)), 0).label("positive"),
        func.coalesce(func.sum(case((comments.score < 0, 1), else_=0)), 0).label("negative"),
        func.coalesce(func.sum(comments.score), 0.0).label("score"),
    ]


def _sums(row: Any) -> _Sums:
    return _Sums(int(row.total), int(row.analyzed), int(row.positive), int(row.negative), float(row.score))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(sums: _Sums) -> float | None:
    return round(sums.score / sums.analyzed, 4) if sums.analyzed else None


async def _per_video(session: AsyncSession, scope: RadarScope, start: datetime, end: datetime) -> list[Any]:
    """One row per scoped video with comments in range: its ids and sums."""
    videos = table_of(Video).c
    comments = table_of(VideoComment).c
    scoped = select(videos.id, videos.creator_id).where(*scope.where, is_counted(videos)).subquery("scoped")
    query = (
        select(comments.video_id, scoped.c.creator_id, *_sum_columns(comments))
        .join(scoped, scoped.c.id == comments.video_id)
        .where(comments.posted_at >= start, comments.posted_at < end, comments.deleted_at.is_(None))
        .group_by(comments.video_id, scoped.c.creator_id)
    )
    return list((await session.execute(query)).all())


def _bucket_case(column: Any, edges: Sequence[datetime], low: int, high: int) -> Any:
    """A balanced CASE over the bucket edges: the index of the bucket holding `column` (log2 comparisons a row)."""
    if high - low <= 1:
        return literal(low, Integer)
    middle = (low + high) // 2
    return case(
        (column < edges[middle], _bucket_case(column, edges, low, middle)),
        else_=_bucket_case(column, edges, middle, high),
    )


def _bucket_starts(first: date, last: date, granularity: str) -> list[date]:
    if granularity == "week":
        first = first - timedelta(days=first.weekday())
    step = timedelta(days=7 if granularity == "week" else 1)
    starts = []
    day = first
    while day <= last:
        starts.append(day)
        day += step
    return starts


def negative_videos(rows: Sequence[Any]) -> list[tuple[Any, _Sums]]:
    """The per-video rows breaking the negative-vibes rule, worst share first (then more analyzed, then id)."""
    hits = [(row, _sums(row)) for row in rows]
    hits = [
        (row, s) for row, s in hits if s.analyzed >= MIN_ANALYZED and 100 * s.negative >= NEGATIVE_SHARE * s.analyzed
    ]
    return sorted(hits, key=lambda hit: (-hit[1].negative / hit[1].analyzed, -hit[1].analyzed, str(hit[0].video_id)))


async def _negative_records(session: AsyncSession, hits: Sequence[tuple[Any, _Sums]]) -> list[NegativeVideo]:
    if not hits:
        return []
    videos = table_of(Video).c
    ids = [row.video_id for row, _ in hits]
    found = {
        row.id: row
        for row in (
            await session.execute(select(videos.id, videos.tiktok_video_id, videos.url).where(videos.id.in_(ids)))
        )
    }
    return [
        NegativeVideo(
            video_id=row.video_id,
            tiktok_video_id=found[row.video_id].tiktok_video_id,
            url=found[row.video_id].url,
            creator_id=row.creator_id,
            analyzed=sums.analyzed,
            negative=sums.negative,
            negative_share=round(100 * sums.negative / sums.analyzed, 1),
        )
        for row, sums in hits
    ]


async def _range(
    session: AsyncSession, caller: Caller, range_from: date | None, range_to: date | None, now: datetime
) -> tuple[str, date, date, datetime, datetime]:
    tz = (await get_org(session, caller)).timezone
    first, last = resolve_range(now, tz, range_from, range_to)
    start, end = day_range_utc(first, last, tz)
    return tz, first, last, start, end


async def negative_vibes(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    campaign_id: Any | None = None,
    creator_id: Any | None = None,
    range_from: date | None = None,
    range_to: date | None = None,
    now: datetime,
) -> list[NegativeVideo]:
    """Every video of the scope breaking the negative-vibes rule in the range, worst share first.

    The rule and the defaults are the radar's (module docstring): exactly one of `project_id`, `campaign_id`,
    `creator_id`; local days `range_from`..`range_to`, default the last 30 ending today.
    """
    scope = await resolve_scope(session, caller, project_id=project_id, campaign_id=campaign_id, creator_id=creator_id)
    _tz, _first, _last, start, end = await _range(session, caller, range_from, range_to, now)
    return await _negative_records(session, negative_videos(await _per_video(session, scope, start, end)))


async def get_sentiment_radar(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    campaign_id: Any | None = None,
    creator_id: Any | None = None,
    range_from: date | None = None,
    range_to: date | None = None,
    granularity: str = "day",
    now: datetime,
) -> SentimentRadar:
    """The Sentiment Radar of one scope over local days `range_from`..`range_to` (see the module docstring)."""
    if granularity not in ("day", "week"):
        raise InvalidInput(f"granularity {granularity!r} is not 'day' or 'week'.")
    scope = await resolve_scope(session, caller, project_id=project_id, campaign_id=campaign_id, creator_id=creator_id)
    tz, first, last, start, end = await _range(session, caller, range_from, range_to, now)
    starts = _bucket_starts(first, last, granularity)
    if len(starts) > MAX_BUCKETS:
        raise InvalidInput(
            f"{first.isoformat()}..{last.isoformat()} has {len(starts)} {granularity} buckets, more than "
            f"{MAX_BUCKETS}; use granularity 'week' or a shorter range."
        )
    edges = [day_range_utc(day, day, tz)[0] for day in starts]
    rows, buckets = await _scan(session, scope, start, end, edges, starts)
    totals = _Sums(
        sum(int(r.total) for r in rows),
        sum(int(r.analyzed) for r in rows),
        sum(int(r.positive) for r in rows),
        sum(int(r.negative) for r in rows),
        sum(float(r.score) for r in rows),
    )
    hits = negative_videos(rows)
    listed = await _negative_records(session, hits[:LISTED_VIDEOS])
    creators = await _top_creators(session, rows)
    neutral = totals.analyzed - totals.positive - totals.negative
    summary = f"{totals.total:,} comments, {totals.analyzed:,} analyzed"
    if totals.analyzed:
        positive, negative = _share(totals.positive, totals.analyzed), _share(totals.negative, totals.analyzed)
        summary += f": {positive}% positive, {negative}% negative, average score {_mean(totals)}"
    summary += (
        f". Negative vibes on {len(hits)} video(s); read them with list_comments(video_id=…, sentiment=negative)."
        if hits
        else ". No video has negative vibes."
    )
    return SentimentRadar(
        scope=scope.kind,
        scope_id=scope.id,
        range_from=first,
        range_to=last,
        timezone=tz,
        granularity=granularity,
        total=totals.total,
        analyzed=totals.analyzed,
        positive=totals.positive,
        neutral=neutral,
        negative=totals.negative,
        positive_share=_share(totals.positive, totals.analyzed),
        negative_share=_share(totals.negative, totals.analyzed),
        average_score=_mean(totals),
        over_time=buckets,
        top_creators=creators,
        negative_vibes=listed,
        negative_vibes_total=len(hits),
        summary=summary,
    )


@dataclass
class _VideoSums:
    """One video's sums over the range (the attributes `negative_videos` and `_top_creators` read)."""

    video_id: uuid.UUID
    creator_id: uuid.UUID | None
    total: int = 0
    analyzed: int = 0
    positive: int = 0
    negative: int = 0
    score: float = 0.0


async def _scan(
    session: AsyncSession,
    scope: RadarScope,
    start: datetime,
    end: datetime,
    edges: Sequence[datetime],
    starts: list[date],
) -> tuple[list[_VideoSums], SentimentBuckets]:
    """The comments in range read once into a materialized set (with each one's bucket), then summed per video and
    per bucket in one `UNION ALL` statement; rows come back per video and per bucket, never per comment."""
    videos = table_of(Video).c
    comments = table_of(VideoComment).c
    scoped = select(videos.id, videos.creator_id).where(*scope.where, is_counted(videos)).subquery("scoped")
    bucket = _bucket_case(comments.posted_at, edges, 0, len(edges)).label("bucket")
    in_range = (
        select(comments.video_id, scoped.c.creator_id, bucket, comments.score)
        .join(scoped, scoped.c.id == comments.video_id)
        .where(comments.posted_at >= start, comments.posted_at < end, comments.deleted_at.is_(None))
        .cte("in_range")
        .prefix_with("MATERIALIZED")  # both stores otherwise run the scan once per use below
    )
    by_video = select(
        in_range.c.video_id, in_range.c.creator_id, cast(null(), Integer).label("bucket"), *_sum_columns(in_range.c)
    ).group_by(in_range.c.video_id, in_range.c.creator_id)
    by_bucket = select(
        cast(null(), Uuid).label("video_id"),
        cast(null(), Uuid).label("creator_id"),
        in_range.c.bucket,
        *_sum_columns(in_range.c),
    ).group_by(in_range.c.bucket)
    per_video: list[_VideoSums] = []
    per_bucket = [[0, 0, 0, 0, 0.0] for _ in starts]
    for row in await session.execute(union_all(by_video, by_bucket)):
        sums = _sums(row)
        if row.bucket is None:
            per_video.append(
                _VideoSums(
                    row.video_id, row.creator_id, sums.total, sums.analyzed, sums.positive, sums.negative, sums.score
                )
            )
        else:
            per_bucket[int(row.bucket)] = [sums.total, sums.analyzed, sums.positive, sums.negative, sums.score]
    series = [_Sums(int(a[0]), int(a[1]), int(a[2]), int(a[3]), float(a[4])) for a in per_bucket]
    buckets = SentimentBuckets(
        start=starts,
        total=[s.total for s in series],
        analyzed=[s.analyzed for s in series],
        positive=[s.positive for s in series],
        negative=[s.negative for s in series],
        average_score=[_mean(s) for s in series],
    )
    return per_video, buckets


async def _top_creators(session: AsyncSession, rows: Sequence[Any]) -> list[CreatorSentiment]:
    per: dict[uuid.UUID, list[int | float]] = {}
    for row in rows:
        if row.creator_id is None or not row.analyzed:
            continue
        acc = per.setdefault(row.creator_id, [0, 0, 0, 0.0])
        acc[0] += int(row.analyzed)
        acc[1] += int(row.positive)
        acc[2] += int(row.negative)
        acc[3] += float(row.score)
    ranked = sorted(per.items(), key=lambda item: (-item[1][3] / item[1][0], -item[1][0], str(item[0])))[:TOP_CREATORS]
    if not ranked:
        return []
    creators = table_of(Creator).c
    ids = [creator_id for creator_id, _ in ranked]
    handles = {
        row.id: row.tiktok_handle
        for row in (await session.execute(select(creators.id, creators.tiktok_handle).where(creators.id.in_(ids))))
    }
    return [
        CreatorSentiment(
            creator_id=creator_id,
            handle=handles.get(creator_id, ""),
            analyzed=int(acc[0]),
            positive_share=round(100 * acc[1] / acc[0], 1),
            negative_share=round(100 * acc[2] / acc[0], 1),
            average_score=round(acc[3] / acc[0], 4),
        )
        for creator_id, acc in ranked
    ]
