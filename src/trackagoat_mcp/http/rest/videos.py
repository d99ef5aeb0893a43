"""`/videos` and `/projects/{id}/videos`: the same domain calls and records as the `tracking` tools.

Exclusion and tracking go through `domain/video_tracking.py`: `DELETE /videos/{id}` excludes a video (it leaves
every list and figure; `PATCH {"excluded": false}` restores it, since trackagoat's docs leave DELETE's semantics
unrecovered and nothing of a video is ever destroyed), `POST /videos/{id}/tracking-disable` and
`POST /projects/{id}/videos/bulk-tracking-disable` stop refreshing videos, `PATCH {"tracking_enabled": true}` resumes.
Adding by URL answers 201 when a video was added and 200 when all were re-included or already tracked.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from trackagoat_mcp.db.models import Video
from trackagoat_mcp.domain import notes, projects, video_tracking, videos
from trackagoat_mcp.domain.schemas import AddVideosResult, VideoOut, VideoSummary
from trackagoat_mcp.domain.scope import Caller, get_in_org
from trackagoat_mcp.domain.video_tracking import VideoTrackingResult
from trackagoat_mcp.errors import NotFound
from trackagoat_mcp.http.rest.common import Body, Day, Id, ListQuery, Patch, at_least_one
from trackagoat_mcp.http.rest.deps import CallerDep, StateDep
from trackagoat_mcp.http.rest.envelope import Envelope, PageEnvelope, page_response, success
from trackagoat_mcp.http.rest.idempotency import IdempotencyKey, begin
from trackagoat_mcp.http.rest.scrapes import ScrapeNowResult, scrape
from trackagoat_mcp.server.short_links import expand_short_links

router = APIRouter(tags=["videos"])

Url = Annotated[str, Field(min_length=1, max_length=500, description="https://www.tiktok.com/@name/video/…")]
OptionalId = Annotated[str | None, Field(max_length=64)]


class VideoQuery(ListQuery):
    """Filters of the video list (all must match); excluded videos never appear."""

    project_id: OptionalId = None
    creator_id: OptionalId = None
    campaign_id: Annotated[str | None, Field(max_length=64, description="Its whole tree.")] = None
    tracking_status: Literal["auto_tracked", "included", "pending_review", "direct_add"] | None = None
    posted_from: Day | None = None
    posted_to: Day | None = None
    caption_contains: Annotated[str | None, Field(max_length=100)] = None
    order: Literal["posted_desc", "posted_asc", "views_desc", "added_desc"] = "posted_desc"


class VideoIn(Body):
    """One video to add by URL."""

    url: Url


class VideosIn(Body):
    """Up to 50 videos to add by URL, all or nothing."""

    urls: Annotated[list[Url], Field(min_length=1, max_length=50)]


class VideoPatch(Patch):
    """Fields to change (at least one)."""

    readme: Annotated[str | None, Field(max_length=20_000, description="null clears it.")] = None
    metadata: Annotated[dict[str, Any] | None, Field(description="Merged (RFC 7396) into the metadata.")] = None
    excluded: Annotated[bool | None, Field(description="true excludes it; false restores an excluded video.")] = None
    exclusion_reason: Annotated[str | None, Field(max_length=video_tracking.MAX_REASON)] = None
    tracking_enabled: Annotated[bool | None, Field(description="false stops refreshing it; true resumes.")] = None


class VideoIds(Body):
    """Videos of the project, all or nothing."""

    video_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=video_tracking.MAX_IDS)
    ]


@router.get("/videos", response_model=PageEnvelope[VideoSummary])
async def list_videos(state: StateDep, caller: CallerDep, q: Annotated[VideoQuery, Query()]) -> Response:
    """Tracked videos matching every filter given."""
    async with state.db.read() as session:
        page = await videos.list_videos(
            session,
            caller,
            project_id=q.project_id,
            creator_id=q.creator_id,
            campaign_id=q.campaign_id,
            tracking_status=q.tracking_status,
            posted_from=q.posted_from,
            posted_to=q.posted_to,
            caption_contains=q.caption_contains,
            order=q.order,
            limit=q.limit,
            cursor=q.cursor,
        )
    return page_response(page)


@router.get("/videos/{video_id}", response_model=Envelope[VideoOut])
async def get_video(state: StateDep, caller: CallerDep, video_id: Id) -> Response:
    """One video's full record."""
    async with state.db.read() as session:
        return success(VideoOut.of(await videos.get_video(session, caller, video_id)))


