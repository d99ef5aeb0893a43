"""Accrual work is proportional to what is due, and shared fairly between organizations.

A run walks each creator's periods from the first one not yet settled (`payout_assignments.settled_before`), so an
idle run costs the periods in progress whatever the history; within a slot organizations take turns, so one
organization's backlog never holds back another's due unit; and how far back an assignment may start is bounded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.payouts.accrual_support import evaluations, forget_runs, make_program, payout_rows
from trackagoat_mcp.domain.payouts import assignments
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.jobs.accruals import run_accruals

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_an_idle_run_walks_only_the_periods_in_progress_whatever_the_history(db, clock):
    clock.set(NOW)
    program = await make_program(db, clock)
    creators = [await program.creator(f"daily{i}") for i in range(4)]
    daily = await program.structure(period="daily", amount_cents=100, at=datetime(2025, 1, 1, tzinfo=UTC))
    await program.assign(daily, creators, date(2026, 1, 1))

    backfill = await program.run(NOW)
    idle = await program.run(NOW + HOUR)

    assert backfill.totals.evaluated == 4 * 68  # Jan 1 .. Mar 9
    assert backfill.days_planned == 4 * 69  # Jan 1 .. today
    assert idle.totals.evaluated == 0
    assert idle.days_planned == 4  # today alone, for each creator


async def test_settled_history_is_never_skipped_a_back_dated_assignment_and_a_waiting_unit_are_still_paid(db, clock):
    clock.set(NOW)
    program = await make_program(db, clock)
    regular = await program.creator("regular")
    stale = await program.creator("stale", scraped_at=NOW - timedelta(days=20))
    daily = await program.structure(
        period="daily", criteria_type="cpm", amount_cents=100, at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    await program.assign(daily, [regular, stale], date(2026, 3, 1))
    await program.run(NOW)
    # Mar 7 became due at Mar 10 00:00; the stale creator's waits up to 24 h for fresh stats, the days before
    # have waited long enough and proceeded.
    stale_days = {e.period_start_at.date() for e in await evaluations(db) if e.creator_id == stale}
    assert stale_days == {date(2026, 3, d) for d in range(1, 7)}

    late = await program.creator("late")
    await program.assign(daily, [late], date(2026, 3, 1))  # dated back, after the history was settled
    await program.scraped(stale, NOW + HOUR)
    await program.run(NOW + 2 * HOUR)

    evaluated = {(e.creator_id, e.period_start_at.date()) for e in await evaluations(db)}
    days = [date(2026, 3, d) for d in range(1, 8)]  # Mar 1 .. Mar 7: due by Mar 10 14:30
    for creator in (regular, stale, late):
        assert {(creator, day) for day in days} <= evaluated, creator


async def test_runs_that_start_from_the_settled_point_leave_the_rows_of_a_run_from_scratch(db, clock):
    clock.set(NOW)
    program = await make_program(db, clock)
    creators = [await program.creator(f"c{i}") for i in range(3)]
    weekly = await program.structure(amount_cents=700, at=datetime(2025, 1, 1, tzinfo=UTC))
    daily = await program.structure(period="daily", amount_cents=100, name="daily", at=datetime(2025, 1, 1, tzinfo=UTC))
    await program.assign(weekly, creators, date(2026, 1, 5))
    await program.assign(daily, creators[:2], date(2026, 2, 20))
    last = NOW
    for hours in range(0, 24 * 9, 7):  # a run every seven hours for nine days, each from where the last stood
        last = NOW + hours * HOUR
        await program.run(last)
    stepwise = await payout_rows(db)
    await forget_runs(db)
    await program.run(last)

    assert await payout_rows(db) == stepwise
    assert len(stepwise["evaluations"]) == 3 * 10 + 2 * 27  # weeks Jan 5 .. Mar 9; days Feb 20 .. Mar 18


async def test_one_organizations_backlog_does_not_hold_back_anothers_due_unit(db, clock):
    clock.set(NOW)
    busy = await make_program(db, clock, name="Busy")
    backlog = [await busy.creator(f"busy{i}") for i in range(6)]
    daily = await busy.structure(period="daily", amount_cents=100, at=datetime(2025, 1, 1, tzinfo=UTC))
    await busy.assign(daily, backlog, date(2026, 1, 10))  # 6 × 59 days due at once
    small = await make_program(db, clock, name="Small")
    one = await small.creator("only")
    weekly = await small.structure(amount_cents=700, at=datetime(2025, 1, 1, tzinfo=UTC))
    await small.assign(weekly, [one], date(2026, 3, 2))  # the week of Mar 2 ends Mar 9: due now

    class Stop(Exception):
        pass

    def stop_after_three(done: int) -> None:
        if done >= 3:
            raise Stop

    with pytest.raises(Stop):
        await run_accruals(db, clock, worker_id="fair", on_evaluated=stop_after_three)

    written = await evaluations(db)
    assert len(written) == 3
    assert one in {e.creator_id for e in written}


async def test_an_assignment_may_start_at_most_the_backdate_bound_before_today(db, clock):
    clock.set(NOW)
    program = await make_program(db, clock)
    creator = await program.creator("early")
    weekly = await program.structure(amount_cents=700, at=datetime(2025, 1, 1, tzinfo=UTC))
    today = NOW.date()

    async with db.write() as session:
        with pytest.raises(InvalidInput) as refused:
            await assignments.assign_creators(
                session, program.caller, weekly, [creator], now=NOW, starts_on=today - timedelta(days=367)
            )
    async with db.write() as session:
        with pytest.raises(InvalidInput):
            await assignments.assign_creators(
                session,
                program.caller,
                weekly,
                [creator],
                now=NOW,
                starts_on=today - timedelta(days=31),
                backdate_days=30,
            )
    async with db.write() as session:
        await assignments.assign_creators(
            session, program.caller, weekly, [creator], now=NOW, starts_on=today - timedelta(days=366)
        )

    message = refused.value.message
    assert "366 days" in message and (today - timedelta(days=366)).isoformat() in message
    assert "TRACKAGOAT_ASSIGNMENT_BACKDATE_DAYS" in message
