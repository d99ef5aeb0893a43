"""The comment scraper's reads and writes: which videos are due, claiming one, and storing what was read.

Every write is short and happens with no fetch in flight. Comments are upserted on their unique key
(`video_id`, `cid`), so a comment read twice, by one cycle or by two processes, is stored once (its like and reply
counts refreshed). Nothing here deletes: a comment TikTok shows as deleted gets `deleted_at`, and a failed read
changes only the feed's `state` and `checked_at`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import col

from trackagoat_mcp.db.dialect import insert_ignoring_duplicates, insert_or_update
from trackagoat_mcp.db.models import Video, VideoComment, VideoCommentFeed, table_of
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.sentiment import comparative_score
from trackagoat_mcp.domain.tree import is_counted
from trackagoat_mcp.tiktok.comments import Comment

__all__ = ["CommentTarget", "apply_comments", "claim_comment_video", "due_comment_videos", "known_cids"]


@dataclass(frozen=True)
class CommentTarget:
    """A claimed video: its ids, TikTok id, and where the backfill of older comments resumes."""

    video_id: uuid.UUID
    org_id: uuid.UUID
    project_id: uuid.UUID
    tiktok_video_id: str
    backfill_cursor: int | None


def _due(cutoff: datetime | None) -> Any:
    feed = col(VideoCommentFeed.checked_at)
    return feed.is_(None) if cutoff is None else or_(feed.is_(None), feed < cutoff)


async def due_comment_videos(
    db: Database, cutoff: datetime | None, expiry: datetime, video_ids: Sequence[uuid.UUID] | None = None
) -> list[uuid.UUID]:
    """Counted videos posted since `expiry` whose comments were not tried since `cutoff` (`None`: all of them),
    never-tried first, then the longest-waiting, so a bounded cycle takes turns over every video."""
    query = (
        select(col(Video.id))
        .outerjoin(VideoCommentFeed, col(VideoCommentFeed.video_id) == col(Video.id))
        .where(is_counted(Video), col(Video.posted_at) >= expiry)
        .order_by(col(VideoCommentFeed.checked_at).asc().nulls_first(), col(Video.posted_at).desc(), col(Video.id))
    )
    if cutoff is not None:
        query = query.where(_due(cutoff))
    if video_ids is not None:
        query = query.where(col(Video.id).in_(list(video_ids)))
    async with db.read() as session:
        return list((await session.scalars(query)).all())


async def claim_comment_video(
    db: Database, video_id: uuid.UUID, cutoff: datetime | None, now: datetime
) -> CommentTarget | None:
    """Stamp the video's `checked_at` if it is still due (compare-and-set, so two processes never both read it);
    returns what the read needs, or `None` when another process got there first."""
    async with db.write() as session:
        video = (
            await session.execute(
                select(col(Video.org_id), col(Video.project_id), col(Video.tiktok_video_id)).where(
                    col(Video.id) == video_id
                )
            )
        ).one_or_none()
        if video is None:
            return None
        await session.execute(
            insert_ignoring_duplicates(session, table_of(VideoCommentFeed), unique=["video_id"]).values(
                video_id=video_id, org_id=video.org_id, state="stale"
            )
        )
        stamp = update(VideoCommentFeed).where(col(VideoCommentFeed.video_id) == video_id)
        if cutoff is not None:
            stamp = stamp.where(_due(cutoff))
        result = await session.execute(stamp.values(checked_at=now).execution_options(synchronize_session=False))
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        backfill = (
            await session.execute(
                select(col(VideoCommentFeed.backfill_cursor)).where(col(VideoCommentFeed.video_id) == video_id)
            )
        ).scalar_one()
    return CommentTarget(video_id, video.org_id, video.project_id, str(video.tiktok_video_id), backfill)


async def known_cids(db: Database, video_id: uuid.UUID, cids: Iterable[str]) -> set[str]:
    """Which of `cids` the video already has stored."""
    wanted = list(dict.fromkeys(cids))
    if not wanted:
        return set()
    async with db.read() as session:
        rows = await session.scalars(
            select(col(VideoComment.cid)).where(
                col(VideoComment.video_id) == video_id, col(VideoComment.cid).in_(wanted)
            )
        )
        return set(rows.all())


async def apply_comments(
    db: Database,
    target: CommentTarget,
    comments: Sequence[Comment],
    *,
    now: datetime,
    state: str,
    total: int | None,
    backfill_cursor: int | None,
) -> tuple[int, int]:
    """Store the comments read (scored now), mark the ones TikTok shows as deleted, and record how the read ended.

    Args:
        target: the claimed video.
        comments: everything read, in any order, possibly with repeats (the first copy of a cid wins).
        now: the scrape time.
        state: `ok`, or the failure kind that stopped the read (what was read before it is still stored).
        total: TikTok's comment total from the last page read, if any (kept from before when `None`).
        backfill_cursor: where the next read of older comments starts (`None`: nothing left to backfill).

    Returns:
        (new comments stored, stored comments newly marked deleted).
    """
    unique: dict[str, Comment] = {}
    for comment in comments:
        unique.setdefault(comment.cid, comment)
    shown = [c for c in unique.values() if not c.deleted]
    gone = [c.cid for c in unique.values() if c.deleted]
    async with db.write() as session:
        known = (
            set(
                (
                    await session.scalars(
                        select(col(VideoComment.cid)).where(
                            col(VideoComment.video_id) == target.video_id, col(VideoComment.cid).in_(list(unique))
                        )
                    )
                ).all()
            )
            if unique
            else set()
        )
        if shown:
            statement = insert_or_update(
                session,
                table_of(VideoComment),
                unique=["video_id", "cid"],
                update=["like_count", "reply_count", "is_pinned", "liked_by_author"],
            )
            # Many parameter sets to one statement: SQLAlchemy batches them ("insertmanyvalues") on both stores.
            await session.execute(statement, [_row(target, comment, now) for comment in shown])
        marked = 0
        if gone:
            result = await session.execute(
                update(VideoComment)
                .where(
                    col(VideoComment.video_id) == target.video_id,
                    col(VideoComment.cid).in_(gone),
                    col(VideoComment.deleted_at).is_(None),
                )
                .values(deleted_at=now)
                .execution_options(synchronize_session=False)
            )
            marked = int(result.rowcount or 0)  # type: ignore[attr-defined]
        feed_values: dict[str, Any] = {"state": state, "backfill_cursor": backfill_cursor}
        if state == "ok":
            feed_values["refreshed_at"] = now
        if total is not None:
            feed_values["total"] = total
        await session.execute(
            update(VideoCommentFeed)
            .where(col(VideoCommentFeed.video_id) == target.video_id)
            .values(**feed_values)
            .execution_options(synchronize_session=False)
        )
    return sum(1 for c in shown if c.cid not in known), marked


def _row(target: CommentTarget, comment: Comment, now: datetime) -> dict[str, Any]:
    return {
        "org_id": target.org_id,
        "project_id": target.project_id,
        "video_id": target.video_id,
        "cid": comment.cid,
        "parent_cid": comment.parent_cid,
        "text": comment.text,
        "commenter": comment.commenter,
        "posted_at": comment.create_time,
        "like_count": comment.like_count,
        "reply_count": comment.reply_count,
        "is_pinned": comment.pinned,
        "liked_by_author": comment.liked_by_author,
        "score": comparative_score(comment.text),
        "scraped_at": now,
    }
