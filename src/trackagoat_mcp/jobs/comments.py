"""One comment cycle: read the newest comments of tracked videos, within a bound per video and per cycle.

`run_comment_cycle` is the "run once" entry point; the scheduler runs it right after each scrape cycle. Videos
are counted ones posted within the tracking expiry window whose comments were not tried for
`min_video_comments_hours` (the comment floor), never-tried first, then the longest-waiting. Per video:

1. **claim** it by stamping its feed's `checked_at` (compare-and-set: two processes never read one video at once);
2. **head pass**: page the comment list from the newest (`cursor` 0) until a page holds a top-level comment already
   stored (everything older was read before; a pinned comment does not count, TikTok pins old ones on top), the
   list ends, or the video's budget is spent;
3. **backfill**: with budget left, carry on from the stored `backfill_cursor` towards the oldest. A head pass cut
   short by the budget (or a failure) stores where it stopped as the new backfill cursor, which re-reads some
   comments later but never skips one (the upsert ignores the repeats);
4. **apply** it all in one short write (`comment_store.apply_comments`), failures included: what was read before a
   failure is stored, nothing stored is ever deleted, and the feed's `state` says why the read stopped.

The budget counts top-level comments (each page asks for no more than what is left, so a cycle never reads more
than `comments_per_cycle` of them); the few replies TikTok shows inline come with their comment. The cycle is
recorded as a `JobRun` (job `comments`) whose report is `CommentReport.as_json()`.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.errors import Blocked, ConfigError, TrackagoatError
from trackagoat_mcp.jobs import comment_store as store
from trackagoat_mcp.jobs import runs
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.comments import Comment, CommentPage
from trackagoat_mcp.tiktok.parsing import PageResult

__all__ = ["JOB", "CommentReport", "CommentSettings", "run_comment_cycle"]

log = logging.getLogger(__name__)

JOB = "comments"
MAX_LISTED_FAILURES = 50


@dataclass(frozen=True)
class CommentSettings:
    """The comment scraper's floor and bounds.

    Attributes:
        min_video_comments_hours: a video's comments are read at most once per this many hours.
        comments_per_video: top-level comments read of one video per refresh.
        comments_per_cycle: top-level comments read per cycle over all videos (0: comment scraping is off).
        tracking_expiry_days: videos posted longer ago than this are no longer read.
        page_size: comments asked for per page (TikTok gives at most 50).
    """

    min_video_comments_hours: float = 6.0
    comments_per_video: int = 500
    comments_per_cycle: int = 5000
    tracking_expiry_days: int = 30
    page_size: int = 50

    def __post_init__(self) -> None:
        if self.min_video_comments_hours < 0:
            raise ConfigError(
                f"min_video_comments_hours {self.min_video_comments_hours!r} must be zero or a positive number "
                "of hours."
            )
        for name in ("comments_per_video", "tracking_expiry_days"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} {getattr(self, name)!r} must be at least 1.")
        if self.comments_per_cycle < 0:
            raise ConfigError(f"comments_per_cycle {self.comments_per_cycle!r} must be 0 (off) or more.")
        if not 1 <= self.page_size <= 50:
            raise ConfigError(f"page_size {self.page_size!r} must be between 1 and 50 (TikTok's largest page).")

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> CommentSettings:
        """The floor and bounds configured in `settings` (`TRACKAGOAT_*`); `options` set the rest."""
        return cls(
            min_video_comments_hours=settings.min_video_comments_hours,
            comments_per_video=settings.comments_per_video,
            comments_per_cycle=settings.comments_per_cycle,
            tracking_expiry_days=settings.tracking_expiry_days,
            **options,
        )


@dataclass
class CommentReport:
    """What one comment cycle did; `as_json()` is what the `JobRun.report` column holds."""

    slot: str
    worker_id: str
    started_at: datetime
    finished_at: datetime | None = None
    videos_due: int = 0
    videos_read: int = 0
    videos_claimed_elsewhere: int = 0
    comments_read: int = 0
    top_level_read: int = 0
    comments_new: int = 0
    comments_deleted: int = 0
    fetches: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    failed: list[dict[str, str]] = field(default_factory=list)

    def fail(self, kind: str, video_id: uuid.UUID, tiktok_id: str, message: str) -> None:
        """Count a failure of `kind` and keep its details (up to `MAX_LISTED_FAILURES`)."""
        self.failures[kind] += 1
        if len(self.failed) < MAX_LISTED_FAILURES:
            entry = {"kind": kind, "subject": f"video {tiktok_id}", "message": message, "video_id": str(video_id)}
            self.failed.append(entry)

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object: counts, failures by kind and a sample of failures."""
        end = self.finished_at or self.started_at
        return {
            "slot": self.slot,
            "worker_id": self.worker_id,
            "videos_due": self.videos_due,
            "videos_read": self.videos_read,
            "videos_claimed_elsewhere": self.videos_claimed_elsewhere,
            "comments_read": self.comments_read,
            "top_level_read": self.top_level_read,
            "comments_new": self.comments_new,
            "comments_deleted": self.comments_deleted,
            "fetches": self.fetches,
            "failures": dict(sorted(self.failures.items())),
            "failed": list(self.failed),
            "duration_seconds": (end - self.started_at).total_seconds(),
        }


