"""One scrape cycle: refresh due creators' profiles, discover their videos, refresh tracked videos' stats.

`run_scrape_cycle` is the "run once" entry point (the scheduler's scrape job and `scrape_now` both call it).
Per creator it runs one *unit*, at most `concurrency` at a time:

1. **claim** the creator (a compare-and-set lease, `scrape_store.claim_creator`), so two processes running
   cycles on one database never scrape it twice;
2. **read** its plan (ids, tracking rules, which floors are due, its tracked videos);
3. **fetch**, with no transaction open: the profile when `min_creator_profiles_hours` has passed (or the
   secUid is unknown); the item list, newest first, back to the older of the tracking start and the
   expiry window (at most `max_list_pages` pages) when discovery or stats are due; then single video pages
   for tracked videos the list did not cover when `min_video_stats_hours` has passed;
4. **apply** everything in one short write that also advances the fetch times and drops the lease.

A failed fetch never writes zeros and never deletes: the row keeps its last good numbers and
`scrape_state` says why (`scrape_store.scrape_state_of`). A profile failure skips the rest of the unit
(TikTok is either hostile right now or the account is gone). After all creators, tracked videos that
belong to no creator (direct adds) — or the `video_ids` asked for — are refreshed one page each.
The cycle is recorded as a `JobRun` (job `scrape`, a fresh slot per cycle, or the run a caller claimed
first, such as `scrape_now`'s) whose `report` is `ScrapeReport.as_json()`; each failure in it names the
creator or video it concerns. Time comes only from the injected clock.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.scrape_blocks import block_hint
from trackagoat_mcp.errors import Blocked, ConfigError, TrackagoatError
from trackagoat_mcp.jobs import runs
from trackagoat_mcp.jobs import scrape_store as store
from trackagoat_mcp.jobs.runs import RunRef
from trackagoat_mcp.jobs.scrape_store import CreatorOutcome, CreatorPlan, Cutoffs, VideoOutcome
from trackagoat_mcp.tiktok.client import TikTokClient
from trackagoat_mcp.tiktok.parsing import PageResult

__all__ = ["Progress", "ScrapeReport", "ScrapeSettings", "run_scrape_cycle"]

log = logging.getLogger(__name__)

MAX_LISTED_FAILURES = 50
"""At most this many individual failures are written into a run report (the counts by kind are complete)."""

Progress = Callable[[int, int], Awaitable[None]]
"""Told `(done, total)` after each creator and each single video a cycle finishes (for `scrape_now`)."""


@dataclass(frozen=True)
class ScrapeSettings:
    """The scraper's floors and limits.

    Attributes:
        min_creator_profiles_hours: a creator's profile is fetched at most once per this many hours.
        min_discover_videos_hours: a creator's item list is read for new videos at most this often.
        min_video_stats_hours: tracked videos' stats are refreshed at most this often.
        tracking_expiry_days: videos posted longer ago than this stop being refreshed.
        disable_after_days: a creator TikTok keeps calling `not_found`/`banned` for this long is deactivated.
        concurrency: creators scraped at once (the client separately bounds requests in flight).
        claim_minutes: how long a creator's lease lasts; a crashed worker's claim runs out after it.
        max_list_pages: item-list pages read per creator and cycle.
        list_page_size: posts asked for per item-list page (TikTok gives at most 35).
    """

    min_creator_profiles_hours: float = 6.0
    min_discover_videos_hours: float = 4.0
    min_video_stats_hours: float = 4.0
    tracking_expiry_days: int = 30
    disable_after_days: int = 3
    concurrency: int = 4
    claim_minutes: float = 30.0
    max_list_pages: int = 5
    list_page_size: int = 30

    def __post_init__(self) -> None:
        for name in ("min_creator_profiles_hours", "min_discover_videos_hours", "min_video_stats_hours"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} {getattr(self, name)!r} must be zero or a positive number of hours.")
        for name in ("tracking_expiry_days", "disable_after_days", "concurrency", "max_list_pages", "list_page_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} {getattr(self, name)!r} must be at least 1.")
        if self.claim_minutes <= 0:
            raise ConfigError(f"claim_minutes {self.claim_minutes!r} must be a positive number of minutes.")

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ScrapeSettings:
        """The floors and expiry window configured in `settings` (`TRACKAGOAT_*`); `options` set the rest."""
        return cls(
            min_creator_profiles_hours=settings.min_creator_profiles_hours,
            min_discover_videos_hours=settings.min_discover_videos_hours,
            min_video_stats_hours=settings.min_video_stats_hours,
            tracking_expiry_days=settings.tracking_expiry_days,
            **options,
        )


@dataclass
class Failure:
    """One failed fetch in a run, for the report: what kind, about whom (`@handle` or `video <TikTok id>`)."""

    kind: str
    subject: str
    message: str
    creator_id: uuid.UUID | None = None
    video_id: uuid.UUID | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "subject": self.subject, "message": self.message}
        if self.creator_id is not None:
            data["creator_id"] = str(self.creator_id)
        if self.video_id is not None:
            data["video_id"] = str(self.video_id)
        return data


@dataclass
class ScrapeReport:
    """What one cycle did; `as_json()` is what the `JobRun.report` column holds."""

    slot: str
    worker_id: str
    started_at: datetime
    finished_at: datetime | None = None
    creators_due: int = 0
    creators_scraped: int = 0
    creators_claimed_elsewhere: int = 0
    creators_disabled: int = 0
    creator_snapshots: int = 0
    videos_discovered: int = 0
    videos_skipped_before_start: int = 0
    video_snapshots: int = 0
    videos_checked: int = 0
    fetches: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    failed: list[Failure] = field(default_factory=list)
    blocked: Counter[str] = field(default_factory=Counter)
    """Fetches the plain client found blocked, by what blocked them (`challenge`, `shell`, `captcha`, `http_403`, …),
    whether or not the browser fetcher then got through."""
    browser_passed: int = 0
    """Blocked fetches the browser fetcher read after all."""
    browser_fetcher: bool = False

    @property
    def duration_seconds(self) -> float:
        """Wall time of the cycle by the injected clock (zero on a frozen clock)."""
        end = self.finished_at or self.started_at
        return (end - self.started_at).total_seconds()

    def fail(
        self,
        kind: str,
        subject: str,
        message: str,
        *,
        creator_id: uuid.UUID | None = None,
        video_id: uuid.UUID | None = None,
    ) -> None:
        """Count a failure of `kind` and keep its details (up to `MAX_LISTED_FAILURES`)."""
        self.failures[kind] += 1
        if len(self.failed) < MAX_LISTED_FAILURES:
            self.failed.append(Failure(kind, subject, message, creator_id, video_id))

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object: counts, failures by kind, a sample of failures, and the duration."""
        return {
            "slot": self.slot,
            "worker_id": self.worker_id,
            "creators_due": self.creators_due,
            "creators_scraped": self.creators_scraped,
            "creators_claimed_elsewhere": self.creators_claimed_elsewhere,
            "creators_disabled": self.creators_disabled,
            "creator_snapshots": self.creator_snapshots,
            "videos_discovered": self.videos_discovered,
            "videos_skipped_before_start": self.videos_skipped_before_start,
            "video_snapshots": self.video_snapshots,
            "videos_checked": self.videos_checked,
            "fetches": self.fetches,
            "failures": dict(sorted(self.failures.items())),
            "failed": [failure.as_json() for failure in self.failed],
            "duration_seconds": self.duration_seconds,
            "blocks": self.blocks_json(),
        }

    def blocks_json(self) -> dict[str, Any]:
        """The block-rate part of the report: share of fetches blocked, by what, and what to do about it."""
        total = self.blocked.total()
        return {
            "blocked": total,
            "share": round(total / self.fetches, 4) if self.fetches else 0.0,
            "by_kind": dict(sorted(self.blocked.items())),
            "browser_fetcher": self.browser_fetcher,
            "browser_passed": self.browser_passed,
            "hint": (
                block_hint(
                    self.blocked, self.fetches, browser_on=self.browser_fetcher, browser_passed=self.browser_passed
                )
                if total
                else None
            ),
        }


