"""`get_creator_pools`: a project's creators grouped with comparable creators, so "underperforming" means
"against peers like them".

**The rule.** Creators are pooled by audience size alone: their current follower count (latest profile scrape)
falls in one of the decade bands `<1k`, `1k-10k`, `10k-100k`, `100k-1M`, `1M+`. Walking the bands upward, neighbouring
bands are merged until a pool holds at least `MIN_POOL_SIZE` (3) creators; a remainder smaller than that joins the
pool below it (so a program of two creators is one pool). A pool's key names the bands its members span (`1k-100k`,
`<10k`, `100k+`, `all`), so it changes when creators cross a band edge. Creators never scraped (no follower count)
form the pool `unknown`. Active creators only.

Why followers and not views or engagement: those are what is being judged. Pooling by median views would put every
weak creator among weak creators and hide exactly what the pools are for; the audience a creator brings is the
fair basis of comparison.

**The comparison** is over the counted videos each creator posted in the range (local days, default the last 30):
`posts`, `median_views` (median of the videos' current views) and `engagement_rate` (likes + comments + shares +
saves over views, percent). A pool's medians are the medians of its members' figures (members with posts, for views
and engagement). A member's `views_index` = its median views ÷ the pool's median; `standing` is `under` below
`UNDER` (0.5: under half the typical peer), `over` above `OVER` (2.0), `in_line` between, `no_posts` without a
counted post in the range, `alone` in a pool of one. `rank` orders the pool by median views (1 = highest).

**Names.** Agents may name pools in the project's metadata under `creator_pools`, an object from pool key to name
(`write_metadata` with `{"creator_pools": {"10k-100k": "Micro creators"}}`); the name is shown beside the key.

**Size.** Without `creator_id` or `pool`, each pool lists its members off the line (under, over, no posts; at most
8); with `pool` (a key) or `creator_id` (its pool) the pool lists every member, weakest first, at most 50.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller, get_in_org, get_org
from trackagoat_mcp.domain.stats import resolve_range
from trackagoat_mcp.domain.tree import is_counted
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "BAND_EDGES",
    "METADATA_KEY",
    "MIN_POOL_SIZE",
    "OVER",
    "UNDER",
    "CreatorPools",
    "Pool",
    "PoolMember",
    "creator_pools",
    "pool_keys",
]

BAND_EDGES = (1_000, 10_000, 100_000, 1_000_000)
MIN_POOL_SIZE = 3
UNDER = 0.5
OVER = 2.0
METADATA_KEY = "creator_pools"
OFF_LINE_SHOWN = 8
"""Off-line members listed per pool in the overview: 6 pools of 8 long rows stay well within 20,000 characters."""
MEMBERS_SHOWN = 50
UNKNOWN = "unknown"
Standing = Literal["under", "in_line", "over", "no_posts", "alone"]
RULE = (
    "Pools by follower band (<1k, 1k-10k, 10k-100k, 100k-1M, 1M+), neighbouring bands merged upward until a pool has "
    f"{MIN_POOL_SIZE}+ creators; never scraped = unknown. views_index = median views per post ÷ pool median; under < "
    f"{UNDER}, over > {OVER}. Name pools in project metadata.{METADATA_KEY} {{key: name}}."
)


class PoolMember(BaseModel):
    """A creator's figures over the range and its place in its pool."""

    creator_id: uuid.UUID
    tiktok_handle: str
    followers: int | None
    posts: int
    median_views: float | None = Field(description="Median current views of its counted posts in the range.")
    engagement_rate: float | None = Field(description="Percent, by views.")
    views_index: float | None = Field(description="median_views ÷ the pool's median.")
    rank: int | None = Field(description="In the pool by median_views, 1 = highest.")
    standing: Standing


class Pool(BaseModel):
    """Comparable creators and their typical figures."""

    key: str = Field(description="Follower band(s), e.g. 10k-100k.")
    name: str | None = Field(description="From project metadata.creator_pools, if an agent named it.")
    size: int
    median_followers: float | None
    median_views: float | None
    median_engagement_rate: float | None
    median_posts: float
    under: int
    over: int
    members: list[PoolMember] = Field(description="Off-line members (all members for one pool), weakest first.")


