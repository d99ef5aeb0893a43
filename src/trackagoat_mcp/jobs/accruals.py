"""The hourly accrual run: claim the hour, back-fill missed hours, evaluate every due unit exactly once.

`run_accruals` is one "run once" call; the scheduler calls it hourly at `TRACKAGOAT_ACCRUAL_MINUTE`, and
`trackagoat-mcp accrue [--at TIME]` calls it by hand. What makes it exactly-once is the evaluation's unique key
(`domain.payouts.accruals.record_unit`); the slot claims below only keep replicas from doing the same work twice.

* **Slots.** Each UTC hour is one `JobRun` of job `accruals`, slot = the hour as ISO 8601
  (`2026-03-10T12:00:00+00:00`), claimed with `INSERT … ON CONFLICT DO NOTHING` (`jobs.runs.claim_run`): one
  replica wins the hour, the others skip it. A slot still `running` whose heartbeat is older than
  `HEARTBEAT_TTL` belonged to a crashed worker, and a `failed` one to a run that hit an error; either is taken
  over with a compare-and-set `UPDATE` by the next run.
* **Back-fill.** A run claims every hour since the last `ok` slot (at most `BACKFILL_CAP`, 31 days, of
  them). Each due unit is evaluated in the slot of the hour its evaluation became ready, so the audit trail
  shows what each hour would have done; a unit that became ready before the first claimed hour (an assignment
  dated back, a gap older than the cap) is evaluated in the newest slot, beside the work due now.
* **Fairness.** Within a slot, organizations take turns: their due units are interleaved one by one (each
  organization's oldest first), so one organization's backlog delays another's due unit by at most one unit
  of each other organization with work in that slot, never by the length of the backlog.
* **Proportional work.** Planning walks each creator's periods from the first one not yet settled
  (`payout_assignments.settled_before`, advanced at the end of every run), so an idle run reads only the
  periods in progress, whatever the length of the history.
* **Units** are evaluated in batches, one write transaction each (`BATCH_MAX`; sizes 1, 2, 4, … so the first
  units commit at once): the transaction first beats the slot's heartbeat (and stops the run if another worker
  took the slot over), then the batch's inputs are read in a few queries and its rows written with one
  `INSERT … ON CONFLICT DO NOTHING` per table (`domain.payouts.unit_batches`). A crash loses at most the batch in
  flight, and the rerun (or the takeover) evaluates what is left with the same figures and ids, so the rows equal
  those of an uninterrupted run. When a batch fails, its units are retried one per transaction: a unit that
  still fails is reported and left for the next run, the others are written.
* **Manual runs** for one organization (the `run_accruals` admin tool) record a `JobRun` of job
  `accruals_manual` and never hold the hourly slot, so they cannot make the scheduled run skip other tenants.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from trackagoat_mcp.clock import Clock, ensure_utc
from trackagoat_mcp.db.models import JobRun
from trackagoat_mcp.db.session import Database
from trackagoat_mcp.domain.payouts.accruals import (
    Planned,
    Recorded,
    Scope,
    evaluate_units,
    plan_units,
    record_units,
    settle_walks,
)
from trackagoat_mcp.domain.payouts.criteria import Outcome
from trackagoat_mcp.domain.payouts.planning import Unit
from trackagoat_mcp.errors import InvalidInput
from trackagoat_mcp.jobs import runs
from trackagoat_mcp.jobs.fairness import take_turns
from trackagoat_mcp.jobs.runs import RunRef

__all__ = [
    "BACKFILL_CAP",
    "HEARTBEAT_TTL",
    "JOB",
    "MANUAL_JOB",
    "AccrualReport",
    "floor_hour",
    "run_accruals",
]

logger = logging.getLogger(__name__)
UnitKey = tuple[uuid.UUID, uuid.UUID, datetime]
"""(structure, creator, period start): the evaluation's unique key."""

JOB = "accruals"
MANUAL_JOB = "accruals_manual"
HEARTBEAT_TTL = timedelta(minutes=10)
BATCH_MAX = 500
"""The most units evaluated in one write transaction. Batches start at one unit and double up to this, so a run
with little due commits its first units at once, and a back-fill shares each transaction, each read of inputs
and each insert among hundreds of units (a batch of the largest size takes well under a second)."""
BACKFILL_CAP = timedelta(days=31)
FUTURE_TOLERANCE = timedelta(minutes=1)
SLOT_PATTERN = "____-__-__T__:00:00+00:00"
"""What an hourly slot looks like (rows of job `accruals` written by anything else are ignored)."""


def floor_hour(instant: datetime) -> datetime:
    """The UTC hour containing `instant`."""
    return ensure_utc(instant).replace(minute=0, second=0, microsecond=0)


