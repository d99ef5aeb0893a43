"""`get_agent_context`: the instructions and notes that frame an entity, most specific first.

The chain runs video → creator → every campaign that contains it (nearest first, then their
parents) → project. Each link carries the human `description` (instructions to follow) and the
agent's `readme`. Caveats list what would make an analysis misleading: videos waiting in the inbox,
stale or failed scrapes, inactive creators, videos that do not count.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.clock import describe_instant
from trackagoat_mcp.db.models import Campaign, CampaignItem, Creator, Project, Video, table_of
from trackagoat_mcp.domain.creators import pending_review_count
from trackagoat_mcp.domain.notes import load_entity
from trackagoat_mcp.domain.schemas import DESCRIPTION, README
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.domain.tree import tree_creator_ids
from trackagoat_mcp.errors import InvalidInput

__all__ = ["AgentContext", "ContextLink", "agent_context"]

STALE_AFTER = timedelta(hours=48)
ContextEntity = Literal["project", "creator", "video", "campaign"]
CONTEXT_ENTITY_TYPES: tuple[ContextEntity, ...] = ("project", "creator", "video", "campaign")


class ContextLink(BaseModel):
    """One entity in the chain of instructions."""

    entity_type: ContextEntity
    id: uuid.UUID
    label: str
    relation: str = Field(description="How it relates to the requested entity (self, creator, campaign, project).")
    description: str | None = Field(description=DESCRIPTION)
    readme: str | None = Field(description=README)


class AgentContext(BaseModel):
    """Everything an agent should read before analysing an entity."""

    entity_type: ContextEntity
    entity_id: uuid.UUID
    chain: list[ContextLink] = Field(description="Most specific first; where instructions conflict, earlier wins.")
    caveats: list[str] = Field(description="Facts that would make a naive analysis misleading.")


async def _containing_campaigns(session: AsyncSession, refs: list[tuple[str, uuid.UUID]]) -> list[Campaign]:
    """Campaigns containing any of `refs`, nearest first, then their ancestors breadth-first."""
    seen: dict[uuid.UUID, Campaign] = {}
    frontier = refs
    while frontier:
        conditions = [(col(CampaignItem.item_type) == t) & (col(CampaignItem.item_id) == i) for t, i in frontier]
        parent_ids = (
            (await session.execute(select(col(CampaignItem.campaign_id)).where(or_(*conditions)).distinct()))
            .scalars()
            .all()
        )
        new = [pid for pid in parent_ids if pid not in seen]
        if not new:
            break
        rows = (
            (await session.execute(select(Campaign).where(col(Campaign.id).in_(new)).order_by(col(Campaign.name))))
            .scalars()
            .all()
        )
        for row in rows:
            seen[row.id] = row
        frontier = [("campaign", row.id) for row in rows]
    return list(seen.values())


def _link(entity: Any, entity_type: ContextEntity, relation: str) -> ContextLink:
    label = {
        "project": lambda e: e.name,
        "campaign": lambda e: e.name,
        "creator": lambda e: "@" + e.tiktok_handle,
        "video": lambda e: e.url,
    }[entity_type](entity)
    return ContextLink(
        entity_type=entity_type,
        id=entity.id,
        label=label,
        relation=relation,
        description=entity.description,
        readme=entity.readme,
    )


def _creator_caveats(creator: Creator, now: datetime) -> list[str]:
    notes = []
    if not creator.is_active:
        notes.append(
            f"@{creator.tiktok_handle} is inactive ({creator.disabled_reason or 'disabled'}): it is no "
            "longer scraped, so its numbers are frozen."
        )
    if creator.last_scraped_at is None:
        notes.append(f"@{creator.tiktok_handle} has never been scraped yet; its counters are empty, not zero.")
    elif creator.scrape_state != "ok":
        notes.append(
            f"The last scrape of @{creator.tiktok_handle} failed ({creator.scrape_state}); numbers are the "
            f"last good values from {describe_instant(creator.last_scraped_at, now)}."
        )
    elif now - creator.last_scraped_at > STALE_AFTER:
        notes.append(
            f"@{creator.tiktok_handle} was last scraped {describe_instant(creator.last_scraped_at, now)}, more "
            "than 48 hours ago; recent views are missing."
        )
    if creator.tracking_mode == "selective":
        notes.append(
            f"@{creator.tiktok_handle} is in selective mode: new videos wait in the inbox and do not count "
            "until included."
        )
    return notes


async def _group_caveats(session: AsyncSession, creator_filter: Any, scope: str, now: datetime) -> list[str]:
    creators = table_of(Creator).c
    videos = table_of(Video).c
    pending = (
        await session.execute(
            select(func.count())
            .select_from(table_of(Video))
            .where(videos.tracking_status == "pending_review", videos.creator_id.in_(creator_filter))
        )
    ).scalar_one()
    failing = (
        await session.execute(
            select(func.count())
            .select_from(table_of(Creator))
            .where(
                creators.id.in_(creator_filter),
                creators.is_active.is_(True),
                (creators.scrape_state != "ok")
                | creators.last_scraped_at.is_(None)
                | (creators.last_scraped_at < now - STALE_AFTER),
            )
        )
    ).scalar_one()
    notes = []
    if pending:
        notes.append(
            f"{pending} video(s) of {scope} wait in the tracking inbox (pending_review) and are not counted; "
            "review them with review_videos."
        )
    if failing:
        notes.append(
            f"{failing} active creator(s) of {scope} have stale, failed or missing scrapes; their recent "
            "numbers may be incomplete (list_creators shows scrape_state)."
        )
    return notes


async def agent_context(
    session: AsyncSession, caller: Caller, entity_type: str, entity_id: Any, *, now: datetime
) -> AgentContext:
    """Build the description chain and caveats for a project, creator, video or campaign."""
    if entity_type not in CONTEXT_ENTITY_TYPES:
        raise InvalidInput(f"entity_type {entity_type!r} is not one of 'project', 'creator', 'video', 'campaign'.")
    entity = await load_entity(session, caller, entity_type, entity_id)
    chain = [_link(entity, entity_type, "self")]
    caveats: list[str] = []
    refs: list[tuple[str, uuid.UUID]] = [(entity_type, entity.id)]
    creator: Creator | None = None
    if isinstance(entity, Video):
        if entity.creator_id is not None:
            creator = await session.get(Creator, entity.creator_id)
        if entity.tracking_status == "pending_review":
            caveats.append("This video waits in the tracking inbox and does not count until included.")
        if entity.tracking_disabled_at is not None:
            caveats.append("Tracking of this video was disabled; it no longer counts in any statistic.")
        if entity.last_scraped_at is None:
            caveats.append("This video has not been scraped yet; its counters are empty, not zero.")
    elif isinstance(entity, Creator):
        creator = entity
    if creator is not None:
        if creator is not entity:
            chain.append(_link(creator, "creator", "creator"))
            refs.append(("creator", creator.id))
        caveats.extend(_creator_caveats(creator, now))
        if isinstance(entity, Creator):
            pending = await pending_review_count(session, [creator.id])
            if pending:
                caveats.append(
                    f"{pending} video(s) of @{creator.tiktok_handle} wait in the tracking inbox "
                    "(pending_review) and are not counted; review them with review_videos."
                )
    if not isinstance(entity, Project):
        for campaign in await _containing_campaigns(session, refs):
            chain.append(_link(campaign, "campaign", "campaign"))
        project = await session.get(Project, entity.project_id)
        assert project is not None
        chain.append(_link(project, "project", "project"))
    if isinstance(entity, Project):
        project_creators = select(col(Creator.id)).where(col(Creator.project_id) == entity.id)
        caveats.extend(await _group_caveats(session, project_creators, "this project", now))
    elif isinstance(entity, Campaign):
        caveats.extend(await _group_caveats(session, tree_creator_ids(entity.id), "this campaign's creators", now))
    return AgentContext(entity_type=entity_type, entity_id=entity.id, chain=chain, caveats=caveats)
