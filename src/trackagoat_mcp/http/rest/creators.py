"""`/creators` and `/projects/{id}/creators`: the same domain calls and records as the `tracking` tools.

Adding answers 201 when it created a creator and 200 when every handle was reactivated or already tracked (a
removed handle comes back with its history). A bulk body adds up to 50 in one all-or-nothing transaction; entries
with other tracking settings are added by separate domain calls inside that same transaction.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.domain import creators, notes, projects
from trackagoat_mcp.domain.schemas import AddCreatorResult, AddCreatorsResult, CreatorOut, CreatorSummary
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, InvalidInput, NotFound
from trackagoat_mcp.http.rest.common import Body, Day, Id, ListQuery, Patch, at_least_one
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin
from trackagoat_mcp.http.rest.scrapes import ScrapeNowResult, scrape
from trackagoat_mcp.server.short_links import expand_short_links

router = APIRouter(tags=["creators"])

Handle = Annotated[str, Field(min_length=1, max_length=300, description="'@name', 'name' or a profile URL.")]
Mode = Literal["auto", "selective"]
Ids = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=100)]


class CreatorQuery(ListQuery):
    """Filters of the creator list."""

    project_id: Annotated[str | None, Field(max_length=64)] = None
    search: Annotated[str | None, Field(max_length=64, description="Part of a handle.")] = None
    status: Literal["active", "inactive", "all"] = "active"


class CreatorIn(Body):
    """One creator to add."""

    tiktok_handle: Handle
    tracking_mode: Mode | None = None
    tracking_start_date: Annotated[Day | None, Field(description="YYYY-MM-DD; default today.")] = None


class CreatorsIn(Body):
    """Up to 50 creators to add in one all-or-nothing call."""

    creators: Annotated[list[CreatorIn], Field(min_length=1, max_length=creators.MAX_BULK)]


class CreatorPatch(Patch):
    """Fields to change (at least one)."""

    tiktok_handle: Handle | None = None
    tracking_mode: Mode | None = None
    tracking_start_date: Day | None = None
    is_active: Annotated[bool | None, Field(description="true re-enables a removed creator.")] = None
    readme: Annotated[str | None, Field(max_length=20_000, description="null clears it.")] = None
    metadata: Annotated[dict[str, Any] | None, Field(description="Merged (RFC 7396) into the metadata.")] = None


class CreatorIds(Body):
    """Creators of the project to act on, all or nothing."""

    creator_ids: Ids


@router.get("/creators", response_model=PageEnvelope[CreatorSummary])
async def list_creators(state: StateDep, caller: CallerDep, q: Annotated[CreatorQuery, Query()]) -> Response:
    """Tracked creators in handle order."""
    async with state.db.read() as session:
        page = await creators.list_creators(
            session, caller, project_id=q.project_id, search=q.search, status=q.status, limit=q.limit, cursor=q.cursor
        )
    return page_response(page)


@router.get("/creators/{creator_id}", response_model=Envelope[CreatorOut])
async def get_creator(state: StateDep, caller: CallerDep, creator_id: Id) -> Response:
    """One creator's full record."""
    async with state.db.read() as session:
        return success(CreatorOut.of(await creators.get_creator(session, caller, creator_id)))


@router.post(
    "/projects/{project_id}/creators",
    status_code=201,
    response_model=Envelope[AddCreatorsResult],
    responses={200: {"model": Envelope[AddCreatorsResult], "description": "Reactivated or already tracked only."}},
)
async def add_creators(
    request: Request,
    state: StateDep,
    caller: CallerDep,
    project_id: Id,
    body: CreatorIn | CreatorsIn,
    _key: IdempotencyKey = None,
) -> Response:
    """Add one creator (`tiktok_handle`, …) or up to 50 (`creators: [...]`), all or nothing."""
    entries = body.creators if isinstance(body, CreatorsIn) else [body]
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard():

        async def check() -> None:
            async with state.db.read() as session:
                handles = [e.tiktok_handle for e in entries]
                await creators.check_add_creators(session, caller, project_id=project_id, handles=handles)

        expanded = await expand_short_links(
            state.tiktok, [e.tiktok_handle for e in entries], code="invalid_handle", check=check
        )
        groups: dict[tuple[str | None, Day | None], list[str]] = {}
        for entry, handle in zip(entries, expanded, strict=True):
            groups.setdefault((entry.tracking_mode, entry.tracking_start_date), []).append(handle)
        async with state.db.write() as session:
            results: list[AddCreatorResult] = []
            outcome: AddCreatorsResult | None = None
            for (mode, start), handles in groups.items():
                outcome = await creators.add_creators(
                    session,
                    caller,
                    project_id=project_id,
                    handles=handles,
                    now=state.clock.now(),
                    tracking_mode=mode,
                    tracking_start_date=start,
                )
                results.extend(outcome.results)
            assert outcome is not None
            combined = AddCreatorsResult(
                project_id=outcome.project_id,
                results=results,
                created=sum(r.outcome == "created" for r in results),
                reactivated=sum(r.outcome == "reactivated" for r in results),
                already_tracked=sum(r.outcome == "already_tracked" for r in results),
            )
            response = await slot.respond(session, combined, 201 if combined.created else 200)
    state.queue_first_scrape([r.creator_id for r in results if r.outcome != "already_tracked"])
    return response


