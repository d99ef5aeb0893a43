"""`scrape_now`: scrape some creators or videos immediately, within a per-organization daily cap.

The floors are bypassed (`force`), everything else is the ordinary scrape cycle: the same claims, so a
worker scraping the same creator at that moment is never doubled; the same report, recorded as the run.

**The cap.** Each call takes one `JobRun` slot `scrape_now` / `<org>/<UTC day>/<n>` for n = 1..cap with
`runs.claim_run` (insert-or-nothing on the unique `(job, slot)` key), so the count lives in the store,
holds across processes and races (two calls can never both take the last slot), and needs no table of its
own. A failed scrape still used its slot. Everything that can be refused (scope, unknown ids, removed
creators) is checked before a slot is taken, so a refused call costs nothing.

**What changed** is read from the store before and after the cycle: per creator the profile counters, per
video the five counters (`old` → `new`, `null` when never scraped), the videos discovered, and the
failure kind the run recorded for each (`not_found`, `private`, `blocked`, `rate_limited`, …).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlmodel import col

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.db.models import Creator, Video
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain import creators, videos
from trackagoat_mcp.domain.scope import Caller
from trackagoat_mcp.errors import Conflict, InvalidInput
from trackagoat_mcp.jobs import runs
from trackagoat_mcp.jobs.runs import RunRef
from trackagoat_mcp.jobs.scraper import Progress, ScrapeReport, ScrapeSettings, run_scrape_cycle
from trackagoat_mcp.tiktok.client import TikTokClient

__all__ = ["JOB", "MAX_LISTED", "Change", "NewVideo", "ScrapeNowResult", "ScrapedCreator", "ScrapedVideo", "scrape_now"]

JOB = "scrape_now"
MAX_LISTED = 100
"""Longest list of videos (changed, new) a result carries; the rest are only counted."""

_COUNTERS = ("view_count", "like_count", "comment_count", "share_count", "save_count")


class Change(BaseModel):
    """One counter before and after the scrape; `null` means it had never been scraped (or could not be read)."""

    old: int | None
    new: int | None


class ScrapedCreator(BaseModel):
    """What the scrape did to one creator asked for."""

    creator_id: uuid.UUID
    tiktok_handle: str
    scraped: bool = Field(description="Whether TikTok was asked about this creator in this call.")
    scrape_state: str = Field(description="ok, or why the scrape failed (the last good numbers are kept).")
    followers: Change
    total_likes: Change
    profile_videos: Change = Field(description="Videos on the TikTok profile (not only tracked ones).")
    new_videos: int = Field(description="Videos discovered for this creator in this call.")
    failure: str | None = Field(description="Failure kind of the profile or video-list fetch, if any.")
    note: str | None = None


class ScrapedVideo(BaseModel):
    """One tracked video's counters before and after."""

    video_id: uuid.UUID
    creator_id: uuid.UUID | None
    tiktok_video_id: str
    scrape_state: str
    views: Change
    likes: Change
    comments: Change
    shares: Change
    saves: Change
    failure: str | None = Field(description="Failure kind of this video's page fetch, if any.")
    note: str | None = None


class NewVideo(BaseModel):
    """A video discovered by this call (selective creators' videos arrive as pending_review)."""

    video_id: uuid.UUID
    creator_id: uuid.UUID | None
    tiktok_video_id: str
    tracking_status: str
    posted_at: datetime | None
    views: int


class ScrapeNowResult(BaseModel):
    """What one scrape_now call changed."""

    creators: list[ScrapedCreator] = Field(description="One entry per creator asked for.")
    videos: list[ScrapedVideo] = Field(
        description=f"Videos asked for, whose counters changed, or that failed; biggest view gain first; at most "
        f"{MAX_LISTED}."
    )
    videos_not_listed: int = Field(description="Further changed videos left out of `videos`.")
    new_videos: list[NewVideo] = Field(description=f"Videos discovered, newest first; at most {MAX_LISTED}.")
    new_videos_not_listed: int
    failures: dict[str, int] = Field(description="Failed fetches by kind (not_found, private, blocked, …).")
    fetches: int = Field(description="Requests made to TikTok.")
    started_at: datetime
    finished_at: datetime
    used_today: int = Field(description="scrape_now calls this organization made today (UTC), this one included.")
    daily_cap: int


@dataclass(frozen=True)
class _Targets:
    creator_ids: list[uuid.UUID]
    video_ids: list[uuid.UUID]
    notes: dict[uuid.UUID, str]
    """Why a target cannot be refreshed (tracking disabled, past the expiry window)."""


