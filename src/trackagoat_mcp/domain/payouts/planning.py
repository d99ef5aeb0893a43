"""Which (structure, creator, period) units exist, which version rules each, and when each may be evaluated.

Pure functions over plain values, shared by the accrual job and `preview_accruals`:

* **Units.** Evaluation is keyed by (structure, creator, period start), so a unit is one period of the
  structure's kind in which the creator was assigned on at least one day. Several assignments of a creator
  to one structure never overlap, but two may fall in one period; their days add up.
* **Coverage.** `days_covered` counts the local calendar days of the period inside an assignment
  (`starts_on`..`ends_on`, inclusive, org timezone); `spans` are those days as UTC ranges, the "while
  assigned" filter for videos.
* **Version pinning.** The rule in force at the period's end: the latest version with `created_at` ≤ the
  period end; a period that ended before the first version existed (an assignment dated back) uses version 1.
* **When.** `recurring` is evaluated at period end; `goals`, `cpm` and `view_threshold` 48 hours after it.
  For those, a creator whose stats are stale then (never scraped, last scraped before the period ended, or
  `scrape_state` other than `ok`) waits up to 24 more hours; after that the evaluation proceeds and records
  `stale: true`.
* **Archive.** An archived structure still evaluates periods that ended at or before `archived_at` (their money
  was earned while it was live), whenever their evaluation time comes; periods ending later are never evaluated.
* **Where the walk starts.** Each assignment remembers `settled_before`, the start of the first period of it not yet
  evaluated (the accrual job advances it), so a creator's periods are walked from there, not from `starts_on`: the
  work of a run is the periods still open, due or waiting, never the whole history.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from trackagoat_mcp.clock import local_today
from trackagoat_mcp.domain.payouts.criteria import Rule
from trackagoat_mcp.domain.periods import Period, local_midnight, periods_between

__all__ = [
    "EVALUATION_DELAY",
    "STALE_WAIT",
    "Coverage",
    "CreatorState",
    "Span",
    "StructurePlan",
    "Unit",
    "UnitState",
    "VersionRule",
    "coverage_of",
    "evaluation_time",
    "is_stale",
    "pin_version",
    "units_of",
    "walk_of",
]

EVALUATION_DELAY = timedelta(hours=48)
STALE_WAIT = timedelta(hours=24)

UnitState = Literal["due", "waiting_for_stats", "scheduled", "open"]
"""`due`: the next run evaluates it; `waiting_for_stats`: due, but the creator's stats are stale (up to 24 h);
`scheduled`: ended, evaluation time still ahead (or, in a preview, ends before the horizon); `open`: in progress."""


@dataclass(frozen=True)
class VersionRule:
    """One stored version of a structure: its identity, creation time and rule."""

    id: uuid.UUID
    version: int
    created_at: datetime
    rule: Rule


@dataclass(frozen=True)
class StructurePlan:
    """A structure as the planner needs it; `versions` oldest first."""

    id: uuid.UUID
    org_id: uuid.UUID
    project_id: uuid.UUID
    name: str
    timezone: str
    archived_at: datetime | None
    versions: tuple[VersionRule, ...]


@dataclass(frozen=True)
class CreatorState:
    """What decides whether a creator's stats are fresh enough to be paid on."""

    id: uuid.UUID
    tiktok_handle: str
    scrape_state: str
    last_scraped_at: datetime | None


@dataclass(frozen=True)
class Span:
    """An assignment's dates (inclusive; `ends_on` None = open-ended) and where its evaluation stands."""

    starts_on: date
    ends_on: date | None
    settled_before: date | None = None
    assignment_id: uuid.UUID | None = None

    @property
    def walk_from(self) -> date:
        """The first day whose period may still need evaluating."""
        return self.starts_on if self.settled_before is None else max(self.starts_on, self.settled_before)


@dataclass(frozen=True)
class Coverage:
    """The part of a period a creator was assigned: whole local days, and the same days as UTC ranges."""

    days_covered: int
    ranges: tuple[tuple[datetime, datetime], ...]

    def contains(self, instant: datetime) -> bool:
        """Whether `instant` falls on a covered day."""
        return any(start <= instant < end for start, end in self.ranges)


