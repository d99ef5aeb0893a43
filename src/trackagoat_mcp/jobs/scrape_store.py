"""The scraper's side of the store: which creators are due, claiming them, and applying one creator's fetch.

Each function opens its own short transaction (`Database.read()`/`write()`), so no write transaction is
ever held across an HTTP call: the cycle claims a creator, reads what it needs, fetches, then applies
everything it learnt in one write that also releases the claim.

**Claims.** A creator is claimed with one compare-and-set `UPDATE … WHERE <still due> AND <lease free>`
that stamps `scrape_claimed_by`/`scrape_claimed_until`. On PostgreSQL a concurrent `UPDATE` of the same row
waits for the first to commit and then re-checks the `WHERE` against the new row, and SQLite serialises
writers (`BEGIN IMMEDIATE`), so exactly one process wins each creator. Because "still due" is part of the
predicate and the apply step advances the fetch times in the same transaction that drops the lease, a
process that read a stale due-list cannot scrape a creator another process has just finished. A crashed
worker's lease simply runs out (`claim_minutes`). Videos without a creator are claimed the same way on
their `stats_attempted_at`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true, update
from sqlmodel import col

from trackagoat_mcp.clock import day_range_utc
from trackagoat_mcp.db.dialect import insert_ignoring_duplicates, lock_rows
from trackagoat_mcp.db.models import Creator, CreatorSnapshot, Organization, Video, VideoSnapshot, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.fairness import take_turns
from trackagoat_mcp.tiktok.parsing import Profile
from trackagoat_mcp.tiktok.parsing import Video as Post

__all__ = [
    "TRACKED_STATUSES",
    "CreatorOutcome",
    "CreatorPlan",
    "Cutoffs",
    "TrackedVideo",
    "VideoOutcome",
    "apply_creator",
    "apply_videos",
    "claim_creator",
    "claim_video",
    "due_creator_ids",
    "due_video_ids",
    "plan_creator",
    "release_creator",
]

TRACKED_STATUSES = ("auto_tracked", "included", "direct_add", "pending_review")
"""Statuses whose stats the scraper refreshes (everything but `excluded`)."""


@dataclass(frozen=True)
class Cutoffs:
    """The instants before which a fetch time counts as due; `None` everywhere when the floors are bypassed."""

    profile: datetime | None
    listing: datetime | None
    stats: datetime | None
    expiry: datetime
    """Videos posted before this are past the tracking-expiry window and no longer refreshed."""


@dataclass(frozen=True)
class TrackedVideo:
    """A stored video whose stats this unit should refresh."""

    id: uuid.UUID
    tiktok_video_id: str


@dataclass(frozen=True)
class CreatorPlan:
    """What one claimed creator needs, read before any HTTP call."""

    id: uuid.UUID
    project_id: uuid.UUID
    org_id: uuid.UUID
    handle: str
    sec_uid: str | None
    tracking_mode: str
    tracking_start: datetime
    """The first instant (UTC) of `tracking_start_date` in the organization's timezone."""
    profile_due: bool
    listing_due: bool
    stats_due: bool
    tracked: tuple[TrackedVideo, ...]


@dataclass
class VideoOutcome:
    """What one fetch said about one video: the post when readable, otherwise the failure kind."""

    post: Post | None = None
    failure: str | None = None


@dataclass
class CreatorOutcome:
    """Everything one unit learnt about a creator, applied in one write.

    Attributes:
        profile: the profile when its page was `ok` and complete.
        profile_failure: the failure kind of the profile fetch (`not_found`, `blocked`, `rate_limited`, …).
        listed: posts from the item list, by TikTok id (they refresh stats and are the discovery source).
        list_failure: the failure kind of the item list.
        videos: single-video fetch results for tracked videos the list did not cover, by TikTok id.
        profile_tried / listing_tried / stats_tried: which floors this unit consumed.
    """

    profile: Profile | None = None
    profile_failure: str | None = None
    listed: dict[str, Post] = field(default_factory=dict)
    list_failure: str | None = None
    videos: dict[str, VideoOutcome] = field(default_factory=dict)
    profile_tried: bool = False
    listing_tried: bool = False
    stats_tried: bool = False


@dataclass
class AppliedCounts:
    """What an apply step wrote, for the run report."""

    creator_snapshots: int = 0
    video_snapshots: int = 0
    videos_discovered: int = 0
    videos_skipped_before_start: int = 0
    disabled: bool = False


# --- picking and claiming ------------------------------------------------------------------------------------


def _due(column: Any, cutoff: datetime | None) -> ColumnElement[bool]:
    if cutoff is None:
        return true()
    return or_(column.is_(None), column < cutoff)


