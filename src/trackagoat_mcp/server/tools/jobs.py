"""The `jobs` toolset: scrape_now (scrape some creators or videos immediately) and get_job_status."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from trackagoat_mcp.jobs import scrape_now as manual
from trackagoat_mcp.jobs.runs import process_name
from trackagoat_mcp.jobs.scrape_now import ScrapeNowResult
from trackagoat_mcp.jobs.scraper import ScrapeSettings
from trackagoat_mcp.jobs.status import JobStatus, job_status
from trackagoat_mcp.server.auth import request_caller
from trackagoat_mcp.server.context import app_context
from trackagoat_mcp.server.fencing import respond
from trackagoat_mcp.server.registry import ToolGroup

group = ToolGroup("jobs")

MAX_CREATORS = 20
MAX_VIDEOS = 50


@group.tool(title="Scrape now", scope="write", idempotent=False, open_world=True)
async def scrape_now(
    ctx: Context[Any],
    creator_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
        Field(max_length=MAX_CREATORS, description=f"Up to {MAX_CREATORS} creator ids: profile, new videos, stats."),
    ] = None,
    video_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
        Field(max_length=MAX_VIDEOS, description=f"Up to {MAX_VIDEOS} video ids: refresh their counters."),
    ] = None,
) -> Annotated[CallToolResult, ScrapeNowResult]:
    """Scrape creators and/or videos now, ignoring refresh floors, with progress notifications. Returns each
    counter as {old, new} (null: never scraped), videos discovered, failures by kind (last good numbers kept). Capped
    per organization per UTC day (get_job_status). Removed creators are refused."""
    app = app_context(ctx)
    caller = request_caller(app)

    async def progress(done: int, total: int) -> None:
        await ctx.report_progress(done, total, f"scraped {done} of {total}")

    result = await manual.scrape_now(
        app.db,
        app.tiktok.client(),
        app.clock,
        ScrapeSettings.from_settings(app.settings),
        caller,
        creator_ids=creator_ids or [],
        video_ids=video_ids or [],
        daily_cap=app.settings.scrape_now_daily_cap,
        worker_id=f"mcp:{process_name()}",
        progress=progress,
    )
    return respond(result)


@group.tool(title="Get job status")
async def get_job_status(
    ctx: Context[Any],
    project_id: Annotated[
        str | None, Field(max_length=64, description="List only this project's stale creators (default: all).")
    ] = None,
    runs: Annotated[int, Field(ge=1, le=10, description="Recent runs to show per job, 1-10.")] = 3,
) -> Annotated[CallToolResult, JobStatus]:
    """Background jobs: schedule, next run, recent runs and their failures about your creators and videos;
    scrape_now calls left today; stale creators (last scrape failed, missing or over 48 h old) since when. A last run
    far older than its schedule means no process runs the jobs."""
    app = app_context(ctx)
    status = await job_status(
        app.db, app.settings, request_caller(app), now=app.clock.now(), runs_per_job=runs, project_id=project_id
    )
    return respond(status)
