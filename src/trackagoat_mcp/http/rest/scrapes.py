"""Ad-hoc scrapes (`POST /creators/{id}/scrape`, `/videos/{id}/scrape`): the `scrape_now` job, as the tool runs it."""

from __future__ import annotations

from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.http.rest.deps import RestState
from trackagoat_mcp.jobs import scrape_now as manual
from trackagoat_mcp.jobs.runs import process_name
from trackagoat_mcp.jobs.scrape_now import ScrapeNowResult
from trackagoat_mcp.jobs.scraper import ScrapeSettings

__all__ = ["ScrapeNowResult", "scrape"]


async def scrape(
    state: RestState, caller: Caller, *, creator_ids: list[str] | None = None, video_ids: list[str] | None = None
) -> ScrapeNowResult:
    """Scrape these creators and videos now, ignoring refresh floors but not the organization's daily cap."""
    return await manual.scrape_now(
        state.db,
        state.tiktok.client(),
        state.clock,
        ScrapeSettings.from_settings(state.settings),
        caller,
        creator_ids=creator_ids or [],
        video_ids=video_ids or [],
        daily_cap=state.settings.scrape_now_daily_cap,
        worker_id=f"rest:{process_name()}",
    )
