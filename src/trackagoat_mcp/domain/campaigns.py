"""Campaigns: CRUD, membership of creators/videos/sub-campaigns, and cycle prevention.

An excluded video stays a member of the campaigns it was added to, but no campaign read shows it (it is never
returned by any list or get, SPEC §4); restoring it (`set_video_tracking`) brings the item back as it was.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, exists, func, literal, or_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from trackagoat_mcp.db.models import Campaign, CampaignItem, Creator, Video, table_of
from trackagoat_mcp.db.races import retries_lost_races
from trackagoat_mcp.domain.notes import check_readme
from trackagoat_mcp.domain.pagination import (
    Page,
    cursor_time,
    cursor_uuid,
    fetch_page,
)
from trackagoat_mcp.domain.projects import get_project
from trackagoat_mcp.domain.schemas import CampaignItemOut, CampaignOut, CampaignSummary
from trackagoat_mcp.domain.scope import Caller, get_in_org, not_found, require_text
from trackagoat_mcp.domain.tree import campaign_tree
from trackagoat_mcp.errors import Conflict, InvalidInput

__all__ = [
    "ItemRef",
    "create_campaign",
    "delete_campaign",
    "get_campaign",
    "get_campaign_row",
    "ITEM_MODELS",
    "item_label",
    "item_labels",
    "list_campaigns",
    "shown_item",
    "set_campaign_items",
    "update_campaign",
]

NAME_MAX = 200


def shown_item(items: Any = None) -> Any:
    """The SQL condition of a campaign item that reads show: any but a video item whose video is excluded.

    Written as NOT EXISTS on the item's own video (a primary-key look-up per video item), not as NOT IN the set of
    excluded videos, which both databases answer by reading every video of every project first.
    """
    c = items if items is not None else table_of(CampaignItem).c
    videos = table_of(Video).c
    excluded = exists().where(videos.id == c.item_id, videos.tracking_status == "excluded")
    return or_(c.item_type != "video", ~excluded)


ITEM_PAGE = 50
"""Direct items per page of `get_campaign`: 50 sub-campaigns with 200-character names fit a tool result."""
ItemType = Literal["creator", "video", "campaign"]
ItemRef = tuple[str, Any]
_UNSET: Any = object()


async def get_campaign_row(session: AsyncSession, caller: Caller, campaign_id: Any) -> Campaign:
    """A campaign of the caller's organization (NotFound otherwise)."""
    return await get_in_org(session, caller, Campaign, campaign_id, "campaign")


def _check_target(target_views: int | None) -> int | None:
    if target_views is not None and not 0 < target_views <= 10**15:
        raise InvalidInput(f"target_views {target_views!r} must be a positive whole number of views (or null).")
    return target_views