@router.patch("/creators/{creator_id}", response_model=Envelope[CreatorOut])
async def update_creator(state: StateDep, caller: CallerDep, creator_id: Id, body: CreatorPatch) -> Response:
    """Rename (409 invalid_handle, no_change, handle_taken), change tracking, re-enable, notes."""
    sent = at_least_one(body, "creator")
    now = state.clock.now()
    async with state.db.write() as session:
        tracking = {k: v for k, v in sent.items() if k in ("tiktok_handle", "tracking_mode", "tracking_start_date")}
        if "is_active" in sent or tracking:
            try:
                await creators.update_creator(
                    session,
                    caller,
                    creator_id,
                    now=now,
                    tiktok_handle=body.tiktok_handle,
                    tracking_mode=body.tracking_mode,
                    tracking_start_date=body.tracking_start_date,
                    is_active=body.is_active,
                )
            except InvalidInput as exc:
                if exc.code != "invalid_handle":
                    raise
                raise Conflict(exc.message, code="invalid_handle") from None  # trackagoat: rename errors are 409
        if "readme" in sent:
            await notes.write_readme(session, caller, "creator", creator_id, body.readme, now=now)
        if body.metadata is not None:
            await notes.write_metadata(session, caller, "creator", creator_id, body.metadata, mode="merge", now=now)
        return success(CreatorOut.of(await creators.get_creator(session, caller, creator_id)))


@router.delete("/creators/{creator_id}", response_model=Envelope[CreatorOut])
async def remove_creator(state: StateDep, caller: CallerDep, creator_id: Id) -> Response:
    """Remove a creator: scraping stops; history, videos and payouts stay; re-adding the handle reactivates it."""
    async with state.db.write() as session:
        return success(await creators.remove_creator(session, caller, creator_id, now=state.clock.now()))


async def _of_project(session: Any, caller: Caller, project_id: str, creator_ids: list[str]) -> list[uuid.UUID]:
    """The ids, each checked to be a creator of the project (another project's creator is not found here)."""
    project = await projects.get_project(session, caller, project_id)
    found = []
    for raw in creator_ids:
        creator = await creators.get_creator(session, caller, raw)
        if creator.project_id != project.id:
            raise NotFound(
                f"No creator {raw!r} in project {project_id!r}; nothing was changed. List the project's creators "
                "with GET /creators?project_id=…."
            )
        found.append(creator.id)
    return found


@router.post("/projects/{project_id}/creators/bulk-remove", response_model=Envelope[list[CreatorOut]])
async def bulk_remove(state: StateDep, caller: CallerDep, project_id: Id, body: CreatorIds) -> Response:
    """Remove up to 100 creators of the project, all or nothing."""
    now = state.clock.now()
    async with state.db.write() as session:
        ids = await _of_project(session, caller, project_id, body.creator_ids)
        return success([await creators.remove_creator(session, caller, i, now=now) for i in ids])


@router.post("/projects/{project_id}/creators/bulk-reenable", response_model=Envelope[list[CreatorOut]])
async def bulk_reenable(state: StateDep, caller: CallerDep, project_id: Id, body: CreatorIds) -> Response:
    """Re-enable up to 100 removed creators of the project, all or nothing."""
    now = state.clock.now()
    async with state.db.write() as session:
        ids = await _of_project(session, caller, project_id, body.creator_ids)
        return success([await creators.update_creator(session, caller, i, now=now, is_active=True) for i in ids])


@router.post("/creators/{creator_id}/scrape", response_model=Envelope[ScrapeNowResult])
async def scrape_creator(state: StateDep, caller: CallerDep, creator_id: Id) -> Response:
    """Scrape one creator now (profile, new videos, stats); counts against the daily scrape_now cap."""
    return success(await scrape(state, caller, creator_ids=[creator_id]))