async def run_scrape_cycle(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    settings: ScrapeSettings,
    *,
    worker_id: str,
    creator_ids: Sequence[uuid.UUID] | None = None,
    video_ids: Sequence[uuid.UUID] | None = None,
    force: bool = False,
    run: RunRef | None = None,
    progress: Progress | None = None,
) -> ScrapeReport:
    """Run one scrape cycle and record it as a `JobRun`.

    Args:
        db: the store.
        client: the TikTok client (its pacing, retries and timeouts apply to every fetch).
        clock: the only source of time.
        settings: floors and limits.
        worker_id: who runs the cycle (host/pid or a replica name); recorded in claims and the run row.
        creator_ids: scrape only these creators (still only active ones). With `video_ids` alone, no creators.
        video_ids: refresh only these videos' stats, one page each. With `creator_ids` alone, no loose videos.
        force: bypass the floors (for `scrape_now`); claims still keep two processes apart.
        run: a run the caller already claimed (`runs.claim_run`) to record the cycle in; by default a
            fresh `scrape` run is opened.
        progress: awaited with `(done, total)` after each creator and each single video.

    Returns:
        The report, also stored in the run's `JobRun.report`.
    """
    started = clock.now()
    if run is None:
        slot = f"{started:%Y-%m-%dT%H:%M:%S}Z#{uuid.uuid4().hex[:12]}"
        run = await runs.open_run(db, job="scrape", slot=slot, worker_id=worker_id, now=started)
    report = ScrapeReport(slot=run.slot, worker_id=worker_id, started_at=started, browser_fetcher=client.uses_browser)
    cutoffs = _cutoffs(settings, started, force)
    counter = _Counter(progress)
    try:
        due: list[uuid.UUID] = []
        loose: list[uuid.UUID] = []
        if creator_ids is not None or video_ids is None:
            due = await store.due_creator_ids(db, cutoffs, started, creator_ids)
        if video_ids is not None or creator_ids is None:
            loose = await store.due_video_ids(db, cutoffs, video_ids)
        report.creators_due = len(due)
        counter.total = len(due) + len(loose)
        limiter = anyio.CapacityLimiter(settings.concurrency)
        async with anyio.create_task_group() as group:
            for creator_id in due:
                group.start_soon(
                    _guarded_unit, db, client, clock, settings, cutoffs, creator_id, worker_id, report, limiter, counter
                )
        await _loose_videos(db, client, clock, cutoffs, loose, report, counter)
    except BaseException:
        report.finished_at = clock.now()
        with anyio.CancelScope(shield=True):
            await runs.close_run(db, run, status="failed", now=report.finished_at, report=report.as_json())
        raise
    report.finished_at = clock.now()
    await runs.close_run(db, run, status="ok", now=report.finished_at, report=report.as_json())
    return report


