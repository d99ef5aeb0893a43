"""`member_overlap`: which campaigns of a project share creators and counted videos, pair by pair.

Each campaign is its whole tree (sub-campaigns included, as in campaign statistics). For every pair of campaigns
that shares anything: `shared_creators` (creator items both trees contain), `shared_videos` (counted videos both
trees reach) and `video_jaccard` = shared ÷ videos in either tree. Pairs sharing nothing are left out; pairs are
sorted by shared videos, then shared creators, most first. At most `MAX_CAMPAIGNS` campaigns (oldest first) are
compared, so the answer stays bounded; `campaigns_compared` says how many were.
"""

from __future__ import annotations

import uuid
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import Campaign, Video
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.domain.tree import is_counted, tree_creator_ids, tree_video_ids

__all__ = ["MAX_CAMPAIGNS", "MemberOverlap", "OverlapPair", "member_overlap"]

MAX_CAMPAIGNS = 100


class OverlapPair(BaseModel):
    """Two campaigns and what their trees share."""

    model_config = ConfigDict(frozen=True)

    campaign_a_id: uuid.UUID
    campaign_a_name: str
    campaign_b_id: uuid.UUID
    campaign_b_name: str
    shared_creators: int
    shared_videos: int
    video_jaccard: float | None = Field(
        description="shared ÷ counted videos in either tree; null when neither has any."
    )


class MemberOverlap(BaseModel):
    """The overlapping pairs of a project's campaigns."""

    model_config = ConfigDict(frozen=True)

    project_id: uuid.UUID
    campaigns_compared: int
    campaigns_total: int
    items: list[OverlapPair]


async def member_overlap(session: AsyncSession, caller: Caller, *, project_id: object) -> MemberOverlap:
    """Pairs of the project's campaigns that share creators or counted videos (module docstring)."""
    caller.require("read")
    project = await get_project(session, caller, project_id)
    campaigns = list(
        await session.scalars(
            select(Campaign)
            .where(col(Campaign.project_id) == project.id)
            .order_by(col(Campaign.created_at), col(Campaign.id))
        )
    )
    compared = campaigns[:MAX_CAMPAIGNS]
    videos: dict[uuid.UUID, set[uuid.UUID]] = {}
    creators: dict[uuid.UUID, set[uuid.UUID]] = {}
    for campaign in compared:
        reached = tree_video_ids(campaign.id).subquery()
        videos[campaign.id] = set(
            await session.scalars(
                select(col(Video.id)).where(col(Video.id).in_(select(reached.c.video_id)), is_counted())
            )
        )
        creators[campaign.id] = set(await session.scalars(tree_creator_ids(campaign.id)))
    pairs = []
    for a, b in combinations(compared, 2):
        shared_videos = len(videos[a.id] & videos[b.id])
        shared_creators = len(creators[a.id] & creators[b.id])
        if not shared_videos and not shared_creators:
            continue
        either = len(videos[a.id] | videos[b.id])
        pairs.append(
            OverlapPair(
                campaign_a_id=a.id,
                campaign_a_name=a.name,
                campaign_b_id=b.id,
                campaign_b_name=b.name,
                shared_creators=shared_creators,
                shared_videos=shared_videos,
                video_jaccard=round(shared_videos / either, 4) if either else None,
            )
        )
    pairs.sort(key=lambda p: (-p.shared_videos, -p.shared_creators, p.campaign_a_name, p.campaign_b_name))
    return MemberOverlap(
        project_id=project.id, campaigns_compared=len(compared), campaigns_total=len(campaigns), items=pairs
    )
