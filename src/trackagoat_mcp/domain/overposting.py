"""Over-posting: days on which a creator posted so much that TikTok likely throttled all of that day's videos.

The rule is trackagoat's (reference §7). An incident is one creator on one calendar day of the organization's
timezone on which

1. at least 7 videos were posted, and
2. at least 2 of them had fewer than 100 views at least 2 hours after posting,
3. confirmed by stats snapshots: a snapshot of the video captured 2 hours or more after its `posted_at` shows
   fewer than 100 views. A video whose only low reading came sooner is merely new, not suppressed, and a video
   never snapshotted after 2 hours is not evidence either way.

Which posts count: every known post of the creator except `excluded` ones. Throttling is about what the creator
published on TikTok, so videos still waiting in the inbox or no longer tracked count too; excluded videos are
left out because callers never see them (SPEC §4). Direct adds have no creator and so no posting pattern.

An incident is `recent` when its day is at most 7 days before today (actionable: spread posts out now) and
`historical` otherwise. The scan looks back `lookback_days` local days (default 30, so the work stays bounded).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.clock import day_range_utc, local_today, parse_timezone
from trackagoat_mcp.db.models import Creator, Video, VideoSnapshot
from trackagoat_mcp.errors import InvalidInput

__all__ = [
    "LOW_VIEWS",
    "MIN_LOW_POSTS",
    "MIN_POSTS_PER_DAY",
    "RECENT_DAYS",
    "SETTLE_TIME",
    "OverpostingIncident",
    "find_incidents",
]

MIN_POSTS_PER_DAY = 7
MIN_LOW_POSTS = 2
LOW_VIEWS = 100
SETTLE_TIME = timedelta(hours=2)
RECENT_DAYS = 7
DEFAULT_LOOKBACK_DAYS = 30
MAX_LOOKBACK_DAYS = 366
VIDEO_IDS_SHOWN = 20
ID_CHUNK = 2000
"""Ids per IN (...) list, well under SQLite's bound-parameter limit."""


class OverpostingIncident(BaseModel):
    """One creator's over-posting day."""

    creator_id: uuid.UUID
    tiktok_handle: str
    day: date = Field(description="Local calendar day (organization timezone).")
    posts: int = Field(description="Videos the creator posted that day (excluded ones aside).")
    low_view_video_ids: list[uuid.UUID] = Field(
        description="Videos confirmed under 100 views at least 2 h after posting (get_video for details)."
    )
    video_ids: list[uuid.UUID] = Field(description="That day's videos, in posting order (at most 20).")
    severity: Literal["recent", "historical"] = Field(description="recent = day at most 7 days before today.")


async def find_incidents(
    session: AsyncSession,
    project_id: uuid.UUID,
    *,
    tz: str,
    now: datetime,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    creator_id: uuid.UUID | None = None,
) -> list[OverpostingIncident]:
    """Over-posting incidents of a project's creators (already scoped by the caller), newest day first.

    Scans the local days from `lookback_days` − 1 days before today through today.
    """
    if not 1 <= lookback_days <= MAX_LOOKBACK_DAYS:
        raise InvalidInput(f"lookback_days {lookback_days!r} is out of range; use 1 to {MAX_LOOKBACK_DAYS}.")
    zone = parse_timezone(tz)
    today = local_today(now, tz)
    since, _ = day_range_utc(today - timedelta(days=lookback_days - 1), today, tz)
    query = (
        select(col(Video.id), col(Video.creator_id), col(Video.posted_at))
        .where(
            col(Video.project_id) == project_id,
            col(Video.creator_id).is_not(None),
            col(Video.tracking_status) != "excluded",
            col(Video.posted_at) >= since,
            col(Video.posted_at) <= now,
        )
        .order_by(col(Video.creator_id), col(Video.posted_at), col(Video.id))
    )
    if creator_id is not None:
        query = query.where(col(Video.creator_id) == creator_id)
    days: dict[tuple[uuid.UUID, date], list[tuple[uuid.UUID, datetime]]] = defaultdict(list)
    for video_id, owner, posted_at in (await session.execute(query)).all():
        if owner is not None and posted_at is not None:  # guaranteed by the query; narrows the types
            days[(owner, posted_at.astimezone(zone).date())].append((video_id, posted_at))
    busy = {key: posts for key, posts in days.items() if len(posts) >= MIN_POSTS_PER_DAY}
    if not busy:
        return []
    low = await _confirmed_low(session, [post for posts in busy.values() for post in posts])
    handles = dict(
        (
            await session.execute(
                select(col(Creator.id), col(Creator.tiktok_handle)).where(
                    col(Creator.id).in_({owner for owner, _ in busy})
                )
            )
        ).all()
    )
    incidents = []
    for (owner, day), posts in busy.items():
        low_ids = [video_id for video_id, _ in posts if video_id in low]
        if len(low_ids) < MIN_LOW_POSTS:
            continue
        incidents.append(
            OverpostingIncident(
                creator_id=owner,
                tiktok_handle=handles.get(owner, ""),
                day=day,
                posts=len(posts),
                low_view_video_ids=low_ids,
                video_ids=[video_id for video_id, _ in posts[:VIDEO_IDS_SHOWN]],
                severity="recent" if (today - day).days <= RECENT_DAYS else "historical",
            )
        )
    incidents.sort(key=lambda i: (i.day, i.tiktok_handle), reverse=True)
    return incidents


async def _confirmed_low(session: AsyncSession, posts: list[tuple[uuid.UUID, datetime]]) -> set[uuid.UUID]:
    """Ids of the videos with a snapshot captured at least 2 h after posting that shows fewer than 100 views."""
    posted = dict(posts)
    ids = list(posted)
    low: set[uuid.UUID] = set()
    for first in range(0, len(ids), ID_CHUNK):
        rows = await session.execute(
            select(col(VideoSnapshot.video_id), col(VideoSnapshot.captured_at)).where(
                col(VideoSnapshot.video_id).in_(ids[first : first + ID_CHUNK]),
                col(VideoSnapshot.view_count) < LOW_VIEWS,
            )
        )
        low |= {video_id for video_id, captured_at in rows.all() if captured_at - posted[video_id] >= SETTLE_TIME}
    return low