@dataclass
class _Counter:
    """Counts finished pieces of a cycle and tells `progress` about each."""

    progress: Progress | None
    total: int = 0
    done: int = 0

    async def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            await self.progress(self.done, self.total)


def _cutoffs(settings: ScrapeSettings, now: datetime, force: bool) -> Cutoffs:
    expiry = now - timedelta(days=settings.tracking_expiry_days)
    if force:
        return Cutoffs(None, None, None, expiry)
    return Cutoffs(
        profile=now - timedelta(hours=settings.min_creator_profiles_hours),
        listing=now - timedelta(hours=settings.min_discover_videos_hours),
        stats=now - timedelta(hours=settings.min_video_stats_hours),
        expiry=expiry,
    )


async def _guarded_unit(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    settings: ScrapeSettings,
    cutoffs: Cutoffs,
    creator_id: uuid.UUID,
    worker_id: str,
    report: ScrapeReport,
    limiter: anyio.CapacityLimiter,
    counter: _Counter,
) -> None:
    """One creator's unit under the limiter; an unexpected error is reported and the cycle goes on."""
    async with limiter:
        token = f"{worker_id}#{uuid.uuid4().hex[:8]}"
        now = clock.now()
        until = now + timedelta(minutes=settings.claim_minutes)
        if not await store.claim_creator(db, creator_id, cutoffs, now, token, until):
            report.creators_claimed_elsewhere += 1
        else:
            try:
                await _creator_unit(db, client, clock, settings, cutoffs, creator_id, token, report)
            except BaseException as exc:
                # Hand the creator back now rather than when the lease runs out, also when shutting down.
                with anyio.CancelScope(shield=True):
                    await store.release_creator(db, creator_id, token)
                if not isinstance(exc, Exception):
                    raise
                # One creator's surprise must not stop everyone else's scrape.
                log.exception("Scraping creator %s failed unexpectedly", creator_id)
                report.fail("error", str(creator_id), f"{type(exc).__name__}: {exc}", creator_id=creator_id)
    await counter.step()


async def _creator_unit(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    settings: ScrapeSettings,
    cutoffs: Cutoffs,
    creator_id: uuid.UUID,
    token: str,
    report: ScrapeReport,
) -> None:
    plan = await store.plan_creator(db, creator_id, cutoffs)
    outcome = CreatorOutcome()
    subject = f"@{plan.handle}"
    sec_uid = plan.sec_uid
    if plan.profile_due:
        outcome.profile_tried = True
        result = await _attempt(client.fetch_profile(plan.handle), report)
        if isinstance(result, str):
            outcome.profile_failure = result
        elif result.ok and result.data is not None and result.data.private:
            # A private account shows its name but not its real counters (videoCount reads 0 logged out).
            outcome.profile_failure = "private"
        elif not result.ok or result.data is None or not _profile_complete(result):
            outcome.profile_failure = result.state if not result.ok else "unknown"
        else:
            outcome.profile = result.data
            sec_uid = result.data.sec_uid or sec_uid
        if outcome.profile_failure:
            report.fail(outcome.profile_failure, subject, f"profile: {outcome.profile_failure}", creator_id=plan.id)
    if outcome.profile_failure is None and sec_uid and (plan.listing_due or plan.stats_due):
        outcome.listing_tried = True
        await _read_item_list(client, settings, plan, sec_uid, cutoffs, outcome, report, subject)
    if outcome.profile_failure is None and outcome.list_failure is None and plan.stats_due:
        outcome.stats_tried = True
        for video in plan.tracked:
            if video.tiktok_video_id in outcome.listed:
                continue
            outcome.videos[video.tiktok_video_id] = await _fetch_single(
                client, plan.handle, video.tiktok_video_id, report, creator_id=plan.id, video_id=video.id
            )
    counts = await store.apply_creator(
        db,
        plan,
        outcome,
        now=clock.now(),
        token=token,
        expiry=cutoffs.expiry,
        disable_after=timedelta(days=settings.disable_after_days),
    )
    report.creators_scraped += 1
    report.creator_snapshots += counts.creator_snapshots
    report.video_snapshots += counts.video_snapshots
    report.videos_discovered += counts.videos_discovered
    report.videos_skipped_before_start += counts.videos_skipped_before_start
    report.videos_checked += len(outcome.listed) + len(outcome.videos)
    report.creators_disabled += int(counts.disabled)


