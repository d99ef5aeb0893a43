"""The scheduler: the only loop in the program that sleeps.

A `Scheduler` runs a list of `PeriodicJob`s. Each job says when it next runs (`next_run(now)`, from the
injected clock) and what a run does (`run(now)`). The loop sleeps until the earliest due time, or until
someone calls `wake()`/`request()`, starts every due job in its own task of the scheduler's task group (a
long scrape never holds up the accrual hour), and goes back to sleep. A job is never run twice at once by
one scheduler; several schedulers (processes) may run the same job, and the jobs keep themselves apart
through the store (creator claims, `JobRun` slots). A run that raises is logged and its next run comes as
scheduled; cancelling `run()` cancels the runs in flight and returns.

Every job runs once at start-up by default (the floors and slots decide what is really due, and a worker
that starts after downtime should catch up at once), then on its schedule.

`default_jobs` builds the jobs of `serve` and `worker`: the scrape cycle every
`TRACKAGOAT_SCRAPE_INTERVAL_MINUTES` (default 5; each is followed by the comment cycle of `jobs.comments`),
the accrual run hourly, the retention job daily and the alert job every `TRACKAGOAT_ALERT_INTERVAL_MINUTES`
(default 15). The scrape job also takes `request("scrape", ids)`: `add_creators` queues the first scrape of new
creators that way, at once and without waiting for the cycle in flight (a creator never checked is due anyway, so
without an in-process scheduler a worker picks it up on its next tick).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio
import httpx2
from anyio.abc import TaskStatus

from trackagoat_mcp.clock import Clock
from trackagoat_mcp.config import Settings
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.alerts import Thresholds, UrlPolicy
from trackagoat_mcp.jobs.accruals import run_accruals
from trackagoat_mcp.jobs.alerts import AlertSettings, run_alerts
from trackagoat_mcp.jobs.comments import CommentSettings, run_comment_cycle
from trackagoat_mcp.jobs.retention import run_retention
from trackagoat_mcp.jobs.scraper import ScrapeSettings, run_scrape_cycle
from trackagoat_mcp.jobs.tiktok_access import TikTokAccess
from trackagoat_mcp.jobs.webhooks import RetryPolicy

__all__ = [
    "PeriodicJob",
    "Schedule",
    "Scheduler",
    "Timing",
    "alert_settings_of",
    "default_jobs",
    "every",
    "hourly_at",
    "schedules",
]

log = logging.getLogger(__name__)

Schedule = Callable[[datetime], datetime]
"""`next_run(now)`: the first instant strictly after `now` at which the job should run."""
Sleep = Callable[[float], Awaitable[None]]

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def every(interval: timedelta) -> Schedule:
    """Runs on the multiples of `interval` counted from a fixed epoch (so every process agrees on the ticks)."""
    step = interval.total_seconds()
    if step <= 0:
        raise ValueError(f"interval {interval!r} must be positive")

    def next_run(now: datetime) -> datetime:
        ticks = math.floor((now - _EPOCH).total_seconds() / step) + 1
        return _EPOCH + timedelta(seconds=ticks * step)

    return next_run


def hourly_at(minute: int) -> Schedule:
    """Runs every hour at `minute` past (UTC)."""
    if not 0 <= minute <= 59:
        raise ValueError(f"minute {minute!r} must be between 0 and 59")

    def next_run(now: datetime) -> datetime:
        candidate = now.astimezone(UTC).replace(minute=minute, second=0, microsecond=0)
        return candidate if candidate > now else candidate + timedelta(hours=1)

    return next_run


@dataclass(frozen=True)
class Timing:
    """A job's schedule and how to say it to a person ("every 5 minutes")."""

    next_run: Schedule
    text: str


def schedules(settings: Settings) -> dict[str, Timing]:
    """When each background job runs, by job name (also what `get_job_status` reports as the next run)."""
    minutes = settings.scrape_interval_minutes
    return {
        "scrape": Timing(every(timedelta(minutes=minutes)), f"every {minutes:g} minutes"),
        "accruals": Timing(hourly_at(settings.accrual_minute), f"hourly at :{settings.accrual_minute:02d} UTC"),
        "retention": Timing(every(timedelta(days=1)), "daily at 00:00 UTC"),
        "alerts": Timing(
            every(timedelta(minutes=settings.alert_interval_minutes)),
            f"every {settings.alert_interval_minutes:g} minutes",
        ),
    }