class CreatorPools(BaseModel):
    """A project's creator pools over a range of local days."""

    project_id: uuid.UUID
    range_from: date
    range_to: date
    rule: str
    pools: list[Pool]
    creator: PoolMember | None = Field(description="The creator asked about, with its pool's key in pool_key.")
    pool_key: str | None


def _band(followers: int | None) -> int:
    """Band index 0..4 (-1: no follower count)."""
    if followers is None:
        return -1
    return sum(followers >= edge for edge in BAND_EDGES)


def _edge(value: int) -> str:
    return f"{value // 1_000_000}M" if value >= 1_000_000 else f"{value // 1_000}k"


def _label(low: int, high: int) -> str:
    """The key of bands low..high (inclusive indexes)."""
    if low == 0 and high == len(BAND_EDGES):
        return "all"
    if low == 0:
        return f"<{_edge(BAND_EDGES[high])}"
    if high == len(BAND_EDGES):
        return f"{_edge(BAND_EDGES[low - 1])}+"
    return f"{_edge(BAND_EDGES[low - 1])}-{_edge(BAND_EDGES[high])}"


def pool_keys(followers: dict[uuid.UUID, int | None]) -> dict[uuid.UUID, str]:
    """Each creator's pool key under the rule of the module docstring."""
    by_band: dict[int, list[uuid.UUID]] = defaultdict(list)
    for creator_id, count in followers.items():
        by_band[_band(count)].append(creator_id)
    keys = dict.fromkeys(by_band.pop(-1, []), UNKNOWN)
    pools: list[tuple[int, int, list[uuid.UUID]]] = []
    low, members = 0, list[uuid.UUID]()
    for band in range(len(BAND_EDGES) + 1):
        members = members + by_band.get(band, [])
        if len(members) >= MIN_POOL_SIZE:
            pools.append((low, band, members))
            low, members = band + 1, []
    if members:
        if pools:
            first, _, kept = pools.pop()
            pools.append((first, len(BAND_EDGES), kept + members))
        else:
            pools.append((0, len(BAND_EDGES), members))
    elif pools:
        first, _, kept = pools.pop()
        pools.append((first, len(BAND_EDGES), kept))
    for _first, _last, ids in pools:
        # A pool's key names the bands its members actually span (`10k-100k`, `<10k`, `100k+`).
        bands = [_band(followers[i]) for i in ids]
        keys.update(dict.fromkeys(ids, _label(min(bands), max(bands))))
    return keys


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


async def creator_pools(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any,
    now: datetime,
    creator_id: Any = None,
    pool: str | None = None,
    range_from: date | None = None,
    range_to: date | None = None,
) -> CreatorPools:
    """The project's pools and, with `creator_id`, that creator ranked in its pool (module docstring)."""
    caller.require("read")
    project = await get_project(session, caller, project_id)
    tz = (await get_org(session, caller)).timezone
    first, last = resolve_range(now, tz, range_from, range_to)
    members = await pool_members(session, project.id, first, last, tz)
    subject: PoolMember | None = None
    subject_key: str | None = None
    if creator_id is not None:
        creator = await get_in_org(session, caller, Creator, creator_id, "creator")
        found = [(key, m) for key, ms in members.items() for m in ms if m.creator_id == creator.id]
        if creator.project_id != project.id or not found:
            raise InvalidInput(
                f"creator_id {str(creator_id)!r} is not an active creator of project {str(project.id)!r}; pools "
                "hold a project's active creators (list_creators)."
            )
        subject_key, subject = found[0]
    if pool is not None and pool not in members:
        raise InvalidInput(f"pool {pool!r} is not a pool of this project now; pick one of {sorted(members)!r}.")
    names = project.meta.get(METADATA_KEY) if isinstance(project.meta.get(METADATA_KEY), dict) else {}
    wanted = pool or subject_key
    pools = [
        _pool(key, ms, names, whole=key == wanted)
        for key, ms in sorted(members.items(), key=lambda kv: _order(kv[0], kv[1]))
        if wanted is None or key == wanted
    ]
    return CreatorPools(
        project_id=project.id, range_from=first, range_to=last, rule=RULE, pools=pools, creator=subject,
        pool_key=subject_key,
    )  # fmt: skip


