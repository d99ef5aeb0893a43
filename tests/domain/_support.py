"""Helpers shared by the domain tests: video ids with a known post time, and rows written directly.

Statistics tests insert `Video` and `VideoSnapshot` rows themselves (the scraper is not part of the
domain layer), so counters, snapshot times and tracking states are exactly what each test says.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import Video, VideoSnapshot
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scope import Caller


def video_id_at(when: datetime, low: int = 0) -> str:
    """A TikTok video id whose upper 32 bits are the Unix time `when` (the lower bits are free)."""
    return str((int(when.timestamp()) << 32) | low)


def video_url(handle: str, when: datetime, low: int = 0, kind: str = "video") -> str:
    return f"https://www.tiktok.com/@{handle}/{kind}/{video_id_at(when, low)}"


_serial = iter(range(1, 10**9))


async def insert_video(
    session: AsyncSession,
    caller: Caller,
    project_id: uuid.UUID,
    *,
    creator_id: uuid.UUID | None = None,
    status: str = "auto_tracked",
    posted_at: datetime | None = None,
    caption: str | None = None,
    views: int = 0,
    likes: int = 0,
    comments: int = 0,
    shares: int = 0,
    saves: int = 0,
    last_scraped_at: datetime | None = None,
    tracking_disabled_at: datetime | None = None,
    created_at: datetime | None = None,
    snapshots: list[tuple[datetime, int]] | None = None,
) -> Video:
    """Write one video row (and its view snapshots) straight into the store."""
    n = next(_serial)
    base = posted_at or datetime(2026, 1, 1, tzinfo=UTC)
    tiktok_id = video_id_at(base, n)
    video = Video(
        org_id=caller.org_id,
        project_id=project_id,
        creator_id=creator_id,
        tiktok_video_id=tiktok_id,
        url=f"https://www.tiktok.com/@someone/video/{tiktok_id}",
        caption=caption,
        view_count=views,
        like_count=likes,
        comment_count=comments,
        share_count=shares,
        save_count=saves,
        posted_at=posted_at,
        last_scraped_at=last_scraped_at,
        tracking_status=status,
        tracking_disabled_at=tracking_disabled_at,
        created_at=created_at or datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
        updated_at=created_at or datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
    )
    session.add(video)
    await session.flush()
    for captured_at, view_count in snapshots or []:
        session.add(VideoSnapshot(video_id=video.id, captured_at=captured_at, view_count=view_count))
    await session.flush()
    return video


async def count_rows(db: Database, model: Any, *where: Any) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())
