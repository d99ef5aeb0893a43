"""The `campaigns` toolset: nested campaigns and their recursive statistics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from trackagoat_mcp.domain import campaigns, stats
from trackagoat_mcp.domain.pagination import Page
from trackagoat_mcp.domain.schemas import CampaignOut, CampaignStats, CampaignSummary
from trackagoat_mcp.server.budget import fit_page
from trackagoat_mcp.server.context import unit
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup
from trackagoat_mcp.server.tools import CampaignId, Cursor, Limit, ProjectId

group = ToolGroup("campaigns")

TargetViews = Annotated[int | None, Field(ge=1, le=10**15, description="Total-view target for the whole tree.")]


class ItemArg(BaseModel):
    """A campaign member."""

    item_type: Literal["creator", "video", "campaign"]
    item_id: Annotated[str, Field(min_length=1, max_length=64)]


class DeletedCampaign(BaseModel):
    """The id of the deleted campaign."""

    deleted_campaign_id: str


@group.tool(title="List campaigns")
@fit_page
async def list_campaigns(
    ctx: Context[Any],
    project_id: Annotated[str | None, Field(max_length=64, description="Only this project's campaigns.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Annotated[CallToolResult, Page[CampaignSummary]]:
    """List campaigns (oldest first) with their human description, target and number of direct items."""
    async with unit(ctx) as u:
        page = await campaigns.list_campaigns(u.session, u.caller, project_id=project_id, limit=limit, cursor=cursor)
    return respond(page)


@group.tool(title="Get a campaign")
async def get_campaign(
    ctx: Context[Any],
    campaign_id: CampaignId,
    items_cursor: Annotated[
        str | None, Field(max_length=2000, description="items_next_cursor of a previous call.")
    ] = None,
) -> Annotated[CallToolResult, CampaignOut]:
    """Get a campaign: description (instructions: read first), readme, metadata, target, parent campaigns, and its
    direct items 50 at a time (creators as @handle, videos as URL, sub-campaigns by name)."""
    async with unit(ctx) as u:
        result = await campaigns.get_campaign(u.session, u.caller, campaign_id, items_cursor=items_cursor)
    return respond(result)


@group.tool(title="Create a campaign", scope="write", idempotent=False)
async def create_campaign(
    ctx: Context[Any],
    project_id: ProjectId,
    name: Annotated[str, Field(min_length=1, max_length=200)],
    target_views: TargetViews = None,
    target_at: Annotated[datetime | None, Field(description="ISO 8601 time the target should be reached.")] = None,
) -> Annotated[CallToolResult, CampaignOut]:
    """Create an empty campaign in a project; add creators, videos and sub-campaigns with set_campaign_items."""
    async with unit(ctx, write=True) as u:
        result = await campaigns.create_campaign(
            u.session,
            u.caller,
            project_id=project_id,
            name=name,
            now=u.now,
            target_views=target_views,
            target_at=target_at,
        )
    return respond(result)


@group.tool(title="Update a campaign", scope="write", idempotent=True)
async def update_campaign(
    ctx: Context[Any],
    campaign_id: CampaignId,
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
    target_views: TargetViews = None,
    target_at: Annotated[datetime | None, Field(description="ISO 8601 time the target should be reached.")] = None,
    clear_target: Annotated[bool, Field(description="true removes target_views and target_at.")] = False,
) -> Annotated[CallToolResult, CampaignOut]:
    """Rename a campaign or set/clear its view target. Only the fields given change."""
    changes: dict[str, Any] = {}
    if clear_target:
        changes = {"target_views": None, "target_at": None}
    if target_views is not None:
        changes["target_views"] = target_views
    if target_at is not None:
        changes["target_at"] = target_at
    async with unit(ctx, write=True) as u:
        result = await campaigns.update_campaign(u.session, u.caller, campaign_id, now=u.now, name=name, **changes)
    return respond(result)


@group.tool(title="Delete a campaign", scope="write", destructive=True, idempotent=False)
async def delete_campaign(ctx: Context[Any], campaign_id: CampaignId) -> Annotated[CallToolResult, DeletedCampaign]:
    """Delete a campaign and its memberships (also where it was a sub-campaign). Creators, videos and its own
    sub-campaigns are kept."""
    async with unit(ctx, write=True) as u:
        deleted = await campaigns.delete_campaign(u.session, u.caller, campaign_id)
    return respond(DeletedCampaign(deleted_campaign_id=str(deleted)))


@group.tool(title="Add or remove campaign items", scope="write", idempotent=True)
async def set_campaign_items(
    ctx: Context[Any],
    campaign_id: CampaignId,
    add: Annotated[list[ItemArg], Field(max_length=500, description="Members to add.")] = [],  # noqa: B006
    remove: Annotated[list[ItemArg], Field(max_length=500, description="Members to remove.")] = [],  # noqa: B006
) -> Annotated[CallToolResult, CampaignOut]:
    """Add and/or remove campaign members, all-or-nothing. A creator item counts that creator's counted
    videos (present and future); a video item that video; a campaign item its whole tree. Items must be in the
    campaign's project; no cycles (campaign_cycle). Re-adding or removing a non-member is a no-op."""
    async with unit(ctx, write=True) as u:
        result = await campaigns.set_campaign_items(
            u.session,
            u.caller,
            campaign_id,
            now=u.now,
            add=[(i.item_type, i.item_id) for i in add],
            remove=[(i.item_type, i.item_id) for i in remove],
        )
    return respond(result)


@group.tool(title="Campaign statistics")
async def get_campaign_stats(
    ctx: Context[Any],
    campaign_id: CampaignId,
    from_: Annotated[date | None, Field(alias="from", description="Default: 29 days before to.")] = None,
    to: Annotated[date | None, Field(description="Default: today.")] = None,
) -> Annotated[CallToolResult, CampaignStats]:
    """Statistics of a campaign's whole tree, each counted video once: lifetime totals, totals of videos posted in
    [from, to] (local days, default the last 30), views gained in the range (snapshots), progress to target_views,
    and the top 30 direct items by views."""
    async with unit(ctx) as u:
        result = await stats.campaign_stats(u.session, u.caller, campaign_id, now=u.now, range_from=from_, range_to=to)
    return respond(result)
