"""Alert sources beyond health: the Sentiment Radar's negative-vibes rule and the scraper's block rate.

| kind (key) | when |
|---|---|
| `negative_vibes` (`negative_vibes:<video>`) | ≥ 40 % negative of ≥ 10 analyzed comments in 30 days (`domain.radar`) |
| `scrape_blocked` (`scrape_blocked`) | the share of fetches TikTok blocked in the latest cycles passed its threshold |

Neither carries third-party text: the video is named by its id and URL, never by its caption or comments.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trackagoat_mcp.db.models import Project
from trackagoat_mcp.domain.alerts.findings import Finding, Thresholds, register_source
from trackagoat_mcp.domain.radar import negative_vibes
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.domain.scrape_blocks import recent_block_rate

__all__ = ["block_rate_findings", "negative_vibe_findings"]


async def negative_vibe_findings(
    session: AsyncSession, caller: Caller, project: Project, now: datetime, thresholds: Thresholds
) -> list[Finding]:
    """One finding per video of the project breaking the negative-vibes rule over the radar's default range."""
    del thresholds
    return [
        Finding(
            key=f"negative_vibes:{video.video_id}",
            kind="negative_vibes",
            source="negative_vibes",
            message=f"{video.negative_share:g} % of {video.analyzed} analyzed comments on {video.url} are negative; "
            "see get_sentiment_radar.",
            project_id=project.id,
            subject_type="video",
            subject_id=video.video_id,
            details={"analyzed": video.analyzed, "negative": video.negative, "negative_share": video.negative_share},
        )
        for video in await negative_vibes(session, caller, project_id=project.id, now=now)
    ]


async def block_rate_findings(
    session: AsyncSession, caller: Caller, project: Project, now: datetime, thresholds: Thresholds
) -> list[Finding]:
    """The store-wide block rate as one organization-wide finding while it is over its threshold."""
    del caller, project, now
    rate = await recent_block_rate(
        session, cycles=thresholds.block_rate_cycles, threshold=thresholds.block_rate_threshold
    )
    if rate is None or not rate.alert:
        return []
    return [
        Finding(
            key="scrape_blocked",
            kind="scrape_blocked",
            source="scrape_blocks",
            severity="critical",
            message=f"TikTok blocked {rate.blocked} of {rate.fetches} fetches ({rate.share:.0%}) in the last "
            f"{rate.cycles} scrape cycles. {rate.hint or ''}".strip(),
            details={"share": rate.share, "by_kind": rate.by_kind, "cycles": rate.cycles},
        )
    ]


register_source("negative_vibes", negative_vibe_findings)
register_source("scrape_blocks", block_rate_findings)