@dataclass(frozen=True)
class _CreatorState:
    handle: str
    counters: tuple[int | None, int | None, int | None]
    scrape_state: str
    checked_at: datetime | None


@dataclass(frozen=True)
class _VideoState:
    creator_id: uuid.UUID | None
    tiktok_id: str
    counters: tuple[int | None, ...]
    scrape_state: str
    status: str
    posted_at: datetime | None


async def scrape_now(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    settings: ScrapeSettings,
    caller: Caller,
    *,
    creator_ids: Sequence[str],
    video_ids: Sequence[str],
    daily_cap: int,
    worker_id: str,
    progress: Progress | None = None,
) -> ScrapeNowResult:
    """Scrape the given creators and/or videos of the caller's organization now (see the module docstring).

    Raises:
        Forbidden: the caller lacks the `write` scope.
        InvalidInput: neither creators nor videos were given.
        NotFound: an id is not a creator/video of the caller's organization (excluded videos included).
        Conflict: a creator is removed or disabled (`creator_inactive`), or the day's cap is used up
            (`scrape_now_cap_reached`).
    """
    caller.require("write")
    now = clock.now()
    targets = await _resolve(db, caller, creator_ids, video_ids, now - timedelta(days=settings.tracking_expiry_days))
    run, used = await _take_slot(db, caller, now, daily_cap, worker_id)
    before = await _observe(db, targets)
    report = await run_scrape_cycle(
        db,
        client,
        clock,
        settings,
        worker_id=worker_id,
        creator_ids=targets.creator_ids or None,
        video_ids=targets.video_ids or None,
        force=True,
        run=run,
        progress=progress,
    )
    after = await _observe(db, targets)
    return _result(targets, before, after, report, used=used, daily_cap=daily_cap)


async def _resolve(
    db: Database, caller: Caller, creator_ids: Sequence[str], video_ids: Sequence[str], expiry: datetime
) -> _Targets:
    if not creator_ids and not video_ids:
        raise InvalidInput("Nothing to scrape: pass creator_ids and/or video_ids (ids from list_creators/list_videos).")
    notes: dict[uuid.UUID, str] = {}
    found_creators: list[uuid.UUID] = []
    found_videos: list[uuid.UUID] = []
    async with db.read() as session:
        for raw in creator_ids:
            creator = await creators.get_creator(session, caller, raw)
            if not creator.is_active:
                raise Conflict(
                    f"Creator @{creator.tiktok_handle} ({str(creator.id)!r}) is removed or disabled "
                    f"({creator.disabled_reason or 'removed'}), so it is not scraped; re-enable it with "
                    "update_creator(is_active=true) first.",
                    code="creator_inactive",
                )
            found_creators.append(creator.id)
        for raw in video_ids:
            video = await videos.get_video(session, caller, raw)
            if video.tracking_disabled_at is not None:
                notes[video.id] = "not refreshed: tracking of this video is disabled."
            elif video.posted_at is not None and video.posted_at < expiry:
                notes[video.id] = "not refreshed: posted before the tracking-expiry window; its numbers are final."
            found_videos.append(video.id)
    return _Targets(list(dict.fromkeys(found_creators)), list(dict.fromkeys(found_videos)), notes)


async def _take_slot(db: Database, caller: Caller, now: datetime, daily_cap: int, worker_id: str) -> tuple[RunRef, int]:
    """Claim the organization's next free `scrape_now` slot of the UTC day; Conflict when all are taken."""
    prefix = f"{caller.org_id.hex}/{now:%Y-%m-%d}/"
    used = await runs.count_runs(db, JOB, slot_prefix=prefix)
    for n in range(used + 1, daily_cap + 1):
        run = await runs.claim_run(db, job=JOB, slot=f"{prefix}{n}", worker_id=worker_id, now=now)
        if run is not None:
            return run, n
    raise Conflict(
        f"This organization has used all {daily_cap} scrape_now calls of {now:%Y-%m-%d} (UTC); the cap resets at "
        "00:00 UTC. The background scraper keeps refreshing every creator on its own schedule meanwhile "
        "(get_job_status shows when).",
        code="scrape_now_cap_reached",
    )