def _creator_due(cutoffs: Cutoffs) -> ColumnElement[bool]:
    return or_(
        _due(col(Creator.profile_checked_at), cutoffs.profile),
        _due(col(Creator.videos_listed_at), cutoffs.listing),
        _due(col(Creator.video_stats_checked_at), cutoffs.stats),
    )


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(Creator.scrape_claimed_until).is_(None), col(Creator.scrape_claimed_until) <= now)


async def due_creator_ids(
    db: Database, cutoffs: Cutoffs, now: datetime, creator_ids: Sequence[uuid.UUID] | None
) -> list[uuid.UUID]:
    """Active, unclaimed creators due under `cutoffs` (restricted to `creator_ids` when given), oldest first with
    organizations taking turns (`fairness.take_turns`): a thousand new creators of one organization do not push
    another's due creator to the end of the cycle."""
    query = select(col(Creator.id), col(Creator.org_id)).where(
        col(Creator.is_active).is_(True), _creator_due(cutoffs), _lease_free(now)
    )
    if creator_ids is not None:
        query = query.where(col(Creator.id).in_(list(creator_ids)))
    query = query.order_by(col(Creator.profile_checked_at).asc().nulls_first(), col(Creator.id))
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return [row.id for row in take_turns(rows, lambda row: row.org_id)]