async def run_comment_cycle(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    settings: CommentSettings,
    *,
    worker_id: str,
    video_ids: Sequence[uuid.UUID] | None = None,
    force: bool = False,
) -> CommentReport:
    """Run one comment cycle and record it as a `JobRun` (job `comments`).

    Args:
        db: the store.
        client: the TikTok client (its pacing, retries and timeouts apply to every page).
        clock: the only source of time.
        settings: floor and bounds; with `comments_per_cycle` 0 nothing is read (the run is still recorded).
        worker_id: who runs the cycle, recorded in the run row.
        video_ids: read only these videos (still only counted ones within the expiry window).
        force: ignore the floor (claims still keep two processes apart).

    Returns:
        The report, also stored in the run's `JobRun.report`.
    """
    started = clock.now()
    slot = f"{started:%Y-%m-%dT%H:%M:%S}Z#{uuid.uuid4().hex[:12]}"
    run = await runs.open_run(db, job=JOB, slot=slot, worker_id=worker_id, now=started)
    report = CommentReport(slot=slot, worker_id=worker_id, started_at=started)
    cutoff = None if force else started - timedelta(hours=settings.min_video_comments_hours)
    expiry = started - timedelta(days=settings.tracking_expiry_days)
    try:
        remaining = settings.comments_per_cycle
        due = await store.due_comment_videos(db, cutoff, expiry, video_ids) if remaining > 0 else []
        report.videos_due = len(due)
        for video_id in due:
            if remaining <= 0:
                break
            target = await store.claim_comment_video(db, video_id, cutoff, clock.now())
            if target is None:
                report.videos_claimed_elsewhere += 1
                continue
            budget = min(settings.comments_per_video, remaining)
            try:
                remaining -= await _read_video(db, client, clock, settings, target, budget, report)
            except Exception as exc:
                # One video's surprise must not stop everyone else's comments.
                log.exception("Reading the comments of video %s failed unexpectedly", video_id)
                report.fail("error", video_id, target.tiktok_video_id, f"{type(exc).__name__}: {exc}")
    except BaseException:
        report.finished_at = clock.now()
        with anyio.CancelScope(shield=True):
            await runs.close_run(db, run, status="failed", now=report.finished_at, report=report.as_json())
        raise
    report.finished_at = clock.now()
    await runs.close_run(db, run, status="ok", now=report.finished_at, report=report.as_json())
    return report


@dataclass
class _Read:
    """What one video's read gathered so far."""

    budget: int
    comments: list[Comment] = field(default_factory=list)
    top_level: int = 0
    total: int | None = None
    failure: str | None = None

    def take(self, page: CommentPage) -> None:
        self.comments.extend(page.comments)
        self.top_level += page.top_level
        self.budget -= page.top_level
        self.total = page.total if page.total is not None else self.total


async def _read_video(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    settings: CommentSettings,
    target: store.CommentTarget,
    budget: int,
    report: CommentReport,
) -> int:
    """Read one claimed video's comments (head pass, then backfill) and store them; returns top-level comments read."""
    read = _Read(budget)
    backfill = target.backfill_cursor
    cursor = 0
    reached_known = ended = False
    while read.budget > 0:
        page = await _page(client, target.tiktok_video_id, cursor, min(settings.page_size, read.budget), report)
        if isinstance(page, str):
            read.failure = page
            break
        read.take(page)
        fresh = [c.cid for c in page.comments if not c.pinned and c.parent_cid is None]
        reached_known = bool(await store.known_cids(db, target.video_id, fresh))
        if reached_known:
            break
        if _last(page, cursor):
            ended = True
            break
        cursor = page.cursor or cursor
    if ended:
        backfill = None  # the whole list was read from the newest to the oldest
    elif not reached_known and read.top_level > 0:
        backfill = cursor  # cut short by the budget or a failure: reading on from here covers the gap
    elif reached_known and read.failure is None and backfill is not None:
        cursor = backfill
        while read.budget > 0:
            page = await _page(client, target.tiktok_video_id, cursor, min(settings.page_size, read.budget), report)
            if isinstance(page, str):
                read.failure = page
                break
            read.take(page)
            if _last(page, cursor):
                backfill = None
                break
            cursor = backfill = page.cursor or cursor
    if read.failure is not None:
        message = f"comment list: {read.failure}"
        report.fail(read.failure, target.video_id, target.tiktok_video_id, message)
    new, deleted = await store.apply_comments(
        db,
        target,
        read.comments,
        now=clock.now(),
        state=read.failure or "ok",
        total=read.total,
        backfill_cursor=backfill,
    )
    report.videos_read += 1
    report.comments_read += len(read.comments)
    report.top_level_read += read.top_level
    report.comments_new += new
    report.comments_deleted += deleted
    return read.top_level


def _last(page: CommentPage, cursor: int) -> bool:
    """Whether a page is the list's last (or the list stopped moving, which must not loop)."""
    return not page.has_more or page.top_level == 0 or page.cursor is None or page.cursor <= cursor


async def _page(
    client: TikTokClient, tiktok_id: str, cursor: int, count: int, report: CommentReport
) -> CommentPage | str:
    """One page, or the failure kind that stopped it (`blocked`, `rate_limited`, `not_found`, …)."""
    report.fetches += 1
    try:
        result: PageResult[CommentPage] = await client.fetch_comments(tiktok_id, cursor, count=count)
    except Blocked as exc:
        return "login_required" if exc.code == "login_required" else "blocked"
    except TrackagoatError as exc:
        return exc.code
    if not result.ok or result.data is None:
        return result.state if not result.ok else "unknown"
    return result.data