@router.post(
    "/projects/{project_id}/videos",
    status_code=201,
    response_model=Envelope[AddVideosResult],
    responses={200: {"model": Envelope[AddVideosResult], "description": "Re-included or already tracked only."}},
)
async def add_videos(
    request: Request,
    state: StateDep,
    caller: CallerDep,
    project_id: Id,
    body: VideoIn | VideosIn,
    _key: IdempotencyKey = None,
) -> Response:
    """Add one video (`url`) or up to 50 (`urls`) by URL; they enter as direct_add and always count."""
    urls = body.urls if isinstance(body, VideosIn) else [body.url]
    slot = await begin(request, state, caller)
    if slot.replay is not None:
        return slot.replay
    async with slot.guard():

        async def check() -> None:
            async with state.db.read() as session:
                await videos.check_add_videos(session, caller, project_id=project_id, urls=urls)

        expanded = await expand_short_links(state.tiktok, urls, code="invalid_url", check=check)
        async with state.db.write() as session:
            result = await videos.add_videos(
                session, caller, project_id=project_id, urls=expanded, now=state.clock.now()
            )
            added = any(r.outcome == "added" for r in result.results)
            return await slot.respond(session, result, 201 if added else 200)


@router.patch("/videos/{video_id}", response_model=Envelope[VideoOut])
async def update_video(state: StateDep, caller: CallerDep, video_id: Id, body: VideoPatch) -> Response:
    """Notes, exclusion (restore with excluded=false) and tracking of one video; the result is its record."""
    sent = at_least_one(body, "video")
    now = state.clock.now()
    async with state.db.write() as session:
        if body.excluded is False:
            await video_tracking.restore_videos(session, caller, video_ids=[video_id], now=now)
        if body.tracking_enabled is not None:
            await video_tracking.set_tracking(
                session, caller, video_ids=[video_id], enabled=body.tracking_enabled, now=now
            )
        if "readme" in sent:
            await notes.write_readme(session, caller, "video", video_id, body.readme, now=now)
        if body.metadata is not None:
            await notes.write_metadata(session, caller, "video", video_id, body.metadata, mode="merge", now=now)
        if body.excluded:
            await video_tracking.exclude_videos(
                session, caller, video_ids=[video_id], reason=body.exclusion_reason, now=now
            )
            return success(VideoOut.of(await _row(session, caller, video_id)))
        return success(VideoOut.of(await videos.get_video(session, caller, video_id)))


async def _row(session: AsyncSession, caller: Caller, video_id: str) -> Video:
    """The video row even when excluded (the PATCH that excluded it answers with its record once)."""
    return await get_in_org(session, caller, Video, video_id, "video")


@router.delete("/videos/{video_id}", response_model=Envelope[VideoTrackingResult])
async def exclude_video(state: StateDep, caller: CallerDep, video_id: Id) -> Response:
    """Exclude a video from every list and figure (restore it with PATCH {"excluded": false})."""
    async with state.db.write() as session:
        result = await video_tracking.exclude_videos(session, caller, video_ids=[video_id], now=state.clock.now())
    return success(result)


@router.post("/videos/{video_id}/tracking-disable", response_model=Envelope[VideoTrackingResult])
async def disable_tracking(state: StateDep, caller: CallerDep, video_id: Id) -> Response:
    """Stop refreshing a video: it keeps its numbers and stops counting."""
    async with state.db.write() as session:
        result = await video_tracking.set_tracking(
            session, caller, video_ids=[video_id], enabled=False, now=state.clock.now()
        )
    return success(result)


@router.post("/projects/{project_id}/videos/bulk-tracking-disable", response_model=Envelope[VideoTrackingResult])
async def bulk_disable_tracking(state: StateDep, caller: CallerDep, project_id: Id, body: VideoIds) -> Response:
    """Stop refreshing up to 100 videos of the project, all or nothing."""
    async with state.db.write() as session:
        project = await projects.get_project(session, caller, project_id)
        for raw in body.video_ids:
            video = await videos.get_video(session, caller, raw)
            if video.project_id != project.id:
                raise NotFound(f"No video {raw!r} in project {project_id!r}; nothing was changed.")
        result = await video_tracking.set_tracking(
            session, caller, video_ids=list(body.video_ids), enabled=False, now=state.clock.now()
        )
    return success(result)


@router.post("/videos/{video_id}/scrape", response_model=Envelope[ScrapeNowResult])
async def scrape_video(state: StateDep, caller: CallerDep, video_id: Id) -> Response:
    """Refresh one video's counters now; counts against the daily scrape_now cap."""
    return success(await scrape(state, caller, video_ids=[video_id]))