@dataclass(frozen=True)
class Unit:
    """One (structure, creator, period) to evaluate or preview."""

    structure: StructurePlan
    creator: CreatorState
    period: Period
    version: VersionRule
    coverage: Coverage
    due_at: datetime
    stale: bool
    state: UnitState

    @property
    def ready_at(self) -> datetime:
        """When the evaluation really happens: the due time, or the end of the stale wait."""
        return self.due_at + STALE_WAIT if self.stale else self.due_at


def pin_version(versions: Sequence[VersionRule], period_end: datetime) -> VersionRule:
    """The version in force at `period_end` (the first version for periods before any existed)."""
    pinned = versions[0]
    for version in versions:
        if version.created_at <= period_end:
            pinned = version
    return pinned


def evaluation_time(rule: Rule, period: Period) -> datetime:
    """When a period's evaluation is due: at its end for `recurring`, 48 hours later for the others."""
    return period.end_at if rule.criteria_type == "recurring" else period.end_at + EVALUATION_DELAY


def is_stale(creator: CreatorState, period: Period) -> bool:
    """Whether the creator's stats cannot yet be trusted for `period` (never scraped since it ended, or failing)."""
    return creator.scrape_state != "ok" or creator.last_scraped_at is None or creator.last_scraped_at < period.end_at


def coverage_of(period: Period, spans: Sequence[Span], timezone: str) -> Coverage:
    """The days of `period` covered by `spans` (assignments never overlap, so their days simply add up)."""
    days = 0
    ranges: list[tuple[datetime, datetime]] = []
    for span in sorted(spans, key=lambda s: s.starts_on):
        first = max(span.starts_on, period.start_date)
        last = period.last_date if span.ends_on is None else min(span.ends_on, period.last_date)
        if first > last:
            continue
        days += (last - first).days + 1
        ranges.append((local_midnight(first, timezone), local_midnight(last + timedelta(days=1), timezone)))
    return Coverage(days, tuple(ranges))


def walk_of(structure: StructurePlan, spans: Sequence[Span], horizon: datetime) -> tuple[date, date] | None:
    """The local days whose periods a plan up to `horizon` visits: from the earliest day not known to be settled
    to the horizon's day (or the last assigned day); None when there is nothing to visit."""
    if not spans or not structure.versions:
        return None
    first = min(span.walk_from for span in spans)
    last = local_today(horizon, structure.timezone)
    if all(span.ends_on is not None for span in spans):
        last = min(last, max(span.ends_on for span in spans if span.ends_on is not None))
    return (first, last) if first <= last else None


def units_of(
    structure: StructurePlan,
    creator: CreatorState,
    spans: Sequence[Span],
    evaluated: set[datetime],
    *,
    now: datetime,
    horizon: datetime,
) -> Iterator[Unit]:
    """Every not-yet-evaluated unit of one creator under one structure, oldest period first.

    Yields units of periods ending by `horizon` (the job passes `now`), plus the period in progress at `now`
    (state `open`), each with its state at `now`. `evaluated` holds the period starts already evaluated.
    """
    walk = walk_of(structure, spans, horizon)
    if walk is None:
        return
    first, last = walk
    tz = structure.timezone
    kind = structure.versions[-1].rule.period  # the period kind never changes (see structures.update_structure)
    for period in periods_between(kind, first, last, tz):
        if structure.archived_at is not None and period.end_at > structure.archived_at:
            return
        if period.start_at in evaluated:
            continue
        coverage = coverage_of(period, spans, tz)
        if coverage.days_covered == 0:
            continue
        version = pin_version(structure.versions, period.end_at)
        due_at = evaluation_time(version.rule, period)
        stale = False
        if period.end_at > now:
            state: UnitState = "open" if period.start_at <= now else "scheduled"
        elif due_at > now:
            state = "scheduled"
        else:
            stale = version.rule.criteria_type != "recurring" and is_stale(creator, period)
            state = "waiting_for_stats" if stale and now < due_at + STALE_WAIT else "due"
        if period.end_at <= horizon or state == "open":
            yield Unit(structure, creator, period, version, coverage, due_at, stale, state)
