"""Read-backs for the scrape tests (a creator's row, its videos, its snapshots, the run rows) and what each fault
of the simulated site leaves behind."""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlmodel import col, select

from trackagoat_mcp.db.models import Creator, CreatorSnapshot, JobRun, Video, VideoSnapshot
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.tiktok.sim import FaultKind

# fault -> (scrape_state left on the creator, failure kind in the report, profile requests the site saw)
FAULTS: dict[FaultKind, tuple[str, str, int]] = {
    "rate_limited": ("stale", "rate_limited", 3),
    "server_error": ("stale", "unavailable", 3),
    "slow": ("stale", "unavailable", 3),
    "challenge": ("blocked", "blocked", 1),
    "empty_shell": ("blocked", "blocked", 1),
    "login_redirect": ("blocked", "login_required", 1),
    "private": ("private", "private", 1),
    "not_found": ("not_found", "not_found", 1),
    "banned": ("banned", "banned", 1),
    "region_locked": ("region_locked", "region_locked", 1),
    "forbidden": ("blocked", "blocked", 1),
    "script_challenge": ("blocked", "blocked", 1),
    "missing": ("not_found", "not_found", 1),
}
"""Faults that keep a creator from being read by the plain client. The site's other faults (`SHAPE_FAULTS`) only
change a page's shape: read right, such a creator is scraped like a healthy one."""


async def creator_row(db: Database, creator_id: uuid.UUID) -> Creator:
    async with db.read() as session:
        return await session.get_one(Creator, creator_id)


async def videos_of(db: Database, creator_id: uuid.UUID) -> dict[str, Video]:
    """The creator's videos by caption (each simulated post has a distinct description)."""
    async with db.read() as session:
        rows = (await session.scalars(select(Video).where(col(Video.creator_id) == creator_id))).all()
    return {row.caption or "": row for row in rows}


async def creator_snapshots(db: Database, creator_id: uuid.UUID) -> list[CreatorSnapshot]:
    async with db.read() as session:
        query = select(CreatorSnapshot).where(col(CreatorSnapshot.creator_id) == creator_id)
        return list((await session.scalars(query.order_by(col(CreatorSnapshot.id)))).all())


async def video_snapshots(db: Database, video_id: uuid.UUID) -> list[VideoSnapshot]:
    async with db.read() as session:
        query = select(VideoSnapshot).where(col(VideoSnapshot.video_id) == video_id)
        return list((await session.scalars(query.order_by(col(VideoSnapshot.id)))).all())


async def snapshot_total(db: Database) -> tuple[int, int]:
    """(creator snapshots, video snapshots) in the whole store."""
    async with db.read() as session:
        creators = (await session.execute(select(func.count()).select_from(CreatorSnapshot))).scalar_one()
        videos = (await session.execute(select(func.count()).select_from(VideoSnapshot))).scalar_one()
    return int(creators), int(videos)


async def scrape_runs(db: Database) -> list[JobRun]:
    async with db.read() as session:
        query = select(JobRun).where(col(JobRun.job) == "scrape").order_by(col(JobRun.started_at), col(JobRun.slot))
        return list((await session.scalars(query)).all())
