"""The scheduler runs each job on its own schedule, survives failures, answers wake-ups, and stops on cancel.

No test sleeps: the scheduler's `sleep` is either `Ticking` (it moves the frozen clock by the time asked
for, so hours pass in microseconds) or `Stopped` (time never passes, so only a wake-up can start a run).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import anyio
import anyio.lowlevel
import pytest

from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.jobs.scheduler import PeriodicJob, Scheduler, every, hourly_at

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Ticking:
    """A sleep that moves the frozen clock forward by the seconds asked for and returns at once."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        await anyio.lowlevel.checkpoint()


async def stopped(_seconds: float) -> None:
    """A sleep during which no time passes at all (only a wake-up ends the scheduler's nap)."""
    await anyio.sleep_forever()


def at(hh: int, mm: int) -> datetime:
    return START.replace(hour=hh, minute=mm)


def test_every_ticks_on_fixed_multiples_and_hourly_at_on_the_minute() -> None:
    five = every(timedelta(minutes=5))
    assert five(at(12, 3)) == at(12, 5)
    assert five(at(12, 5)) == at(12, 10)
    quarter = hourly_at(15)
    assert quarter(at(12, 14)) == at(12, 15)
    assert quarter(at(12, 15)) == at(13, 15)


async def test_jobs_run_at_start_and_then_each_on_its_own_schedule() -> None:
    clock = FrozenClock(START)
    runs: dict[str, list[datetime]] = {"often": [], "hourly": []}

    with anyio.fail_after(5), anyio.CancelScope() as scope:

        async def often(now: datetime) -> None:
            runs["often"].append(now)
            if len(runs["often"]) == 4:
                scope.cancel()

        async def hourly(now: datetime) -> None:
            runs["hourly"].append(now)

        jobs = [PeriodicJob("often", every(timedelta(minutes=10)), often), PeriodicJob("hourly", hourly_at(15), hourly)]
        await Scheduler(jobs, clock, sleep=Ticking(clock)).run()

    assert runs["often"][:4] == [at(12, 0), at(12, 10), at(12, 20), at(12, 30)]
    assert [t for t in runs["hourly"] if t <= at(12, 30)] == [at(12, 0), at(12, 15)]


async def test_a_failing_run_is_logged_and_the_job_runs_again_at_its_next_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FrozenClock(START)
    attempts: list[datetime] = []

    with anyio.fail_after(5), anyio.CancelScope() as scope:

        async def flaky(now: datetime) -> None:
            attempts.append(now)
            if len(attempts) == 1:
                raise RuntimeError("TikTok is down")
            scope.cancel()

        with caplog.at_level(logging.ERROR, logger="trackagoat_mcp.jobs.scheduler"):
            await Scheduler(
                [PeriodicJob("flaky", every(timedelta(minutes=5)), flaky)], clock, sleep=Ticking(clock)
            ).run()

    assert attempts[:2] == [at(12, 0), at(12, 5)]
    [record] = caplog.records
    assert "flaky failed" in record.getMessage() and record.exc_info and "TikTok is down" in str(record.exc_info[1])


async def test_a_long_run_holds_up_neither_the_other_jobs_nor_overlaps_itself() -> None:
    clock = FrozenClock(START)
    release = anyio.Event()
    slow_starts: list[datetime] = []
    quick_runs: list[datetime] = []

    async def slow(now: datetime) -> None:
        slow_starts.append(now)
        await release.wait()

    async def quick(now: datetime) -> None:
        quick_runs.append(now)
        if len(quick_runs) == 3:
            release.set()

    jobs = [
        PeriodicJob("slow", every(timedelta(minutes=1)), slow),
        PeriodicJob("quick", every(timedelta(minutes=1)), quick),
    ]
    scheduler = Scheduler(jobs, clock, sleep=Ticking(clock))
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(scheduler.run)
            await release.wait()
            assert scheduler.is_running("slow")
            group.cancel_scope.cancel()

    assert quick_runs[:3] == [at(12, 0), at(12, 1), at(12, 2)]
    assert slow_starts == [at(12, 0)], "a job must not start again while its run is in flight"


async def test_a_request_runs_at_once_beside_the_run_in_flight_with_the_subjects_asked_for() -> None:
    clock = FrozenClock(START)
    in_flight = anyio.Event()
    requested: list[tuple[datetime, Sequence[uuid.UUID]]] = []
    done = anyio.Event()
    creator = uuid.uuid4()

    async def cycle(_now: datetime) -> None:
        in_flight.set()
        await anyio.sleep_forever()

    async def first_scrape(now: datetime, ids: Sequence[uuid.UUID]) -> None:
        requested.append((now, ids))
        done.set()

    scheduler = Scheduler([PeriodicJob("scrape", hourly_at(0), cycle, run_for=first_scrape)], clock, sleep=stopped)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            await group.start(scheduler.run)
            await in_flight.wait()
            scheduler.request("scrape", [creator])
            await done.wait()
            assert scheduler.is_running("scrape")
            group.cancel_scope.cancel()

    assert requested == [(START, (creator,))]


async def test_wake_runs_a_job_now_instead_of_at_its_next_time() -> None:
    clock = FrozenClock(START)
    runs: list[datetime] = []
    ran = anyio.Event()

    async def job(now: datetime) -> None:
        runs.append(now)
        ran.set()

    scheduler = Scheduler([PeriodicJob("scrape", hourly_at(30), job)], clock, sleep=stopped)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            await group.start(scheduler.run)
            await ran.wait()
            await wait_until(lambda: scheduler.next_run("scrape") == at(12, 30))
            ran = anyio.Event()
            scheduler.wake("scrape")
            await ran.wait()
            group.cancel_scope.cancel()

    assert runs == [START, START], "no time passed, so only the wake-up can have started the second run"


async def test_cancelling_the_scheduler_cancels_the_runs_in_flight_and_returns() -> None:
    clock = FrozenClock(START)
    started = anyio.Event()
    cancelled: list[bool] = []

    async def job(_now: datetime) -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    scheduler = Scheduler([PeriodicJob("scrape", hourly_at(0), job)], clock, sleep=stopped)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(scheduler.run)
            await started.wait()
            group.cancel_scope.cancel()

    assert cancelled == [True]


async def wait_until(condition: Callable[[], bool]) -> None:
    """Yield to the scheduler until `condition()` holds (bounded by the caller's `fail_after`)."""
    while not condition():
        await anyio.lowlevel.checkpoint()
