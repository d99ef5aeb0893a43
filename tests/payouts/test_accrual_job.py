"""The accrual job is exactly-once: run twice, by two OS processes at once, or killed mid-run and rerun, it
leaves the same evaluation and accrual rows; and it back-fills the hours it missed.

"The same rows" is `payout_rows`: every evaluation and accrual without who/when columns, ids included (ids are
derived from the unique key, so even a second store built the same way would match).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import anyio
import pytest
from sqlalchemy import select, update

from tests.payouts.accrual_support import (
    evaluations,
    finish,
    forget_runs,
    make_program,
    payout_rows,
    seed_busy_program,
    start_worker,
)
from trackagoat_mcp.cli import main
from trackagoat_mcp.clock import FrozenClock
from trackagoat_mcp.db.models import Goal, JobRun
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.jobs.accruals import run_accruals

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_running_the_job_twice_changes_nothing(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    due = await seed_busy_program(program)

    first = await program.run(NOW)
    rows = await payout_rows(db)
    again = await program.run(NOW + timedelta(minutes=30))
    next_hour = await program.run(NOW + HOUR)

    assert first.totals.evaluated == due == len(rows["evaluations"])
    assert 0 < first.totals.accrued == len(rows["accruals"]) < due
    assert (again.slots_run, again.totals.evaluated) == ([], 0)  # this hour's slot is done
    assert (next_hour.slots_run, next_hour.totals.evaluated) == ([(NOW + HOUR).isoformat()], 0)
    assert await payout_rows(db) == rows


async def test_two_processes_at_once_leave_the_rows_of_a_single_run(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    due = await seed_busy_program(program)
    await program.run(NOW)
    reference = await payout_rows(db)
    await forget_runs(db)

    # "b" runs an hour later than "a" (nothing new is due between 12:00 and 13:00), so it does not wait for a's
    # slot: it competes for the very same units, which only their unique key keeps apart. Each worker's clock is
    # frozen, so "b" may even find a's 12:00 slot without a heartbeat and take it over while "a" still works.
    workers = [start_worker(db_url, NOW, "a"), start_worker(db_url, NOW + HOUR, "b")]
    results = [await anyio.to_thread.run_sync(finish, worker) for worker in workers]

    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    reports = [report for _, report, _ in results if report is not None]
    assert sum(r["evaluated"] for r in reports) == due
    assert await payout_rows(db) == reference
    async with db.read() as session:
        runs = (await session.scalars(select(JobRun).order_by(JobRun.slot))).all()  # type: ignore[arg-type]
    # Whoever starts first decides the slots: if "b" finishes 13:00 before "a" looks, "a" has nothing left to do.
    assert {(run.slot, run.status) for run in runs} <= {(NOW.isoformat(), "ok"), ((NOW + HOUR).isoformat(), "ok")}
    assert ((NOW + HOUR).isoformat(), "ok", "b") in {(run.slot, run.status, run.claimed_by) for run in runs}


async def test_a_run_killed_mid_way_and_rerun_leaves_the_rows_of_an_uninterrupted_run(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    await seed_busy_program(program)
    await program.run(NOW)
    reference = await payout_rows(db)
    await forget_runs(db)

    code, report, _ = await anyio.to_thread.run_sync(finish, start_worker(db_url, NOW, "doomed", kill_after=20))

    assert (code, report) == (-9, None)  # SIGKILL: no cleanup ran
    committed = len(await evaluations(db))  # units commit in batches: the kill lands after the batch holding the 20th
    assert 20 <= committed < len(reference["evaluations"])
    async with db.read() as session:
        (slot,) = (await session.scalars(select(JobRun))).all()
    assert (slot.status, slot.claimed_by) == ("running", "doomed")

    too_soon = await program.run(NOW + timedelta(minutes=5))  # the dead worker's heartbeat is still fresh
    assert (too_soon.slots_skipped, len(await evaluations(db))) == ([NOW.isoformat()], committed)

    rerun = await program.run(NOW + timedelta(minutes=11))  # past the 10-minute heartbeat: taken over

    assert rerun.slots_run == [NOW.isoformat()]
    assert rerun.totals.evaluated == len(reference["evaluations"]) - committed
    assert await payout_rows(db) == reference
    async with db.read() as session:
        (slot,) = (await session.scalars(select(JobRun))).all()
    assert (slot.status, slot.claimed_by) == ("ok", "test")


async def _hand_the_slots_to(url: str, worker: str) -> None:
    other = Database.connect(url)
    try:
        async with other.write() as session:
            await session.execute(update(JobRun).values(claimed_by=worker))
    finally:
        await other.dispose()


async def test_a_run_whose_slot_another_worker_took_over_stops_before_its_next_batch(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    program = await make_program(db, clock)
    due = await seed_busy_program(program)

    def take_over(done: int) -> None:
        # The first batch (one unit) has committed; another worker takes the slot over before the second begins
        # (a separate connection, on its own thread and event loop, while this run waits).
        if done == 1:
            thief = threading.Thread(target=anyio.run, args=(_hand_the_slots_to, db_url, "thief"))
            thief.start()
            thief.join()

    clock.set(NOW)
    report = await run_accruals(db, clock, worker_id="slow", on_evaluated=take_over)

    assert (report.totals.evaluated, len(await evaluations(db))) == (1, 1) and due > 1
    async with db.read() as session:
        (slot,) = (await session.scalars(select(JobRun))).all()
    assert slot.claimed_by == "thief"


async def test_after_a_five_hour_gap_every_missed_hour_is_claimed_and_does_its_own_evaluations(
    db: Database, clock: FrozenClock
) -> None:
    # Local midnights in UTC on Mar 10: Auckland 11:00, Sydney 13:00, Tokyo 15:00.
    zones = {"Pacific/Auckland": 11, "Australia/Sydney": 13, "Asia/Tokyo": 15}
    creators = {}
    for zone in zones:
        program = await make_program(db, clock, timezone=zone, name=zone)
        creators[zone] = await program.creator("daily")
        structure = await program.structure(period="daily", amount_cents=100, at=utc(2026, 3, 1))
        await program.assign(structure, [creators[zone]], date(2026, 3, 9))

    await program.run(utc(2026, 3, 10, 10, 15))  # yesterday (Mar 9 local) everywhere
    # ... the worker is down from 11:00 to 15:59 ...
    late = await program.run(utc(2026, 3, 10, 16, 15))

    hours = [utc(2026, 3, 10, h).isoformat() for h in range(11, 17)]
    assert late.slots_run == hours
    async with db.read() as session:
        runs = {run.id: run for run in (await session.scalars(select(JobRun))).all()}
    assert sorted((run.slot, run.status) for run in runs.values()) == [
        (utc(2026, 3, 10, h).isoformat(), "ok") for h in range(10, 17)
    ]
    for zone, hour in zones.items():
        mar9, mar10 = await evaluations(db, creator_id=creators[zone])
        assert runs[mar9.job_run_id].slot == utc(2026, 3, 10, 10).isoformat()  # type: ignore[index]
        assert runs[mar10.job_run_id].slot == utc(2026, 3, 10, hour).isoformat(), zone  # type: ignore[index]
    assert {run.report["units"] for run in runs.values() if run.slot in hours} == {0, 1}


async def test_a_unit_that_fails_is_reported_and_evaluated_by_a_later_run(db: Database, clock: FrozenClock) -> None:
    program = await make_program(db, clock)
    alice, bob = await program.creator("alice"), await program.creator("bob")
    broken = await program.goal(alice, "posts", 1)
    structure = await program.structure(criteria_type="goals", amount_cents=100)
    await program.assign(structure, [alice, bob], date(2026, 3, 2), date(2026, 3, 8))
    async with db.write() as session:  # a goal row no code path writes: its metric is unknown
        await session.execute(update(Goal).where(Goal.id == broken).values(metric="likes"))  # type: ignore[arg-type]

    failing = await program.run(utc(2026, 3, 11, 0, 15))

    assert (failing.totals.evaluated, len(failing.totals.failed)) == (1, 1)
    assert failing.totals.failed[0]["creator_id"] == str(alice)
    assert "likes" in failing.totals.failed[0]["message"]
    async with db.write() as session:
        await session.execute(update(Goal).where(Goal.id == broken).values(metric="posts"))  # type: ignore[arg-type]
    fixed = await program.run(utc(2026, 3, 11, 1, 15))
    assert (fixed.totals.evaluated, fixed.totals.failed) == (1, [])
    assert {e.creator_id for e in await evaluations(db)} == {alice, bob}


def test_the_accrue_command_runs_the_job_and_refuses_a_time_in_the_future(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed() -> None:
        db = Database.connect(db_url)
        try:
            program = await make_program(db, FrozenClock(NOW))
            alice = await program.creator("alice")
            structure = await program.structure(amount_cents=1000, at=utc(2026, 3, 1))
            await program.assign(structure, [alice], date(2026, 3, 2))
        finally:
            await db.dispose()

    anyio.run(seed)
    ran = main(["--database-url", db_url, "accrue", "--at", "2026-03-10T12:15:00Z"])
    report = json.loads(capsys.readouterr().out)
    refused = main(["--database-url", db_url, "accrue", "--at", "2999-01-01T00:00:00"])
    message = capsys.readouterr().err

    assert ran == 0
    assert (report["slots_run"], report["evaluated"], report["accrued_cents"]) == ([NOW.isoformat()], 1, 1000)
    assert refused == 2 and "is in the future" in message and "Traceback" not in message