def _order(key: str, members: list[PoolMember]) -> tuple[int, int]:
    counts = [m.followers for m in members if m.followers is not None]
    return (1, 0) if key == UNKNOWN else (0, min(counts, default=0))


def _pool(key: str, members: list[PoolMember], names: Any, *, whole: bool) -> Pool:
    weakest = sorted(members, key=lambda m: (m.standing != "no_posts", m.views_index or 0.0, m.tiktok_handle))
    shown = weakest if whole else [m for m in weakest if m.standing in ("under", "over", "no_posts")]
    name = names.get(key) if isinstance(names, dict) else None
    return Pool(
        key=key,
        name=name if isinstance(name, str) else None,
        size=len(members),
        median_followers=_median([float(m.followers) for m in members if m.followers is not None]),
        median_views=_median([m.median_views for m in members if m.median_views is not None]),
        median_engagement_rate=_median([m.engagement_rate for m in members if m.engagement_rate is not None]),
        median_posts=float(statistics.median([m.posts for m in members])) if members else 0.0,
        under=sum(m.standing == "under" for m in members),
        over=sum(m.standing == "over" for m in members),
        members=shown[: MEMBERS_SHOWN if whole else OFF_LINE_SHOWN],
    )


async def pool_members(
    session: AsyncSession, project_id: uuid.UUID, first: date, last: date, tz: str
) -> dict[str, list[PoolMember]]:
    """Every active creator of the project as a `PoolMember`, by pool key (the caller has checked the project)."""
    creators = list(
        (
            await session.execute(
                select(col(Creator.id), col(Creator.tiktok_handle), col(Creator.follower_count)).where(
                    col(Creator.project_id) == project_id, col(Creator.is_active).is_(True)
                )
            )
        ).all()
    )
    start, end = day_range_utc(first, last, tz)
    interactions = col(Video.like_count) + col(Video.comment_count) + col(Video.share_count) + col(Video.save_count)
    rows = await session.execute(
        select(col(Video.creator_id), col(Video.view_count), interactions.label("interactions")).where(
            col(Video.project_id) == project_id,
            is_counted(Video),
            col(Video.posted_at) >= start,
            col(Video.posted_at) < end,
        )
    )
    views: dict[uuid.UUID, list[int]] = defaultdict(list)
    engaged: dict[uuid.UUID, int] = defaultdict(int)
    for row in rows.all():
        if row.creator_id is not None:
            views[row.creator_id].append(int(row.view_count))
            engaged[row.creator_id] += int(row.interactions)
    keys = pool_keys({creator.id: creator.follower_count for creator in creators})
    grouped: dict[str, list[PoolMember]] = defaultdict(list)
    for creator in creators:
        own = views.get(creator.id, [])
        total = sum(own)
        grouped[keys[creator.id]].append(
            PoolMember(
                creator_id=creator.id,
                tiktok_handle=creator.tiktok_handle,
                followers=creator.follower_count,
                posts=len(own),
                median_views=float(statistics.median(own)) if own else None,
                engagement_rate=round(engaged[creator.id] * 100 / total, 2) if total else None,
                views_index=None,
                rank=None,
                standing="no_posts",
            )
        )
    return {key: _ranked(ms) for key, ms in grouped.items()}


def _ranked(members: list[PoolMember]) -> list[PoolMember]:
    """Members with `views_index`, `rank` and `standing` filled in against their pool's median."""
    typical = _median([m.median_views for m in members if m.median_views is not None])
    ordered = sorted(
        (m for m in members if m.median_views is not None), key=lambda m: (-(m.median_views or 0), m.tiktok_handle)
    )
    rank = {m.creator_id: i for i, m in enumerate(ordered, start=1)}
    out = []
    for m in members:
        index = round(m.median_views / typical, 2) if m.median_views is not None and typical else None
        standing: Standing
        if m.median_views is None:
            standing = "no_posts"
        elif len(members) == 1:
            standing = "alone"
        elif index is not None and index < UNDER:
            standing = "under"
        elif index is not None and index > OVER:
            standing = "over"
        else:
            standing = "in_line"
        out.append(m.model_copy(update={"views_index": index, "rank": rank.get(m.creator_id), "standing": standing}))
    return out