async def _read_item_list(
    client: TikTokClient,
    settings: ScrapeSettings,
    plan: CreatorPlan,
    sec_uid: str,
    cutoffs: Cutoffs,
    outcome: CreatorOutcome,
    report: ScrapeReport,
    subject: str,
) -> None:
    """Page the item list newest first until it reaches the older of the tracking start and the expiry window."""
    stop_at = min(plan.tracking_start, cutoffs.expiry)
    cursor: int | None = None
    for _ in range(settings.max_list_pages):
        result = await _attempt(client.fetch_videos(sec_uid, cursor, count=settings.list_page_size), report)
        if isinstance(result, str) or not result.ok or result.data is None:
            kind = result if isinstance(result, str) else result.state
            outcome.list_failure = kind
            report.fail(kind, subject, f"video list: {kind}", creator_id=plan.id)
            return
        page = result.data
        for post in page.videos:
            outcome.listed.setdefault(post.video_id, post)
        if not page.has_more or not page.videos or page.cursor is None or page.cursor == cursor:
            return
        if page.videos[-1].create_time < stop_at:
            return
        cursor = page.cursor


async def _fetch_single(
    client: TikTokClient,
    handle: str | None,
    tiktok_id: str,
    report: ScrapeReport,
    *,
    creator_id: uuid.UUID | None,
    video_id: uuid.UUID,
) -> VideoOutcome:
    result = await _attempt(client.fetch_video(handle, tiktok_id), report)
    if isinstance(result, str):
        kind = result
    elif result.ok and result.data is not None and store.post_is_complete(result.data):
        return VideoOutcome(post=result.data)
    else:
        kind = result.state if not result.ok else "unknown"
    report.fail(kind, f"video {tiktok_id}", f"video page: {kind}", creator_id=creator_id, video_id=video_id)
    return VideoOutcome(failure=kind)


async def _loose_videos(
    db: Database,
    client: TikTokClient,
    clock: Clock,
    cutoffs: Cutoffs,
    video_ids: Sequence[uuid.UUID],
    report: ScrapeReport,
    counter: _Counter,
) -> None:
    """Refresh the given tracked videos one page each (the ones asked for, or else those with no creator)."""
    for video_id in video_ids:
        claimed = await store.claim_video(db, video_id, cutoffs, clock.now())
        if claimed is not None:
            project_id, tiktok_id, url = claimed
            single = await _fetch_single(
                client, _handle_from_url(url), tiktok_id, report, creator_id=None, video_id=video_id
            )
            report.videos_checked += 1
            report.video_snapshots += await store.apply_videos(
                db, project_id, {tiktok_id: single}, now=clock.now(), expiry=cutoffs.expiry
            )
        await counter.step()


def _handle_from_url(url: str) -> str | None:
    segment = url.split("/@", 1)[1].split("/", 1)[0] if "/@" in url else ""
    return segment if segment and segment != "_" else None


def _profile_complete(result: PageResult[Any]) -> bool:
    data = result.data
    counters = (data.follower_count, data.following_count, data.heart_count, data.video_count) if data else ()
    return bool(counters) and all(value is not None for value in counters)


async def _attempt(call: Any, report: ScrapeReport) -> PageResult[Any] | str:
    """Await one client call; a typed upstream error becomes its failure kind (`blocked`, `rate_limited`, …)."""
    report.fetches += 1
    try:
        result: PageResult[Any] = await call
    except Blocked as exc:
        if exc.code == "login_required":
            return "login_required"
        report.blocked[exc.reason] += 1
        return "blocked"
    except TrackagoatError as exc:
        return exc.code
    if result.blocked_by is not None:
        report.blocked[result.blocked_by] += 1
        report.browser_passed += 1
    return result