@dataclass(frozen=True)
class PeriodicJob:
    """A job the scheduler runs.

    Attributes:
        name: the job's name (`scrape`, `accruals`); `wake` and `request` address it by this.
        next_run: when it runs next, given the time now.
        run: one run, given the time it started.
        run_for: an extra run limited to some subjects (`request`); `None` makes `request` a plain `wake`.
        run_at_start: run once as soon as the scheduler starts, before following `next_run`.
    """

    name: str
    next_run: Schedule
    run: Callable[[datetime], Awaitable[object]]
    run_for: Callable[[datetime, Sequence[uuid.UUID]], Awaitable[object]] | None = None
    run_at_start: bool = True


@dataclass
class _State:
    job: PeriodicJob
    next_at: datetime | None = None
    running: bool = False
    again: bool = False


@dataclass
class Scheduler:
    """Runs `jobs` on their schedules until cancelled (see the module docstring).

    Args:
        jobs: the jobs; names must be unique.
        clock: the only source of time.
        sleep: how to wait (default `anyio.sleep`); tests pass one that moves a frozen clock instead.
        max_nap: the longest single sleep in seconds, so a clock that jumps (suspend, NTP) is noticed soon.
    """

    jobs: Sequence[PeriodicJob]
    clock: Clock
    sleep: Sleep = anyio.sleep
    max_nap: float = 60.0
    _states: dict[str, _State] = field(init=False)
    _requests: list[tuple[str, tuple[uuid.UUID, ...]]] = field(init=False, default_factory=list)
    _woken: anyio.Event | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._states = {}
        for job in self.jobs:
            if job.name in self._states:
                raise ValueError(f"two jobs are named {job.name!r}")
            self._states[job.name] = _State(job)

    # --- asking for work -----------------------------------------------------------------------------------

    def next_run(self, name: str) -> datetime | None:
        """When job `name` runs next (`None` before the loop has started or while it runs)."""
        state = self._states[name]
        return None if state.running else state.next_at

    def is_running(self, name: str) -> bool:
        """Whether a scheduled run of job `name` is in flight."""
        return self._states[name].running

    def wake(self, name: str) -> None:
        """Run job `name` as soon as possible (right after its run in flight, if there is one)."""
        state = self._states[name]
        if state.running:
            state.again = True
        else:
            state.next_at = self.clock.now()
        self._alarm()

    def request(self, name: str, subjects: Sequence[uuid.UUID]) -> None:
        """Ask job `name` for an extra run limited to `subjects`, started at once beside any run in flight.

        Returns immediately; the run happens in the scheduler's task group. A job without `run_for` is woken.
        """
        if self._states[name].job.run_for is None:
            self.wake(name)
            return
        if subjects:
            self._requests.append((name, tuple(subjects)))
            self._alarm()

    def _alarm(self) -> None:
        if self._woken is not None:  # before `run()` starts, its first pass sees the change anyway
            self._woken.set()

    # --- the loop --------------------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the jobs until cancelled; `task_status.started()` is called once the loop is up."""
        start = self.clock.now()
        for state in self._states.values():
            woken_early = state.next_at is not None
            state.next_at = start if state.job.run_at_start or woken_early else state.job.next_run(start)
        async with anyio.create_task_group() as group:
            task_status.started()
            while True:
                self._woken = anyio.Event()
                now = self.clock.now()
                requests, self._requests = self._requests, []
                for name, subjects in requests:
                    run_for = self._states[name].job.run_for
                    assert run_for is not None
                    group.start_soon(self._guarded, f"{name} (requested)", run_for, now, subjects)
                for state in self._states.values():
                    if not state.running and state.next_at is not None and state.next_at <= now:
                        state.running = True
                        group.start_soon(self._periodic, state, now)
                await self._nap(self._woken, self._delay(now))

    def _delay(self, now: datetime) -> float:
        waits = [
            (state.next_at - now).total_seconds()
            for state in self._states.values()
            if not state.running and state.next_at is not None
        ]
        return max(0.0, min([self.max_nap, *waits]))

    async def _nap(self, woken: anyio.Event, seconds: float) -> None:
        """Sleep `seconds` (through the injected sleep) or until woken, whichever comes first."""
        async with anyio.create_task_group() as group:

            async def alarm() -> None:
                await self.sleep(seconds)
                group.cancel_scope.cancel()

            group.start_soon(alarm)
            await woken.wait()
            group.cancel_scope.cancel()

    async def _periodic(self, state: _State, started: datetime) -> None:
        try:
            await self._guarded(state.job.name, state.job.run, started)
        finally:
            state.running = False
            state.next_at = self.clock.now() if state.again else state.job.next_run(self.clock.now())
            state.again = False
            self._alarm()

    async def _guarded(self, label: str, fn: Callable[..., Awaitable[object]], *args: object) -> None:
        """Await one run; an exception is logged, and the scheduler and the other jobs go on."""
        try:
            await fn(*args)
        except Exception:
            log.exception("Background job %s failed; it runs again at its next time", label)


