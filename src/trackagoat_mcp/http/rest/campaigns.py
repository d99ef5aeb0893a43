"""`/campaigns` and `/projects/{id}/campaigns`: the same domain calls and records as the `campaigns` tools.

Items: `POST /campaigns/{id}/items` adds and `DELETE /campaigns/{id}/items` removes, each with one member
`{"item_type", "item_id"}` or several `{"items": [...]}` (up to 500), all or nothing; a member that would make the
campaign contain itself is 409 `campaign_cycle`. Statistics moved to `/analytics` (`/campaigns/{id}/stats` is 410).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain import campaigns, notes
from trackagoat_mcp.domain.schemas import CampaignOut, CampaignSummary
from trackagoat_mcp.http.rest.common import Body, Id, ListQuery, Moment, Patch, at_least_one, in_org_time
from trackagoat_mcp.http.rest.common import Query as StrictQuery
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin

router = APIRouter(tags=["campaigns"])

TargetViews = Annotated[int | None, Field(ge=1, le=10**15, description="Total-view target for the whole tree.")]


class CampaignQuery(ListQuery):
    """Filters of the campaign list."""

    project_id: Annotated[str | None, Field(max_length=64)] = None


class CampaignGetQuery(StrictQuery):
    """The page of direct items to show."""

    items_cursor: Annotated[str | None, Field(max_length=2000, description="data.items_next_cursor.")] = None


class CampaignIn(Body):
    """A new, empty campaign."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    target_views: TargetViews = None
    target_at: Moment | None = None
    readme: Annotated[str | None, Field(max_length=20_000)] = None


class CampaignPatch(Patch):
    """Fields to change (at least one); null clears a target."""

    not_null = ("name",)

    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    readme: Annotated[str | None, Field(max_length=20_000)] = None
    metadata: Annotated[dict[str, Any] | None, Field(description="Merged (RFC 7396) into the metadata.")] = None
    target_views: TargetViews = None
    target_at: Moment | None = None


class ItemIn(Body):
    """A campaign member."""

    item_type: Literal["creator", "video", "campaign"]
    item_id: Annotated[str, Field(min_length=1, max_length=64)]


class ItemsIn(Body):
    """Several campaign members."""

    items: Annotated[list[ItemIn], Field(min_length=1, max_length=500)]


class DeletedCampaign(Body):
    """The id of the deleted campaign."""

    deleted_campaign_id: str


@router.get("/campaigns", response_model=PageEnvelope[CampaignSummary])
async def list_campaigns(state: StateDep, caller: CallerDep, q: Annotated[CampaignQuery, Query()]) -> Response:
    """Campaigns, oldest first."""
    async with state.db.read() as session:
        page = await campaigns.list_campaigns(session, caller, project_id=q.project_id, limit=q.limit, cursor=q.cursor)
    return page_response(page)


@router.get("/campaigns/{campaign_id}", response_model=Envelope[CampaignOut])
async def get_campaign(
    state: StateDep, caller: CallerDep, campaign_id: Id, q: Annotated[CampaignGetQuery, Query()]
) -> Response:
    """A campaign with 100 of its direct items at a time and the campaigns containing it."""
    async with state.db.read() as session:
        return success(await campaigns.get_campaign(session, caller, campaign_id, items_cursor=q.items_cursor))


@router.post("/projects/{project_id}/campaigns", status_code=201, response_model=Envelope[CampaignOut])
async def create_campaign(
    request: Request, state: StateDep, caller: CallerDep, project_id: Id, body: CampaignIn, _key: IdempotencyKey = None
) -> Response:
    """Create an empty campaign (201)."""
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard(), state.db.write() as session:
        result = await campaigns.create_campaign(
            session,
            caller,
            project_id=project_id,
            name=body.name,
            now=state.clock.now(),
            target_views=body.target_views,
            target_at=await in_org_time(state, caller, body.target_at, "target_at"),
            readme=body.readme,
        )
        return await slot.respond(session, result)


@router.patch("/campaigns/{campaign_id}", response_model=Envelope[CampaignOut])
async def update_campaign(state: StateDep, caller: CallerDep, campaign_id: Id, body: CampaignPatch) -> Response:
    """Rename, set or clear the target, notes."""
    sent = at_least_one(body, "campaign")
    now = state.clock.now()
    async with state.db.write() as session:
        changes = {k: sent[k] for k in ("target_views", "target_at") if k in sent}
        if changes.get("target_at") is not None:
            changes["target_at"] = await in_org_time(state, caller, body.target_at, "target_at")
        if "name" in sent or changes:
            await campaigns.update_campaign(session, caller, campaign_id, now=now, name=body.name, **changes)
        if "readme" in sent:
            await notes.write_readme(session, caller, "campaign", campaign_id, body.readme, now=now)
        if body.metadata is not None:
            await notes.write_metadata(session, caller, "campaign", campaign_id, body.metadata, mode="merge", now=now)
        return success(await campaigns.get_campaign(session, caller, campaign_id))


@router.delete("/campaigns/{campaign_id}", response_model=Envelope[DeletedCampaign])
async def delete_campaign(state: StateDep, caller: CallerDep, campaign_id: Id) -> Response:
    """Delete a campaign and all its memberships; creators, videos and sub-campaigns stay."""
    async with state.db.write() as session:
        deleted = await campaigns.delete_campaign(session, caller, campaign_id)
    return success(DeletedCampaign(deleted_campaign_id=str(deleted)))


def _refs(body: ItemIn | ItemsIn) -> list[tuple[str, str]]:
    items = body.items if isinstance(body, ItemsIn) else [body]
    return [(item.item_type, item.item_id) for item in items]


@router.post("/campaigns/{campaign_id}/items", response_model=Envelope[CampaignOut])
async def add_items(state: StateDep, caller: CallerDep, campaign_id: Id, body: ItemIn | ItemsIn) -> Response:
    """Add members (409 campaign_cycle when a campaign would contain itself); re-adding is a no-op."""
    async with state.db.write() as session:
        result = await campaigns.set_campaign_items(
            session, caller, campaign_id, add=_refs(body), now=state.clock.now()
        )
    return success(result)


@router.delete("/campaigns/{campaign_id}/items", response_model=Envelope[CampaignOut])
async def remove_items(state: StateDep, caller: CallerDep, campaign_id: Id, body: ItemIn | ItemsIn) -> Response:
    """Remove members; removing a non-member is a no-op."""
    async with state.db.write() as session:
        result = await campaigns.set_campaign_items(
            session, caller, campaign_id, remove=_refs(body), now=state.clock.now()
        )
    return success(result)
