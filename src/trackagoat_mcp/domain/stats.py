"""`get_campaign_stats`: recursive totals of a campaign tree, views gained from snapshots, per-child breakdown.

The whole computation runs in the database (recursive CTEs; two statements, the campaign's overview and the
totals), so it stays fast on large programs; its statements are built once per process from bind parameters, so a
small campaign does not pay for building and compiling them on every call. Result columns are labelled and read by
name (`VALUE_NAMES`). The expensive part, visiting every video of the tree, happens once: the videos reached
through creator items are summed per creator (`per_creator`), the few video items row by row
(`direct_videos`), and the tree's totals and each direct child's totals are both added up from those rows
in the same statement. A video item whose creator is also an item of the same tree (or child) is left out
there, since its creator's sum already holds it, so a video reached along several paths still counts once.
Definitions:

* *Lifetime*: counted videos in the tree, whatever their post date; counters are the latest snapshot.
* *In range*: counted videos posted within `[from, to]` (local days in the org timezone; default the
  last 30 days ending today).
* *Views gained*: per counted video, views at the end of the range minus views just before its start,
  never negative. The end value is the latest snapshot before the range end (the current counter when
  the range reaches now). The start value is 0 for videos posted inside the range; otherwise the
  latest snapshot before the start, or, when there is none, the first snapshot inside the range (such
  videos are reported in `videos_without_baseline`, since part of their gain is unknown).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Uuid, and_, bindparam, case, exists, func, literal, null, or_, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.clock import day_range_utc, local_today
from trackagoat_mcp.db.dialect import (
    AsStored,
    Greatest,
    NotIndexed,
    outerjoin_first,
    sums_per_key,
    supports_lateral,
)
from trackagoat_mcp.db.models import (
    Campaign,
    CampaignItem,
    Organization,
    Video,
    VideoSnapshot,
    record_columns,
    table_of,
)
from trackagoat_mcp.db.reads import FixedRead
from trackagoat_mcp.domain.campaigns import ITEM_MODELS, item_label, shown_item
from trackagoat_mcp.domain.schemas import CampaignStats, ChildStats, Totals
from trackagoat_mcp.domain.scope import Caller, not_found, parse_id
from trackagoat_mcp.domain.tree import campaign_tree, child_leaf_items, is_counted, tree_creator_ids
from trackagoat_mcp.errors import InvalidInput

__all__ = ["DEFAULT_RANGE_DAYS", "StatsRange", "campaign_stats", "gain_columns", "resolve_range", "scoped_videos"]

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3660
CHILDREN_SHOWN = 30
"""Direct items shown: 30 with 200-character names keep the result within 20,000 characters."""


def resolve_range(now: datetime, tz: str, range_from: date | None, range_to: date | None) -> tuple[date, date]:
    """Fill in the default range (the last 30 local days ending today) and validate it."""
    to = range_to or local_today(now, tz)
    start = range_from or to - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > to:
        raise InvalidInput(f"from {start.isoformat()!r} is after to {to.isoformat()!r}; swap them.")
    if (to - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(f"The range {start.isoformat()}..{to.isoformat()} is longer than {MAX_RANGE_DAYS} days.")
    return start, to


@dataclass(frozen=True)
class StatsRange:
    """A statistics range as UTC instants (`end_at` exclusive) and the moment the question is asked."""

    start_at: datetime
    end_at: datetime
    now: datetime


def _views_before(video_id: Any, moment: datetime) -> Any:
    """The views of the latest snapshot of `video_id` taken before `moment` (a correlated scalar subquery)."""
    return _latest_before(video_id, moment).scalar_subquery()


def scoped_videos(videos: Any, where: Any, bounds: StatsRange, name: str, *, live_end: bool | None = None) -> Any:
    """The videos matching `where`, with their snapshot look-ups done once each (`before`, `end_views`).

    `live_end` says whether the range ends after `bounds.now` (the current counters are then the end values); it
    is worked out from `bounds` unless given, which it must be when the bounds are bind parameters.

    Only videos that can have gained views inside the range look anything up: one posted before the range
    and not scraped since it began kept the same counters throughout. The subquery is fenced with OFFSET 0,
    since both planners would otherwise inline it and run the `before` look-up once per use of it.
    """
    touched = videos.last_scraped_at >= bounds.start_at
    needs_baseline = and_(videos.posted_at < bounds.start_at, touched)
    before = case((needs_baseline, _views_before(videos.id, bounds.start_at)), else_=null())
    if bounds.end_at > bounds.now if live_end is None else live_end:
        end_views: Any = videos.view_count
    else:
        end_views = case(
            (
                or_(videos.posted_at >= bounds.start_at, touched),
                func.coalesce(_views_before(videos.id, bounds.end_at), 0),
            ),
            else_=videos.view_count,
        )
    columns = [videos.id, videos.creator_id, videos.posted_at, videos.last_scraped_at, *_counters(videos)]
    return select(*columns, before.label("before"), end_views.label("end_views")).where(where).offset(0).subquery(name)


def _counters(videos: Any) -> list[Any]:
    return [videos.view_count, videos.like_count, videos.comment_count, videos.share_count, videos.save_count]


def gain_columns(rows: Any, bounds: StatsRange) -> tuple[Any, Any]:
    """SQL expressions (gain, no_baseline) for one row of `scoped_videos`, following the module's definitions."""
    gain, missing = _gain_and_missing(rows, bounds)
    return gain, case((missing, literal(1)), else_=literal(0))