def alert_settings_of(settings: Settings) -> AlertSettings:
    """The alert job's settings (`TRACKAGOAT_ALERT_*`, `TRACKAGOAT_WEBHOOK_*`)."""
    return AlertSettings(
        interval=timedelta(minutes=settings.alert_interval_minutes),
        thresholds=Thresholds(
            unpaid_days=settings.alert_unpaid_days,
            unpaid_cents=settings.alert_unpaid_cents,
            block_rate_cycles=settings.block_rate_cycles,
            block_rate_threshold=settings.block_rate_threshold,
        ),
        url_policy=UrlPolicy(
            allow_loopback=settings.webhook_allow_loopback, allow_private=settings.webhook_allow_private
        ),
        retry=RetryPolicy(attempts=settings.webhook_attempts),
    )


def default_jobs(
    db: Database, settings: Settings, clock: Clock, worker_id: str, *, tiktok: TikTokAccess
) -> list[PeriodicJob]:
    """The background jobs of `serve` and `worker`.

    Args:
        db: the store.
        settings: the schedules, the scraper's floors and the TikTok site.
        clock: the only source of time.
        worker_id: this process's name in claims and run rows (host:pid).
        tiktok: the process's TikTok client source, shared with `scrape_now`.
    """
    when = schedules(settings)
    scrape_settings = ScrapeSettings.from_settings(settings)
    comment_settings = CommentSettings.from_settings(settings)

    async def scrape(_now: datetime, creator_ids: Sequence[uuid.UUID] | None = None) -> None:
        report = await run_scrape_cycle(
            db, tiktok.client(), clock, scrape_settings, worker_id=worker_id, creator_ids=creator_ids
        )
        log.info(
            "Scrape cycle %s: %d creators due, %d scraped, %d new videos, %d video snapshots, failures %s",
            report.slot,
            report.creators_due,
            report.creators_scraped,
            report.videos_discovered,
            report.video_snapshots,
            dict(report.failures) or "none",
        )
        if creator_ids is None and comment_settings.comments_per_cycle > 0:
            # Comments ride on the scrape tick (their own floor decides which videos are due), after the
            # counters, so a slow comment read never delays the numbers payouts depend on.
            comments = await run_comment_cycle(db, tiktok.client(), clock, comment_settings, worker_id=worker_id)
            log.info(
                "Comment cycle %s: %d videos read, %d new comments, failures %s",
                comments.slot,
                comments.videos_read,
                comments.comments_new,
                dict(comments.failures) or "none",
            )

    alert_settings = alert_settings_of(settings)

    async def alerts(_now: datetime) -> None:
        async with httpx2.AsyncClient() as http:
            await run_alerts(db, clock, http, worker_id=worker_id, settings=alert_settings)

    return [
        PeriodicJob("scrape", when["scrape"].next_run, scrape, run_for=scrape),
        PeriodicJob("alerts", when["alerts"].next_run, alerts),
        PeriodicJob("accruals", when["accruals"].next_run, lambda _now: run_accruals(db, clock, worker_id=worker_id)),
        PeriodicJob(
            "retention",
            when["retention"].next_run,
            lambda _now: run_retention(
                db,
                clock,
                worker_id=worker_id,
                job_run_days=settings.job_run_retention_days,
                snapshot_detail_days=settings.snapshot_detail_days,
            ),
        ),
    ]