@dataclass
class SlotTally:
    """What one slot's run did (its `JobRun.report`)."""

    evaluated: int = 0
    accrued: int = 0
    zero: int = 0
    already_evaluated: int = 0
    accrued_cents: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: SlotTally) -> None:
        self.evaluated += other.evaluated
        self.accrued += other.accrued
        self.zero += other.zero
        self.already_evaluated += other.already_evaluated
        self.accrued_cents += other.accrued_cents
        self.failed.extend(other.failed)


@dataclass
class AccrualReport:
    """What one call of `run_accruals` did, over every slot it ran."""

    as_of: datetime
    slots_run: list[str] = field(default_factory=list)
    slots_skipped: list[str] = field(default_factory=list)
    """Hours another worker is running (or claimed first)."""
    totals: SlotTally = field(default_factory=SlotTally)
    waiting_for_stale: int = 0
    """Units due but waiting (up to 24 h) for fresh stats."""
    days_planned: int = 0
    """Local days of history the plan walked (see `Planned.days_walked`): small on an idle run."""

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "slots_run": self.slots_run,
            "slots_skipped": self.slots_skipped,
            "evaluated": self.totals.evaluated,
            "accrued": self.totals.accrued,
            "zero": self.totals.zero,
            "already_evaluated": self.totals.already_evaluated,
            "accrued_cents": self.totals.accrued_cents,
            "waiting_for_stale": self.waiting_for_stale,
            "days_planned": self.days_planned,
            "errors": len(self.totals.failed),
            "failed": self.totals.failed,
        }


# --- slots ---------------------------------------------------------------------------------------------------


def _slot(hour: datetime) -> str:
    return hour.isoformat()


async def _candidate_slots(db: Database, current: datetime, now: datetime) -> tuple[list[datetime], list[str]]:
    """Hours this run should try to claim (every hour since the last `ok` slot, capped, plus abandoned ones), and
    the hours in that range another worker is running right now."""
    window_start = current - BACKFILL_CAP
    hourly = and_(col(JobRun.job) == JOB, col(JobRun.slot).like(SLOT_PATTERN))
    async with db.read() as session:
        last_ok = await session.scalar(select(func.max(col(JobRun.slot))).where(hourly, col(JobRun.status) == "ok"))
        rows = (
            await session.execute(
                select(col(JobRun.slot), col(JobRun.status), col(JobRun.heartbeat_at)).where(
                    hourly, col(JobRun.slot) >= _slot(window_start), col(JobRun.slot) <= _slot(current)
                )
            )
        ).all()
    existing = {slot: (status, beat) for slot, status, beat in rows}
    retry = {datetime.fromisoformat(slot) for slot, (status, beat) in existing.items() if _abandoned(status, beat, now)}
    busy = sorted(
        slot for slot, (status, beat) in existing.items() if status == "running" and not _abandoned(status, beat, now)
    )
    start = current if last_ok is None else datetime.fromisoformat(last_ok) + timedelta(hours=1)
    hour = max(start, window_start)
    fresh: set[datetime] = set()
    while hour <= current:
        if _slot(hour) not in existing:
            fresh.add(hour)
        hour += timedelta(hours=1)
    return sorted(fresh | retry), busy


def _abandoned(status: str, heartbeat: datetime, now: datetime) -> bool:
    """A slot whose run failed, or whose worker stopped beating (crashed): another worker may take it."""
    return status == "failed" or (status == "running" and heartbeat < now - HEARTBEAT_TTL)