def _gain_and_missing(rows: Any, bounds: StatsRange) -> tuple[Any, Any]:
    """The views gained by one video row (never negative) and the condition of a video without a baseline."""
    snaps = table_of(VideoSnapshot).c
    first_inside = (
        select(snaps.view_count)
        .where(snaps.video_id == rows.id, snaps.captured_at >= bounds.start_at, snaps.captured_at < bounds.end_at)
        .order_by(snaps.captured_at.asc())
        .limit(1)
        .scalar_subquery()
    )
    posted_inside = rows.posted_at >= bounds.start_at
    untouched = rows.last_scraped_at.is_(None) | (rows.last_scraped_at < bounds.start_at)
    start_views = case(
        (posted_inside, literal(0)),
        else_=func.coalesce(rows.before, first_inside, rows.end_views),
    )
    gain = case(
        (rows.posted_at >= bounds.end_at, literal(0)),
        (and_(untouched, ~posted_inside), literal(0)),
        else_=rows.end_views - start_views,
    )
    missing = and_(~posted_inside, ~untouched, rows.before.is_(None))
    # GREATEST, not CASE WHEN gain > 0 THEN gain: that would evaluate the gain (and its look-ups) twice.
    return Greatest(gain, literal(0)), missing


COUNTERS = ("videos", "views", "likes", "comments", "shares", "saves")
VALUE_NAMES = (*(f"all_{n}" for n in COUNTERS), *(f"range_{n}" for n in COUNTERS), "views_gained", "no_baseline")
"""Numbers summed for a set of videos, by label: lifetime totals, totals of videos posted in range, views gained,
videos without a baseline."""


def _totals(row: Any, prefix: str) -> Totals:
    """The `Totals` of a result row whose columns are labelled `<prefix><counter>` (see `VALUE_NAMES`)."""
    values = row._asdict()
    return Totals(**{name: int(values[prefix + name] or 0) for name in COUNTERS})


def _video_values(rows: Any, bounds: StatsRange) -> list[Any]:
    """One video's numbers, labelled as `VALUE_NAMES` (its count is 1)."""
    counters = _counters(rows)
    in_range = and_(rows.posted_at >= bounds.start_at, rows.posted_at < bounds.end_at)
    gain, no_baseline = gain_columns(rows, bounds)
    values = [
        literal(1),
        *counters,
        case((in_range, 1), else_=0),
        *[case((in_range, counter), else_=0) for counter in counters],
        gain,
        no_baseline,
    ]
    return [value.label(name) for value, name in zip(values, VALUE_NAMES, strict=True)]


def _summed_values(rows: Any, bounds: StatsRange) -> list[Any]:
    """The sums of `_video_values` over a group of video rows, labelled as `VALUE_NAMES`.

    Conditional sums filter their rows (`FILTER (WHERE …)`) rather than adding a CASE's zeros: most videos of a large
    program were neither posted in the range nor lack a baseline, and skipping them is cheaper than adding 0. A
    filtered sum over no rows is NULL where the CASE form gave 0; readers take NULL for 0.
    """
    counters = _counters(rows)
    in_range = and_(rows.posted_at >= bounds.start_at, rows.posted_at < bounds.end_at)
    gain, missing = _gain_and_missing(rows, bounds)
    values = [
        func.count(),
        *[func.sum(counter) for counter in counters],
        func.count().filter(in_range),
        *[func.sum(counter).filter(in_range) for counter in counters],
        func.sum(gain),
        func.count().filter(missing),
    ]
    return [value.label(name) for value, name in zip(values, VALUE_NAMES, strict=True)]


