"""`get_leaderboard`: a project's videos, creators or campaigns ranked by one figure over a date range.

Only counted videos count (`auto_tracked`, `included`, `direct_add`, tracking not disabled). Figures:

* **Creators and campaigns**: `posts` = counted videos posted within the range; `views`, `likes`,
  `comments`, `shares`, `saves` = the current counters (latest snapshot) of those videos, and
  `engagement_rate_by_views` = their (likes + comments + shares + saves) / views × 100 (null without
  views). A campaign counts its whole tree, each video once. Active creators only; creators and
  campaigns with nothing in the range are ranked too, with zeros (they matter for "who is behind").
* **Videos**: their own current counters. Ranking by anything but `views_gained` considers the videos
  posted within the range; by `views_gained`, every counted video of the project.
* `views_gained` = views gained within the range from snapshots, by all counted videos whatever their
  post date, exactly as `get_campaign_stats` computes it (so a campaign's figure here equals its
  `views_gained` there). `videos_without_baseline` counts the videos whose gain may be understated.

Range: local days in the organization's timezone, default the last 30 days. One statement per call.

Pages: `next_cursor` holds the rank reached, so the next page ranks again and continues after it (figures that
moved between the calls may shift a row across the page boundary; a ranking is a snapshot).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Float, and_, case, cast, func, literal, null, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.models import Campaign, CampaignItem, Creator, Video, table_of
from trackagoat_mcp.domain.pagination import cursor_int, decode_cursor, encode_cursor
from trackagoat_mcp.domain.pools import pool_members
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import CAPTION_PREVIEW_CHARS, UNTRUSTED
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.stats import StatsRange, gain_columns, resolve_range, scoped_videos
from trackagoat_mcp.domain.tree import is_counted
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "LEADERBOARD_KINDS",
    "ORDERS",
    "Leaderboard",
    "LeaderboardItem",
    "LeaderboardKind",
    "LeaderboardOrder",
    "get_leaderboard",
]

LeaderboardKind = Literal["videos", "creators", "campaigns"]
LeaderboardOrder = Literal[
    "views", "likes", "comments", "shares", "saves", "engagement_rate_by_views", "views_gained", "posts"
]
LEADERBOARD_KINDS: tuple[str, ...] = get_args(LeaderboardKind)
ORDERS: tuple[str, ...] = get_args(LeaderboardOrder)
MAX_ITEMS = 100
COUNTERS = ("views", "likes", "comments", "shares", "saves")
_COUNTER_COLUMNS = ("view_count", "like_count", "comment_count", "share_count", "save_count")
PLACES = 2


class LeaderboardItem(BaseModel):
    """One ranked video, creator or campaign, with every figure (the ranked one is `order_by`)."""

    model_config = ConfigDict(frozen=True)

    rank: int
    id: uuid.UUID
    label: str = Field(description="@handle for creators, the name for campaigns, the URL for videos.")
    caption: str | None = Field(description=f"Videos only; first {CAPTION_PREVIEW_CHARS} characters. " + UNTRUSTED)
    creator_id: uuid.UUID | None = Field(description="Videos only; null for direct adds.")
    posted_at: datetime | None = Field(description="Videos only.")
    posts: int | None = Field(description="Creators and campaigns: counted videos posted in the range.")
    views: int
    likes: int
    comments: int
    shares: int
    saves: int
    engagement_rate_by_views: float | None = Field(description="Percent; null without views.")
    views_gained: int
    pool: str | None = Field(default=None, description="pools=true: the creator's pool key (get_creator_pools).")
    vs_pool: float | None = Field(
        default=None, description="pools=true: median views per post ÷ the pool's median (under 0.5 = weak)."
    )


class Leaderboard(BaseModel):
    """A ranking of a project's videos, creators or campaigns over a range of local days."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    kind: str
    order_by: str
    ascending: bool
    range_from: date
    range_to: date
    timezone: str
    total: int = Field(description="How many were ranked.")
    items: list[LeaderboardItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next ranks; null = last page.")
    videos_without_baseline: int = Field(
        description="Videos posted before the range with no snapshot before it, summed over everything ranked (a "
        "video in several campaigns counts in each); their gain counts from their first snapshot in the range."
    )
    notes: list[str]


def _check(kind: str, order_by: str, limit: int) -> None:
    if kind not in LEADERBOARD_KINDS:
        raise InvalidInput(f"kind {kind!r} is not one of {list(LEADERBOARD_KINDS)!r}; pick one of them.")
    if order_by not in ORDERS:
        raise InvalidInput(f"order_by {order_by!r} is not one of {list(ORDERS)!r}; pick one of them.")
    if kind == "videos" and order_by == "posts":
        raise InvalidInput("order_by 'posts' ranks creators or campaigns; rank videos by views or views_gained.")
    if not 1 <= limit <= MAX_ITEMS:
        raise InvalidInput(f"limit {limit!r} is out of range; use 1 to {MAX_ITEMS}.")


def _per_video(project_id: uuid.UUID, bounds: StatsRange, *, only_posted_in_range: bool, lifetime: bool) -> Any:
    """Per counted video: `posts` (1 if posted in range), the counters, `gained` and `no_baseline`."""
    videos = table_of(Video).c
    in_range = and_(videos.posted_at >= bounds.start_at, videos.posted_at < bounds.end_at)
    where = and_(is_counted(videos), videos.project_id == project_id)
    rows = scoped_videos(videos, and_(where, in_range) if only_posted_in_range else where, bounds, "scoped").c
    posted = and_(rows.posted_at >= bounds.start_at, rows.posted_at < bounds.end_at)
    gain, no_baseline = gain_columns(rows, bounds)
    counters = [
        (rows[column] if lifetime else case((posted, rows[column]), else_=0)).label(name)
        for name, column in zip(COUNTERS, _COUNTER_COLUMNS, strict=True)
    ]
    return select(
        rows.id,
        rows.creator_id,
        rows.posted_at,
        case((posted, 1), else_=0).label("posts"),
        *counters,
        gain.label("gained"),
        no_baseline.label("no_baseline"),
    ).subquery("per_video")


def _sums(per: Any, key: Any) -> Any:
    names = ("posts", *COUNTERS, "gained", "no_baseline")
    return select(key.label("key"), *[func.sum(per.c[name]).label(name) for name in names]).group_by(key)


def _campaign_videos(project_id: uuid.UUID) -> Any:
    """(root_id, id): every campaign of the project and every counted video of its whole tree, each pair once.

    Built from the plain video rows, so the per-video figures (with their snapshot look-ups) are joined once.
    """
    items, campaigns = table_of(CampaignItem).c, table_of(Campaign).c
    video_table = table_of(Video)
    videos = video_table.c
    closure = select(campaigns.id.label("root_id"), campaigns.id.label("campaign_id")).where(
        campaigns.project_id == project_id
    )
    tree = closure.cte("closure", recursive=True)
    tree = tree.union(
        select(tree.c.root_id, items.item_id)
        .join(tree, items.campaign_id == tree.c.campaign_id)
        .where(items.item_type == "campaign")
    )
    leaves = (
        select(tree.c.root_id, items.item_type, items.item_id)
        .join(tree, items.campaign_id == tree.c.campaign_id)
        .where(items.item_type.in_(("creator", "video")))
        .cte("leaves")
    )
    counted = and_(is_counted(videos), videos.project_id == project_id)
    by_creator = (
        select(leaves.c.root_id, videos.id)
        .join(video_table, and_(leaves.c.item_type == "creator", videos.creator_id == leaves.c.item_id))
        .where(counted)
    )
    by_video = (
        select(leaves.c.root_id, videos.id)
        .join(video_table, and_(leaves.c.item_type == "video", videos.id == leaves.c.item_id))
        .where(counted)
    )
    return union(by_creator, by_video).subquery("tree_videos")


def _order(columns: Any, order_by: str, ascending: bool) -> list[Any]:
    if order_by == "engagement_rate_by_views":
        interactions = columns.likes + columns.comments + columns.shares + columns.saves
        key: Any = case((columns.views > 0, cast(interactions, Float) * 100 / columns.views))
    else:
        key = columns["gained" if order_by == "views_gained" else order_by]
    return [(key.asc() if ascending else key.desc()).nulls_last(), columns.id]


def _ranked(kind: str, project_id: uuid.UUID, per: Any) -> Any:
    """A SELECT of id, label, caption, creator_id, posted_at and the figures, one row per ranked entity."""
    zero = literal(0)
    entities: Any
    if kind == "videos":
        video_table = table_of(Video)
        videos = video_table.c
        return select(
            per.c.id,
            videos.url.label("label"),
            videos.caption,
            per.c.creator_id,
            per.c.posted_at,
            null().label("posts"),
            *[per.c[name] for name in COUNTERS],
            per.c.gained,
            per.c.no_baseline,
        ).join(video_table, videos.id == per.c.id)
    if kind == "creators":
        sums = _sums(per, per.c.creator_id).subquery("sums")
        entities = table_of(Creator)
        label = literal("@") + entities.c.tiktok_handle
        where = and_(entities.c.project_id == project_id, entities.c.is_active)
    else:
        tree_videos = _campaign_videos(project_id)
        joined = per.join(tree_videos, tree_videos.c.id == per.c.id)
        sums = _sums(per, tree_videos.c.root_id).select_from(joined).subquery("sums")
        entities = table_of(Campaign)
        label = entities.c.name
        where = entities.c.project_id == project_id
    figures = [func.coalesce(sums.c[name], zero).label(name) for name in ("posts", *COUNTERS, "gained", "no_baseline")]
    return (
        select(
            entities.c.id,
            label.label("label"),
            null().label("caption"),
            null().label("creator_id"),
            null().label("posted_at"),
            *figures,
        )
        .select_from(entities)
        .outerjoin(sums, sums.c.key == entities.c.id)
        .where(where)
    )


def _rate(row: Any) -> float | None:
    interactions = row.likes + row.comments + row.shares + row.saves
    return round(interactions * 100 / row.views, PLACES) if row.views > 0 else None


def _caption(text: str | None) -> str | None:
    if text is not None and len(text) > CAPTION_PREVIEW_CHARS:
        return text[: CAPTION_PREVIEW_CHARS - 1] + "…"
    return text


async def get_leaderboard(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any,
    kind: str = "creators",
    order_by: str = "views",
    range_from: date | None = None,
    range_to: date | None = None,
    limit: int = 10,
    ascending: bool = False,
    cursor: str | None = None,
    now: datetime,
    pools: bool = False,
) -> Leaderboard:
    """Rank the project's videos, creators or campaigns by `order_by`, `limit` ranks after `cursor` (see the module
    docstring). `pools` adds each creator's pool and its views index against the pool (`domain/pools.py`), over the
    same range."""
    _check(kind, order_by, limit)
    if pools and kind != "creators":
        raise InvalidInput(f"pools compares creators with their peers; use kind 'creators', not {kind!r}.")
    project = await get_project(session, caller, project_id)
    org = await get_org(session, caller)
    first, last = resolve_range(now, org.timezone, range_from, range_to)
    # The cursor is only valid for the same ranking: kind, order, direction and resolved range.
    ranking = f"{kind}.{order_by}.{'asc' if ascending else 'desc'}.{first}.{last}"
    (offset,) = decode_cursor("leaderboard", ranking, cursor, cursor_int) if cursor else (0,)
    if offset < 0:
        raise InvalidInput(f"cursor {cursor!r} is damaged; pass next_cursor from the previous page unchanged.")
    start_at, end_at = day_range_utc(first, last, org.timezone)
    bounds = StatsRange(start_at=start_at, end_at=end_at, now=now)
    per = _per_video(
        project.id,
        bounds,
        only_posted_in_range=kind == "videos" and order_by != "views_gained",
        lifetime=kind == "videos",
    )
    ranked = _ranked(kind, project.id, per).subquery("ranked")
    query = select(
        ranked,
        func.count().over().label("total"),
        func.sum(ranked.c.no_baseline).over().label("without_baseline"),
    ).order_by(*_order(ranked.c, order_by, ascending))
    rows = (await session.execute(query.offset(offset).limit(limit))).all()
    total = int(rows[0].total) if rows else 0
    items = [
        LeaderboardItem(
            rank=rank,
            id=row.id,
            label=row.label,
            caption=_caption(row.caption),
            creator_id=row.creator_id,
            posted_at=row.posted_at,
            posts=None if kind == "videos" else int(row.posts),
            views=int(row.views),
            likes=int(row.likes),
            comments=int(row.comments),
            shares=int(row.shares),
            saves=int(row.saves),
            engagement_rate_by_views=_rate(row),
            views_gained=int(row.gained),
        )
        for rank, row in enumerate(rows, start=offset + 1)
    ]
    if pools:
        members = await pool_members(session, project.id, first, last, org.timezone)
        placed = {m.creator_id: (key, m.views_index) for key, ms in members.items() for m in ms}
        items = [
            item.model_copy(update=dict(zip(("pool", "vs_pool"), placed.get(item.id, (None, None)), strict=True)))
            for item in items
        ]
    reached = offset + len(rows)
    return Leaderboard(
        project_id=project.id,
        kind=kind,
        order_by=order_by,
        ascending=ascending,
        range_from=first,
        range_to=last,
        timezone=org.timezone,
        total=total,
        items=items,
        next_cursor=encode_cursor("leaderboard", ranking, [reached]) if reached < total else None,
        videos_without_baseline=int(rows[0].without_baseline or 0) if rows else 0,
        notes=[_NOTES[kind], _GAINED],
    )


_NOTES = {
    "videos": "views..saves are each video's current counters (latest snapshot); ranked: videos posted in the range "
    "(every counted video when ranking by views_gained).",
    "creators": "posts, views..saves and engagement_rate_by_views cover the counted videos each active creator "
    "posted in the range (current counters).",
    "campaigns": "posts, views..saves and engagement_rate_by_views cover the counted videos of each campaign's whole "
    "tree posted in the range, each video once.",
}
_GAINED = (
    "views_gained: views gained within the range by every counted video, whatever its post date, from snapshots "
    "(as get_campaign_stats)."
)