async def _observe(
    db: Database, targets: _Targets
) -> tuple[dict[uuid.UUID, _CreatorState], dict[uuid.UUID, _VideoState]]:
    """The targets' counters now: the creators asked for, their visible videos, and the videos asked for."""
    async with db.read() as session:
        creator_rows = (await session.scalars(select(Creator).where(col(Creator.id).in_(targets.creator_ids)))).all()
        video_rows = (
            await session.scalars(
                select(Video).where(
                    or_(col(Video.creator_id).in_(targets.creator_ids), col(Video.id).in_(targets.video_ids)),
                    col(Video.tracking_status) != "excluded",
                )
            )
        ).all()
    creators_now = {
        row.id: _CreatorState(
            row.tiktok_handle,
            (row.follower_count, row.total_likes_count, row.video_count),
            row.scrape_state,
            row.profile_checked_at,
        )
        for row in creator_rows
    }
    videos_now = {
        row.id: _VideoState(
            row.creator_id,
            row.tiktok_video_id,
            tuple(getattr(row, name) if row.last_scraped_at else None for name in _COUNTERS),
            row.scrape_state,
            row.tracking_status,
            row.posted_at,
        )
        for row in video_rows
    }
    return creators_now, videos_now


def _result(
    targets: _Targets,
    before: tuple[dict[uuid.UUID, _CreatorState], dict[uuid.UUID, _VideoState]],
    after: tuple[dict[uuid.UUID, _CreatorState], dict[uuid.UUID, _VideoState]],
    report: ScrapeReport,
    *,
    used: int,
    daily_cap: int,
) -> ScrapeNowResult:
    creators_before, videos_before = before
    creators_after, videos_after = after
    creator_failure: dict[uuid.UUID, str] = {}
    video_failure: dict[uuid.UUID, str] = {}
    for failure in report.failed:
        if failure.video_id is not None:
            video_failure.setdefault(failure.video_id, failure.kind)
        elif failure.creator_id is not None:
            creator_failure.setdefault(failure.creator_id, failure.kind)

    new = [vid for vid in videos_after if vid not in videos_before]
    new.sort(key=lambda vid: videos_after[vid].posted_at or report.started_at, reverse=True)
    creator_out = []
    for creator_id in targets.creator_ids:
        old, cur = creators_before[creator_id], creators_after[creator_id]
        scraped = cur.checked_at != old.checked_at
        creator_out.append(
            ScrapedCreator(
                creator_id=creator_id,
                tiktok_handle=cur.handle,
                scraped=scraped,
                scrape_state=cur.scrape_state,
                followers=Change(old=old.counters[0], new=cur.counters[0]),
                total_likes=Change(old=old.counters[1], new=cur.counters[1]),
                profile_videos=Change(old=old.counters[2], new=cur.counters[2]),
                new_videos=sum(videos_after[vid].creator_id == creator_id for vid in new),
                failure=creator_failure.get(creator_id),
                note=None if scraped else "not scraped: another process was scraping it at that moment; try later.",
            )
        )

    asked = set(targets.video_ids)
    changed = [
        vid
        for vid, cur in videos_after.items()
        if vid in videos_before
        and (vid in asked or vid in video_failure or cur.counters != videos_before[vid].counters)
    ]
    changed.sort(key=lambda vid: _views(videos_after[vid]) - _views(videos_before[vid]), reverse=True)
    video_out = [
        _video_change(vid, videos_before[vid], videos_after[vid], video_failure.get(vid), targets.notes.get(vid))
        for vid in changed[:MAX_LISTED]
    ]
    new_out = [
        NewVideo(
            video_id=vid,
            creator_id=videos_after[vid].creator_id,
            tiktok_video_id=videos_after[vid].tiktok_id,
            tracking_status=videos_after[vid].status,
            posted_at=videos_after[vid].posted_at,
            views=videos_after[vid].counters[0] or 0,
        )
        for vid in new[:MAX_LISTED]
    ]
    assert report.finished_at is not None
    return ScrapeNowResult(
        creators=creator_out,
        videos=video_out,
        videos_not_listed=max(0, len(changed) - MAX_LISTED),
        new_videos=new_out,
        new_videos_not_listed=max(0, len(new) - MAX_LISTED),
        failures=dict(sorted(report.failures.items())),
        fetches=report.fetches,
        started_at=report.started_at,
        finished_at=report.finished_at,
        used_today=used,
        daily_cap=daily_cap,
    )


def _views(state: _VideoState) -> int:
    return state.counters[0] or 0


def _video_change(
    video_id: uuid.UUID, old: _VideoState, cur: _VideoState, failure: str | None, note: str | None
) -> ScrapedVideo:
    changes: dict[str, Any] = {
        name: Change(old=o, new=n)
        for name, o, n in zip(
            ("views", "likes", "comments", "shares", "saves"), old.counters, cur.counters, strict=True
        )
    }
    return ScrapedVideo(
        video_id=video_id,
        creator_id=cur.creator_id,
        tiktok_video_id=cur.tiktok_id,
        scrape_state=cur.scrape_state,
        failure=failure,
        note=note,
        **changes,
    )