def _param(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


_VIDEOS = table_of(Video).c
_ROOT = _param("stats_campaign_id", table_of(CampaignItem).c.campaign_id)
_PROJECT = _param("stats_project_id", _VIDEOS.project_id)
_ORG = _param("stats_org_id", table_of(Campaign).c.org_id)
_START = _param("stats_start_at", _VIDEOS.posted_at)
_END = _param("stats_end_at", _VIDEOS.posted_at)
_BOUNDS = StatsRange(start_at=_START, end_at=_END, now=_param("stats_now", _VIDEOS.posted_at))
"""The values a statistics statement is run with: the statements are built once, from these bind parameters, so a
call neither rebuilds nor recompiles them (building one is most of the cost of a small campaign's statistics)."""


@dataclass(frozen=True)
class _VideoRow:
    """The columns of one video row that `_video_values` and `gain_columns` read, wherever they come from."""

    id: Any
    creator_id: Any
    posted_at: Any
    last_scraped_at: Any
    view_count: Any
    like_count: Any
    comment_count: Any
    share_count: Any
    save_count: Any
    before: Any
    end_views: Any


def _latest_before(video_id: Any, moment: Any) -> Any:
    """A select of the views of the latest snapshot of `video_id` taken before `moment` (for `outerjoin_first`)."""
    snaps = table_of(VideoSnapshot).c
    return (
        select(snaps.view_count)
        .where(snaps.video_id == video_id, snaps.captured_at < moment)
        .order_by(snaps.captured_at.desc())
        .limit(1)
    )


def _joined_videos(bounds: StatsRange, *, live_end: bool, lateral: bool) -> tuple[Any, _VideoRow]:
    """`videos` joined with the snapshots their gain needs, and the columns of one joined row.

    The same rows as `scoped_videos`, as joins instead of a fenced subquery, so a grouped scan of the videos reads
    them in index order and needs no sort. Each look-up runs only for a video that can have gained views inside
    the range: one posted before it and not scraped since it began kept the same counters throughout. The two
    timestamps are compared row by row, so they are read `AsStored`.
    """
    videos = table_of(Video)
    snapshots = table_of(VideoSnapshot)
    v = videos.c
    posted_at, last_scraped_at = AsStored(v.posted_at), AsStored(v.last_scraped_at)
    touched = last_scraped_at >= bounds.start_at
    needs_baseline = and_(posted_at < bounds.start_at, touched)
    source, before = outerjoin_first(
        videos, snapshots, _latest_before(v.id, bounds.start_at), "before_snap", when=needs_baseline, lateral=lateral
    )
    if live_end:
        end_views: Any = v.view_count
    else:
        moved = or_(posted_at >= bounds.start_at, touched)
        source, at_end = outerjoin_first(
            source, snapshots, _latest_before(v.id, bounds.end_at), "end_snap", when=moved, lateral=lateral
        )
        end_views = case((moved, func.coalesce(at_end.view_count, 0)), else_=v.view_count)
    row = _VideoRow(
        id=v.id,
        creator_id=v.creator_id,
        posted_at=posted_at,
        last_scraped_at=last_scraped_at,
        view_count=v.view_count,
        like_count=v.like_count,
        comment_count=v.comment_count,
        share_count=v.share_count,
        save_count=v.save_count,
        before=before.view_count,
        end_views=end_views,
    )
    return source, row


@functools.cache
def _totals_query(live_end: bool, lateral: bool) -> FixedRead:
    """One statement: a row with `child_id` NULL for the whole tree, then the top direct children by views.

    Each row is `child_id` followed by the sums labelled `VALUE_NAMES` (see the module docstring for how). Its
    parameters are `_ROOT`, `_PROJECT` and the `_BOUNDS`; `live_end` says whether the range ends after now,
    `lateral` whether the database has LATERAL joins (`supports_lateral`).
    """
    bounds = _BOUNDS
    leaves = child_leaf_items(_ROOT)
    creator_pairs = (
        select(leaves.c.child_id, leaves.c.item_id.label("creator_id"))
        .where(leaves.c.item_type == "creator")
        .distinct()
        .cte("creator_pairs")
    )
    video_pairs = (
        select(leaves.c.child_id, leaves.c.item_id.label("video_id"))
        .where(leaves.c.item_type == "video")
        .distinct()
        .cte("video_pairs")
    )
    videos = _VIDEOS
    in_scope = and_(is_counted(videos), NotIndexed(videos.project_id) == _PROJECT)
    by_creator, creator_row = _joined_videos(bounds, live_end=live_end, lateral=lateral)
    by_item, item_row = _joined_videos(bounds, live_end=live_end, lateral=lateral)
    # Both CTEs are read twice (for the tree and for the children); the database computes each once.
    per_creator = sums_per_key(
        creator_pairs.c.creator_id,
        videos.creator_id,
        _summed_values(creator_row, bounds),
        by_creator,
        in_scope,
        "creator_sums",
        lateral=lateral,
    ).cte("per_creator")
    direct_videos = (
        select(videos.id.label("video_id"), videos.creator_id, *_video_values(item_row, bounds))
        .select_from(by_item)
        .where(in_scope, videos.id.in_(select(video_pairs.c.video_id)))
        .cte("direct_videos")
    )

    def numbers(table: Any) -> list[Any]:
        return [table.c[name] for name in VALUE_NAMES]

    def sums(table: Any) -> list[Any]:
        return [func.sum(table.c[name]).label(name) for name in VALUE_NAMES]

    tree_rows = union_all(
        select(*numbers(per_creator)),
        select(*numbers(direct_videos)).where(
            or_(
                direct_videos.c.creator_id.is_(None),
                direct_videos.c.creator_id.not_in(select(creator_pairs.c.creator_id)),
            )
        ),
    ).subquery("tree_rows")
    covered = exists().where(
        creator_pairs.c.child_id == video_pairs.c.child_id, creator_pairs.c.creator_id == direct_videos.c.creator_id
    )
    child_rows = union_all(
        select(creator_pairs.c.child_id, *numbers(per_creator)).join(
            per_creator, per_creator.c.creator_id == creator_pairs.c.creator_id
        ),
        select(video_pairs.c.child_id, *numbers(direct_videos))
        .join(direct_videos, direct_videos.c.video_id == video_pairs.c.video_id)
        .where(~covered),
    ).subquery("child_rows")
    top_children = (
        select(child_rows.c.child_id, *sums(child_rows))
        .group_by(child_rows.c.child_id)
        .order_by(func.sum(child_rows.c.all_views).desc(), child_rows.c.child_id)
        .limit(CHILDREN_SHOWN)
        .subquery("top_children")
    )
    return FixedRead(union_all(select(literal(None, Uuid).label("child_id"), *sums(tree_rows)), select(top_children)))


def _facts_columns() -> list[Any]:
    """The tree facts of `_ROOT`, as scalar subqueries: campaigns and creator items in the tree, and its videos
    waiting for review. They depend on nothing but `_ROOT`, so each is computed once per statement, and only when the
    statement has a row to show them in."""
    creators = tree_creator_ids(_ROOT).subquery("creators")
    videos = table_of(Video)
    pending = (
        select(func.count())
        .select_from(videos)
        .join(creators, creators.c.creator_id == videos.c.creator_id)
        .where(videos.c.tracking_status == "pending_review")
    )
    return [
        select(func.count())
        .select_from(campaign_tree(_ROOT, "campaigns_in_tree"))
        .scalar_subquery()
        .label("campaigns_in_tree"),
        select(func.count()).select_from(creators).scalar_subquery().label("creators_in_tree"),
        pending.scalar_subquery().label("pending_review_videos"),
    ]


@functools.cache
def _overview_query() -> FixedRead:
    """The campaign `_ROOT` if it belongs to organization `_ORG`: its own columns, the organization's timezone, the
    tree facts (`_facts_columns`) and each shown direct item (`item_id`, `item_type` and its `label`,
    `campaigns.item_label`). One row per item, or one row with NULL items when there is none, so one round trip
    answers all of it; no row at all when the campaign is not the organization's, and then nothing of its tree is
    computed."""
    campaigns = table_of(Campaign).c
    orgs = table_of(Organization).c
    items = table_of(CampaignItem).c
    shown = record_columns(Campaign, ("id", "project_id", "name", "target_views", "target_at"))
    direct = (
        select(items.item_id, items.item_type).where(items.campaign_id == _ROOT, shown_item(items)).subquery("direct")
    )

    def label_of(kind: str) -> Any:
        # Aliased: the facts name a subquery `creators`, and the campaign itself is in the FROM list.
        own = table_of(ITEM_MODELS[kind]).alias(f"labelled_{kind}").c
        return select(item_label(kind, own)).where(own.id == direct.c.item_id).scalar_subquery()

    label = case(
        (direct.c.item_type == "creator", label_of("creator")),
        (direct.c.item_type == "video", label_of("video")),
        else_=label_of("campaign"),
    )
    return FixedRead(
        select(*shown, orgs.timezone, *_facts_columns(), direct.c.item_id, direct.c.item_type, label.label("label"))
        .select_from(
            table_of(Campaign).join(table_of(Organization), orgs.id == campaigns.org_id).outerjoin(direct, true())
        )
        .where(campaigns.id == _ROOT, campaigns.org_id == _ORG)
    )


async def campaign_stats(
    session: AsyncSession,
    caller: Caller,
    campaign_id: Any,
    *,
    now: datetime,
    range_from: date | None = None,
    range_to: date | None = None,
) -> CampaignStats:
    """Statistics of a campaign's whole tree (see the module docstring for the definitions)."""
    root_id = parse_id(campaign_id, "campaign")
    overview = await _overview_query().all(session, {_ROOT.key: root_id, _ORG.key: caller.org_id})
    if not overview:
        raise not_found("campaign", root_id)
    campaign = overview[0]
    timezone = campaign.timezone
    first, last = resolve_range(now, timezone, range_from, range_to)
    start_at, end_at = day_range_utc(first, last, timezone)
    params = {
        _ROOT.key: campaign.id,
        _PROJECT.key: campaign.project_id,
        _START.key: start_at,
        _END.key: end_at,
    }
    rows = await _totals_query(end_at > now, supports_lateral(session)).all(session, params)
    # The tree's row always exists: an aggregate without GROUP BY answers one row (NULL sums over no videos).
    overall = next(row for row in rows if row.child_id is None)
    # The query's own order (UNION ALL does not keep it): most views first, then by id as the database sorts them.
    per_child = sorted(
        (row for row in rows if row.child_id is not None), key=lambda row: (-int(row.all_views or 0), row.child_id)
    )
    direct: dict[uuid.UUID, str] = {row.item_id: row.item_type for row in overview if row.item_id is not None}

    # Direct items with no counted video (a creator who has not posted yet) are listed after the others, with
    # zero totals: they are often exactly what the reader is looking for.
    figures: dict[uuid.UUID, tuple[Totals, Totals, int]] = {
        row.child_id: (_totals(row, "all_"), _totals(row, "range_"), int(row.views_gained or 0)) for row in per_child
    }
    shown_ids = list(figures) + [i for i in sorted(direct, key=str) if i not in figures]
    shown = [(direct.get(child_id, "campaign"), child_id) for child_id in shown_ids[:CHILDREN_SHOWN]]
    labels = {(row.item_type, row.item_id): row.label for row in overview if row.item_id is not None}
    zero = Totals(videos=0, views=0, likes=0, comments=0, shares=0, saves=0)
    children = []
    for child_type, child_id in shown:
        lifetime_c, in_range_c, gained_c = figures.get(child_id, (zero, zero, 0))
        children.append(
            ChildStats(
                item_type=child_type,
                item_id=child_id,
                label=labels.get((child_type, child_id), ""),
                lifetime=lifetime_c,
                in_range=in_range_c,
                views_gained=gained_c,
            )
        )
    lifetime = _totals(overall, "all_")
    progress = round(lifetime.views * 100 / campaign.target_views, 1) if campaign.target_views else None
    return CampaignStats(
        campaign_id=campaign.id,
        name=campaign.name,
        range_from=first,
        range_to=last,
        timezone=timezone,
        campaigns_in_tree=int(campaign.campaigns_in_tree),
        creators_in_tree=int(campaign.creators_in_tree),
        lifetime=lifetime,
        in_range=_totals(overall, "range_"),
        views_gained=int(overall.views_gained or 0),
        videos_without_baseline=int(overall.no_baseline or 0),
        target_views=campaign.target_views,
        target_progress_pct=progress,
        target_at=campaign.target_at,
        children=children,
        children_total=len(direct),
        pending_review_videos=int(campaign.pending_review_videos),
    )