async def _take_over(db: Database, slot: str, worker_id: str, now: datetime) -> RunRef | None:
    """Take an abandoned slot (failed, or `running` without a heartbeat for `HEARTBEAT_TTL`); one contender's
    compare-and-set matches, the others' see the fresh heartbeat and match nothing."""
    abandoned = or_(
        col(JobRun.status) == "failed",
        and_(col(JobRun.status) == "running", col(JobRun.heartbeat_at) < now - HEARTBEAT_TTL),
    )
    statement = (
        update(JobRun)
        .where(col(JobRun.job) == JOB, col(JobRun.slot) == slot, abandoned)
        .values(claimed_by=worker_id, status="running", heartbeat_at=now, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    async with db.write() as session:
        result = await session.execute(statement)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        run_id = await session.scalar(select(col(JobRun.id)).where(col(JobRun.job) == JOB, col(JobRun.slot) == slot))
    return None if run_id is None else RunRef(run_id, JOB, slot)


async def _claim(db: Database, hour: datetime, worker_id: str, now: datetime) -> RunRef | None:
    slot = _slot(hour)
    return await runs.claim_run(db, job=JOB, slot=slot, worker_id=worker_id, now=now) or await _take_over(
        db, slot, worker_id, now
    )


async def _beat(session: AsyncSession, run: RunRef, worker_id: str, now: datetime) -> bool:
    """Refresh our heartbeat in the caller's transaction; False when another worker has taken the slot over."""
    statement = (
        update(JobRun)
        .where(col(JobRun.id) == run.id, col(JobRun.claimed_by) == worker_id)
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


class _TakenOver(Exception):
    """Another worker took the slot over: this run of it stops, and the batch in hand is not written."""


# --- evaluating ----------------------------------------------------------------------------------------------


async def _commit_batch(
    db: Database, clock: Clock, run: RunRef, batch: list[Unit], worker_id: str
) -> list[tuple[Unit, Outcome | None, Recorded | Exception]]:
    """Beat the heartbeat, then evaluate and record `batch`, all in one write transaction; if that fails, each unit
    in its own transaction, so a bad unit is reported alone and the others are written.

    Raises:
        _TakenOver: another worker holds the slot now (nothing of the batch was written).
    """
    try:
        async with db.write() as session:
            if not await _beat(session, run, worker_id, clock.now()):
                raise _TakenOver(run.slot)
            outcomes = await evaluate_units(session, batch)
            recorded = await record_units(
                session, list(zip(batch, outcomes, strict=True)), now=clock.now(), job_run_id=run.id
            )
        return list(zip(batch, outcomes, recorded, strict=True))
    except _TakenOver:
        raise
    except Exception as exc:  # one bad unit must not stop the others; it is reported and retried next run
        if len(batch) == 1:
            return [(batch[0], None, exc)]
    results: list[tuple[Unit, Outcome | None, Recorded | Exception]] = []
    for unit in batch:
        try:
            results.extend(await _commit_batch(db, clock, run, [unit], worker_id))
        except _TakenOver:
            if not results:
                raise
            break  # report the units written so far; the next batch's beat stops the run
    return results


async def _evaluate(
    db: Database,
    clock: Clock,
    run: RunRef,
    units: list[Unit],
    *,
    worker_id: str,
    done: set[UnitKey],
    on_evaluated: Callable[[int], None] | None,
) -> SlotTally:
    """Evaluate `units` in order, in batches of growing size (one write transaction each, which also beats the
    heartbeat); adds each evaluated key to `done`. Stops when another worker has taken the slot over."""
    tally = SlotTally()
    start, size = 0, 1
    while start < len(units):
        batch = units[start : start + size]
        start, size = start + len(batch), min(2 * size, BATCH_MAX)
        try:
            results = await _commit_batch(db, clock, run, batch, worker_id)
        except _TakenOver:
            logger.warning("Accrual slot %s was taken over by another worker; stopping this run of it.", run.slot)
            break
        for unit, outcome, recorded in results:
            if isinstance(recorded, Exception) or outcome is None:
                logger.warning("Accrual of %s for %s failed: %s", unit.structure.id, unit.creator.id, recorded)
                tally.failed.append(
                    {
                        "kind": type(recorded).__name__,
                        "message": str(recorded)[:500],
                        "creator_id": str(unit.creator.id),
                        "structure_id": str(unit.structure.id),
                        "period_start_at": unit.period.start_at.isoformat(),
                    }
                )
                continue
            done.add((unit.structure.id, unit.creator.id, unit.period.start_at))
            if recorded == "already_evaluated":
                tally.already_evaluated += 1
            else:
                tally.evaluated += 1
                if recorded == "accrued":
                    tally.accrued += 1
                    tally.accrued_cents += outcome.amount_cents
                else:
                    tally.zero += 1
            if on_evaluated is not None:
                on_evaluated(tally.evaluated + tally.already_evaluated)
    return tally


async def _run_slot(
    db: Database,
    clock: Clock,
    run: RunRef,
    units: list[Unit],
    *,
    as_of: datetime,
    worker_id: str,
    waiting: int,
    done: set[UnitKey],
    on_evaluated: Callable[[int], None] | None,
) -> SlotTally:
    try:
        tally = await _evaluate(db, clock, run, units, worker_id=worker_id, done=done, on_evaluated=on_evaluated)
    except Exception:
        try:
            await runs.close_run(db, run, status="failed", now=clock.now(), report={"as_of": as_of.isoformat()})
        except Exception:  # the store may be what failed; the slot then stays `running` and is taken over later
            logger.exception("Could not mark accrual run %s failed", run.slot)
        raise
    report = {
        "as_of": as_of.isoformat(),
        "units": len(units),
        "evaluated": tally.evaluated,
        "accrued": tally.accrued,
        "zero": tally.zero,
        "already_evaluated": tally.already_evaluated,
        "accrued_cents": tally.accrued_cents,
        "waiting_for_stale": waiting,
        "errors": len(tally.failed),
        "failed": tally.failed,
    }
    await runs.close_run(db, run, status="ok", now=clock.now(), report=report)
    return tally


async def run_accruals(
    db: Database,
    clock: Clock,
    *,
    worker_id: str,
    at: datetime | None = None,
    org_id: uuid.UUID | None = None,
    on_evaluated: Callable[[int], None] | None = None,
) -> AccrualReport:
    """Run accruals as of `at` (default now): the hourly job, or one organization's manual run.

    Args:
        db: the store.
        clock: the current time (heartbeats, staleness of claims, `evaluated_at`).
        worker_id: who claims the slots (host:pid in production).
        at: evaluate what is due by this instant (not later than now); default now.
        org_id: only this organization's units, as a manual run that holds no hourly slot.
        on_evaluated: called after each committed evaluation with the count so far (tests inject crashes here).

    Raises:
        InvalidInput: `at` lies in the future.
    """
    now = clock.now()
    as_of = now if at is None else ensure_utc(at)
    if as_of > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"at {as_of.isoformat()!r} is in the future; accruals are evaluated only once their periods have ended. "
            "Leave it out to run as of now."
        )
    async with db.read() as session:
        planned = await plan_units(session, Scope(org_id=org_id), now=as_of, horizon=as_of)
    units = planned.units
    due = [u for u in units if u.state == "due"]
    report = AccrualReport(
        as_of=as_of,
        waiting_for_stale=sum(u.state == "waiting_for_stats" for u in units),
        days_planned=planned.days_walked,
    )
    done: set[UnitKey] = set()

    if org_id is not None:
        slot = f"{org_id.hex}:{as_of:%Y%m%dT%H%M%SZ}:{uuid.uuid4().hex[:8]}"  # fits the 64-character slot
        run = await runs.open_run(db, job=MANUAL_JOB, slot=slot, worker_id=worker_id, now=now)
        report.slots_run.append(slot)
        report.totals.add(
            await _run_slot(
                db,
                clock,
                run,
                take_turns(due, _org),
                as_of=as_of,
                worker_id=worker_id,
                waiting=report.waiting_for_stale,
                done=done,
                on_evaluated=on_evaluated,
            )
        )
        await _settle(db, planned, done)
        return report

    candidates, busy = await _candidate_slots(db, floor_hour(as_of), now)
    report.slots_skipped.extend(busy)
    buckets = await anyio.to_thread.run_sync(_bucketed, due, candidates)
    for hour in candidates:
        claimed = await _claim(db, hour, worker_id, clock.now())
        if claimed is None:
            report.slots_skipped.append(_slot(hour))
            continue
        report.slots_run.append(claimed.slot)
        waiting = report.waiting_for_stale if hour == candidates[-1] else 0
        report.totals.add(
            await _run_slot(
                db,
                clock,
                claimed,
                buckets[hour],
                as_of=as_of,
                worker_id=worker_id,
                waiting=waiting,
                done=done,
                on_evaluated=on_evaluated,
            )
        )
    await _settle(db, planned, done)
    return report


def _bucketed(due: list[Unit], candidates: list[datetime]) -> dict[datetime, list[Unit]]:
    """Each due unit in the slot of the hour it became ready (a unit ready before the first candidate in the newest
    one), each slot's units in fair order. Within an organization, units go oldest first, a creator's units of one
    period side by side (a batch then reads each creator's videos of the period once for all its structures).
    Pure CPU work over a possibly long list: run in a worker thread."""
    buckets: dict[datetime, list[Unit]] = {hour: [] for hour in candidates}
    for unit in sorted(due, key=lambda u: (u.ready_at, u.period.start_at, str(u.creator.id), str(u.structure.id))):
        ready = floor_hour(unit.ready_at)
        index = len(candidates) - 1 if candidates and ready < candidates[0] else bisect.bisect_left(candidates, ready)
        if index < len(candidates):
            buckets[candidates[index]].append(unit)
    return {hour: take_turns(units, _org) for hour, units in buckets.items()}


def _org(unit: Unit) -> uuid.UUID:
    return unit.structure.org_id


async def _settle(db: Database, planned: Planned, done: set[UnitKey]) -> None:
    """Record how far each planned walk is settled; a failure only means the next run walks a little further."""
    try:
        async with db.write() as session:
            await settle_walks(session, planned, done)
    except Exception:  # the evaluations stand; settled_before is an optimisation the next run redoes
        logger.exception("Could not record how far accruals are settled")