async def create_campaign(
    session: AsyncSession,
    caller: Caller,
    *,
    project_id: Any,
    name: str,
    now: datetime,
    target_views: int | None = None,
    target_at: datetime | None = None,
    readme: str | None = None,
) -> CampaignOut:
    """Create an empty campaign in a project (add members with `set_campaign_items`)."""
    caller.require("write")
    project = await get_project(session, caller, project_id)
    campaign = Campaign(
        org_id=caller.org_id,
        project_id=project.id,
        name=require_text(name, "Campaign name", max_length=NAME_MAX),
        target_views=_check_target(target_views),
        target_at=target_at,
        readme=None if readme is None else check_readme(readme),
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    return await get_campaign(session, caller, campaign.id)


async def update_campaign(
    session: AsyncSession,
    caller: Caller,
    campaign_id: Any,
    *,
    now: datetime,
    name: str | None = None,
    target_views: int | None = _UNSET,
    target_at: datetime | None = _UNSET,
) -> CampaignOut:
    """Rename a campaign or change its view target (pass null to clear a target)."""
    caller.require("write")
    campaign = await get_campaign_row(session, caller, campaign_id)
    if name is not None:
        campaign.name = require_text(name, "Campaign name", max_length=NAME_MAX)
    if target_views is not _UNSET:
        campaign.target_views = _check_target(target_views)
    if target_at is not _UNSET:
        campaign.target_at = target_at
    campaign.updated_at = now
    session.add(campaign)
    await session.flush()
    return await get_campaign(session, caller, campaign.id)


async def delete_campaign(session: AsyncSession, caller: Caller, campaign_id: Any) -> uuid.UUID:
    """Delete a campaign and every membership of it (as a parent and as a sub-campaign elsewhere).

    Creators and videos are untouched; sub-campaigns survive as top-level campaigns.
    """
    caller.require("write")
    campaign = await get_campaign_row(session, caller, campaign_id)
    await session.execute(
        delete(CampaignItem).where(col(CampaignItem.item_type) == "campaign", col(CampaignItem.item_id) == campaign.id)
    )
    await session.execute(delete(CampaignItem).where(col(CampaignItem.campaign_id) == campaign.id))
    await session.delete(campaign)
    await session.flush()
    return campaign.id


async def list_campaigns(
    session: AsyncSession, caller: Caller, *, project_id: Any | None = None, limit: int = 50, cursor: str | None = None
) -> Page[CampaignSummary]:
    """Campaigns, oldest first, with their direct item counts."""
    query = select(Campaign).where(col(Campaign.org_id) == caller.org_id)
    if project_id is not None:
        query = query.where(col(Campaign.project_id) == (await get_project(session, caller, project_id)).id)
    page, next_cursor = await fetch_page(
        session,
        query,
        kind="campaigns",
        order="created",
        columns=[col(Campaign.created_at), col(Campaign.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda c: [c.created_at, c.id],
        cursor=cursor,
        limit=limit,
    )
    counts: dict[Any, int] = {}
    if page:
        result = await session.execute(
            select(col(CampaignItem.campaign_id), func.count())
            .where(col(CampaignItem.campaign_id).in_([c.id for c in page]), shown_item())
            .group_by(col(CampaignItem.campaign_id))
        )
        counts = dict(result.all())
    return Page[CampaignSummary](
        items=[CampaignSummary.of(c, counts.get(c.id, 0)) for c in page], next_cursor=next_cursor
    )


async def get_campaign(
    session: AsyncSession, caller: Caller, campaign_id: Any, *, items_cursor: str | None = None
) -> CampaignOut:
    """The whole campaign record with a page of its direct items and the campaigns that contain it."""
    campaign = await get_campaign_row(session, caller, campaign_id)
    counts_rows = await session.execute(
        select(col(CampaignItem.item_type), func.count())
        .where(col(CampaignItem.campaign_id) == campaign.id, shown_item())
        .group_by(col(CampaignItem.item_type))
    )
    counts = {"creator": 0, "video": 0, "campaign": 0} | dict(counts_rows.all())
    query = select(CampaignItem).where(col(CampaignItem.campaign_id) == campaign.id, shown_item())
    page, items_next_cursor = await fetch_page(
        session,
        query,
        kind="campaign_items",
        order="created",
        columns=[col(CampaignItem.created_at), col(CampaignItem.id)],
        parsers=[cursor_time, cursor_uuid],
        key=lambda i: [i.created_at, i.id],
        cursor=items_cursor,
        limit=ITEM_PAGE,
    )
    labels = await item_labels(session, [(i.item_type, i.item_id) for i in page])
    parents = (
        await session.scalars(
            select(col(CampaignItem.campaign_id)).where(
                col(CampaignItem.item_type) == "campaign", col(CampaignItem.item_id) == campaign.id
            )
        )
    ).all()
    return CampaignOut(
        id=campaign.id,
        project_id=campaign.project_id,
        name=campaign.name,
        description=campaign.description,
        readme=campaign.readme,
        metadata=campaign.meta,
        target_views=campaign.target_views,
        target_at=campaign.target_at,
        item_counts=counts,
        items=[
            CampaignItemOut(
                item_type=i.item_type,
                item_id=i.item_id,
                label=labels.get((i.item_type, i.item_id), ""),
            )
            for i in page
        ],
        items_next_cursor=items_next_cursor,
        parent_campaign_ids=list(parents),
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


ITEM_MODELS: dict[str, Any] = {"creator": Creator, "video": Video, "campaign": Campaign}
"""The table behind each kind of campaign item."""


def item_label(item_type: str, columns: Any) -> Any:
    """The SQL label of an item of `item_type` from the columns of its table (or an alias of it): `@handle`, the
    video URL, or the campaign name."""
    if item_type == "creator":
        return "@" + columns.tiktok_handle
    return columns.url if item_type == "video" else columns.name


async def item_labels(session: AsyncSession, refs: list[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], str]:
    """Human labels for items (`item_label`), one query for every kind."""
    by_type: dict[str, list[uuid.UUID]] = {kind: [] for kind in ITEM_MODELS}
    for item_type, item_id in refs:
        by_type[item_type].append(item_id)
    parts: list[Any] = []
    for kind, ids in by_type.items():
        if ids:
            columns = table_of(ITEM_MODELS[kind]).c
            parts.append(
                select(
                    literal(kind).label("item_type"),
                    columns.id.label("item_id"),
                    item_label(kind, columns).label("label"),
                ).where(columns.id.in_(ids))
            )
    if not parts:
        return {}
    statement: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = await session.execute(statement)
    return {(row.item_type, row.item_id): row.label for row in rows}


def _check_item_type(item_type: str) -> None:
    if item_type not in ITEM_MODELS:
        raise InvalidInput(f"item_type {item_type!r} is not 'creator', 'video' or 'campaign'.")


async def _check_member(
    session: AsyncSession, caller: Caller, campaign: Campaign, item_type: str, item_id: Any
) -> uuid.UUID:
    _check_item_type(item_type)
    row = await get_in_org(session, caller, ITEM_MODELS[item_type], item_id, item_type)
    if isinstance(row, Video) and row.tracking_status == "excluded":
        raise not_found("video", row.id)
    if row.project_id != campaign.project_id:
        raise InvalidInput(
            f"{item_type.capitalize()} {str(row.id)!r} belongs to another project than campaign "
            f"{campaign.name!r}; campaign items must come from the campaign's own project."
        )
    return uuid.UUID(str(row.id))


async def _reaches(session: AsyncSession, start: uuid.UUID, target: uuid.UUID) -> bool:
    """Whether campaign `start` contains campaign `target` directly or transitively."""
    tree = campaign_tree(start)
    found = (await session.execute(select(tree.c.campaign_id).where(tree.c.campaign_id == target).limit(1))).first()
    return found is not None


@retries_lost_races
async def set_campaign_items(
    session: AsyncSession,
    caller: Caller,
    campaign_id: Any,
    *,
    add: list[ItemRef] | None = None,
    remove: list[ItemRef] | None = None,
    now: datetime,
) -> CampaignOut:
    """Add and/or remove members of a campaign in one transaction.

    Adding an item that is already there, or removing one that is not, changes nothing. Adding a
    campaign that is this campaign or already contains it (directly or transitively) is a
    `campaign_cycle` conflict, and the whole call is rejected.
    """
    caller.require("write")
    campaign = await get_campaign_row(session, caller, campaign_id)
    add, remove = add or [], remove or []
    if not add and not remove:
        raise InvalidInput("Nothing to do: pass items to add and/or remove, each as {item_type, item_id}.")
    if len(add) + len(remove) > 500:
        raise InvalidInput(f"{len(add) + len(remove)} item changes were given; send at most 500 per call.")
    for item_type, raw_id in remove:
        _check_item_type(item_type)
        try:
            item_id = uuid.UUID(str(raw_id))
        except ValueError:
            raise not_found(item_type, raw_id) from None
        await session.execute(
            delete(CampaignItem).where(
                col(CampaignItem.campaign_id) == campaign.id,
                col(CampaignItem.item_type) == item_type,
                col(CampaignItem.item_id) == item_id,
            )
        )
    members = await session.execute(
        select(col(CampaignItem.item_type), col(CampaignItem.item_id)).where(
            col(CampaignItem.campaign_id) == campaign.id
        )
    )
    existing = {(item_type, item_id) for item_type, item_id in members.all()}
    for item_type, raw_id in add:
        item_id = await _check_member(session, caller, campaign, item_type, raw_id)
        if (item_type, item_id) in existing:
            continue
        if item_type == "campaign" and (item_id == campaign.id or await _reaches(session, item_id, campaign.id)):
            raise Conflict(
                f"Adding campaign {str(item_id)!r} to {campaign.name!r} would make a cycle (a campaign cannot contain "
                "itself directly or through sub-campaigns); nothing was changed.",
                code="campaign_cycle",
            )
        session.add(CampaignItem(campaign_id=campaign.id, item_type=item_type, item_id=item_id, created_at=now))
        existing.add((item_type, item_id))
        await session.flush()
    campaign.updated_at = now
    session.add(campaign)
    await session.flush()
    return await get_campaign(session, caller, campaign.id)
