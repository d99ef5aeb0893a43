"""The comment stream: stored comments of a scope, newest first (TikTok time), filtered by sentiment and keyword.

Scope as the radar's (`radar.resolve_scope`), plus a single video: exactly one of a project, campaign tree,
creator or video, counted videos only. Deleted comments never appear. `sentiment` picks positive, neutral or
negative comments (by the sign of their score) or `unscored` ones (no word to score); `contains` matches part of
the text, ignoring case (on SQLite only ASCII letters fold), `%` and `_` taken literally. The range, in local days
of the organization's timezone, is optional: without it the whole stream is listed. Pages follow
`domain.pagination` (`posted_at`, then id, both descending).

Comment text and the commenter's handle are TikTok users' text: results carry them under `comment_text` and
`commenter`, which the MCP layer fences as untrusted data.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import check_day, day_range_utc
from trackagoat_mcp.db.models import Video, VideoComment, table_of
from trackagoat_mcp.domain.pagination import Page, cursor_int, cursor_time, fetch_page
from trackagoat_mcp.domain.radar import resolve_scope
from trackagoat_mcp.domain.schemas import UNTRUSTED
from trackagoat_mcp.domain.scope import Caller, get_org
from trackagoat_mcp.domain.sentiment import sentiment_of
from trackagoat_mcp.domain.tree import is_counted
from trackagoat_mcp.errors import InvalidInput

__all__ = ["CommentFilter", "CommentItem", "list_comments"]

CommentFilter = Literal["positive", "neutral", "negative", "unscored"]


class CommentItem(BaseModel):
    """One stored comment with its sentiment and where it was written."""

    model_config = ConfigDict(frozen=True)

    id: int
    video_id: uuid.UUID
    cid: str = Field(description="TikTok's comment id.")
    reply_to: str | None = Field(description="The cid this replies to; null for a top-level comment.")
    posted_at: datetime
    comment_text: str = Field(description=UNTRUSTED)
    commenter: str | None = Field(description="The writer's handle. " + UNTRUSTED)
    likes: int
    replies: int
    pinned: bool
    score: float | None = Field(description="AFINN comparative score; null = no word to score.")
    sentiment: str | None


async def list_comments(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any | None = None,
    campaign_id: Any | None = None,
    creator_id: Any | None = None,
    video_id: Any | None = None,
    sentiment: str | None = None,
    contains: str | None = None,
    range_from: date | None = None,
    range_to: date | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CommentItem]:
    """One page of the comment stream (see the module docstring)."""
    if sentiment is not None and sentiment not in ("positive", "neutral", "negative", "unscored"):
        raise InvalidInput(f"sentiment {sentiment!r} is not one of positive, neutral, negative, unscored.")
    scope = await resolve_scope(
        session,
        caller,
        project_id=project_id,
        campaign_id=campaign_id,
        creator_id=creator_id,
        video_id=video_id,
        allow_video=True,
    )
    videos = table_of(Video).c
    scoped = select(videos.id).where(*scope.where, is_counted(videos))
    query = select(VideoComment).where(
        col(VideoComment.org_id) == caller.org_id,
        col(VideoComment.video_id).in_(scoped),
        col(VideoComment.deleted_at).is_(None),
    )
    score = col(VideoComment.score)
    if sentiment == "positive":
        query = query.where(score > 0)
    elif sentiment == "negative":
        query = query.where(score < 0)
    elif sentiment == "neutral":
        query = query.where(score == 0)
    elif sentiment == "unscored":
        query = query.where(score.is_(None))
    if contains is not None and contains.strip():
        query = query.where(col(VideoComment.text).icontains(contains.strip(), autoescape=True))
    if range_from is not None or range_to is not None:
        if range_from and range_to and range_from > range_to:
            raise InvalidInput(f"from {range_from.isoformat()!r} is after to {range_to.isoformat()!r}; swap them.")
        tz = (await get_org(session, caller)).timezone
        if range_from is not None:
            check_day("from", range_from)
            query = query.where(col(VideoComment.posted_at) >= day_range_utc(range_from, range_from, tz)[0])
        if range_to is not None:
            check_day("to", range_to)
            query = query.where(col(VideoComment.posted_at) < day_range_utc(range_to, range_to, tz)[1])
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="comments",
        order="newest",
        columns=[col(VideoComment.posted_at), col(VideoComment.id)],
        parsers=[cursor_time, cursor_int],
        key=lambda c: [c.posted_at, c.id],
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return Page[CommentItem](items=[_item(c) for c in page], next_cursor=next_cursor)


def _item(comment: VideoComment) -> CommentItem:
    return CommentItem(
        id=comment.id or 0,
        video_id=comment.video_id,
        cid=comment.cid,
        reply_to=comment.parent_cid,
        posted_at=comment.posted_at,
        comment_text=comment.text,
        commenter=comment.commenter,
        likes=comment.like_count,
        replies=comment.reply_count,
        pinned=comment.is_pinned,
        score=comment.score,
        sentiment=sentiment_of(comment.score),
    )