async def claim_creator(
    db: Database, creator_id: uuid.UUID, cutoffs: Cutoffs, now: datetime, token: str, until: datetime
) -> bool:
    """Take the scrape lease on a creator if it is still active, due and unclaimed; returns whether we got it."""
    statement = (
        update(Creator)
        .where(col(Creator.id) == creator_id, col(Creator.is_active).is_(True), _creator_due(cutoffs), _lease_free(now))
        .values(scrape_claimed_by=token, scrape_claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    async with db.write() as session:
        result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_creator(db: Database, creator_id: uuid.UUID, token: str) -> None:
    """Drop our lease without recording anything (used when a unit fails before it could apply)."""
    statement = (
        update(Creator)
        .where(col(Creator.id) == creator_id, col(Creator.scrape_claimed_by) == token)
        .values(scrape_claimed_by=None, scrape_claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    async with db.write() as session:
        await session.execute(statement)


def _video_due(cutoffs: Cutoffs) -> ColumnElement[bool]:
    return and_(
        col(Video.tracking_status).in_(TRACKED_STATUSES),
        col(Video.tracking_disabled_at).is_(None),
        or_(col(Video.posted_at).is_(None), col(Video.posted_at) >= cutoffs.expiry),
        _due(col(Video.stats_attempted_at), cutoffs.stats),
    )


async def due_video_ids(db: Database, cutoffs: Cutoffs, video_ids: Sequence[uuid.UUID] | None) -> list[uuid.UUID]:
    """Tracked videos due for a single-page refresh: the given ones, or else those with no creator."""
    query = select(col(Video.id)).where(_video_due(cutoffs))
    if video_ids is not None:
        query = query.where(col(Video.id).in_(list(video_ids)))
    else:
        query = query.where(col(Video.creator_id).is_(None))
    async with db.read() as session:
        return list((await session.scalars(query.order_by(col(Video.id)))).all())


async def claim_video(
    db: Database, video_id: uuid.UUID, cutoffs: Cutoffs, now: datetime
) -> tuple[uuid.UUID, str, str] | None:
    """Claim a video by stamping `stats_attempted_at` if still due; returns (project id, TikTok id, url) or `None`."""
    statement = (
        update(Video)
        .where(col(Video.id) == video_id, _video_due(cutoffs))
        .values(stats_attempted_at=now)
        .execution_options(synchronize_session=False)
    )
    async with db.write() as session:
        result = await session.execute(statement)
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = (
            await session.execute(
                select(col(Video.project_id), col(Video.tiktok_video_id), col(Video.url)).where(
                    col(Video.id) == video_id
                )
            )
        ).one()
    return row.project_id, str(row.tiktok_video_id), str(row.url)


async def plan_creator(db: Database, creator_id: uuid.UUID, cutoffs: Cutoffs) -> CreatorPlan:
    """Read what a claimed creator's unit needs: ids, tracking rules, which floors are due, tracked videos."""
    async with db.read() as session:
        creator = await session.get_one(Creator, creator_id)
        tz = (
            await session.execute(select(col(Organization.timezone)).where(col(Organization.id) == creator.org_id))
        ).scalar_one()
        tracked = (
            await session.execute(
                select(col(Video.id), col(Video.tiktok_video_id))
                .where(col(Video.creator_id) == creator_id, _video_due(Cutoffs(None, None, None, cutoffs.expiry)))
                .order_by(col(Video.id))
            )
        ).all()

    def due(value: datetime | None, cutoff: datetime | None) -> bool:
        return cutoff is None or value is None or value < cutoff

    return CreatorPlan(
        id=creator.id,
        project_id=creator.project_id,
        org_id=creator.org_id,
        handle=creator.tiktok_handle,
        sec_uid=creator.sec_uid,
        tracking_mode=creator.tracking_mode,
        tracking_start=day_range_utc(creator.tracking_start_date, creator.tracking_start_date, tz)[0],
        profile_due=due(creator.profile_checked_at, cutoffs.profile) or not creator.sec_uid,
        listing_due=due(creator.videos_listed_at, cutoffs.listing),
        stats_due=due(creator.video_stats_checked_at, cutoffs.stats),
        tracked=tuple(TrackedVideo(row.id, str(row.tiktok_video_id)) for row in tracked),
    )


# --- applying what was fetched -------------------------------------------------------------------------------


def scrape_state_of(kind: str) -> str:
    """The `scrape_state` a failure kind leaves on a row (the finer kind goes to the run report).

    Facts about the account keep their name; anything that means "TikTok would not show it to us" is
    `blocked`; transient trouble (429, 5xx, timeouts) and unreadable pages leave the row `stale`.
    """
    if kind in ("not_found", "private", "banned", "region_locked"):
        return kind
    if kind in ("blocked", "login_required", "restricted"):
        return "blocked"
    return "stale"


def _complete(profile: Profile) -> bool:
    counters = (profile.follower_count, profile.following_count, profile.heart_count, profile.video_count)
    return all(value is not None for value in counters)


def post_is_complete(post: Post) -> bool:
    """Whether every counter a snapshot needs is present (a partial post is never written as zeros)."""
    counters = (post.play_count, post.digg_count, post.comment_count, post.share_count, post.collect_count)
    return all(value is not None for value in counters)


async def apply_creator(
    db: Database,
    plan: CreatorPlan,
    outcome: CreatorOutcome,
    *,
    now: datetime,
    token: str,
    expiry: datetime,
    disable_after: timedelta,
) -> AppliedCounts:
    """Write one unit's results in one transaction and release the claim.

    Profile counters and a `CreatorSnapshot` are written only from a complete `ok` profile; a failure
    only sets `scrape_state` (and, for `not_found`/`banned` lasting `disable_after`, deactivates the creator).
    Listed posts are inserted (when new and not posted before the tracking start) or update their row;
    counters and a `VideoSnapshot` are written together, so a row always equals its latest snapshot.
    """
    counts = AppliedCounts()
    async with db.write() as session:
        creator = (await session.scalars(lock_rows(select(Creator).where(col(Creator.id) == plan.id)))).one()
        if outcome.profile_tried:
            creator.profile_checked_at = now
        if outcome.listing_tried:
            creator.videos_listed_at = now
        if outcome.stats_tried:
            creator.video_stats_checked_at = now
        profile = outcome.profile
        if profile is not None and _complete(profile):
            creator.tiktok_user_id = profile.user_id
            creator.sec_uid = profile.sec_uid or creator.sec_uid
            creator.display_name = profile.nickname or creator.display_name
            creator.bio = profile.signature
            creator.avatar_url = profile.avatar_url or creator.avatar_url
            creator.follower_count = profile.follower_count
            creator.total_likes_count = profile.heart_count
            creator.video_count = profile.video_count
            creator.last_scraped_at = now
            creator.missing_since = None
            session.add(
                CreatorSnapshot(
                    creator_id=creator.id,
                    captured_at=now,
                    follower_count=profile.follower_count or 0,
                    following_count=profile.following_count or 0,
                    total_likes_count=profile.heart_count or 0,
                    video_count=profile.video_count or 0,
                )
            )
            counts.creator_snapshots += 1
        elif outcome.profile_failure in ("not_found", "banned"):
            creator.missing_since = creator.missing_since or now
            if now - creator.missing_since >= disable_after and creator.is_active:
                creator.is_active = False
                creator.disabled_reason = (
                    f"TikTok reported @{creator.tiktok_handle} as {outcome.profile_failure} on every scrape since "
                    f"{creator.missing_since:%Y-%m-%d %H:%M} UTC; reactivate it (add the handle again) if it is back."
                )
                counts.disabled = True
        elif outcome.profile_failure in ("private", "region_locked"):
            creator.missing_since = None  # the account exists
        failure = outcome.profile_failure or outcome.list_failure
        if failure is not None:
            creator.scrape_state = scrape_state_of(failure)
        elif outcome.profile_tried or outcome.listing_tried:
            creator.scrape_state = "ok"
        if creator.scrape_claimed_by == token:
            creator.scrape_claimed_by = None
            creator.scrape_claimed_until = None
        creator.updated_at = now
        session.add(creator)

        if outcome.listed:
            counts.videos_discovered, counts.videos_skipped_before_start = await _insert_new_posts(
                session, plan, outcome.listed.values(), now
            )
        snapshots = await _refresh_rows(
            session,
            project_id=plan.project_id,
            creator_id=plan.id,
            posts=outcome.listed,
            singles=outcome.videos,
            now=now,
            expiry=expiry,
        )
        counts.video_snapshots += snapshots
    return counts


async def apply_videos(
    db: Database, project_id: uuid.UUID, singles: dict[str, VideoOutcome], *, now: datetime, expiry: datetime
) -> int:
    """Write single-video fetch results for one project's videos; returns the number of snapshots added."""
    async with db.write() as session:
        return await _refresh_rows(
            session, project_id=project_id, creator_id=None, posts={}, singles=singles, now=now, expiry=expiry
        )


async def _insert_new_posts(session: Any, plan: CreatorPlan, posts: Any, now: datetime) -> tuple[int, int]:
    """Insert listed posts the project does not have yet (`ON CONFLICT DO NOTHING`); returns (added, too old)."""
    posts = list(posts)
    known = set(
        (
            await session.scalars(
                select(col(Video.tiktok_video_id)).where(
                    col(Video.project_id) == plan.project_id,
                    col(Video.tiktok_video_id).in_([p.video_id for p in posts]),
                )
            )
        ).all()
    )
    status = "pending_review" if plan.tracking_mode == "selective" else "auto_tracked"
    rows: list[dict[str, Any]] = []
    too_old = 0
    for post in posts:
        if post.video_id in known:
            continue
        if post.create_time < plan.tracking_start:
            too_old += 1
            continue
        kind = "photo" if post.is_photo else "video"
        rows.append(
            {
                "id": uuid.uuid4(),
                "org_id": plan.org_id,
                "project_id": plan.project_id,
                "creator_id": plan.id,
                "tiktok_video_id": post.video_id,
                "url": f"https://www.tiktok.com/@{plan.handle}/{kind}/{post.video_id}",
                "caption": post.description,
                "meta": {},
                "posted_at": post.create_time,
                "tracking_status": status,
                "scrape_state": "stale",
                "is_photo": post.is_photo,
                "created_at": now,
                "updated_at": now,
            }
        )
    if not rows:
        return 0, too_old
    table = table_of(Video)
    values = [{("metadata" if k == "meta" else k): v for k, v in row.items()} for row in rows]
    result = await session.execute(
        insert_ignoring_duplicates(session, table, unique=["project_id", "tiktok_video_id"]).values(values)
    )
    added = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)
    return int(added), too_old


async def _refresh_rows(
    session: Any,
    *,
    project_id: uuid.UUID,
    creator_id: uuid.UUID | None,
    posts: dict[str, Post],
    singles: dict[str, VideoOutcome],
    now: datetime,
    expiry: datetime,
) -> int:
    """Update counters (plus a snapshot) of every tracked, unexpired row seen; mark failed singles' state."""
    wanted = list({*posts, *singles})
    if not wanted:
        return 0
    rows = (
        await session.scalars(
            select(Video).where(col(Video.project_id) == project_id, col(Video.tiktok_video_id).in_(wanted))
        )
    ).all()
    snapshots = 0
    for row in rows:
        single = singles.get(row.tiktok_video_id)
        post = posts.get(row.tiktok_video_id) or (single.post if single else None)
        if row.tracking_status not in TRACKED_STATUSES or row.tracking_disabled_at is not None:
            continue
        if creator_id is not None and row.creator_id is None:
            row.creator_id = creator_id  # a direct add the creator's own list has now vouched for
        if single is not None or post is not None:
            row.stats_attempted_at = now
        fresh = row.created_at == now and row.last_scraped_at is None
        if post is not None and post_is_complete(post):
            if row.posted_at is not None and row.posted_at < expiry and not fresh:
                continue  # past the tracking-expiry window: its numbers are final
            row.view_count = post.play_count or 0
            row.like_count = post.digg_count or 0
            row.comment_count = post.comment_count or 0
            row.share_count = post.share_count or 0
            row.save_count = post.collect_count or 0
            row.posted_at = post.create_time
            row.caption = post.description
            row.is_photo = post.is_photo
            row.last_scraped_at = now
            row.scrape_state = "ok"
            session.add(
                VideoSnapshot(
                    video_id=row.id,
                    captured_at=now,
                    view_count=row.view_count,
                    like_count=row.like_count,
                    comment_count=row.comment_count,
                    share_count=row.share_count,
                    save_count=row.save_count,
                )
            )
            snapshots += 1
        elif single is not None:
            row.scrape_state = scrape_state_of(single.failure or "unknown")
        row.updated_at = now
        session.add(row)
    return snapshots
